"""Copies before in-place updates (nabla/transforms/ownership.py), on small generated
functions: a cotangent another name (or the caller) may hold is copied once before its
first ``index_add``, before the loop when the update is in a loop; one the function made
itself is updated as it is."""

import numpy as np
from fd import assert_close, numerical_jacobian

import nabla
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


def test_an_array_handed_on_to_a_name_read_later_is_moved_not_copied():
    # x_bar_1 takes x_bar's array (x_bar is read no more until it is assigned again), and
    # x_bar takes it back at the loop's end: no copy in the loop
    lines = owned(["x", "g", "n"], [
        "x_bar = zero_like(x)",
        "for i in range(n):\n    x_bar_1 = index_zero(x_bar, i)\n"
        "    x_bar_2 = index_add(x_bar_1, i, g)\n    x_bar = x_bar_2",
        "return x_bar"])
    assert not any(COPY in ln for ln in lines)


def test_an_array_whose_old_name_is_read_again_is_still_copied():
    # x_bar is read after x_bar_1 took its array: x_bar_1 shares it and is copied
    lines = owned(["x", "g"], ["x_bar = zero_like(x)", "x_bar_1 = x_bar",
                               "x_bar_1 = index_add(x_bar_1, 0, g)", "return (x_bar, x_bar_1)"])
    assert statements(lines)[2] == "x_bar_1 = snapshot(x_bar_1)"
    # ... and so is a name the next iteration reads before assigning it
    lines = owned(["x", "g", "n"], [
        "x_bar = zero_like(x)",
        "for i in range(n):\n    y = x_bar\n    y = index_add(y, i, g)\n    s = np.sum(x_bar)",
        "return x_bar"])
    assert any(COPY in ln for ln in lines)


def test_a_loop_with_break_keeps_every_copy():
    lines = owned(["x", "g", "n"], [
        "x_bar = zero_like(x)",
        "for i in range(n):\n    y = x_bar\n    if g > i:\n        break\n"
        "    y = index_add(y, i, g)\n    x_bar = y",
        "return x_bar"])
    assert any(COPY in ln for ln in lines)


def shifted_products(x):
    n = x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        y[i] = np.sin(x[i]) * x[i - 1]
    return np.sum(y * y)


def test_hessian_through_a_loop_writing_an_array_copies_no_cotangent_per_iteration(jit_mode):
    # the cotangents' updates in the loop of the second derivative used to copy the whole
    # array each iteration (cubic time in the array's length for the Hessian)
    x = np.random.default_rng(3).normal(size=6)
    h = nabla.hessian(shifted_products)
    assert_close(h(x), numerical_jacobian(nabla.grad(shifted_products), (x,)), rtol=1e-5)
    loops = [ln for ln in h.source.splitlines() if ln.startswith("        ")]
    assert not any("snapshot(x_bar" in ln or "snapshot(y_bar" in ln for ln in loops)
