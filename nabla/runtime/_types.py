"""dtype, axis and Numba-type helpers shared by the runtime's modules.

Two families, kept apart by when they run:

* Python-side, on values (``_py_axes``, ``_inexact``, ``_dtype_of``, ``_vjp_dtype``,
  ``_is_nd``): what a helper's Python body uses to decide dtypes and axes;
* typing-time, on Numba types (``_is_none``, ``_is_scalar``, ``_np_dtype``, ``_nb``,
  ``_nb_vjp_dtype``, ``_axis_count``, ``_need_array``): what an ``@overload`` uses to
  pick an implementation and the dtype of its result while Numba compiles.

Both apply the same dtype rules (a cotangent takes the float type of ``g``, promoted
with ``x``'s when ``x`` is inexact), so a helper gives the same dtype in both modes:

>>> _vjp_dtype(np.float32(1), np.arange(3)), _nb_vjp_dtype(types.float32, types.int64[:])
(dtype('float32'), float32)
>>> _py_axes((0, -1), 3), _axis_count(types.UniTuple(types.intp, 2), 3)
((0, 2), 2)
"""

import operator

import numpy as np
from numba import types
from numba.core import errors
from numba.np.numpy_support import as_dtype, from_dtype

# ---------------------------------------------------------------------------
# Python-side utilities
# ---------------------------------------------------------------------------


def _py_axis(a, ndim):
    """One axis, normalised to ``0 <= a < ndim``."""
    a = operator.index(a)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def _py_axes(axis, ndim):
    """Sorted tuple of the axes named by ``axis`` (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = [_py_axis(a, ndim) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
        return tuple(sorted(axes))
    return (_py_axis(axis, ndim),)


def _inexact(dt):
    """``dt`` if it is a floating (or complex) dtype, else float64."""
    dt = np.dtype(dt)
    return dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)


def _dtype_of(x):
    """NumPy dtype of an array, NumPy scalar or Python number."""
    dt = getattr(x, "dtype", None)
    return dt if isinstance(dt, np.dtype) else np.asarray(x).dtype


def _vjp_dtype(g, x):
    """dtype of a cotangent of ``x`` computed from ``g`` and ``x``'s values."""
    gd = _inexact(_dtype_of(g))
    xd = _dtype_of(x)
    return np.promote_types(gd, xd) if np.issubdtype(xd, np.inexact) else gd


def _is_nd(x):
    return isinstance(x, np.ndarray)


# ---------------------------------------------------------------------------
# Numba typing-time utilities
# ---------------------------------------------------------------------------


def _is_none(t):
    if isinstance(t, types.Omitted):
        return t.value is None
    return t is None or isinstance(t, types.NoneType)


def _is_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


def _np_dtype(t):
    """NumPy dtype of a Numba array or scalar type."""
    return as_dtype(t.dtype if isinstance(t, types.Array) else t)


def _nb(dt):
    return from_dtype(np.dtype(dt))


def _nb_vjp_dtype(g, x):
    gd = _inexact(_np_dtype(g))
    xd = _np_dtype(x)
    return _nb(np.promote_types(gd, xd) if np.issubdtype(xd, np.inexact) else gd)


def _axis_count(axis, ndim):
    """How many axes a Numba ``axis`` type names (None: ``ndim``)."""
    if _is_none(axis):
        return ndim
    if isinstance(axis, types.Integer):
        return 1
    if isinstance(axis, types.BaseTuple) and all(isinstance(t, types.Integer) for t in axis):
        return len(axis)
    raise errors.TypingError(f"nabla: axis must be None, an int or a tuple of ints, not {axis}")


def _need_array(x, what):
    if not isinstance(x, types.Array):
        raise errors.TypingError(f"nabla: {what} needs an array, got {x}")
