"""vmap's batching (nabla/transforms/batching.py), read in the generated source: the
vector form of elementwise functions and reductions (operands lined up only where the
ranks do not prove they already are, reductions per example or shifted past the batch
axis), and the loop form where the vector form does not apply, with its reason."""

import numpy as np

from nabla import syntax
from nabla.transforms.batching import Options, batched_names
from nabla.transforms.normalize import normalize
from nabla.transforms.views import build


def scaled(x, w):
    return np.tanh(x) * w


def total(x, w):
    return np.sum(x * w)


def column_sums(x):
    return np.sum(x, axis=0)


def branch_on_batched(x, c):
    if x > c:
        y = x * 2.0
    else:
        y = x
    return y


def branch_on_unbatched(x, c):
    if c > 0.0:
        y = x * 2.0
    else:
        y = x
    return y


def vmap(f, in_axes, ranks=None):
    """(form, the entry function's source) of ``vmap(f, in_axes)`` on the CPU."""
    options = Options(in_axes=in_axes, out_axes=0, axis_size=None, target="cpu",
                      ranks=ranks)
    gen = build(normalize(f), "vmap", [], options=options)
    return gen.meta.form, syntax.to_source(gen.functions[0])


def test_an_elementwise_function_maps_in_the_vector_form():
    form, src = vmap(scaled, (0, None))
    assert form == "vector"
    # without the ranks, the batched operand is lined up with the unbatched one
    assert src.splitlines()[-1] == "    return batch_lift(np.tanh(x), w) * w"


def test_ranks_that_line_up_need_no_helper():
    form, src = vmap(scaled, (0, None), ranks=(1, 1))
    assert form == "vector"
    assert src.splitlines()[-1] == "    return np.tanh(x) * w"


def test_a_batched_scalar_against_an_unbatched_vector_is_lifted():
    _, src = vmap(scaled, (0, None), ranks=(0, 1))
    assert "batch_lift(np.tanh(x), w)" in src


def test_a_full_reduction_reduces_each_example():
    form, src = vmap(total, (0, None), ranks=(1, 1))
    assert form == "vector"
    assert src.splitlines()[-1] == "    return batch_sum(x * w)"


def test_a_reduction_along_an_axis_moves_past_the_batch_axis():
    form, src = vmap(column_sums, (0,), ranks=(2,))
    assert form == "vector"
    assert src.splitlines()[-1] == "    return reduce_sum(x, 1)"


def test_a_batch_on_another_axis_is_moved_to_the_front_first():
    _, src = vmap(column_sums, (1,), ranks=(2,))
    lines = [ln.strip() for ln in src.splitlines()]
    assert "x = batch_first(x, 1)" in lines
    assert lines.index("x = batch_first(x, 1)") < lines.index("return reduce_sum(x, 1)")


def test_a_branch_on_a_batched_value_chooses_the_loop_form_and_says_why():
    form, src = vmap(branch_on_batched, (0, None))
    assert form == "loop"
    comment = src.splitlines()[1].strip()
    assert comment.startswith("# the loop form (a branch on a batched value at line ")
    assert comment.endswith("): branch_on_batched on each example")
    assert "first = branch_on_batched(x[0], c)" in src
    assert "one = branch_on_batched(x[b], c)" in src


def test_a_branch_on_an_unbatched_value_stays_in_the_vector_form():
    form, src = vmap(branch_on_unbatched, (0, None))
    assert form == "vector"
    assert "branch_on_unbatched(" not in src  # no call of the function of one example


def test_what_a_branch_on_a_batched_value_assigns_is_batched():
    names = batched_names(normalize(branch_on_batched), ["x"])
    assert {"x", "y"} <= names and "c" not in names
