"""Helpers of batched (``vmap``) code.

Inside generated batched code the batch axis is always axis 0: ``batch_first``
moves it there from the user's ``in_axes`` on entry and ``batch_to`` moves it
to ``out_axes`` on exit, so no other helper does axis arithmetic.

* the loop form fills ``batch_like`` arrays an example at a time
  (``batch_set``);
* the vector form lines batched operands up with the unbatched ones
  (``batch_lift``, ``batch_pair``), reduces each example (``batch_sum``) and
  gives unbatched values a batch axis where they meet batched ones
  (``batch_broadcast``).

Like every runtime helper, each is a Python function on NumPy values with a
Numba implementation, and never mutates its inputs (``batch_set`` writes into
the array generated code allocated, as ``jac_row`` does).

>>> xs = batch_first(np.arange(6.0).reshape(2, 3), 1); xs.shape
(3, 2)
>>> batch_sum(xs), batch_lift(batch_sum(xs), np.zeros(2)).shape
(array([3., 5., 7.]), (3, 1))
>>> out = batch_like(0.0, batch_size(xs))
>>> for b in range(batch_size(xs)):
...     out = batch_set(out, b, xs[b, 0] * 10)
>>> batch_to(out, 0)
array([ 0., 10., 20.])
"""

import numpy as np
from numba import types
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from ._compiled import _permute
from ._types import _is_nd, _is_scalar, _nb, _np_dtype
from .loops import tape_like

__all__ = [
    "batch_first", "batch_to", "batch_size", "batch_like", "batch_set", "batch_fits",
    "batch_row",
    "batch_lift", "batch_pair", "batch_sum", "batch_mean", "batch_expand", "batch_count",
    "batch_broadcast", "batch_broadcast_like", "prange",
]

try:  # numba.prange is range in Python and a parallel loop under njit(parallel=True)
    from numba import prange
except ImportError:  # pragma: no cover
    prange = range


@register_jitable
def _move_perm(nd, src, dst):
    """The permutation of ``range(nd)`` that moves axis ``src`` to position ``dst``."""
    src = src + nd if src < 0 else src
    dst = dst + nd if dst < 0 else dst
    perm = np.empty(nd, np.intp)
    k = 0
    for i in range(nd):
        if k == dst:
            k += 1
        if i != src:
            perm[k] = i
            k += 1
    perm[dst] = src
    return perm


# how a moved axis out of range starts its message (running.annotate names the function)
AXIS_MESSAGE = "vmap: an axis in in_axes or out_axes is out of range"


def batch_first(x, axis):
    """``x`` with its axis ``axis`` moved to the front (a view).

    >>> batch_first(np.zeros((2, 3)), 1).shape
    (3, 2)
    """
    x = np.asarray(x)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{AXIS_MESSAGE}: in_axes {axis} for an argument of "
                         f"{x.ndim} dimensions")
    return np.moveaxis(x, axis, 0)


def batch_to(x, axis):
    """``x`` with its axis 0 (the batch) moved to position ``axis`` (a view).

    >>> batch_to(np.zeros((3, 2)), 1).shape
    (2, 3)
    """
    x = np.asarray(x)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{AXIS_MESSAGE}: out_axes {axis} for an output of "
                         f"{x.ndim} dimensions (the batch axis included)")
    return np.moveaxis(x, 0, axis)


def _ov_move(to_front):
    def typer(x, axis):
        if not isinstance(x, types.Array):
            return None
        nd = x.ndim

        def impl(x, axis):
            if not -nd <= axis < nd:
                raise ValueError(AXIS_MESSAGE)
            if to_front:
                return _permute(x, _move_perm(nd, axis, 0))
            return _permute(x, _move_perm(nd, 0, axis))
        return impl
    return typer


overload(batch_first)(_ov_move(True))
overload(batch_to)(_ov_move(False))


def batch_size(x):
    """The length of the batch axis (axis 0) of ``x``."""
    return np.shape(x)[0]


