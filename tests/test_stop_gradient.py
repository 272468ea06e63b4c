"""nabla.stop_gradient: a value whose derivative is zero, in every transform (JAX's
lax.stop_gradient), Numba on and off."""

import numpy as np
import pytest
from fd import assert_close, numerical_grad

import nabla
from nabla import stop_gradient

X = np.array([0.3, -0.7, 1.1])


def scaled(x):
    return np.sum(x * stop_gradient(x))


def normalized(x):
    # the denominator is held fixed: a straight-through normalisation
    return np.sum(np.sin(x) / stop_gradient(np.sum(x * x)))


def scalar(t):
    return t * t * stop_gradient(np.exp(t))


def test_it_is_the_value_outside_the_transforms():
    assert stop_gradient(2.5) == 2.5
    assert stop_gradient(X) is X


def test_its_derivative_is_zero_in_every_transform(jit_mode):
    assert_close(nabla.grad(scaled)(X), X)  # d/dx sum(x * c) with c = x held
    assert_close(nabla.grad(scaled, mode="forward")(X), X)
    assert_close(nabla.grad(normalized)(X), np.cos(X) / np.sum(X * X))
    assert nabla.grad(scalar)(0.4) == pytest.approx(2 * 0.4 * np.exp(0.4))
    # the gradient is stop_gradient(x) itself, so its derivative is zero too (as in JAX)
    assert_close(nabla.hessian(scaled)(X), np.zeros((3, 3)))
    assert_close(nabla.jacfwd(nabla.grad(normalized))(X), np.diag(-np.sin(X)) / np.sum(X * X))
    _, tangent = nabla.jvp(scaled, (X,), (np.ones(3),))
    assert tangent == pytest.approx(np.sum(X))
    out, back = nabla.vjp(scaled, X)
    assert_close(back(1.0)[0], X)
    xs = np.random.default_rng(0).normal(size=(4, 3))
    assert_close(nabla.vmap(nabla.grad(scaled))(xs), xs)
    assert nabla.jit(normalized)(X) == pytest.approx(normalized(X))


def test_without_it_the_derivative_is_the_full_one(jit_mode):
    """The finite-difference check of the same function without stop_gradient, so that
    the test above is seen to differ from it."""
    def full(x):
        return np.sum(x * x)
    assert not np.allclose(numerical_grad(full, (X,)), nabla.grad(scaled)(X))
