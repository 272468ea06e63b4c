"""Broadcasting and its vjp, and constants shaped like a value.

``unbroadcast`` sums a cotangent down to the shape of the value that was broadcast
(the vjp of broadcasting), ``broadcast_like`` broadcasts a value up (its jvp and
vjp's transpose); ``one_like`` and ``zero_like`` are a one and a zero of a value's
float type, scalar or shaped like it. ``cotangent_of`` checks that what a custom rule
returns for an argument has the argument's shape.

>>> unbroadcast(np.ones((2, 3)), np.ones(3)), broadcast_like(1.5, np.zeros(2))
(array([2., 2., 2.]), array([1.5, 1.5]))
>>> one_like(np.float32(2)), zero_like(np.arange(2))
(np.float32(1.0), array([0., 0.]))
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload, register_jitable

from ._compiled import _exec_impl
from ._kernels import _k_sum
from ._types import _dtype_of, _inexact, _is_nd, _is_scalar, _nb, _need_array, _np_dtype
from .reductions import _acc_dtype, _ref_dtype, reduce_sum

__all__ = ["unbroadcast", "broadcast_like", "one_like", "zero_like", "zeros_outside",
           "cotangent_of"]


def unbroadcast(g, x):
    """Sum ``g`` down to ``x``'s shape (vjp of broadcasting); may return ``g`` itself.

    >>> unbroadcast(np.ones((2, 3)), np.ones((1, 3)))
    array([[2., 2., 2.]])
    """
    if not _is_nd(x) or x.ndim == 0:
        return np.sum(g) if _is_nd(g) else g
    if not _is_nd(g):
        return np.full(x.shape, g, dtype=_inexact(_dtype_of(g)))
    lead = g.ndim - x.ndim
    if lead < 0:
        raise ValueError("unbroadcast: g has fewer dimensions than x")
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(x.shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if g.shape != x.shape:
        raise ValueError("unbroadcast: shapes do not match")
    return g


@overload(unbroadcast)
def _ov_unbroadcast(g, x):
    if _is_scalar(x) or (isinstance(x, types.Array) and x.ndim == 0):
        if isinstance(g, types.Array):
            return lambda g, x: reduce_sum(g)
        return lambda g, x: g
    _need_array(x, "unbroadcast")
    if _is_scalar(g):
        fty = _nb(_inexact(_np_dtype(g)))
        return lambda g, x: np.full(x.shape, fty(g))
    _need_array(g, "unbroadcast")
    xnd, gnd = x.ndim, g.ndim
    lead = gnd - xnd
    if lead < 0:
        raise errors.TypingError("nabla: unbroadcast: g has fewer dimensions than x")
    accty = _nb(_acc_dtype(_np_dtype(g)))
    outty = _nb(_ref_dtype("sum", _np_dtype(g)))
    if lead > 0:  # the leading axes always need summing
        same = ""
    else:
        keep = "np.ascontiguousarray(g)" if g.dtype == outty else "g.astype(outty)"
        same = f"    if not anym:\n        return {keep}\n"
    # the same shapes, the common case: nothing to sum, and no mask to allocate
    fast = f"    if g.shape == x.shape:\n        return {keep}\n" if lead == 0 else ""
    if gnd <= 2:  # a vector or a matrix: plain loops (the general form compiles for seconds)
        src = _SMALL_SRC[(gnd, lead)].format(fast=fast)
        return _exec_impl(src, accty=accty, outty=outty)
    src = _UNBROADCAST_SRC.format(same=same, fast=fast)
    return _exec_impl(src, gnd=gnd, lead=lead, accty=accty, outty=outty, _k_sum=_k_sum)


# g of one or two dimensions summed down to x (x's missing leading axis read as a 1): each
# element of g added into the element of x it was broadcast from
_SMALL_SRC = {
    (1, 0): """
def impl(g, x):
{fast}    if x.shape[0] != 1:
        raise ValueError("unbroadcast: shapes do not match")
    s = accty(0)
    for i in range(g.shape[0]):
        s += g[i]
    out = np.empty(1, outty)
    out[0] = s
    return out
""",
    (2, 0): """
def impl(g, x):
{fast}    n0, n1 = g.shape
    x0, x1 = x.shape
    if (x0 != n0 and x0 != 1) or (x1 != n1 and x1 != 1):
        raise ValueError("unbroadcast: shapes do not match")
    acc = np.zeros((x0, x1), accty)
    for i in range(n0):
        for j in range(n1):
            acc[i if x0 != 1 else 0, j if x1 != 1 else 0] += g[i, j]
    return acc.astype(outty)
""",
    (2, 1): """
def impl(g, x):
    n0, n1 = g.shape
    x1 = x.shape[0]
    if x1 != n1 and x1 != 1:
        raise ValueError("unbroadcast: shapes do not match")
    acc = np.zeros(x1, accty)
    for i in range(n0):
        for j in range(n1):
            acc[j if x1 != 1 else 0] += g[i, j]
    return acc.astype(outty)
""",
}


_UNBROADCAST_SRC = """
def impl(g, x):
{fast}    gs = _shape_of(g)
    xs = _shape_of(x)
    mask = np.zeros(gnd, np.bool_)
    anym = False
    for d in range(gnd):
        if d < lead:
            mask[d] = True
        elif xs[d - lead] != gs[d]:
            if xs[d - lead] != 1:
                raise ValueError("unbroadcast: shapes do not match")
            mask[d] = True
            anym = True
{same}    gid, ng, nred = _group_ids(gs, mask)
    acc, out = np.zeros(ng, accty), np.empty(ng, outty)
    out = _k_sum(g.ravel(), gid, acc, out, nred, _int(0), _int(0))
    return out.reshape(x.shape)
