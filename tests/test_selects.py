"""A branch on a batched value in vmap's vector form (nabla/transforms/selects.py): both
sides for every example and ``np.where``, where the examples are arrays, both sides only
assign names and cannot raise; otherwise the loop form, as before. Every case is checked
against the function run on each example, Numba on and off, and a derivative mapped
over the batch against finite differences."""

import numpy as np
import pytest
from fd import numerical_grad

import nabla

SELECTED = "both sides computed, np.where keeps each example's own"


def unit(x):
    s = np.sum(x * x)
    if s > 1.0:
        y = x / np.sqrt(s)
    else:
        y = x
    return y * 2.0


def one_side(x, w):
    # y has its value before the branch on the examples the branch does not serve
    y = x * w
    if np.sum(x) > 0.0:
        z = np.sin(x)
        y = z * z + w
    return np.sum(y)


def mixed_ranks(x):
    # a scalar of one side lines up with the examples' arrays
    if x[0] > 0.0:
        a = x[1] * 3.0
        y = x * a
    else:
        y = np.cos(x)
    return y


def scalar(x):
    # scalar examples: the loop form's compiled loop is faster than two sides
    if x > 0.5:
        y = np.sin(x)
    else:
        y = x * x
    return y


def raises(x, n):
    # 1.0 / n raises ZeroDivisionError for n = 0 on the side the examples may never take
    if np.sum(x) > 100.0:
        c = 1.0 / n
        y = x * c
    else:
        y = x
    return y


def writes(x):
    y = np.zeros_like(x)
    if np.sum(x) > 0.0:
        y[0] = 1.0
    return y * x


def batch():
    rng = np.random.default_rng(3)
    return rng.normal(size=(7, 3)) * np.array([[1.0], [0.1], [2.0], [0.2], [1.5], [-1], [0]])


def _each(fun, *columns):
    return np.stack([fun(*args) for args in zip(*columns)])


@pytest.mark.parametrize("fun", [unit, mixed_ranks])
def test_selected_branch_is_each_examples_own(fun, jit_mode):
    xs = batch()
    v = nabla.vmap(fun)
    np.testing.assert_allclose(v(xs), _each(fun, xs), rtol=1e-13)
    assert SELECTED in nabla.source(v, xs)


def test_one_side_keeps_the_value_before(jit_mode):
    xs, ws = batch(), np.linspace(0.5, 1.5, 7)
    v = nabla.vmap(one_side)
    np.testing.assert_allclose(v(xs, ws), _each(one_side, xs, ws), rtol=1e-13)
    assert SELECTED in nabla.source(v, xs, ws)


@pytest.mark.parametrize("fun,args,why", [
    (scalar, (np.linspace(0.0, 1.0, 9),), "a branch on a batched value at line"),
    (raises, (batch(), 0.0), "a branch on a batched value whose sides cannot both run"),
    (writes, (batch(),), "a branch on a batched value that does more than assign names"),
])
def test_loop_form_where_a_select_does_not_apply(fun, args, why, jit_mode):
    v = nabla.vmap(fun, in_axes=(0,) + (None,) * (len(args) - 1))
    text = nabla.source(v, *args)
    assert SELECTED not in text and why in text
    expected = _each(lambda x: fun(x, *args[1:]), args[0])
    np.testing.assert_allclose(v(*args), expected, rtol=1e-13)


def test_mapped_derivatives_with_a_branch(jit_mode):
    # each example's Jacobian and gradient
    xs, ws = batch(), np.linspace(0.5, 1.5, 7)
    jac = nabla.vmap(nabla.jacfwd(unit))(xs)
    for x, j in zip(xs, jac):
        for k in range(3):
            np.testing.assert_allclose(j[k], numerical_grad(lambda v, k=k: unit(v)[k], [x], 0),
                                       rtol=1e-6, atol=1e-8)
    xs, ws = xs[:-1], ws[:-1]  # not the zeros: np.sum(x) > 0.0 flips within a step
    grads = nabla.vmap(nabla.grad(one_side))(xs, ws)
    for x, w, g in zip(xs, ws, grads):
        np.testing.assert_allclose(g, numerical_grad(one_side, [x, w], 0), rtol=1e-6,
                                   atol=1e-8)


def test_differentiated_vmap_keeps_the_branch():
    # another transform reads the vmap's code: np.where of both sides would turn the
    # other side's infinity (1 / sqrt(0) here) into 0 * inf = nan in the derivative
    xs = np.vstack([np.zeros(3), batch()])

    def total(xs):
        return np.sum(nabla.vmap(unit)(xs))
    g = nabla.grad(total)(xs)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, numerical_grad(total, [xs], argnum=0), rtol=1e-6,
                               atol=1e-8)
