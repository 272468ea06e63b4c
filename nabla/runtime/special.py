"""Special functions of ``scipy.special`` that Numba lacks: ``expit``, ``logit``, ``erf``,
``erfc``, ``gammaln``, ``digamma`` and ``xlogy``.

In Python each is SciPy's own; under Numba a compiled kernel maps the scalar function
over an array (float32 in, float32 out, computed in float64). ``digamma`` is the
derivative of ``gammaln``, from the recurrence ψ(x) = ψ(x + 1) - 1/x and the asymptotic
series from x >= 10 (error below 1e-13; negative non-integers by reflection):

>>> float(expit(0.0)), float(logit(0.5)), round(float(digamma(1.0)), 12)
(0.5, 0.0, -0.577215664902)
>>> xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
array([0., 2.])
"""

import math

import numpy as np
import scipy.special
from numba import types
from numba.extending import overload, register_jitable

from ._types import _inexact, _is_scalar, _nb, _np_dtype

__all__ = ["expit", "logit", "erf", "erfc", "gammaln", "digamma", "xlogy"]


@register_jitable
def _expit(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@register_jitable
def _logit(x):
    return math.log(x / (1.0 - x))


@register_jitable
def _erf(x):
    return math.erf(x)


@register_jitable
def _erfc(x):
    return math.erfc(x)


@register_jitable
def _gammaln(x):
    return math.lgamma(x)


@register_jitable
def _digamma(x):
    if x <= 0.0 and x == math.floor(x):
        return math.nan  # a pole
    shift = 0.0
    if x < 0.0:  # reflection: ψ(x) = ψ(1 - x) - π / tan(π x)
        shift = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    inv = 1.0 / (x * x)
    series = inv * (1.0 / 12 - inv * (1.0 / 120 - inv * (1.0 / 252 - inv * (
        1.0 / 240 - inv * (1.0 / 132)))))
    return shift + math.log(x) - 0.5 / x - series


@register_jitable
def _xlogy(x, y):
    if x == 0.0:
        return 0.0
    return x * math.log(y)


def _unary(name, kernel, python):
    """The helper ``name``: SciPy's ``python`` in Python, ``kernel`` mapped under Numba."""
    def helper(x):
        return python(x)
    helper.__name__ = helper.__qualname__ = name
    helper.__doc__ = f"``scipy.special.{python.__name__}`` (compiled under Numba)."

    @overload(helper)
    def _ov(x):
        if isinstance(x, types.Array):
            dt = _nb(_inexact(_np_dtype(x)))

            def impl(x):
                out = np.empty(x.shape, dt)
                flat = out.reshape(-1)
                xs = x.ravel()
                for i in range(xs.size):
                    flat[i] = kernel(np.float64(xs[i]))
                return out
            return impl
        if _is_scalar(x):
            fty = _nb(_inexact(_np_dtype(x)))
            return lambda x: fty(kernel(np.float64(x)))
        return None
    return helper


expit = _unary("expit", _expit, scipy.special.expit)
logit = _unary("logit", _logit, scipy.special.logit)
erf = _unary("erf", _erf, scipy.special.erf)
erfc = _unary("erfc", _erfc, scipy.special.erfc)
gammaln = _unary("gammaln", _gammaln, scipy.special.gammaln)
digamma = _unary("digamma", _digamma, scipy.special.digamma)


def xlogy(x, y):
    """``x * log(y)``, 0 where ``x`` is 0 (``scipy.special.xlogy``); under Numba, arrays of
    one shape or an array and a scalar."""
    return scipy.special.xlogy(x, y)


@overload(xlogy)
def _ov_xlogy(x, y):
    if _is_scalar(x) and _is_scalar(y):
        fty = _nb(np.promote_types(_inexact(_np_dtype(x)), _inexact(_np_dtype(y))))
        return lambda x, y: fty(_xlogy(np.float64(x), np.float64(y)))
    if not any(isinstance(t, types.Array) for t in (x, y)):
        return None
    dt = _nb(np.promote_types(_inexact(_np_dtype(x)), _inexact(_np_dtype(y))))
    if isinstance(x, types.Array) and isinstance(y, types.Array):
        def impl(x, y):
            if x.shape != y.shape:
                raise ValueError("nabla: xlogy under Numba needs arrays of one shape")
            out = np.empty(x.shape, dt)
            flat, xs, ys = out.reshape(-1), x.ravel(), y.ravel()
            for i in range(xs.size):
                flat[i] = _xlogy(np.float64(xs[i]), np.float64(ys[i]))
            return out
        return impl
    if isinstance(x, types.Array):
        def impl(x, y):
            out = np.empty(x.shape, dt)
            flat, xs = out.reshape(-1), x.ravel()
            for i in range(xs.size):
                flat[i] = _xlogy(np.float64(xs[i]), np.float64(y))
            return out
        return impl

    def impl(x, y):
        out = np.empty(y.shape, dt)
        flat, ys = out.reshape(-1), y.ravel()
        for i in range(ys.size):
            flat[i] = _xlogy(np.float64(x), np.float64(ys[i]))
        return out
    return impl
