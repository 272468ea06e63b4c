"""The rules of scipy.special (nabla/rules/special.py) and their runtime kernels
(nabla/runtime/special.py): values against SciPy under Numba, derivatives against
central finite differences in reverse and forward mode, second derivatives, vmap."""

import numpy as np
import pytest
import scipy.special
from fd import assert_close, numerical_grad, numerical_jacobian
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, gammaln, logsumexp, xlogy

import nabla
import nabla.runtime as rt


def f_expit(x):
    return np.sum(expit(x) * x)


def f_logit(x):
    return np.sum(scipy.special.logit(x) ** 2)


def f_erf(x):
    return np.sum(scipy.special.erf(x) * scipy.special.erfc(x * 0.5))


def f_gammaln(x):
    return np.sum(gammaln(x + 1.0))


def f_logsumexp(x):
    return logsumexp(x)


def f_logsumexp_axis(x):
    return np.sum(logsumexp(x, axis=1) * np.arange(x.shape[0]))


def f_xlogy(x, y):
    return np.sum(xlogy(x, y))


def f_scalar(t):
    return expit(t) * gammaln(t + 2.0) + scipy.special.erf(t)


X = np.array([0.21, 0.43, 0.58, 0.77])
M = np.random.default_rng(0).normal(size=(3, 4))


@pytest.mark.parametrize("f, x", [
    (f_expit, X), (f_logit, X), (f_erf, X), (f_gammaln, X), (f_logsumexp, X),
    (f_logsumexp_axis, M), (f_scalar, 0.7),
], ids=lambda v: getattr(v, "__name__", ""))
def test_gradients_in_both_modes(jit_mode, f, x):
    expected = numerical_grad(f, (x,))
    assert_close(nabla.grad(f, mode="reverse")(x), expected)
    assert_close(nabla.grad(f, mode="forward")(x), expected)
    assert nabla.jit(f)(x) == pytest.approx(f(x))


@pytest.mark.parametrize("f", [f_expit, f_logit, f_erf, f_logsumexp],
                         ids=lambda f: f.__name__)
def test_hessians_and_per_example_gradients(jit_mode, f):
    g = nabla.grad(f)
    assert_close(nabla.hessian(f)(X), numerical_jacobian(lambda v: g(v), (X,)),
                 rtol=1e-4, atol=1e-5)
    rows = M * 0.1 + 0.5
    assert_close(nabla.vmap(nabla.grad(f))(rows), [numerical_grad(f, (r,)) for r in rows])


def test_xlogy_in_both_arguments(jit_mode):
    y = np.array([0.5, 1.5, 2.0, 3.0])
    for argnum in (0, 1):
        assert_close(nabla.grad(f_xlogy, argnums=argnum)(X, y),
                     numerical_grad(f_xlogy, (X, y), argnum=argnum))


def test_digamma_is_a_value_and_gammalns_second_derivative_is_refused():
    with pytest.raises(nabla.NablaError, match="no derivative with respect to"):
        nabla.hessian(f_gammaln)(X)


@settings(max_examples=40, deadline=None)
@given(st.floats(-30.0, 30.0).filter(lambda v: abs(v - round(v)) > 1e-3 or v > 0.5))
def test_the_compiled_kernels_agree_with_scipy(v):
    import numba

    @numba.njit
    def all_of(x):
        return (rt.expit(x), rt.erf(x), rt.erfc(x), rt.digamma(x), rt.xlogy(x, 2.5))
    got = all_of(np.array([v]))
    want = (scipy.special.expit(v), scipy.special.erf(v), scipy.special.erfc(v),
            scipy.special.digamma(v), scipy.special.xlogy(v, 2.5))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a[0], b, rtol=1e-10, atol=1e-12)
    if v > 0:
        # (gammaln is 0 at 1 and 2: near them, an absolute tolerance)
        np.testing.assert_allclose(numba.njit(lambda x: rt.gammaln(x))(v),
                                   scipy.special.gammaln(v), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(numba.njit(lambda x: rt.logit(x))(v / 31.0),
                                   scipy.special.logit(v / 31.0), rtol=1e-10)