@overload(batch_size)
def _ov_batch_size(x):
    if isinstance(x, types.Array):
        return lambda x: x.shape[0]
    return None


@register_jitable
def batch_like(first, size):
    """An uninitialised batch of ``size`` examples shaped like ``first`` (its dtype):
    ``tape_like(first, size)``, under its own name (its rule, and so the spelling
    transforms of batched code give it, is its own).

    >>> batch_like(np.zeros(3, np.float32), 4).shape, batch_like(1.0, 2).dtype
    ((4, 3), dtype('float64'))
    """
    return tape_like(first, size)


# an example's value has another shape than the first example's, whose shape the batch
# took: NumPy would broadcast a (1,) into a (2,) row
_OTHER_SHAPE = ("an example's value has another shape than the first example's: vmap needs "
                "one shape for every example (the example, then the shapes: the first's, "
                "this one's)")


def batch_fits(v, acc):
    """Whether ``v`` has the examples' shape, ``acc``'s rows' (the loop form over
    ``prange`` asks; an example that has not runs again after the loop, through
    ``batch_set``, which raises: Numba drops an exception raised inside).

    >>> batch_fits(np.ones(2), np.zeros((3, 2))), batch_fits(np.ones(1), np.zeros((3, 2)))
    (True, False)
    """
    return not isinstance(v, np.ndarray) or v.shape == acc.shape[1:]


@overload(batch_fits)
def _ov_batch_fits(v, acc):
    if isinstance(v, types.Array) and isinstance(acc, types.Array):
        return lambda v, acc: v.shape == acc.shape[1:]
    return lambda v, acc: True


def batch_set(acc, b, v):
    """``acc`` with example ``b`` set to ``v``, in place (``acc`` is generated code's own);
    raises ValueError where ``v``'s shape is not the examples' (``acc``'s rows').

    >>> batch_set(np.zeros((2, 2)), 1, np.array([5.0, 6.0]))
    array([[0., 0.],
           [5., 6.]])
    >>> batch_set(np.zeros((2, 2)), 1, np.array([5.0]))
    Traceback (most recent call last):
    ValueError: ("an example's value has another shape than the ...", 1, (2,), (1,))
    """
    if not batch_fits(v, acc):
        raise ValueError(_OTHER_SHAPE, b, acc.shape[1:], v.shape)
    acc[b] = v
    return acc


@overload(batch_set)
def _ov_batch_set(acc, b, v):
    if not isinstance(acc, types.Array):
        return None
    if isinstance(v, types.Array):
        def impl(acc, b, v):
            if not batch_fits(v, acc):
                raise ValueError(_OTHER_SHAPE, b, acc.shape[1:], v.shape)
            n = v.size
            if n:
                acc.reshape((acc.shape[0], n))[b, :] = np.ascontiguousarray(v).reshape(n)
            return acc
        return impl

    def impl_scalar(acc, b, v):
        acc[b] = v
        return acc
    return impl_scalar


def batch_row(acc, b, like):
    """Example ``b`` of ``acc`` as a fresh value shaped like ``like`` (vjp of ``batch_set``).

    >>> batch_row(np.arange(4.0).reshape(2, 2), 1, np.zeros(2))
    array([2., 3.])
    """
    r = np.asarray(acc)[b]
    if isinstance(like, np.ndarray):
        return np.array(r, dtype=r.dtype).reshape(like.shape)
    return r[()] if isinstance(r, np.ndarray) else r


@overload(batch_row)
def _ov_batch_row(acc, b, like):
    if not isinstance(acc, types.Array):
        return None
    if isinstance(like, types.Array):
        def impl(acc, b, like):
            n = like.size
            r = np.ascontiguousarray(acc).reshape((acc.shape[0], n))[b, :].copy()
            return r.reshape(like.shape)
        return impl
    return lambda acc, b, like: acc.reshape(acc.size)[b]


