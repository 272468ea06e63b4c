"""Shapes: squeezing, transposing back, reshaping like a value, stacking and
unstacking.

``squeeze`` is ``np.squeeze``; ``untranspose`` and ``reshape_like`` are the vjps of
``np.transpose`` and ``np.reshape`` (and of views in general); ``array_of`` builds an
array from a tuple of scalars or of equal-shape arrays (``np.array`` of a tuple, or
``np.stack``), ``take_axis`` and ``slice_axis`` take one entry or a slice along an axis
(the vjps of ``np.stack`` and ``np.concatenate``).

>>> untranspose(np.zeros((3, 2)), (1, 0)).shape, reshape_like(np.arange(4.0), np.zeros((2, 2)))
((2, 3), array([[0., 1.],
       [2., 3.]]))
>>> s = array_of((np.zeros(2), np.ones(2)))
>>> take_axis(s, 1, 0), slice_axis(s, 0, 1, 1)
(array([1., 1.]), array([[0.],
       [1.]]))
"""

import numpy as np
from numba import njit, types
from numba.core import errors
from numba.extending import overload
from numba.np.unsafe.ndarray import to_fixed_tuple

from ._compiled import (
    _axis_mask,
    _exec_impl,
    _int,
    _kept_shape,
    _norm_axis,
    _norm_index,
    _permute,
    _shape_of,
)
from ._types import _axis_count, _is_nd, _is_none, _is_scalar, _nb, _need_array, _np_dtype, _py_axis

__all__ = [
    "squeeze", "untranspose", "reshape_like", "array_of", "take_axis", "slice_axis", "rows_of",
    "diag_vjp",
]


def squeeze(x, axis=None):
    """``np.squeeze(x, axis)``; under Numba ``axis`` must be an int or a tuple (not None).

    >>> squeeze(np.ones((1, 2, 1)), (0, -1))
    array([1., 1.])
    """
    return np.squeeze(x, axis)


@overload(squeeze)
def _ov_squeeze(x, axis=None):
    if _is_scalar(x):
        return lambda x, axis=None: x
    _need_array(x, "squeeze")
    nd = x.ndim
    if _is_none(axis):
        if nd == 0:
            return lambda x, axis=None: x
        raise errors.TypingError(
            "nabla: squeeze(x, None) is not supported under Numba (the result's number of "
            "dimensions depends on the runtime shape); pass the axes explicitly"
        )
    out_nd = nd - _axis_count(axis, nd)

    def impl(x, axis=None):
        shape = _shape_of(x)
        mask = _axis_mask(axis, nd)
        for d in range(nd):
            if mask[d] and shape[d] != 1:
                raise ValueError("cannot squeeze out an axis whose size is not one")
        return np.ascontiguousarray(x).reshape(to_fixed_tuple(_kept_shape(shape, mask), out_nd))

    return impl



def untranspose(g, axes=None):
    """vjp of ``np.transpose(x, axes)``: ``g`` transposed by the inverse permutation (a view).

    >>> untranspose(np.zeros((4, 2, 3)), (1, 2, 0)).shape
    (3, 4, 2)
    """
    if axes is None:
        return np.transpose(g)
    nd = np.ndim(g)
    return np.transpose(g, tuple(np.argsort([_py_axis(a, nd) for a in axes])))


@overload(untranspose)
def _ov_untranspose(g, axes=None):
    if _is_scalar(g):
        return lambda g, axes=None: g
    _need_array(g, "untranspose")
    if _is_none(axes):
        return lambda g, axes=None: g.T
    nd = g.ndim
    if _axis_count(axes, nd) != nd:
        raise errors.TypingError("nabla: untranspose: axes must name every axis")

    def impl(g, axes=None):
        inv = np.empty(nd, np.intp)
        seen = np.zeros(nd, np.bool_)
        for i in range(nd):
            a = _norm_axis(axes[i], _int(nd))
            if seen[a]:
                raise ValueError("repeated axis in transpose")
            seen[a] = True
            inv[a] = i
        return _permute(g, inv)

    return impl


