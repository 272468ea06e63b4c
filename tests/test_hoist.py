"""Loop-invariant code motion (nabla/transforms/hoist.py): what every iteration computes
alike is computed once before the loop, in the primal and the adjoint sweep, and never
where it could change a result: a value changed in place, a name whose value before the
loop is read after it, what may raise in a loop that may not run."""

import math

import numpy as np
import pytest
from fd import numerical_grad

import nabla

HOISTED = "computed once, before it"


def decay(w, x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(np.exp(w) * x[i])
    return s


def named_invariant(a, x):
    s = 0.0
    for i in range(x.shape[0]):
        c = np.cos(a) * 2.0
        s = s + c * x[i] * x[i]
    return s


def nested(w, x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + np.tanh(w) * x[i, j]
    return s


def while_invariant(a, x):
    y = x
    k = 0
    while k < 3:
        y = y * np.sin(a) + 0.5 * y
        k = k + 1
    return y


def changed_in_place(w, x):
    # a fresh np.exp(w) every iteration, one element overwritten: not hoisted
    s = 0.0
    for i in range(x.shape[0]):
        e = np.exp(w)
        e[0] = x[i, 0]
        s = s + np.sum(e * x[i])
    return s


def live_after(a, n):
    # c's value before the loop is what a loop that never runs leaves: not hoisted
    c = a
    for i in range(n):
        c = np.sin(a) * 3.0
    return c * a


def may_raise(a, n):
    # math.log raises for a <= 0: not computed ahead of a loop that may not run
    s = a
    for i in range(n):
        s = s + math.log(a) * s
    return s


CASES = [
    (decay, (np.array([0.3, -0.2, 0.5]), np.linspace(-1.0, 1.0, 12).reshape(4, 3)), (0, 1),
     True),
    (named_invariant, (0.4, np.linspace(-1.0, 1.0, 5)), (0, 1), True),
    (nested, (0.3, np.linspace(-1.0, 1.0, 6).reshape(2, 3)), (0, 1), True),
    (while_invariant, (0.7, 1.3), (0, 1), True),
    (live_after, (0.6, 3), 0, None),
    (live_after, (0.6, 0), 0, None),
    (may_raise, (1.5, 3), 0, None),
]


@pytest.mark.parametrize("fun,args,argnums,hoisted", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_hoisted_gradients_are_right(fun, args, argnums, hoisted, jit_mode):
    g = nabla.grad(fun, argnums=argnums)
    got = g(*args)
    nums = (argnums,) if isinstance(argnums, int) else argnums
    expected = [numerical_grad(fun, list(args), argnum=k) for k in nums]
    for a, b in zip((got,) if isinstance(argnums, int) else got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(nabla.jit(fun)(*args), fun(*args), rtol=1e-12)
    if hoisted is not None:  # value_and_grad: the primal loop runs (grad drops it)
        text = nabla.source(nabla.value_and_grad(fun, argnums=argnums), *args)
        assert (HOISTED in text) is hoisted


def test_named_invariant_moves_whole():
    text = nabla.source(nabla.value_and_grad(named_invariant, argnums=(0, 1)), 0.4,
                        np.ones(3))
    primal = text.split("# adjoint sweep")[0]
    assert f"{HOISTED}\n    c = np.cos(a) * 2.0\n    for i in range" in primal


def test_nested_invariant_leaves_both_loops():
    text = nabla.source(nabla.jit(nested), 0.3, np.ones((2, 3)))
    assert f"{HOISTED}\n    t2 = np.tanh(w)\n    for i in range" in text


def test_changed_in_place_stays(jit_mode):
    w, x = np.array([0.3, -0.2, 0.5]), np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    assert HOISTED not in nabla.source(nabla.jit(changed_in_place), w, x)
    np.testing.assert_allclose(nabla.jit(changed_in_place)(w, x), changed_in_place(w, x),
                               rtol=1e-12)
    tangent = np.array([1.0, -0.5, 0.25])
    _, dot = nabla.jvp(changed_in_place, (w, x), (tangent, np.zeros_like(x)))
    fd = (changed_in_place(w + 1e-6 * tangent, x) - changed_in_place(w - 1e-6 * tangent, x)
          ) / 2e-6
    np.testing.assert_allclose(dot, fd, rtol=1e-6)


def test_refused_moves():
    # c's value before the loop is read after it: c = ... stays in the loop (its call may
    # move, into a temporary); may raise: stays
    assert "for i in range(0, n, 1):\n        c = " in nabla.source(nabla.jit(live_after),
                                                                   0.6, 3)
    assert HOISTED not in nabla.source(nabla.jit(may_raise), 1.5, 3)
    # a loop that never runs: math.log(-1.0) is never computed
    assert nabla.grad(may_raise)(-1.0, 0) == 1.0