def batch_lift(x, other):
    """Batched ``x`` reshaped to meet the unbatched ``other`` in a NumPy operation: ones
    inserted after the batch axis until each example has ``other``'s rank (a view).

    >>> batch_lift(np.zeros(4), np.zeros(3)).shape
    (4, 1)
    """
    x = np.asarray(x)
    pad = max(0, np.ndim(other) - (x.ndim - 1))
    return x.reshape((x.shape[0],) + (1,) * pad + x.shape[1:]) if pad else x


def batch_pair(x, other):
    """Batched ``x`` reshaped to meet the batched ``other``: ones inserted after the batch
    axis until ``x`` has ``other``'s rank (a view).

    >>> batch_pair(np.zeros(4), np.zeros((4, 3))).shape
    (4, 1)
    """
    x = np.asarray(x)
    pad = max(0, np.ndim(other) - x.ndim)
    return x.reshape((x.shape[0],) + (1,) * pad + x.shape[1:]) if pad else x


def _ov_lift(rank_of_other):
    def typer(x, other):
        if not isinstance(x, types.Array):
            return None
        other_nd = other.ndim if isinstance(other, types.Array) else 0
        pad = max(0, rank_of_other(other_nd) - x.ndim)
        if not pad:
            return lambda x, other: x
        nd = x.ndim + pad
        # the common cases spelled out: the generic one builds its shape in an array
        if x.ndim == 1 and pad == 1:
            return lambda x, other: np.ascontiguousarray(x).reshape((x.shape[0], 1))
        if x.ndim == 1 and pad == 2:
            return lambda x, other: np.ascontiguousarray(x).reshape((x.shape[0], 1, 1))
        if x.ndim == 2 and pad == 1:
            return lambda x, other: np.ascontiguousarray(x).reshape(
                (x.shape[0], 1, x.shape[1]))

        def impl(x, other):
            shape = np.ones(nd, np.intp)
            shape[0] = x.shape[0]
            for i in range(1, x.ndim):
                shape[pad + i] = x.shape[i]
            return np.ascontiguousarray(x).reshape(to_fixed_tuple(shape, nd))
        return impl
    return typer


overload(batch_lift)(_ov_lift(lambda n: n + 1))
overload(batch_pair)(_ov_lift(lambda n: n))


def batch_count(v):
    """How many elements each example of the batched ``v`` has."""
    v = np.asarray(v)
    return v.size // v.shape[0] if v.shape[0] else int(np.prod(v.shape[1:]))


@overload(batch_count)
def _ov_batch_count(v):
    if isinstance(v, types.Array):
        def impl(v):
            n = 1
            for i in range(1, v.ndim):
                n *= v.shape[i]
            return n
        return impl
    return None


def batch_sum(v):
    """The sum of each example of the batched ``v``: shape ``(batch,)``, ``v``'s dtype for
    floats, NumPy's sum's for the rest (a count of booleans is an int).

    >>> batch_sum(np.ones((2, 3))), batch_sum(np.array([[True, True], [True, False]]))
    (array([3., 3.]), array([2, 1]))
    """
    v = np.asarray(v)
    out = v.reshape(v.shape[0], -1).sum(axis=1)
    return out.astype(v.dtype, copy=False) if v.dtype.kind == "f" else out


def batch_mean(v):
    """The mean of each example of the batched ``v``: shape ``(batch,)``.

    >>> batch_mean(np.arange(6.0).reshape(2, 3))
    array([1., 4.])
    """
    v = np.asarray(v)
    return v.reshape(v.shape[0], -1).mean(axis=1).astype(
        v.dtype if v.dtype.kind == "f" else np.float64, copy=False)


