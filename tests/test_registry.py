"""The rules table (nabla/rules/registry.py) is consistent: every rule's facts are ones
the transforms know, spellings point at rules, and the facts a few transforms rely on
are what they expect. Each check of the whole table lists every rule that fails it."""

from nabla import rules  # importing the package fills the table
from nabla.rules.registry import BATCHINGS, RANKS, RULES, lookup

# Rule.kind: the four its comment lists, and "opaque" (rules/generated.py: the write log's
# helpers, which have facts but no derivative)
KINDS = ("diff", "zero", "inactive", "random", "opaque")
IN_PLACE = ("accumulator", "state")  # a cotangent; an array of the program's own


def problems(check) -> list[str]:
    """``spelling: what is wrong`` for every rule ``check(rule)`` finds a fault in."""
    out = []
    for spelling, rule in sorted(RULES.items()):
        fault = check(rule)
        if fault:
            out.append(f"{spelling}: {fault}")
    return out


def test_the_table_is_filled():
    assert len(RULES) > 100
    assert all(r.spelling == s for s, r in RULES.items())


def test_every_rules_kind_is_known():
    bad = problems(lambda r: r.kind not in KINDS and f"kind {r.kind!r}")
    assert not bad, "\n".join(bad)


def test_every_rank_fact_is_a_rank_rule():
    bad = problems(lambda r: r.rank is not None and r.rank not in RANKS and f"rank {r.rank!r}")
    assert not bad, "\n".join(bad)


def test_every_batching_fact_is_a_batching_rule():
    bad = problems(lambda r: r.batching is not None and r.batching not in BATCHINGS
                   and f"batching {r.batching!r}")
    assert not bad, "\n".join(bad)


def test_every_in_place_fact_is_one_of_the_two_kinds():
    bad = problems(lambda r: r.in_place is not None and r.in_place not in IN_PLACE
                   and f"in_place {r.in_place!r}")
    assert not bad, "\n".join(bad)


def test_derivatives_are_given_for_parameters():
    bad = problems(lambda r: not (set(r.vjp) | set(r.jvp) | set(r.nondiff)) <= set(r.params)
                   and f"templates for {sorted(set(r.vjp) | set(r.jvp) - set(r.params))}")
    assert not bad, "\n".join(bad)


def test_an_array_form_is_a_rule_whose_device_form_points_back():
    forms = {s: r.array_form for s, r in RULES.items() if r.array_form is not None}
    assert forms["math.sin"] == "np.sin" and forms["abs"] == "np.abs"
    bad = problems(lambda r: r.array_form is not None and (
        f"array form {r.array_form} has no rule" if lookup(r.array_form) is None else
        lookup(r.array_form).device not in (None, r.spelling)
        and f"{r.array_form}'s device form is {lookup(r.array_form).device}"))
    assert not bad, "\n".join(bad)


def test_a_batched_form_is_a_rule():
    assert rules.fact("np.mean", "batched") == "batch_mean"
    bad = problems(lambda r: r.batched is not None and lookup(r.batched) is None
                   and f"batched form {r.batched} has no rule")
    assert not bad, "\n".join(bad)


def test_np_sum_reduces_each_example_in_a_batch():
    assert rules.fact("np.sum", "batching") == "example_reduction"
    assert rules.fact("np.sum", "batched") == "batch_sum"
    assert rules.fact("np.sum", "rank") == "whole"


def test_index_add_accumulates_in_place():
    assert rules.fact("index_add", "in_place") == "accumulator"


def test_seed_and_random_draws_are_impure():
    assert rules.fact("seed", "impure") is True
    assert rules.fact("np.random.normal", "impure") is True
    assert rules.fact("np.sin", "impure") is False


def test_a_fact_of_a_function_without_a_rule_is_the_default():
    assert rules.fact("no_such_function", "impure", False) is False