def reshape_like(g, x):
    """``g`` reshaped to ``np.shape(x)`` (a scalar when ``x`` is a scalar).

    >>> reshape_like(np.arange(4.0).reshape(2, 2).T, np.zeros(4))
    array([0., 2., 1., 3.])
    """
    if _is_nd(x):
        return np.reshape(g, x.shape)
    if _is_nd(g):
        return g.reshape(())[()]
    return g


@overload(reshape_like)
def _ov_reshape_like(g, x):
    if isinstance(x, types.Array):
        if _is_scalar(g):
            return lambda g, x: np.full(x.shape, g)
        return lambda g, x: np.ascontiguousarray(g).reshape(x.shape)
    if not _is_scalar(x):
        return None
    if isinstance(g, types.Array):

        def impl(g, x):
            if g.size != 1:
                raise ValueError("cannot reshape an array of size != 1 to a scalar")
            return g.ravel()[0]

        return impl
    return lambda g, x: g


# ---------------------------------------------------------------------------
# Stacking (array_of) and unstacking (take_axis, slice_axis)
# ---------------------------------------------------------------------------


def array_of(items):
    """``np.array(list(items))`` for a tuple of scalars or of equal-shape arrays.

    Under Numba: a tuple (or list) of scalars, or of arrays of one ndim (shapes are
    checked at run time); mixed dtypes promote as NumPy's ``np.array`` does.

    >>> array_of((1.0, 2.0)), array_of((np.zeros(2), np.ones(2)))
    (array([1., 2.]), array([[0., 0.],
           [1., 1.]]))
    """
    return np.array(list(items))


@overload(array_of)
def _ov_array_of(items):
    if isinstance(items, (types.List, types.ListType)):
        elems = [items.dtype]
        n = None
    elif isinstance(items, types.BaseTuple):
        elems = list(items)
        n = len(items)
    else:
        return None
    if n == 0:
        return lambda items: np.empty(0, np.float64)
    if all(_is_scalar(t) for t in elems):
        scalars = True
    elif all(isinstance(t, types.Array) for t in elems):
        scalars = False
        if len({t.ndim for t in elems}) != 1:
            raise errors.TypingError("nabla: array_of needs arrays of equal shape")
    else:
        raise errors.TypingError(f"nabla: array_of needs all scalars or all arrays, got {items}")
    outty = _nb(np.result_type(*[_np_dtype(t) for t in elems]))
    if scalars and n is None:

        def impl(items):
            out = np.empty(len(items), outty)
            for i in range(len(items)):
                out[i] = items[i]
            return out

    elif scalars:
        body = "".join(f"    out[{i}] = items[{i}]\n" for i in range(n))
        src = f"def impl(items):\n    out = np.empty({n}, outty)\n{body}    return out\n"
        impl = _exec_impl(src, outty=outty)
    elif n is None:

        def impl(items):
            first = items[0]
            out = np.empty((len(items),) + first.shape, outty)
            rows = out.reshape((len(items), first.size))
            for i in range(len(items)):
                _copy_row(rows, i, items[i], first)
            return out

    else:
        body = "".join(f"    _copy_row(rows, _int({i}), items[{i}], first)\n" for i in range(n))
        src = (
            "def impl(items):\n    first = items[0]\n"
            f"    out = np.empty(({n},) + first.shape, outty)\n"
            f"    rows = out.reshape(({n}, first.size))\n{body}    return out\n"
        )
        impl = _exec_impl(src, outty=outty, _copy_row=_copy_row)
    return impl


@njit
def _copy_row(rows, i, a, first):
    """``rows[i] = a.ravel()`` after checking that ``a`` has ``first``'s shape."""
    if a.shape != first.shape:
        raise ValueError("array_of: arrays must have the same shape")
    flat = a.ravel()
    for j in range(flat.size):
        rows[i, j] = flat[j]



def take_axis(g, i, axis):
    """``np.take(g, i, axis=axis)`` for an int ``i`` (vjp of ``np.stack``), a fresh array.

    >>> take_axis(np.arange(6.0).reshape(2, 3), -1, 1)
    array([2., 5.])
    """
    return np.take(g, i, axis=axis)