def _ov_reduce(mean):
    def typer(v):
        if not isinstance(v, types.Array):
            return None
        nd = v.ndim
        dt = _np_dtype(v)
        summed = np.sum(np.ones(1, dt)).dtype  # NumPy's: booleans and small ints to int64
        out_dt = _nb(dt if dt.kind == "f" else (np.float64 if mean else summed))
        acc_dt = _nb(np.float64 if (mean or dt.kind == "f") else summed)

        def impl(v):
            b = v.shape[0]
            n = 1
            for i in range(1, nd):
                n *= v.shape[i]
            flat = np.ascontiguousarray(v).reshape((b, n))
            out = np.empty(b, out_dt)
            for i in range(b):
                s = acc_dt(0)
                for j in range(n):
                    s += flat[i, j]
                out[i] = s / n if mean else s
            return out
        return impl
    return typer


overload(batch_sum)(_ov_reduce(False))
overload(batch_mean)(_ov_reduce(True))


def batch_expand(v, like):
    """``v`` (one value per example) broadcast over each example of the batched ``like``, as
    a fresh array (vjp of ``batch_sum``).

    >>> batch_expand(np.array([1.0, 2.0]), np.zeros((2, 2)))
    array([[1., 1.],
           [2., 2.]])
    """
    v = np.asarray(v)
    like = np.asarray(like)
    return np.broadcast_to(v.reshape((v.shape[0],) + (1,) * (like.ndim - 1)),
                           like.shape).copy()


@overload(batch_expand)
def _ov_batch_expand(v, like):
    if not isinstance(v, types.Array) or not isinstance(like, types.Array):
        return None
    nd = like.ndim

    def impl(v, like):
        b = like.shape[0]
        n = like.size // b if b else 0
        out = np.empty((b, n), v.dtype)
        for i in range(b):
            for j in range(n):
                out[i, j] = v[i]
        return out.reshape(like.shape)
    if nd == 1:
        return lambda v, like: v.copy()
    return impl


def batch_broadcast(v, size):
    """The unbatched ``v`` repeated for ``size`` examples, as a fresh array.

    >>> batch_broadcast(np.array([1.0, 2.0]), 2)
    array([[1., 2.],
           [1., 2.]])
    """
    return np.broadcast_to(v, (size,) + np.shape(v)).copy()


@overload(batch_broadcast)
def _ov_batch_broadcast(v, size):
    if isinstance(v, types.Array):
        def impl(v, size):  # loops: np.broadcast_to is slow under Numba
            n = v.size
            out = np.empty((size, n), v.dtype)
            flat = np.ascontiguousarray(v).reshape(n)
            for i in range(size):
                for j in range(n):
                    out[i, j] = flat[j]
            return out.reshape((size,) + v.shape)
        return impl
    if _is_scalar(v):
        return lambda v, size: np.full(size, v)
    return None


def batch_broadcast_like(v, like):
    """The batched ``v`` broadcast to the unbatched ``like``'s shape in each example, as a
    fresh array (``broadcast_like`` of a batched value); ``v`` itself if ``like`` is a
    scalar.

    >>> batch_broadcast_like(np.array([1.0, 2.0]), np.zeros(3)).shape
    (2, 3)
    """
    v = np.asarray(v)
    if not _is_nd(like):
        return v
    return np.broadcast_to(batch_lift(v, like), (v.shape[0],) + like.shape).copy()


@overload(batch_broadcast_like)
def _ov_batch_broadcast_like(v, like):
    if not isinstance(v, types.Array):
        return None
    if not isinstance(like, types.Array):
        return lambda v, like: v
    # np.broadcast_to is slow under Numba (~1.6 us for 45 elements): a copy where the
    # shapes already agree, else a sum into zeros, which broadcasts fast
    if v.ndim == like.ndim + 1:
        def impl_same_rank(v, like):
            shape = (v.shape[0],) + like.shape
            if v.shape == shape:
                return v.copy()
            out = np.zeros(shape, v.dtype)
            out += v
            return out
        return impl_same_rank

    def impl(v, like):
        out = np.zeros((v.shape[0],) + like.shape, v.dtype)
        out += batch_lift(v, like)
        return out
    return impl

