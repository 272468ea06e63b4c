"""Every composition closes: a transform of generated code (the jacfwd of a grad, a
hessian, a vmap of a grad) finds a rule for each runtime helper the generated code calls,
and the derivatives agree with finite differences, Numba on and off."""

import math

import numpy as np
import pytest

import nabla
import nabla.runtime as rt
from nabla import rules
from tests.fd import assert_close, numerical_grad, numerical_jacobian

# parameters that take an int or a dtype, never a value with a derivative
INTEGER_PARAMETERS = {"axis", "ddof", "dtype"}
# helpers a transform of generated code may meet without a derivative in one direction;
# reaching one is refused where the generated code calls it (docs/supported.md)
NO_DERIVATIVE_YET = {
    ("take_axis", "vjp", "v"), ("slice_axis", "vjp", "v"), ("jac_unblock", "vjp", "v"),
    # a third derivative of np.prod
    ("prod_vjp_jvp", "jvp", "x"), ("prod_vjp_jvp", "vjp", "x"),
    ("tape_push", "vjp", "tape"), ("tape_push", "vjp", "v"),
    # scipy.special.digamma, a value: its derivative (trigamma) has no rule
    ("digamma", "jvp", "x"), ("digamma", "vjp", "x"),
}
# the write log of reverse-mode loops: state of one sweep, never differentiated again
OPAQUE = {"write_log", "log_size", "log_write", "undo_writes", "pop_writes"}


def _helpers():
    for name in sorted(dir(rt)):
        obj = getattr(rt, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, type) and \
                name != "prange":
            yield name, obj


def test_every_runtime_helper_has_a_rule_in_every_direction():
    missing = []
    for name, obj in _helpers():
        rule = rules.lookup_object(obj)
        if rule is None:
            missing.append(f"{name}: no rule")
            continue
        if rule.kind in ("inactive", "zero", "random") or rule.seq is not None:
            continue
        if name in OPAQUE:
            assert rule.kind == "opaque", name
            continue
        if rule.no_derivative is not None:  # says why it has none (compiled code called)
            continue
        for p in rule.params:
            if p in rule.nondiff or p in INTEGER_PARAMETERS:
                continue
            has = {"jvp": p in rule.jvp or rule.jvp_all is not None, "vjp": p in rule.vjp}
            for direction, present in has.items():
                listed = (name, direction, p) in NO_DERIVATIVE_YET
                if not present and not listed:
                    missing.append(f"{name}: no {direction} for {p}")
                if present and listed:
                    missing.append(f"{name}: has a {direction} for {p}; take it off the list")
    assert not missing, missing


# -- the compositions that used to be refused ----------------------------------------------

def sum_axis(x):
    return np.sum(x, axis=0) * 2.0


def prod_axis(x):
    return np.prod(x, axis=1)


def max_keepdims(x):
    return np.max(x, axis=1, keepdims=True) * x


def squeezed(x):
    return np.squeeze(x, axis=0) * 3.0


def method_sum(x):
    return x.sum(axis=1)


def cumulative(x):
    return np.cumsum(x * x)


def mean_keepdims(x):
    return np.sum(x / np.mean(x, keepdims=True) * x)


def log_of_base(x):
    return np.sum(x * x) + math.log(np.sum(x * x), 3.0)


def log_sum_exp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def cumulative_squares(x):
    return np.sum(np.cumsum(x) ** 2) + np.sum(np.cumsum(x * x * x, axis=0))


def product(x):
    return np.prod(x) + x[0]


def cross_entropy(w, x):
    z = x * w
    z = z - np.max(z)
    return -(z[0] - np.log(np.sum(np.exp(z))))


A = np.random.default_rng(0).uniform(0.5, 1.5, size=(3, 4))