@overload(take_axis)
def _ov_take_axis(g, i, axis):
    _need_array(g, "take_axis")
    if not isinstance(i, types.Integer) or not isinstance(axis, types.Integer):
        raise errors.TypingError("nabla: take_axis needs an int index and an int axis")
    nd = g.ndim
    if nd == 1:

        def impl(g, i, axis):
            _norm_axis(axis, _int(1))
            _norm_index(np.full(1, i), g.shape[0])
            return g[i]

        return impl

    def impl(g, i, axis):
        a = _norm_axis(axis, _int(nd))
        perm = np.empty(nd, np.intp)
        perm[0] = a
        k = 1
        for d in range(nd):
            if d != a:
                perm[k] = d
                k += 1
        gt = _permute(g, perm)
        j = _norm_index(np.full(1, i), gt.shape[0])[0]
        return gt[j].copy()

    return impl


def slice_axis(g, start, stop, axis):
    """``g[start:stop]`` along ``axis`` (vjp of ``np.concatenate``), a fresh array.

    >>> slice_axis(np.arange(6.0).reshape(2, 3), 1, 3, -1)
    array([[1., 2.],
           [4., 5.]])
    """
    nd = np.ndim(g)
    index = [slice(None)] * nd
    index[_py_axis(axis, nd)] = slice(start, stop)
    return g[tuple(index)].copy()


@overload(slice_axis)
def _ov_slice_axis(g, start, stop, axis):
    _need_array(g, "slice_axis")
    nd = g.ndim

    def impl(g, start, stop, axis):
        a = _norm_axis(axis, _int(nd))
        perm = np.empty(nd, np.intp)
        perm[0] = a
        k = 1
        for d in range(nd):
            if d != a:
                perm[k] = d
                k += 1
        inv = np.empty(nd, np.intp)
        for d in range(nd):
            inv[perm[d]] = d
        return _permute(_permute(g, perm)[start:stop], inv).copy()

    return impl


def rows_of(x):
    """A vector as a matrix of one column, a matrix as itself (a view): so that one
    template computes a vector's and a matrix's 1- and inf-norms.

    >>> rows_of(np.array([1.0, 2.0])).shape, rows_of(np.ones((2, 3))).shape
    ((2, 1), (2, 3))
    """
    return x[:, None] if np.ndim(x) == 1 else x


@overload(rows_of)
def _ov_rows_of(x):
    _need_array(x, "rows_of")
    if x.ndim == 1:
        return lambda x: x.reshape((x.shape[0], 1))
    if x.ndim == 2:
        return lambda x: x
    raise errors.TypingError("nabla: the 1- and inf-norms take a vector or a matrix")


def diag_vjp(g, v, k=0):
    """Cotangent of ``v`` for ``np.diag(v, k)``: for a vector ``v`` (the result a matrix)
    diagonal ``k`` of ``g``; for a matrix ``v`` (the result its diagonal ``k``) zeros
    shaped like ``v`` with ``g`` on that diagonal. Either way ``np.diag(·, k)`` undoes it
    in the other direction, so that is this function's own cotangent.

    >>> diag_vjp(np.array([1.0, 2.0]), np.zeros((2, 3)), 1)
    array([[0., 1., 0.],
           [0., 0., 2.]])
    """
    if np.ndim(v) == 1:
        return np.diag(g, k).copy()
    out = np.zeros(np.shape(v), dtype=np.result_type(g, np.float32))
    i = np.arange(len(g))
    out[i + max(-k, 0), i + max(k, 0)] = g
    return out


@overload(diag_vjp)
def _ov_diag_vjp(g, v, k=0):
    _need_array(v, "diag_vjp")
    if v.ndim == 1:
        return lambda g, v, k=0: np.diag(g, k).copy()
    if v.ndim != 2:
        raise errors.TypingError("nabla: np.diag takes a vector or a matrix")
    oty = _nb(np.result_type(_np_dtype(g), np.float32))

    def impl(g, v, k=0):
        out = np.zeros(v.shape, oty)
        r, c = max(-k, 0), max(k, 0)
        for i in range(g.shape[0]):
            out[r + i, c + i] = g[i]
        return out

    return impl
