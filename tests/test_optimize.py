"""The optimizer of generated code (nabla/transforms/optimize.py), one rewrite at a time,
on small bodies of generated code: copy propagation, dead code (impure calls kept),
folding single-use temporaries, merging accumulations, renumbering temporaries. Names in
``keep`` are the user's: never folded away or renamed."""

from nabla import syntax
from nabla.transforms.optimize import optimize


def optimized(lines, keep, params=()):
    body = [syntax.parse_stmt(s) for s in lines]
    return [syntax.to_source(s) for s in optimize(body, set(keep), params)]


def test_a_copy_is_propagated_into_its_uses():
    assert optimized(["a = x", "y = a * a", "return y"], {"x", "y"}, ["x"]) == [
        "y = x * x", "return y"]


def test_a_temporary_copied_into_a_user_name_is_renamed_to_it():
    # t3 * t3 reads t3 twice (no folding): the copy y = t3 gives t3's definition y's name
    assert optimized(["t3 = np.sin(x)", "y = t3", "return y * y"], {"x", "y"}, ["x"]) == [
        "y = np.sin(x)", "return y * y"]


def test_a_copy_between_two_user_names_stays():
    assert optimized(["a = x * 2.0", "b = a", "return b * a"], {"x", "a", "b"}, ["x"]) == [
        "a = x * 2.0", "b = a", "return b * a"]


def test_dead_code_is_dropped():
    assert optimized(["t1 = np.sin(x)", "y = x * 2.0", "return y"], {"x", "y"}, ["x"]) == [
        "y = x * 2.0", "return y"]


def test_impure_calls_are_kept_though_nothing_reads_them():
    lines = ["y = x * 2.0", "out_bar = seed(y)", "e = np.random.normal(0.0, 1.0)",
             "t1 = np.cos(y)", "return y"]
    assert optimized(lines, {"x", "y"}, ["x"]) == [
        "y = x * 2.0", "out_bar = seed(y)", "e = np.random.normal(0.0, 1.0)", "return y"]


def test_a_temporary_used_once_is_folded_into_its_use():
    assert optimized(["t1 = np.sin(x)", "y = t1 + x", "return y"], {"x", "y"}, ["x"]) == [
        "y = np.sin(x) + x", "return y"]


def test_a_temporary_used_twice_is_not_folded():
    assert optimized(["t1 = np.sin(x)", "y = t1 * t1", "return y"], {"x", "y"}, ["x"]) == [
        "t1 = np.sin(x)", "y = t1 * t1", "return y"]


def test_a_user_name_used_once_is_not_folded():
    assert optimized(["z = np.sin(x)", "y = z + x", "return y"], {"x", "y", "z"}, ["x"]) == [
        "z = np.sin(x)", "y = z + x", "return y"]


def test_accumulations_from_zero_merge_into_one_statement():
    lines = ["x_bar = zero_like(x)", "x_bar = x_bar + a * 2.0", "x_bar = x_bar + np.cos(a)",
             "return x_bar"]
    assert optimized(lines, {"x", "a"}, ["x", "a"]) == [
        "x_bar = a * 2.0 + np.cos(a)", "return x_bar"]


def test_an_accumulation_merges_into_the_assignment_before_it():
    lines = ["x_bar = g * a", "x_bar = x_bar - np.cos(a)", "return x_bar"]
    assert optimized(lines, {"x", "a", "g"}, ["x", "a", "g"]) == [
        "x_bar = g * a - np.cos(a)", "return x_bar"]


def test_an_accumulation_read_in_between_does_not_merge():
    lines = ["x_bar = g * a", "t1 = x_bar * x_bar", "x_bar = x_bar + t1", "return x_bar"]
    out = optimized(lines, {"x", "a", "g"}, ["x", "a", "g"])
    assert out[0] == "x_bar = g * a" and out[-2:] == ["x_bar = x_bar + x_bar * x_bar",
                                                       "return x_bar"]


def test_temporaries_are_renumbered_in_order_of_appearance():
    lines = ["t7 = np.sin(x)", "t4 = np.cos(x)", "y = t7 * t7 + t4 * t4", "return y"]
    assert optimized(lines, {"x", "y"}, ["x"]) == [
        "t1 = np.sin(x)", "t2 = np.cos(x)", "y = t1 * t1 + t2 * t2", "return y"]


def test_renumbering_carries_derived_names_and_skips_the_users():
    lines = ["t7 = np.sin(x)", "t7_bar = g * t7", "y = t7 * t7_bar + t7_bar * t1",
             "return y"]
    assert optimized(lines, {"x", "y", "g", "t1"}, ["x", "g", "t1"]) == [
        "t2 = np.sin(x)", "t2_bar = g * t2", "y = t2 * t2_bar + t2_bar * t1", "return y"]