@pytest.mark.parametrize("f, x", [
    (sum_axis, A), (prod_axis, A), (max_keepdims, A), (method_sum, A), (squeezed, A[:1]),
    (cumulative, A[0]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_jacobians_of_reductions_along_an_axis(jit_mode, f, x):
    expected = numerical_jacobian(f, (x,))
    assert_close(nabla.jacfwd(f)(x), expected)
    assert_close(nabla.jacrev(f)(x), expected)


@pytest.mark.parametrize("f", [mean_keepdims, log_of_base, log_sum_exp, cumulative_squares],
                         ids=lambda f: f.__name__)
def test_hessians_through_the_helpers_of_a_gradient(jit_mode, f):
    x = A[0]
    g = nabla.grad(f)
    expected = numerical_jacobian(lambda y: g(y), (x,))
    assert_close(nabla.hessian(f)(x), expected, rtol=1e-4, atol=1e-5)
    assert_close(nabla.jacrev(nabla.grad(f))(x), expected, rtol=1e-4, atol=1e-5)


def test_a_derivative_a_helper_lacks_is_refused_not_zero():
    """np.prod's second-derivative helper has no derivative with respect to x yet: a third
    derivative is refused where the generated code calls it, never one missing that term
    (the function of the user's that calls it, here a backward function, passes the
    refusal on to its caller)."""
    x = A[0]
    for third in (lambda f: nabla.jacfwd(nabla.hessian(f)),
                  lambda f: nabla.jacrev(nabla.jacrev(nabla.grad(f)))):
        with pytest.raises(nabla.NablaError, match="no derivative with respect to its "
                           "argument 'x'"):
            third(product)(x)


def test_per_example_gradients_of_a_softmax_cross_entropy(jit_mode):
    w = A[0]
    got = nabla.vmap(nabla.grad(cross_entropy), in_axes=(None, 0))(w, A)
    assert_close(got, [numerical_grad(cross_entropy, (w, row)) for row in A])


# -- 2-d array literals -------------------------------------------------------------------------

def matrix_literal(a, b):
    return np.array([[a, b], [b * b, a - b]])


def matrix_literal_loss(a, b):
    m = np.array([[a, b], [b * b, a - b]])
    return np.sum(m @ m)


@pytest.mark.parametrize("argnum", [0, 1])
def test_a_2d_literal_in_every_transform(jit_mode, argnum):
    args = (0.3, 0.7)
    expected = numerical_jacobian(matrix_literal, args, argnum=argnum)
    assert_close(nabla.jacfwd(matrix_literal, argnums=argnum)(*args), expected)
    assert_close(nabla.jacrev(matrix_literal, argnums=argnum)(*args), expected)
    out, back = nabla.vjp(matrix_literal, *args)
    ct = np.array([[1.0, 2.0], [-1.0, 0.5]])
    assert_close(back(ct)[argnum], np.sum(ct * expected))
    assert nabla.grad(matrix_literal_loss, argnums=argnum)(*args) == pytest.approx(
        numerical_grad(matrix_literal_loss, args, argnum=argnum), rel=1e-6)
    assert_close(nabla.jit(matrix_literal)(*args), matrix_literal(*args))


# -- chained comparisons --------------------------------------------------------------------------

def chained_in_loops(x, n):
    s = 0.0
    for k in range(n):
        s = s + x
    for k in range(n):
        if 1 <= k <= n - 2:
            s = s * x
    return s


def test_a_chained_comparison_of_a_loop_variable_assigned_in_two_loops(jit_mode):
    assert nabla.jit(chained_in_loops)(0.9, 5) == pytest.approx(chained_in_loops(0.9, 5))
    assert nabla.grad(chained_in_loops)(0.9, 5) == pytest.approx(
        numerical_grad(chained_in_loops, (0.9, 5)), rel=1e-6)


# -- a loop's writes into an array of its own, batched ---------------------------------------------

def accumulated_matvec(a, x):
    y = np.zeros(a.shape[0])
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            y[i] += a[i, j] * x[j]
    return np.sum(np.sin(y))


def test_a_vmapped_gradient_of_a_loop_that_writes_into_its_own_array(jit_mode):
    # the gradient undoes the loop's writes (y = undo_writes(y, log, mark)): the array the
    # helper updates and returns is still the function's own, so vmap may write into it
    # (it was refused as "an array that may share memory with an argument")
    rng = np.random.default_rng(3)
    a, x = rng.normal(size=(3, 2, 4)), rng.normal(size=4)
    got = nabla.vmap(nabla.grad(accumulated_matvec), in_axes=(0, None))(a, x)
    assert_close(got, [numerical_grad(accumulated_matvec, (row, x)) for row in a])
    got_x = nabla.vmap(nabla.grad(accumulated_matvec, argnums=1), in_axes=(None, 0))(a[0], a[:, 0])
    assert_close(got_x, [numerical_grad(accumulated_matvec, (a[0], row), argnum=1)
                         for row in a[:, 0]])


# -- second derivatives through a function of the user's: masks and index tapes ------------------

def masked(x):
    return np.where(x > 0, x ** 2, np.sin(x)) * x[0]


def calls_masked(x):
    return np.sum(masked(x))


def decaying(x, n):
    s = x[0]
    i = 0
    while i < n:
        s = s * 0.9 + x[i % 4] ** 2
        i += 1
    return s


def calls_decaying(x):
    return decaying(x, 5) + decaying(x * x, 3)


@pytest.mark.parametrize("f", [calls_masked, calls_decaying], ids=lambda f: f.__name__)
def test_second_derivatives_through_a_callee_that_keeps_a_mask_or_an_index_tape(jit_mode, f):
    # the gradient's backward function of the callee takes the mask (x > 0) or the while
    # loop's tape of indices as an argument: np.where's condition and an index have no
    # derivative (zero), so the Hessian goes through them (it was refused)
    x = np.array([0.3, -0.7, 1.1, 0.4])
    g = nabla.grad(f)
    expected = numerical_jacobian(lambda y: g(y), (x,))
    assert_close(nabla.hessian(f)(x), expected, rtol=1e-4, atol=1e-5)
    assert_close(nabla.jacrev(nabla.grad(f))(x), expected, rtol=1e-4, atol=1e-5)
