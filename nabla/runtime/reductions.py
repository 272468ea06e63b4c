"""Reductions and cumulative sums: NumPy's with an ``axis``, under Numba too.

``reduce_sum``, ``reduce_mean``, ``reduce_prod``, ``reduce_max``, ``reduce_min``,
``reduce_var``, ``reduce_std`` are ``np.sum(x, axis=axis)`` and the like; ``norm`` is
``np.linalg.norm(x, axis=axis)``; ``reduced_count`` is how many elements a reduction
combines (the divisor of a mean's vjp); ``cumsum`` and ``rcumsum`` (its vjp) sum along
one axis.  ``axis`` is None (all axes: the result is a scalar, as in NumPy), an int or
a tuple of ints.

>>> x = np.arange(6.0).reshape(2, 3)
>>> reduce_sum(x, 1), reduce_max(x, (0, 1)), reduced_count(x, -1)
(array([ 3., 12.]), np.float64(5.0), np.float64(3.0))
>>> cumsum(x, 1), rcumsum(np.ones(3))
(array([[ 0.,  1.,  3.],
       [ 3.,  7., 12.]]), array([3., 2., 1.]))

Under Numba each reduction is generated for the argument types from one of four
source templates (``_REDUCE_SRC``) that call a kernel of ``_kernels``; the dtype of
the result is the one NumPy gives (``_ref_dtype``), and float32 sums accumulate in
float64 (``_acc_dtype``).
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload

from ._compiled import _axis_mask, _exec_impl, _norm_axis, _shape_of
from ._kernels import _k_cumsum, _k_extreme, _k_mean, _k_prod, _k_sum, _k_var
from ._types import (
    _axis_count,
    _inexact,
    _is_none,
    _is_scalar,
    _nb,
    _need_array,
    _np_dtype,
    _py_axes,
)

__all__ = [
    "reduce_sum", "reduce_mean", "reduce_prod", "reduce_max", "reduce_min", "reduce_var",
    "reduce_std", "reduced_count", "norm", "cumsum", "rcumsum",
]

_NP_REDUCE = {
    "sum": np.sum,
    "prod": np.prod,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "var": np.var,
    "std": np.std,
}
_KINDS = {
    "sum": (_k_sum, 0),
    "mean": (_k_mean, 1),
    "var": (_k_var, 2),
    "std": (_k_var, 3),
    "prod": (_k_prod, 4),
    "max": (_k_extreme, 5),
    "min": (_k_extreme, 6),
}


def _ref_dtype(kind, dt):
    """The dtype NumPy's reduction ``kind`` returns for input dtype ``dt``."""
    return np.asarray(_NP_REDUCE[kind](np.ones(2, dt))).dtype


def _acc_dtype(dt):
    """Accumulator dtype for sums: float64 for low-precision floats."""
    dt = np.dtype(dt)
    if dt.kind == "f" and dt.itemsize < 8:
        return np.dtype(np.float64)
    if dt.kind == "c" and dt.itemsize < 16:
        return np.dtype(np.complex128)
    return _ref_dtype("sum", dt)


_REDUCE_SRC = {
    "scalar": """
def impl(x, axis=None{extra}):
    acc, out = np.zeros(1, accty), np.empty(1, outty)
    return kernel(np.full(1, x), np.empty(0, np.intp), acc, out, _int(1), {ddof}, _int(kind))[0]
""",
    "none": """
def impl(x, axis=None{extra}):
    acc, out = np.zeros(1, accty), np.empty(1, outty)
    xf = x.ravel()
    return kernel(xf, np.empty(0, np.intp), acc, out, xf.size, {ddof}, _int(kind))[0]
""",
    "all": """
def impl(x, axis=None{extra}):
    gid, ng, nred = _group_ids(_shape_of(x), _axis_mask(axis, nd))
    acc, out = np.zeros(1, accty), np.empty(1, outty)
    return kernel(x.ravel(), gid, acc, out, nred, {ddof}, _int(kind))[0]
""",
    "some": """
def impl(x, axis=None{extra}):
    shape = _shape_of(x)
    mask = _axis_mask(axis, nd)
    gid, ng, nred = _group_ids(shape, mask)
    acc, out = np.zeros(ng, accty), np.empty(ng, outty)
    res = kernel(x.ravel(), gid, acc, out, nred, {ddof}, _int(kind))
    return res.reshape(to_fixed_tuple(_kept_shape(shape, mask), out_nd))
""",
}


