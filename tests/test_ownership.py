"""Copies before in-place updates (nabla/transforms/ownership.py), on small generated
functions: a cotangent another name (or the caller) may hold is copied once before its
first ``index_add``, before the loop when the update is in a loop; one the function made
itself is updated as it is."""

from nabla import syntax
from nabla.transforms.ownership import own_updates

COPY = "snapshot("


def owned(params, lines) -> list[str]:
    body = [syntax.parse_stmt(s) for s in lines]
    fdef = own_updates(syntax.function_def("f", params, body))
    return syntax.to_source(fdef).splitlines()[1:]


def statements(lines):
    return [ln.strip() for ln in lines if not ln.strip().startswith("#")]


def test_a_cotangent_a_helper_may_hand_back_is_copied_before_index_add():
    lines = owned(["x", "g"], ["x_bar = unbroadcast(g, x)", "x_bar = index_add(x_bar, 0, g)",
                               "return x_bar"])
    assert statements(lines) == ["x_bar = unbroadcast(g, x)", "x_bar = snapshot(x_bar)",
                                 "x_bar = index_add(x_bar, 0, g)", "return x_bar"]
    assert lines[1].strip() == ("# x_bar may share its array with another name: a copy of its "
                                "own, updated in place")


def test_a_cotangent_the_function_made_is_updated_without_a_copy():
    lines = owned(["x", "g"], ["x_bar = zero_like(x)", "x_bar = index_add(x_bar, 0, g)",
                               "return x_bar"])
    assert not any(COPY in ln for ln in lines)


def test_a_copy_of_another_name_is_copied_before_its_update():
    lines = owned(["x", "g"], ["a_bar = zero_like(x)", "b_bar = a_bar",
                               "b_bar = index_add(b_bar, 0, g)", "return (a_bar, b_bar)"])
    assert statements(lines) == ["a_bar = zero_like(x)", "b_bar = a_bar",
                                 "b_bar = snapshot(b_bar)", "b_bar = index_add(b_bar, 0, g)",
                                 "return (a_bar, b_bar)"]


def test_the_copy_for_updates_in_a_loop_is_made_once_before_the_loop():
    lines = owned(["x", "g", "n"], ["x_bar = unbroadcast(g, x)",
                                    "for i in range(n):\n    x_bar = index_add(x_bar, i, g)",
                                    "return x_bar"])
    assert statements(lines) == ["x_bar = unbroadcast(g, x)", "x_bar = snapshot(x_bar)",
                                 "for i in range(n):", "x_bar = index_add(x_bar, i, g)",
                                 "return x_bar"]


def test_a_parameter_is_copied_before_its_first_update():
    # a vjp's backward function: the cotangent belongs to the caller
    lines = owned(["out_bar", "x"], ["out_bar = index_add(out_bar, 0, x)",
                                     "out_bar = index_add(out_bar, 1, x)", "return out_bar"])
    assert statements(lines) == ["out_bar = snapshot(out_bar)",
                                 "out_bar = index_add(out_bar, 0, x)",
                                 "out_bar = index_add(out_bar, 1, x)", "return out_bar"]
