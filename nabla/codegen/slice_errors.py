"""Numba's error for a slice assigned from a value of another shape, without the string
formatting that costs every new process seconds of compiling.

An assignment of an array into part of another (``tape[k] = x``, ``s2[i] = h``: every
reverse-mode loop that keeps array values does it) makes Numba compile, once per
process, its CPU target's ``raise_with_shape_context``: a message naming both shapes,
built with ``str``, ``join`` and f-strings, which pull in Numba's unicode machinery. On
the LSTM's gradient that was 2-4 s of a 16-20 s first compile. While Numba compiles a
generated module (``lean_slice_errors``), ``numba.np.arrayobj`` resolves the name to a
function of the same contract whose only overload raises a constant message (Numba's
own generic-target message); the user's own Numba code, compiled outside, is untouched.
The check itself, and so the error, stays: only the message no longer lists the shapes.

>>> import numba, numpy as np
>>> def put(a, v):
...     a[0] = v
>>> with lean_slice_errors():
...     put_compiled = numba.njit(put)
...     put_compiled(np.zeros((2, 3)), np.ones(3))
...     put_compiled(np.zeros((2, 3)), np.ones(2))
Traceback (most recent call last):
ValueError: cannot assign slice from input of different size
>>> from numba.np import arrayobj  # outside, Numba's own again
>>> arrayobj.raise_with_shape_context is raise_with_shape_context
False
"""

from __future__ import annotations

import contextlib

from numba.extending import overload

__all__ = ["lean_slice_errors"]

MESSAGE = "cannot assign slice from input of different size"


def raise_with_shape_context(src_shapes, index_shape):
    """Numba's stub of this name (``numba.np.arrayobj``): its overload raises ValueError."""
    raise ValueError(MESSAGE)


@overload(raise_with_shape_context, target="CPU")
def _ov_raise(src_shapes, index_shape):
    def impl(src_shapes, index_shape):
        raise ValueError("cannot assign slice from input of different size")
    return impl


@contextlib.contextmanager
def lean_slice_errors():
    """Within: Numba's slice assignments raise the constant message (see above). Where
    Numba's modules differ from what this expects, nothing changes."""
    try:
        from numba.np import arrayobj
    except ImportError:  # pragma: no cover - another Numba
        yield
        return
    before = getattr(arrayobj, "raise_with_shape_context", None)
    if before is None:  # pragma: no cover
        yield
        return
    arrayobj.raise_with_shape_context = raise_with_shape_context
    try:
        yield
    finally:
        arrayobj.raise_with_shape_context = before
