"""Small compiled building blocks the Numba implementations share.

Axes and shapes as intp arrays (``_norm_axis``, ``_axis_mask``, ``_shape_of``,
``_kept_shape``, ``_keep_shape``), index arrays checked and flattened
(``_norm_index``), values as flat rows (``_as_flat``, ``_rows``), a strided view
with permuted axes (``_permute``), and ``_exec_impl``, which turns the source of an
implementation written for one Numba type (a tuple index, a number of axes) into a
function.  The helpers also run as Python, on NumPy values:

>>> _axis_mask((0, -1), 3), _shape_of(np.zeros((2, 3)))
(array([ True, False,  True]), array([2, 3]))
>>> _kept_shape(np.array([2, 3, 4]), _axis_mask(1, 3))
array([2, 4])
"""

import sys

import numpy as np
from numba import njit, types
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from ._kernels import _group_ids
from ._types import _axis_count, _is_none, _is_scalar, _py_axes

try:  # builds a strided view directly; Numba's transpose-with-axes compiles far more
    from numba.np.arrayobj import reshape_unchecked
except ImportError:  # pragma: no cover - internal to Numba, present in 0.5x-0.6x
    reshape_unchecked = None


@register_jitable
def _int(v):
    """``v`` as a plain (non-literal) int under Numba.

    A constant passed to a compiled kernel (``0``, even ``np.intp(0)`` or a
    global) is typed as a literal and compiles a separate specialisation; an
    overload's arguments are typed without their literal values.
    """
    return v


@njit
def _norm_axis(a, ndim):
    if a < -ndim or a >= ndim:
        raise ValueError("axis is out of bounds for array")
    return a + ndim if a < 0 else a


@njit
def _set_axis(mask, a):
    b = _norm_axis(a, mask.size)
    if mask[b]:
        raise ValueError("duplicate value in 'axis'")
    mask[b] = True


def _axis_mask(axis, ndim):
    """Boolean array, True at the axes named by ``axis``."""
    mask = np.zeros(ndim, np.bool_)
    mask[list(_py_axes(axis, ndim))] = True
    return mask


@overload(_axis_mask)
def _ov_axis_mask(axis, ndim):
    if _is_none(axis):

        def impl(axis, ndim):
            return np.ones(ndim, np.bool_)

    elif isinstance(axis, types.Integer):

        def impl(axis, ndim):
            mask = np.zeros(ndim, np.bool_)
            _set_axis(mask, axis)
            return mask

    elif isinstance(axis, types.UniTuple) and isinstance(axis.dtype, types.Integer):

        def impl(axis, ndim):
            mask = np.zeros(ndim, np.bool_)
            for a in axis:
                _set_axis(mask, a)
            return mask

    elif isinstance(axis, types.BaseTuple):
        _axis_count(axis, 0)  # type check
        body = "".join(f"    _set_axis(mask, axis[{i}])\n" for i in range(len(axis)))
        src = f"def impl(axis, ndim):\n    mask = np.zeros(ndim, np.bool_)\n{body}    return mask\n"
        impl = _exec_impl(src)
    else:
        _axis_count(axis, 0)
    return impl


def _exec_impl(src, **names):
    """Compile generated source for an overload implementation named ``impl``."""
    ns = {
        "np": np,
        "_set_axis": _set_axis,
        "_norm_index": _norm_index,
        "_shape_of": _shape_of,
        "_axis_mask": _axis_mask,
        "_group_ids": _group_ids,
        "_kept_shape": _kept_shape,
        "to_fixed_tuple": to_fixed_tuple,
        "_int": _int,
    }
    ns.update(names)
    # named after the module that built it (benchmarks/compile_time.py reports it by that)
    ns["__name__"] = sys._getframe(1).f_globals.get("__name__", __name__)
    exec(src, ns)  # noqa: S102 - source built from type information only
    return ns["impl"]


def _shape_of(x):
    """Shape of ``x`` as an intp array."""
    return np.array(np.shape(x), np.intp)


@overload(_shape_of)
def _ov_shape_of(x):
    if _is_scalar(x) or x.ndim == 0:

        def impl(x):
            return np.empty(0, np.intp)

    else:
        nd = x.ndim

        def impl(x):
            s = np.empty(nd, np.intp)
            for i in range(nd):
                s[i] = x.shape[i]
            return s

    return impl


@njit
def _kept_shape(shape, mask):
    n = 0
    for d in range(shape.size):
        if not mask[d]:
            n += 1
    out = np.empty(n, np.intp)
    k = 0
    for d in range(shape.size):
        if not mask[d]:
            out[k] = shape[d]
            k += 1
    return out


@njit
def _keep_shape(shape, mask):
    out = shape.copy()
    for d in range(shape.size):
        if mask[d]:
            out[d] = 1
    return out


@njit
def _norm_index(a, n):
    """Integer index array ``a`` (any shape) as a flat array in ``[0, n)``."""
    flat = np.asarray(a).ravel()
    out = np.empty(flat.size, np.intp)
    for k in range(flat.size):
        i = flat[k]
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise IndexError("index out of bounds")
        out[k] = i
    return out


def _as_flat(v):
    """``v`` as a flat 1-D array (a scalar becomes a 1-element array)."""
    return np.ravel(v)


@overload(_as_flat)
def _ov_as_flat(v):
    if isinstance(v, types.Array):
        return lambda v: v.ravel()
    return lambda v: np.full(1, v)


def _rows(g, n, r):
    """``g`` as a C-contiguous (n, r) array (a scalar is broadcast)."""
    return np.ascontiguousarray(np.broadcast_to(g, (n, r)))


@overload(_rows)
def _ov_rows(g, n, r):
    if isinstance(g, types.Array):
        return lambda g, n, r: np.ascontiguousarray(g).reshape((n, r))
    return lambda g, n, r: np.full((n, r), g)


def _permute(a, perm):
    """View of ``a`` with its axes permuted by ``perm`` (an intp array; not checked)."""
    return np.transpose(a, tuple(perm))


@overload(_permute)
def _ov_permute(a, perm):
    # reshape_unchecked builds the view directly: Numba's own transpose with an
    # axes tuple compiles set/str machinery for its error messages (seconds).
    nd = a.ndim
    if reshape_unchecked is None:  # pragma: no cover
        return lambda a, perm: np.transpose(a, to_fixed_tuple(perm, nd))

    def impl(a, perm):
        shape = np.empty(nd, np.intp)
        strides = np.empty(nd, np.intp)
        for i in range(nd):
            shape[i] = a.shape[perm[i]]
            strides[i] = a.strides[perm[i]]
        return reshape_unchecked(a, to_fixed_tuple(shape, nd), to_fixed_tuple(strides, nd))

    return impl

