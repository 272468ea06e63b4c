"""Call-time checks generated code makes (kept apart from the runtime helpers).

``seed(out)`` starts a gradient: 1 of ``out``'s type, for a scalar float
``out``; anything else (an array, an integer) is refused, in Python and
under Numba alike. ``batch_seed(out)`` is its vmap: a batch of scalar floats
gives ones.

>>> seed(2.5), batch_seed(np.array([2.5, 1.0]))
(1.0, array([1., 1.]))
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

SEED_MESSAGE = "nabla: grad needs a scalar float output"


def seed(out):
    """The cotangent that starts a gradient: ``one_like(out)`` for a scalar float ``out``.

    >>> seed(np.float32(3.0)).dtype
    dtype('float32')
    """
    if isinstance(out, (float, np.floating)) and not isinstance(out, bool):
        return type(out)(1.0)
    if isinstance(out, np.ndarray) and out.ndim == 0 and out.dtype.kind == "f":
        return out.dtype.type(1.0)
    if isinstance(out, np.ndarray):
        what = f"an array of shape {np.shape(out)}"
    elif isinstance(out, (bool, np.bool_)):
        what = "a bool"
    elif isinstance(out, (int, np.integer)):
        what = "an integer"
    else:
        what = f"a value of type {type(out).__name__}"
    raise ValueError(f"{SEED_MESSAGE}; got {what}")


@overload(seed)
def _seed_numba(out):
    if isinstance(out, types.Float):
        ty = out  # 1 of the output's type, whatever its value (even inf or nan)

        def impl_float(out):
            return ty(1.0)
        return impl_float
    if isinstance(out, types.Array) and out.ndim == 0 and isinstance(out.dtype, types.Float):
        one = out.dtype  # a 0-d array of floats is a scalar, as in Python (seed above)

        def impl_0d(out):
            return one(1.0)
        return impl_0d
    if isinstance(out, types.Array):
        def impl(out):
            if out.size >= 0:  # always true, but only at run time: the return type stays known
                raise ValueError("nabla: grad needs a scalar float output; got an array")
            return np.ones_like(out)
        return impl
    if isinstance(out, (types.Integer, types.Boolean)):
        def impl_int(out):
            if out == out:
                raise ValueError("nabla: grad needs a scalar float output; got an integer")
            return 1.0
        return impl_int
    return None


def batch_seed(out):
    """``seed`` of each example of a batch: ones, for a batch of scalar floats (an array of
    one dimension, the batch's); anything else is refused as ``seed`` refuses it.

    >>> batch_seed(np.zeros(3, dtype=np.float32)).dtype
    dtype('float32')
    """
    if isinstance(out, np.ndarray) and out.ndim == 1 and out.dtype.kind == "f":
        return np.ones_like(out)
    if isinstance(out, np.ndarray) and out.ndim > 1:
        raise ValueError(f"{SEED_MESSAGE}; got an array of shape {out.shape[1:]} per example")
    raise ValueError(f"{SEED_MESSAGE}; got a batch of {type(out).__name__} "
                     f"{getattr(out, 'dtype', '')}".rstrip())


@overload(batch_seed)
def _batch_seed_numba(out):
    if isinstance(out, types.Array) and out.ndim == 1 and isinstance(out.dtype, types.Float):
        def impl(out):
            return np.ones_like(out)
        return impl
    if isinstance(out, types.Array) and isinstance(out.dtype, types.Float):
        def impl_nd(out):
            if out.size >= 0:  # always true, but only at run time: the return type stays known
                raise ValueError("nabla: grad needs a scalar float output; got an array per "
                                 "example")
            return np.ones(out.shape[0], out.dtype)
        return impl_nd
    if isinstance(out, types.Array):
        def impl_int(out):
            if out.size >= 0:
                raise ValueError("nabla: grad needs a scalar float output; got an integer")
            return np.ones(out.shape[0])
        return impl_int
    return None
