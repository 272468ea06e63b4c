"""A row written into an array compiles without Numba's string formatting of its shape
error (nabla/codegen/slice_errors.py): the derivative is right, a row of the wrong size
still raises ValueError, naming both shapes, and Numba code compiled outside nabla keeps
Numba's own message."""

import numba
import numpy as np
import pytest
from fd import numerical_grad

import nabla


def rows(x):
    t = np.zeros((3, 2))
    for i in range(3):
        t[i] = x[i % 2] * x
    return np.sum(t * t)


def wrong_row(x):
    t = np.zeros((3, 2))
    t[0] = x
    return np.sum(t)


def test_rows_gradient(jit_mode):
    x = np.array([0.7, -1.3])
    np.testing.assert_allclose(nabla.grad(rows)(x), numerical_grad(rows, [x]), rtol=1e-6)


def test_wrong_row_raises_with_shapes():
    nabla.config.jit, old = "strict", nabla.config.jit
    try:
        with pytest.raises(ValueError, match="cannot assign slice") as caught:
            nabla.grad(wrong_row)(np.ones(3))
    finally:
        nabla.config.jit = old
    assert caught.value.args[1:] == ((2,), (3,))


def test_numba_outside_keeps_its_message():
    nabla.grad(rows)(np.ones(2))

    @numba.njit
    def put(a, v):
        a[0] = v

    with pytest.raises(ValueError, match=r"of shape \(3,\) from input of shape \(2,\)"):
        put(np.zeros((2, 3)), np.ones(2))
