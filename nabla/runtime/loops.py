"""Helpers of generated loops: counting iterations, tapes, and a log of writes.

Reverse mode through a loop records what each iteration's adjoint needs: ``range_len``
and ``range_continues`` count and test a loop's iterations; ``tape_like`` allocates a
tape (one entry per iteration), ``tape_entry`` checks that a value has the entries' shape
(NumPy would broadcast it), and ``tape_push`` stores an entry, doubling the tape when a
``while`` loop outgrows it.  A loop that overwrites array elements inside an
inner loop or a branch logs the values it overwrites (``write_log``, ``log_write``)
and its adjoint puts them back (``undo_writes``, ``pop_writes``).  ``in_python`` tells
generated code whether it runs as Python or compiled.

>>> tape = tape_like(0.0, range_len(0, 3, 2)); tape.shape
(2,)
>>> tape_push(tape, 2, 7.0)[2], range_continues(3, 3, 1)
(np.float64(7.0), False)
>>> a = np.zeros(3); log = write_log(a); log = log_write(log, a, 1); a[1] = 5.0
>>> undo_writes(a, log, 0), log_size(log)
(array([0., 0., 0.]), 1)

The helpers whose Python body Numba compiles as it is are registered with
``register_jitable`` (one body for both); the others have an ``@overload`` that
decides at typing time what the Python body decides at run time.
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload, register_jitable

from ._types import _dtype_of, _inexact, _is_scalar, _nb, _np_dtype

__all__ = [
    "in_python", "range_len", "range_continues", "checkpoint_span", "tape_like", "tape_push",
    "tape_entry", "pad_empty", "write_log",
    "log_write", "log_size", "undo_writes", "pop_writes",
]

# True where generated code runs as Python; the Numba copy of a generated module sets it to
# False before compiling, and Numba, reading it as a constant, drops the branch it guards.
# Generated code gives names that some paths leave unset a value under it: Python cannot copy
# an unset name, Numba can (and would type a None as optional).
in_python = True


# ---------------------------------------------------------------------------
# Counting iterations
# ---------------------------------------------------------------------------


def range_len(start, stop, step):
    """Number of iterations of ``range(start, stop, step)``.

    >>> range_len(0, 10, 3)
    4
    """
    return len(range(start, stop, step))


@overload(range_len)
def _range_len_numba(start, stop, step):
    def impl(start, stop, step):
        if step > 0:
            n = (stop - start + step - 1) // step
        else:
            n = (start - stop - step - 1) // (-step)
        return max(n, 0)
    return impl


@register_jitable
def checkpoint_span(n):
    """How many iterations of an ``n``-iteration checkpointed loop share one checkpoint:
    about the square root of ``n`` (at least 1), so that the checkpoints and one segment's
    tape together hold about 2 sqrt(n) entries.

    >>> checkpoint_span(10000), checkpoint_span(10), checkpoint_span(0)
    (100, 4, 1)
    """
    span = int(np.sqrt(n))
    if span * span < n:
        span += 1
    return max(span, 1)


@register_jitable
def range_continues(k, stop, step):
    """Whether a counter ``k`` stepping by ``step`` has not reached ``stop``."""
    return k < stop if step > 0 else k > stop


# ---------------------------------------------------------------------------
# Tapes
# ---------------------------------------------------------------------------


def tape_like(x, n, inexact=False):
    """Uninitialised array of ``n`` entries shaped like ``x``, with ``x``'s dtype (its float
    type with ``inexact=True``: a value that starts as an int and takes floats).

    >>> tape_like(np.zeros((2, 3), np.float32), 4).shape, tape_like(1.0, 5).dtype
    ((4, 2, 3), dtype('float64'))
    >>> tape_like(2, 3, inexact=True).dtype
    dtype('float64')
    """
    dtype = _dtype_of(x)
    return np.empty((n,) + np.shape(x), dtype=_inexact(dtype) if inexact else dtype)


@overload(tape_like)
def _ov_tape_like(x, n, inexact=False):
    if isinstance(inexact, types.Omitted):
        wide = bool(inexact.value)
    elif isinstance(inexact, types.Literal):
        wide = bool(inexact.literal_value)
    else:  # a run-time bool: generated code passes only the constant True
        wide = isinstance(inexact, types.Boolean)
    if isinstance(x, types.Array):
        ty = _nb(_inexact(_np_dtype(x.dtype))) if wide else x.dtype
        return lambda x, n, inexact=False: np.empty((n,) + x.shape, ty)
    if _is_scalar(x):
        ty = _nb(_inexact(_np_dtype(x)) if wide else _np_dtype(x))
        return lambda x, n, inexact=False: np.empty(n, ty)
    return None


def pad_empty(x):
    """``x``, or where its first axis is empty, one zero entry of its dtype and shape
    (``(1,) + x.shape[1:]``): what an entry of ``x`` is like, read before a loop that may
    write none (``tape_like(snapshot(pad_empty(a)[0]), n)``), never past its end.

    >>> pad_empty(np.zeros((0, 3))).shape, pad_empty(np.ones(2))
    ((1, 3), array([1., 1.]))
    """
    x = np.asarray(x)
    return x if x.shape[0] else np.zeros((1,) + x.shape[1:], x.dtype)


@overload(pad_empty)
def _ov_pad_empty(x):
    if isinstance(x, types.Array) and x.ndim >= 1:
        def impl(x):
            if x.shape[0] > 0:
                return x
            return np.zeros((1,) + x.shape[1:], x.dtype)
        return impl
    return None


# a value's shape changed between a loop's iterations: NumPy would broadcast it into the
# tape's entry (a (1,) into a (3,)) and the adjoint would restore the wrong value
_RESHAPED = ("a value the loop carries changed shape between iterations: reverse mode keeps "
             "one entry shape per value, its first iteration's (shapes: the entry's, the "
             "value's); keep its shape fixed in the loop, or unroll the loop")


def tape_entry(x, tape):
    """``x``, to be stored as an entry of ``tape``: raises ValueError if its shape is not
    the entries' (a tape is shaped by the first iteration's value; a later value of another
    shape would be broadcast into it, silently).

    >>> tape = tape_like(np.zeros(3), 2)
    >>> tape_entry(np.ones(3), tape)
    array([1., 1., 1.])
    >>> tape_entry(np.ones(1), tape)
    Traceback (most recent call last):
    ValueError: ("a value the loop carries changed shape between iterations: ...", (3,), (1,))
    """
    if np.shape(x) != tape.shape[1:]:
        raise ValueError(_RESHAPED, tape.shape[1:], np.shape(x))
    return x


@overload(tape_entry)
def _ov_tape_entry(x, tape):
    if isinstance(x, types.Array):
        def impl(x, tape):
            if x.shape != tape.shape[1:]:
                raise ValueError(_RESHAPED, tape.shape[1:], x.shape)
            return x
        return impl
    return lambda x, tape: x


@register_jitable
def tape_push(tape, k, value):
    """``tape`` with ``value`` stored at ``k``, doubled first when full (a value of another
    shape than the entries' raises, as ``tape_entry`` says)."""
    if k >= tape.shape[0]:
        bigger = np.empty((2 * tape.shape[0] + 1,) + tape.shape[1:], dtype=tape.dtype)
        bigger[: tape.shape[0]] = tape
        tape = bigger
    tape[k] = tape_entry(value, tape)
    return tape


# ---------------------------------------------------------------------------
# A log of writes into an array, for loops that write inside inner loops or branches
# ---------------------------------------------------------------------------
# The log is a float64 array of (flat position, old value) rows; row 0 holds the number of
# entries. A loop records where each iteration's entries start, and its adjoint undoes an
# iteration's writes, newest first, before recomputing the iteration and after its adjoint.


@register_jitable
def write_log(a):
    """An empty log of writes into ``a``."""
    return np.zeros((17, 2))


def _flat_position(shape, index):
    if not isinstance(index, tuple):
        index = (index,)
    if len(index) != len(shape):
        raise ValueError(
            "nabla: reverse mode through a write of more than one element inside a nested "
            "loop or a branch of a loop is not supported; write element by element "
            "(a[i, j] = ...)")
    pos = 0
    for i, n in zip(index, shape):
        pos = pos * n + (int(i) % n)
    return pos


def log_write(log, a, index):
    """``log`` (grown when full) with the position and the value of ``a[index]`` added."""
    count = int(log[0, 0])
    if count + 1 >= log.shape[0]:
        bigger = np.zeros((2 * log.shape[0], 2))
        bigger[: log.shape[0]] = log
        log = bigger
    log[count + 1, 0] = _flat_position(np.shape(a), index)
    log[count + 1, 1] = a[index]
    log[0, 0] = count + 1
    return log


@overload(log_write)
def _ov_log_write(log, a, index):
    nd = a.ndim if isinstance(a, types.Array) else 0
    n_index = len(index) if isinstance(index, types.BaseTuple) else 1
    if n_index != nd or (isinstance(index, types.BaseTuple) and not all(
            isinstance(t, types.Integer) for t in index)) or (
            not isinstance(index, types.BaseTuple) and not isinstance(index, types.Integer)):
        raise errors.TypingError(
            "nabla: reverse mode through a write of more than one element inside a nested "
            "loop or a branch of a loop is not supported; write element by element")

    def impl(log, a, index):
        count = int(log[0, 0])
        if count + 1 >= log.shape[0]:
            bigger = np.zeros((2 * log.shape[0], 2))
            bigger[: log.shape[0]] = log
            log = bigger
        idx = index if nd > 1 else (index,)
        shape = a.shape
        pos = 0
        for d in range(nd):
            pos = pos * shape[d] + (idx[d] % shape[d])
        log[count + 1, 0] = pos
        log[count + 1, 1] = a[index]
        log[0, 0] = count + 1
        return log
    return impl


@register_jitable
def log_size(log):
    """The number of writes in ``log``."""
    return int(log[0, 0])


@register_jitable
def undo_writes(a, log, start):
    """``a`` with the writes logged from entry ``start`` on undone, newest first (a
    position outside ``a`` raises, under Numba too: never a write past its end)."""
    for e in range(int(log[0, 0]), start, -1):
        pos = int(log[e, 0])
        if pos < 0 or pos >= a.size:
            raise IndexError("nabla: a logged write lies outside its array")
        a.flat[pos] = log[e, 1]
    return a


@register_jitable
def pop_writes(a, log, start):
    """``log`` without the entries from ``start`` on, whose writes into ``a`` are undone."""
    undo_writes(a, log, start)
    log[0, 0] = start
    return log