# a matrix reduced along one int axis (np.sum(a, axis=1), np.max(a, 0)), the common case,
# and a vector along its axis: plain loops over the elements, no group ids, no flattened
# copy, no reshape (those cost a second of compile per specialisation, and a pass over
# memory at run time). An extremum starts from the first element and keeps a NaN it meets
# (no comparison with it is true), as the kernels do.
_MATRIX_SRC = """
def impl(x, axis=None):
    a = _norm_axis(axis, _int(2))
    n0, n1 = x.shape
    n, m = (n0, n1) if a == 1 else (n1, n0){empty}
    out = np.empty(n, outty)
    if a == 1:
        for i in range(n0):
            s = {row_init}
            for j in range({first}, n1):
                v = x[i, j]
                {step}
            out[i] = {finish}
    else:
        acc = np.empty(n1, accty)
        for j in range(n1):
            acc[j] = {col_init}
        for i in range({first}, n0):
            for j in range(n1):
                s = acc[j]
                v = x[i, j]
                {step}
                acc[j] = s
        for j in range(n1):
            s = acc[j]
            out[j] = {finish}
    return out
"""
_VECTOR_SRC = """
def impl(x, axis=None):
    _norm_axis(axis, _int(1))
    m = x.shape[0]
    n = _int(1){empty}
    s = {row_init}
    for j in range({first}, m):
        v = x[j]
        {step}
    return outty({finish})
"""
_MATRIX_STEP = {"sum": "s += v", "mean": "s += v", "prod": "s *= v",
                "max": "s = v if v != v or v > s else s",
                "min": "s = v if v != v or v < s else s"}


def _matrix_src(name, nd):
    """The source of reduction ``name`` along one int axis of a vector or a matrix."""
    extreme = name in ("max", "min")
    init = "accty(1)" if name == "prod" else "accty(0)"
    return (_VECTOR_SRC if nd == 1 else _MATRIX_SRC).format(
        empty=("\n    if m == 0 and n > 0:\n        raise ValueError(\"zero-size array to "
               "reduction operation which has no identity\")") if extreme else "",
        row_init=("x[0]" if nd == 1 else "x[i, 0]") if extreme else init,
        col_init="x[0, j]" if extreme else init,
        first="_int(1)" if extreme else "_int(0)",
        step=_MATRIX_STEP[name],
        finish="s / m if m > 0 else np.nan" if name == "mean" else "s",
    )


def _reduce_impl(name, x, axis, with_ddof):
    """Implementation of reduction ``name`` for Numba types ``x``, ``axis``."""
    if _is_scalar(x):
        if not _is_none(axis):
            raise errors.TypingError("nabla: a reduction of a scalar needs axis=None")
        nd = 0
    elif isinstance(x, types.Array):
        nd = x.ndim
    else:
        return None
    out_nd = nd - _axis_count(axis, nd)
    dt = _np_dtype(x)
    if dt.kind == "c" and name in ("var", "std", "max", "min"):
        raise errors.TypingError(f"nabla: reduce_{name} of complex values is Python-only")
    outty = _nb(_ref_dtype(name, dt))
    if name in ("max", "min", "prod"):
        accty = outty
    else:
        accty = _nb(_acc_dtype(dt) if name == "sum" else _acc_dtype(_ref_dtype(name, dt)))
    kernel, kind = _KINDS[name]
    if nd in (1, 2) and isinstance(axis, types.Integer) and name in _MATRIX_STEP:
        return _exec_impl(_matrix_src(name, nd), accty=accty, outty=outty,
                          _norm_axis=_norm_axis)
    if _is_scalar(x):
        form = "scalar"
    elif _is_none(axis):
        form = "none"
    else:
        form = "all" if out_nd == 0 else "some"
    src = _REDUCE_SRC[form].format(
        extra=", ddof=0" if with_ddof else "",
        ddof="_int(ddof)" if with_ddof else "_int(0)",
    )
    return _exec_impl(src, kernel=kernel, kind=kind, accty=accty, outty=outty, nd=nd, out_nd=out_nd)


