"""The activity analysis and the shape classes (nabla/transforms/activity.py), on the
canonical forms of small functions: which names carry derivatives, and which names are
proven to share a shape or to be scalars. (The user's names are asserted on: the
temporaries' names are the canonical form's business.)"""

import numpy as np

from nabla.transforms.activity import ShapeClasses, analyse
from nabla.transforms.normalize import normalize


def doubled_if_large(x, y, n):
    a = x * y
    c = a > 0.5
    k = n * 2
    if c:
        a = a * 2.0
    b = np.sin(a) + k
    return b


def compared_only(x, y):
    a = x * 2.0
    if a > y:
        r = y * 3.0
    else:
        r = y
    return r


def unused_branch(x, y):
    d = np.cos(x)  # noqa: F841 - a value nothing reads, on purpose
    e = y * 2.0
    return x * e


def elementwise_chain(x, w, s):
    u = np.sin(x)
    v = u * x
    m = np.sum(v)
    p = w * s
    return m + p


def activity_of(f, wrt):
    canon = normalize(f)
    return canon, analyse(canon, wrt, [canon.result.id])


def test_active_names_follow_the_differentiated_input_to_the_output():
    canon, act = activity_of(doubled_if_large, ["x"])
    users = {"x", "y", "n", "a", "c", "k", "b"}
    assert {n for n in users if act.active(n)} == {"x", "a", "b"}
    # the version of `a` the branch assigns is active too
    assert all(act.active(n) for n in canon.user_names if n.startswith("a"))


def test_a_value_used_only_in_a_comparison_is_not_active():
    canon, act = activity_of(compared_only, ["x"])
    assert "a" in act.varied  # it depends on x ...
    assert "a" not in act.useful  # ... but only a comparison reads it: no derivative flows
    assert not act.active("a") and not act.active("x")
    assert not any(act.active(n) for n in canon.user_names)


def test_a_value_no_output_reads_is_varied_but_not_useful():
    canon, act = activity_of(unused_branch, ["x"])
    assert "d" in act.varied and "d" not in act.useful
    assert "e" not in act.varied  # the output reads it, but y is not differentiated
    assert act.active("x") and not act.active("d") and not act.active("e")


def test_differentiating_another_argument_changes_what_is_active():
    canon, act = activity_of(unused_branch, ["y"])
    assert act.active("y") and act.active("e")
    assert not act.active("x") and not act.active("d")


def test_elementwise_results_share_their_operands_shape():
    shapes = ShapeClasses(normalize(elementwise_chain))
    assert shapes.same("u", "x") and shapes.same("v", "x")
    assert not shapes.same("p", "w") and not shapes.same("p", "s")  # w * s may broadcast
    assert not shapes.same("v", "m")


def test_a_full_reduction_is_a_scalar_and_nothing_else_is_without_ranks():
    shapes = ShapeClasses(normalize(elementwise_chain))
    assert shapes.same("m", ShapeClasses.SCALAR)
    assert not any(shapes.same(n, ShapeClasses.SCALAR) for n in ("x", "u", "v", "w", "s", "p"))


def test_the_arguments_ranks_prove_scalars():
    shapes = ShapeClasses(normalize(elementwise_chain), (), {"x": 1, "w": 0, "s": 0})
    scalar = ShapeClasses.SCALAR
    assert shapes.same("w", scalar) and shapes.same("s", scalar) and shapes.same("p", scalar)
    assert not shapes.same("x", scalar) and not shapes.same("v", scalar)
    assert shapes.ranks["v"] == 1 and shapes.ranks["m"] == 0


def test_a_scalar_output_makes_the_operands_of_its_elementwise_sources_scalars():
    canon = normalize(elementwise_chain)
    shapes = ShapeClasses(canon, [canon.result.id])
    scalar = ShapeClasses.SCALAR
    # out = m + p is a scalar: so is p, and so are w and s (a product never shrinks)
    assert all(shapes.same(n, scalar) for n in ("p", "w", "s"))
    assert not shapes.same("x", scalar)  # m = np.sum(v) says nothing about v