"""


def broadcast_like(t, out):
    """``t`` broadcast to ``np.shape(out)`` as a fresh array (``t`` itself if ``out`` is a scalar).

    >>> broadcast_like(2.0, np.zeros(3))
    array([2., 2., 2.])
    """
    if not _is_nd(out):
        return t
    return np.broadcast_to(t, out.shape).copy()


@overload(broadcast_like)
def _ov_broadcast_like(t, out):
    if not isinstance(out, types.Array):
        return lambda t, out: t
    if isinstance(t, types.Array):
        return lambda t, out: np.broadcast_to(t, out.shape).copy()
    return lambda t, out: np.full(out.shape, t)


def one_like(x):
    """One of ``x``'s float type: a scalar, or an array of ones shaped like ``x``.

    >>> one_like(np.float32(3)), one_like(np.zeros(2, np.int64))
    (np.float32(1.0), array([1., 1.]))
    """
    return _const_like(x, 1)


def zero_like(x):
    """Zero of ``x``'s float type: a scalar, or an array of zeros shaped like ``x``.

    >>> zero_like(3), zero_like(np.ones((1, 2), np.float32))
    (0.0, array([[0., 0.]], dtype=float32))

    ``None`` stands for a value some path left unset (generated code gives such names
    ``None`` under Python only): its cotangent is never used, and 0.0 adds to anything.
    """
    if x is None:
        return 0.0
    return _const_like(x, 0)


def _const_like(x, c):
    if _is_nd(x):
        return np.full(x.shape, c, dtype=_inexact(x.dtype))
    if isinstance(x, np.inexact):
        return x.dtype.type(c)
    return float(c)


def _ov_const_like(x, c):
    if isinstance(x, types.Array):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x: np.full(x.shape, c, fty)
    if _is_scalar(x):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x: fty(c)
    return None


overload(one_like)(lambda x: _ov_const_like(x, 1))
overload(zero_like)(lambda x: _ov_const_like(x, 0))


def zeros_outside(x, first, last, lo, hi):
    """``zero_like(x)`` (an array) with the rows ``first + lo`` to ``last + hi`` left
    unset, for the caller to write each of them once; no row is left unset where ``first >
    last`` (an empty loop). The gather form's loops (transforms/gather.py) write exactly
    those rows: their iterations ``first`` to ``last`` write at offsets ``lo`` to ``hi``.

    >>> a = zeros_outside(np.ones(5), 0, 1, 1, 2)  # rows 1 to 3 are the caller's
    >>> a[1:4] = 7.0
    >>> a
    array([0., 7., 7., 7., 0.])
    >>> zeros_outside(np.ones(2), 0, -1, 0, 1)  # an empty loop writes none
    array([0., 0.])
    """
    out = np.empty(np.shape(x), dtype=_inexact(np.asarray(x).dtype))
    start, stop = _unset_rows(out.shape[0], first, last, lo, hi)
    out[:start] = 0
    out[stop:] = 0
    return out


@register_jitable
def _unset_rows(n, first, last, lo, hi):
    """(start, stop): the rows of ``n`` ``zeros_outside`` leaves unset."""
    if first > last:
        return 0, 0
    start = min(max(first + lo, 0), n)
    return start, min(max(last + hi + 1, start), n)


@overload(zeros_outside)
def _ov_zeros_outside(x, first, last, lo, hi):
    if isinstance(x, types.Array):
        fty = _nb(_inexact(_np_dtype(x)))

        def impl(x, first, last, lo, hi):
            out = np.empty(x.shape, fty)
            start, stop = _unset_rows(x.shape[0], first, last, lo, hi)
            out[:start] = 0
            out[stop:] = 0
            return out
        return impl
    return None


def cotangent_of(v, like):
    """``v``, the cotangent a custom rule (nabla.custom_vjp, custom_jvp) gave for an
    argument shaped like ``like``, checked to have its shape: a rule's mistake is an
    error, never a wrong number.

    >>> cotangent_of(np.ones(2), np.zeros(2))
    array([1., 1.])
    """
    if np.shape(v) != np.shape(like):
        raise ValueError(f"nabla: a custom rule gave a cotangent of shape {np.shape(v)} for "
                         f"an argument of shape {np.shape(like)}: its bwd returns one "
                         "cotangent per argument, each shaped like the argument, in a tuple")
    return v


@overload(cotangent_of)
def _ov_cotangent_of(v, like):
    if isinstance(v, types.Array) and isinstance(like, types.Array) and v.ndim == like.ndim:
        def impl(v, like):
            if v.shape != like.shape:
                raise ValueError("nabla: a custom rule gave a cotangent whose shape is not "
                                 "its argument's")
            return v
        return impl
    if _is_scalar(v) and (_is_scalar(like) or (isinstance(like, types.Array)
                                               and like.ndim == 0)):
        return lambda v, like: v
    if isinstance(v, types.Array) and v.ndim == 0 and _is_scalar(like):
        return lambda v, like: v[()]
    raise errors.TypingError("nabla: a custom rule gave a cotangent whose number of "
                             "dimensions is not its argument's")
