"""Call-time checks generated code makes (kept apart from the runtime helpers).

``seed(out)`` starts a gradient: 1 of ``out``'s type, for a scalar float
``out``; anything else (an array, an integer) is refused, in Python and
under Numba alike.

>>> seed(2.5)
1.0
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