def _reduce_overload(name, with_ddof):
    if with_ddof:

        def ov(x, axis=None, ddof=0):
            return _reduce_impl(name, x, axis, True)

    else:

        def ov(x, axis=None):
            return _reduce_impl(name, x, axis, False)

    return ov


def reduce_sum(x, axis=None):
    """``np.sum(x, axis=axis)``.

    >>> reduce_sum(np.ones((2, 3)), -1)
    array([3., 3.])
    """
    return np.sum(x, axis=axis)


def reduce_mean(x, axis=None):
    """``np.mean(x, axis=axis)``.

    >>> reduce_mean(np.arange(4.0).reshape(2, 2), (0, 1))
    np.float64(1.5)
    """
    return np.mean(x, axis=axis)


def reduce_prod(x, axis=None):
    """``np.prod(x, axis=axis)``.

    >>> reduce_prod(np.arange(1.0, 5.0).reshape(2, 2), 0)
    array([3., 8.])
    """
    return np.prod(x, axis=axis)


def reduce_max(x, axis=None):
    """``np.max(x, axis=axis)`` (NaN propagates).

    >>> reduce_max(np.array([[1.0, 5.0], [4.0, 2.0]]), 1)
    array([5., 4.])
    """
    return np.max(x, axis=axis)


def reduce_min(x, axis=None):
    """``np.min(x, axis=axis)`` (NaN propagates).

    >>> reduce_min(np.array([[1.0, 5.0], [4.0, 2.0]]), 0)
    array([1., 2.])
    """
    return np.min(x, axis=axis)


def reduce_var(x, axis=None, ddof=0):
    """``np.var(x, axis=axis, ddof=ddof)`` (complex input is Python-only).

    >>> reduce_var(np.array([1.0, 3.0]), 0, 1)
    np.float64(2.0)
    """
    return np.var(x, axis=axis, ddof=ddof)


