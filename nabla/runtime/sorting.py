"""Sorting: the derivatives of ``np.sort`` (along the last axis) and of the median.

Sorting permutes: the tangent of ``np.sort(x)`` is ``x``'s tangent in the order that
sorts ``x`` (``sort_tangent``), and its cotangent puts each element of ``g`` back where
its value came from (``sort_cotangent``). ``median_sorted(s)`` is the median of ``s``,
sorted along its last axis: the middle element, or the mean of the two middle ones;
``median_sorted_vjp`` spreads ``g`` over them. A tangent may carry leading axes its value
lacks (the directions of the vector forward mode).

>>> x = np.array([3.0, 1.0, 2.0])
>>> sort_tangent(np.array([30.0, 10.0, 20.0]), x), sort_cotangent(np.array([1.0, 2.0, 3.0]), x)
(array([10., 20., 30.]), array([3., 1., 2.]))
>>> s = np.sort(np.array([4.0, 1.0, 3.0, 2.0]))
>>> median_sorted(s), median_sorted_vjp(1.0, s)
(np.float64(2.5), array([0. , 0.5, 0.5, 0. ]))

Ties are kept in their order (a stable sort): the derivative at a tie, where ``np.sort``
has none, takes each tied element's own.
"""

import numpy as np
from numba.extending import register_jitable

__all__ = ["sort_tangent", "sort_cotangent", "median_sorted", "median_sorted_vjp"]


@register_jitable
def _orders(x):
    """For each row of ``x`` along its last axis, the indices that sort it: (rows, n)."""
    n = x.shape[-1]
    rows = x.size // n if n else 0
    flat = np.ascontiguousarray(x).reshape((rows, n))
    order = np.empty((rows, n), np.int64)
    for r in range(rows):
        order[r] = np.argsort(flat[r], kind="mergesort")
    return order


@register_jitable
def _permuted(v, x, back):
    """``v`` (``x``'s shape, after leading axes of its own) permuted along its last axis by
    the order that sorts ``x``: into that order, or ``back`` from it."""
    order = _orders(x)
    rows, n = order.shape
    inner = rows * n
    lead = v.size // inner if inner else 0
    flat = np.ascontiguousarray(v).reshape((lead, rows, n))
    out = np.empty_like(flat)
    for k in range(lead):
        for r in range(rows):
            for j in range(n):
                if back:
                    out[k, r, order[r, j]] = flat[k, r, j]
                else:
                    out[k, r, j] = flat[k, r, order[r, j]]
    return out.reshape(v.shape)


@register_jitable
def sort_tangent(t, x):
    """The tangent of ``np.sort(x)``: ``t`` (``x``'s tangent) in the order that sorts ``x``
    along its last axis."""
    return _permuted(t, x, False)


@register_jitable
def sort_cotangent(v, x):
    """The cotangent of ``x`` for ``np.sort(x)``, ``v`` the result's: each element of
    ``v`` put back where ``x``'s value came from."""
    return _permuted(v, x, True)


@register_jitable
def median_sorted(s):
    """The median of ``s``, a 1-D array sorted (``np.median`` of its values); a tangent's
    leading axes are kept."""
    n = s.shape[-1]
    return 0.5 * (s[..., (n - 1) // 2] + s[..., n // 2])


@register_jitable
def median_sorted_vjp(v, s):
    """The cotangent of ``s`` (1-D) for ``median_sorted(s)``, ``v`` the median's: half of
    ``v`` on each middle element (all of it on the one middle element of an odd length)."""
    n = s.shape[0]
    out = np.zeros_like(s)
    out[(n - 1) // 2] += 0.5 * v
    out[n // 2] += 0.5 * v
    return out
