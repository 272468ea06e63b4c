"""Small arrays of a known length as scalars (nabla/transforms/unroll.py): gradients
checked against finite differences with Numba on and off, and an array any read of which
needs it whole stays an array."""

import math

import numpy as np
import pytest
from fd import numerical_grad
from golden_functions import spring

import nabla

SCALARS = "as scalars"


def cross_energy(a, b):
    # np.cross written out on 3-vectors built from scalars
    u = np.array([a[0], a[1], a[2]])
    v = np.array([b[0] * 2.0, b[1], b[2] - 1.0])
    w = np.array([u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                  u[0] * v[1] - u[1] * v[0]])
    return np.sum(w * w) + np.sum(np.sin(u) * v) + w[-1]


def stepped(x, dt):
    # a small array rebuilt every step of a loop
    e = 0.0
    for i in range(5):
        p = np.array([x * math.cos(dt * i), x * math.sin(dt * i)])
        e = e + np.sum(p * p * dt) + p[0]
    return e


def escapes(x):
    # q is returned inside a tuple's computation: it stays an array
    q = np.array([x, 2.0 * x, 3.0])
    return np.sum(q * x) + scale_first(q)


def scale_first(q):
    return q[0] * 2.0


def mismatched(x, k):
    # q (2 elements) against x (any length): not a scalar operation, q stays an array
    q = np.array([k, 2.0 * k])
    return np.sum(q * x[0:2]) + np.sum(x)


CASES = [
    (spring, (np.array([0.3, -0.7]), 0.4), (0, 1), True),
    (cross_energy, (np.array([0.3, -0.7, 1.1]), np.array([0.5, 0.2, -0.4])), (0, 1), True),
    (stepped, (0.8, 0.3), (0, 1), True),
    (escapes, (0.7,), 0, False),
    (mismatched, (np.array([0.3, -0.7, 1.1]), 0.4), (0, 1), False),
]


@pytest.mark.parametrize("fun,args,argnums,unrolled", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_unrolled_gradients_are_right(fun, args, argnums, unrolled, jit_mode):
    g = nabla.grad(fun, argnums=argnums, mode="reverse")
    got = g(*args)
    nums = (argnums,) if isinstance(argnums, int) else argnums
    expected = [numerical_grad(fun, list(args), argnum=k) for k in nums]
    for a, b in zip((got,) if isinstance(argnums, int) else got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert (SCALARS in nabla.source(g, *args)) is unrolled


def test_unrolled_source():
    a, b = CASES[1][1]
    text = nabla.source(nabla.grad(cross_energy, argnums=(0, 1)), a, b)
    forward = text.split("# adjoint sweep")[0]
    assert "np.array" not in forward and "array_of" not in forward
    assert "w_2 = " in forward and "w[" not in forward
    adjoint = text.split("# adjoint sweep")[1]
    assert "w_bar_2 = w_bar_2 + out_bar" in adjoint  # w[-1]'s cotangent, in element 2


def test_value_and_grad_of_unrolled_code(jit_mode):
    value, grads = nabla.value_and_grad(spring, argnums=(0, 1))(np.array([0.3, -0.7]), 0.4)
    np.testing.assert_allclose(value, spring(np.array([0.3, -0.7]), 0.4), rtol=1e-13)


def divided(x, k):
    # q / k is NumPy's on an array (an infinity for k = 0), Python's on scalars: q stays
    q = np.array([x[0], x[1] * 2.0])
    return np.sum(q * q / k)


def test_division_keeps_the_array(jit_mode):
    x = np.array([0.3, -0.7])
    assert SCALARS not in nabla.source(nabla.grad(divided), x, 0.5)
    np.testing.assert_allclose(nabla.grad(divided)(x, 0.5),
                               numerical_grad(divided, [x, 0.5], 0), rtol=1e-6)
