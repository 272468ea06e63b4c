"""Elementwise helpers NumPy or Numba lack: ``log_base``, ``astype`` and
``stop_gradient``.

``log_base`` is ``math.log(x, base)`` for scalars and ``np.log(x) / np.log(base)``
for arrays, keeping ``x``'s float type; ``astype`` converts an array or a scalar to a
NumPy scalar type, always as a copy.

>>> log_base(np.array([1.0, 8.0]), 2.0), astype(np.array([1.5, 2.5]), np.int64)
(array([0., 3.]), array([1, 2]))
"""

import math

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload, register_jitable

from ._types import _inexact, _is_nd, _is_scalar, _nb, _np_dtype

__all__ = ["log_base", "astype", "stop_gradient"]


def log_base(x, base):
    """``math.log(x, base)`` for scalars, ``np.log(x) / np.log(base)`` for arrays (dtype kept).

    Under Numba a scalar ``x <= 0`` gives ``-inf``/``nan`` where ``math.log`` raises.

    >>> log_base(8.0, 2.0), log_base(np.array([1.0, 100.0], np.float32), 10)
    (3.0, array([0., 2.], dtype=float32))
    """
    if _is_nd(x) or _is_nd(base):
        lx = np.log(x)
        lb = np.log(base)
        if not _is_nd(base):
            lb = np.asarray(lx).dtype.type(lb)
        return lx / lb
    if isinstance(x, np.inexact):
        return x.dtype.type(math.log(x, base))
    return math.log(x, base)


@overload(log_base)
def _ov_log_base(x, base):
    if isinstance(x, types.Array) or isinstance(base, types.Array):
        if isinstance(base, types.Array):
            return lambda x, base: np.log(x) / np.log(base)
        ldt = np.log(np.ones(1, _np_dtype(x))).dtype
        lty = _nb(ldt)
        return lambda x, base: np.log(x) / lty(math.log(base))
    if not (_is_scalar(x) and _is_scalar(base)):
        return None
    fty = _nb(_inexact(_np_dtype(x)))
    return lambda x, base: fty(math.log(np.float64(x)) / math.log(np.float64(base)))



def astype(x, dtype):
    """``np.asarray(x).astype(dtype)`` for arrays, ``dtype(x)`` for scalars (always a copy).

    ``dtype`` is a NumPy scalar type such as ``np.float32`` (or an ``np.dtype``).

    >>> astype(np.arange(2), np.float32), astype(2, np.float64)
    (array([0., 1.], dtype=float32), np.float64(2.0))
    """
    if _is_nd(x):
        return x.astype(dtype)
    return np.dtype(dtype).type(x)


@overload(astype)
def _ov_astype(x, dtype):
    if isinstance(dtype, types.NumberClass):
        ty = dtype.instance_type
    elif isinstance(dtype, types.DType):
        ty = dtype.dtype
    else:
        raise errors.TypingError(f"nabla: astype needs a NumPy scalar type, got {dtype}")
    if isinstance(x, types.Array):
        return lambda x, dtype: x.astype(ty)
    if _is_scalar(x):
        return lambda x, dtype: ty(x)
    return None


@register_jitable
def stop_gradient(x):
    """``x`` itself, as a value; nabla's transforms take its derivative to be zero (JAX's
    ``lax.stop_gradient``): ``nabla.grad(lambda x: x * stop_gradient(x))(3.0)`` is 3.0.

    >>> stop_gradient(2.5)
    2.5
    """
    return x
