"""Numba's error for a slice assigned from a value of another shape, without the string
formatting that costs every new process seconds of compiling.

An assignment of an array into part of another (``tape[k] = x``, ``s2[i] = h``: every
reverse-mode loop that keeps array values does it) makes Numba compile, once per
process, its CPU target's ``raise_with_shape_context``: a message naming both shapes,
built with ``str``, ``join`` and f-strings, which pull in Numba's unicode machinery. On
the LSTM's gradient that was 2-4 s of a 16-20 s first compile. While Numba compiles a
generated module (``lean_slice_errors``), ``numba.np.arrayobj`` resolves the name to a
function of the same contract whose only overload raises a constant message with the two
shapes as the error's further arguments (tuples of ints, which Numba passes on without
formatting them); the user's own Numba code, compiled outside, is untouched (a compile in
another thread at that very moment would see this form too). The check, and the error,
stay.

>>> import numba, numpy as np
>>> def put(a, v):
...     a[0] = v
>>> with lean_slice_errors():
...     put_compiled = numba.njit(put)
...     put_compiled(np.zeros((2, 3)), np.ones(3))
...     try:
...         put_compiled(np.zeros((2, 3)), np.ones(2))
...     except ValueError as e:
...         print(e.args)
('cannot assign slice from input of different size (shapes: slice, input)', (3,), (2,))
>>> from numba.np import arrayobj  # outside, Numba's own again
>>> arrayobj.raise_with_shape_context is raise_with_shape_context
False
"""

from __future__ import annotations

import contextlib

from numba.extending import overload

__all__ = ["lean_slice_errors"]

MESSAGE = "cannot assign slice from input of different size (shapes: slice, input)"


def raise_with_shape_context(src_shapes, index_shape):
    """Numba's stub of this name (``numba.np.arrayobj``): its overload raises ValueError."""
    raise ValueError(MESSAGE, index_shape, src_shapes)


@overload(raise_with_shape_context, target="CPU")
def _ov_raise(src_shapes, index_shape):
    def impl(src_shapes, index_shape):
        raise ValueError(MESSAGE, index_shape, src_shapes)
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
