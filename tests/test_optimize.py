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


def _loop(body_lines, after="return x_bar"):
    text = "for i in range(n - 1, -1, -1):\n" + "".join(f"    {s}\n" for s in body_lines)
    return [syntax.parse_stmt(text), syntax.parse_stmt(after)]


def test_a_new_version_of_a_variable_is_assigned_under_its_own_name():
    body = [syntax.parse_stmt("for i in range(0, n, 1):\n    x_1 = x - np.sin(x) * x\n"
                              "    x = x_1"), syntax.parse_stmt("return x")]
    out = syntax.to_source(optimize(body, {"x", "x_1", "n"}, ["x", "n"])[0])
    assert out == "for i in range(0, n, 1):\n    x = x - np.sin(x) * x"


def test_a_version_read_twice_keeps_its_name():
    body = [syntax.parse_stmt("for i in range(0, n, 1):\n    x_1 = x - np.sin(x)\n"
                              "    x = x_1\n    y = x_1 * 2.0"), syntax.parse_stmt("return y")]
    out = syntax.to_source(optimize(body, {"x", "x_1", "y", "n"}, ["x", "n"])[0])
    assert "x_1 = x - np.sin(x)" in out and "x = x_1" in out


def test_a_copy_read_until_its_source_is_assigned_again_reads_the_source():
    # the adjoint of a loop body: t4 held x_bar's value for the statements before x_bar's
    # new value; each of them reads x_bar itself
    body = _loop(["x = x_tape[i]", "t4 = x_bar", "t5_bar = -t4",
                  "x_bar = t4 + x * t5_bar"])
    out = syntax.to_source(optimize(body, {"x", "x_bar", "n", "x_tape"},
                                    ["x", "x_bar", "n", "x_tape"])[0])
    assert out == "for i in range(n - 1, -1, -1):\n    x = x_tape[i]\n    x_bar = x_bar - x * x_bar"


def test_a_copy_read_after_its_source_changes_stays():
    body = _loop(["t4 = x_bar", "x_bar = x_bar * 2.0", "y_bar = t4 + x_bar"],
                 after="return (x_bar, y_bar)")
    out = syntax.to_source(optimize(body, {"x_bar", "y_bar", "n"}, ["x_bar", "y_bar", "n"])[0])
    assert out == ("for i in range(n - 1, -1, -1):\n    t1 = x_bar\n    x_bar = x_bar * 2.0\n"
                   "    y_bar = t1 + x_bar")


def test_a_loop_test_is_written_where_python_evaluates_it():
    lines = ["y = x", "cond = y < 10.0", "k = 0", "while cond:\n    y = y * 1.5\n"
             "    cond = y < 10.0\n    k = k + 1", "return (y, k)"]
    assert optimized(lines, {"x", "y", "k"}, ["x"]) == [
        "y = x", "k = 0", "while y < 10.0:\n    y = y * 1.5\n    k = k + 1", "return (y, k)"]


def test_a_loop_test_read_elsewhere_or_computed_before_a_write_stays():
    lines = ["cond = a[0] < 10.0", "a[0] = 3.0", "while cond:\n    a[0] = a[0] * 1.5\n"
             "    cond = a[0] < 10.0", "return a"]
    assert optimized(lines, {"a"}, ["a"])[0] == "cond = a[0] < 10.0"


def test_accumulations_into_one_adjoint_are_summed_in_one_statement_in_order():
    lines = ["x_bar = x_bar + a * y", "x_bar = x_bar - y * a", "return x_bar"]
    assert optimized(lines, {"x_bar", "a", "y"}, ["x_bar", "a", "y"]) == [
        "x_bar = x_bar + a * y - y * a", "return x_bar"]


def test_a_new_value_is_assigned_after_the_last_read_of_the_old_one():
    # horner's adjoint: p_bar's new value moves below x_bar's update, which reads the old
    lines = ["t2_bar = p_bar", "c_bar = index_add(c_bar, i, t2_bar)", "p_bar = t2_bar * x",
             "x_bar = x_bar + p * t2_bar", "return (c_bar, x_bar, p_bar)"]
    keep = {"p_bar", "c_bar", "x_bar", "x", "p", "i"}
    assert optimized(lines, keep, sorted(keep)) == [
        "c_bar = index_add(c_bar, i, p_bar)", "x_bar = x_bar + p * p_bar",
        "p_bar = p_bar * x", "return (c_bar, x_bar, p_bar)"]


def test_a_self_copy_is_dropped():
    assert optimized(["s_bar = g * 2.0", "s_bar = s_bar", "return s_bar"], {"s_bar", "g"},
                     ["g"]) == ["s_bar = g * 2.0", "return s_bar"]


def test_an_elementwise_value_computed_twice_is_computed_once():
    # also across a loop that changes neither its operands nor the name holding it
    assert optimized(["t1 = np.exp(w)", "for i in range(n):\n    y = y + t1 * i",
                      "t2 = np.exp(w)", "return y * t2 + t2"], {"w", "n", "y"},
                     ["w", "n", "y"]) == ["t1 = np.exp(w)",
                                          "for i in range(n):\n    y = y + t1 * i",
                                          "return y * t1 + t1"]


def test_a_value_changed_in_place_is_not_shared():
    # one array for two names would see a's element written through b
    lines = ["a = np.exp(w)", "b = np.exp(w)", "a[0] = 1.0", "return a + b"]
    assert optimized(lines, {"a", "b", "w"}, ["w"]) == lines


def test_a_broadcast_next_to_a_value_of_its_shape_is_the_value_itself():
    assert optimized(["x_bar = expand_reduced(g, x, None) * 2 * np.cos(x)", "return x_bar"],
                     {"x", "g", "x_bar"}, ["x", "g"]) == ["x_bar = g * 2 * np.cos(x)",
                                                          "return x_bar"]
    # along an axis it is not one value; with no operand of x's shape it stays
    for kept in ["x_bar = expand_reduced(g, x, 0) * np.cos(x)",
                 "x_bar = expand_reduced(g, x, None) * 2.0"]:
        assert optimized([kept, "return x_bar"], {"x", "g", "x_bar"}, ["x", "g"])[0] == kept


def test_an_accumulation_from_zero_merges_across_a_loop_that_leaves_it_alone():
    lines = ["a_bar = zero_like(a)", "for i in range(n):\n    y = y + i",
             "a_bar = a_bar + g * y", "return a_bar"]
    assert optimized(lines, {"a", "n", "y", "g", "a_bar"}, ["a", "n", "y", "g"]) == [
        "for i in range(n):\n    y = y + i", "a_bar = g * y", "return a_bar"]
    # a loop that reads it: the zero stays
    lines[1] = "for i in range(n):\n    y = y + a_bar"
    assert optimized(lines, {"a", "n", "y", "g", "a_bar"}, ["a", "n", "y", "g"])[0] == \
        "a_bar = zero_like(a)"


def test_a_value_changed_in_place_after_a_loop_is_not_shared():
    # what a loop changes is forgotten at the loop; the arrays changed anywhere stay known
    lines = ["for i in range(n):\n    y = y + i", "a = np.exp(w)", "b = np.exp(w)",
             "a[0] = 1.0", "return a + b + y"]
    assert optimized(lines, {"a", "b", "w", "n", "y"}, ["w", "n", "y"]) == lines