def reduce_std(x, axis=None, ddof=0):
    """``np.std(x, axis=axis, ddof=ddof)`` (complex input is Python-only).

    >>> reduce_std(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    return np.std(x, axis=axis, ddof=ddof)


overload(reduce_sum)(_reduce_overload("sum", False))
overload(reduce_mean)(_reduce_overload("mean", False))
overload(reduce_prod)(_reduce_overload("prod", False))
overload(reduce_max)(_reduce_overload("max", False))
overload(reduce_min)(_reduce_overload("min", False))
overload(reduce_var)(_reduce_overload("var", True))
overload(reduce_std)(_reduce_overload("std", True))


def reduced_count(x, axis=None):
    """Number of elements a reduction over ``axis`` combines, as a scalar of ``x``'s float type.

    >>> reduced_count(np.ones((2, 3, 4), np.float32), (0, -1))
    np.float32(8.0)
    """
    shape = np.shape(x)
    n = 1
    for a in _py_axes(axis, len(shape)):
        n *= shape[a]
    if not isinstance(x, (np.ndarray, np.generic)):
        return float(n)
    return _inexact(x.dtype).type(n)


@overload(reduced_count)
def _ov_reduced_count(x, axis=None):
    if not (_is_scalar(x) or isinstance(x, types.Array)):
        return None
    nd = x.ndim if isinstance(x, types.Array) else 0
    _axis_count(axis, nd)
    fty = _nb(_inexact(_np_dtype(x)))

    def impl(x, axis=None):
        shape = _shape_of(x)
        mask = _axis_mask(axis, nd)
        n = 1
        for d in range(nd):
            if mask[d]:
                n *= shape[d]
        return fty(n)

    return impl


def norm(x, axis=None):
    """``np.linalg.norm(x, axis=axis)``: 2-norm along ``axis``, Frobenius for None/2 axes.

    Under Numba: real inputs; the square root of the sum of squares over ``axis``.

    >>> norm(np.array([[3.0, 4.0], [0.0, 1.0]]), -1)
    array([5., 1.])
    """
    return np.linalg.norm(x, axis=axis)


@overload(norm)
def _ov_norm(x, axis=None):
    if _is_scalar(x):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x, axis=None: fty(abs(x))
    _need_array(x, "norm")
    if isinstance(x.dtype, types.Complex):
        raise errors.TypingError("nabla: norm of complex arrays is not supported under Numba")
    return lambda x, axis=None: np.sqrt(reduce_sum(x * x, axis))


# ---------------------------------------------------------------------------
# Cumulative sums
# ---------------------------------------------------------------------------


def cumsum(x, axis=None):
    """``np.cumsum(x, axis=axis)`` (axis None flattens; otherwise a single int axis).

    >>> cumsum(np.array([[1.0, 2.0], [3.0, 4.0]]), -1)
    array([[1., 3.],
           [3., 7.]])
    """
    return np.cumsum(x, axis=axis)


def rcumsum(g, axis=None):
    """vjp of ``cumsum``: reverse cumulative sum along ``axis`` (None: of ``g`` flattened).

    >>> rcumsum(np.array([1.0, 2.0, 3.0]))
    array([6., 5., 3.])
    """
    g = np.asarray(g)
    if axis is None:
        g, axis = g.ravel(), 0
    return np.ascontiguousarray(np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis))


_CUMSUM_SRC = {
    "scalar": """
def impl({v}, axis=None):
    return np.full(1, outty({v}))
""",
    "flat": """
def impl({v}, axis=None):
    xf = {v}.ravel()
    return _k_cumsum(xf, np.empty(xf.size, outty), xf.size, _int(1), outty(0), reverse)
""",
    "axis": """
def impl({v}, axis=None):
    a = _norm_axis(axis, _int(nd))
    shape = _shape_of({v})
    s = _int(1)
    for d in range(a + 1, nd):
        s *= shape[d]
    xf = {v}.ravel()
    out = _k_cumsum(xf, np.empty(xf.size, outty), shape[a], s, outty(0), reverse)
    return out.reshape({v}.shape)
""",
}


def _cumsum_impl(x, axis, reverse, v):
    """Implementation of a (reverse) cumulative sum; ``v`` names the array parameter."""
    if not (_is_scalar(x) or isinstance(x, types.Array)):
        return None
    outty = _nb(np.cumsum(np.ones(1, _np_dtype(x))).dtype)
    if _is_scalar(x):
        if not _is_none(axis):
            raise errors.TypingError("nabla: cumulative sum of a scalar needs axis=None")
        form = "scalar"
    elif _is_none(axis):
        form = "flat"
    elif isinstance(axis, types.Integer):
        form = "axis"
    else:
        raise errors.TypingError("nabla: cumulative sums take axis=None or an int axis")
    nd = x.ndim if isinstance(x, types.Array) else 0
    return _exec_impl(
        _CUMSUM_SRC[form].format(v=v),
        outty=outty,
        nd=nd,
        reverse=np.bool_(reverse),
        _k_cumsum=_k_cumsum,
        _norm_axis=_norm_axis,
    )


overload(cumsum)(lambda x, axis=None: _cumsum_impl(x, axis, False, "x"))
overload(rcumsum)(lambda g, axis=None: _cumsum_impl(g, axis, True, "g"))
