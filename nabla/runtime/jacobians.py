"""Jacobians: filled a column (jacfwd) or a row (jacrev) at a time, or from a block of
directions at once (jacfwd's vector mode).

A Jacobian of ``out`` with respect to ``x`` has shape ``out.shape + x.shape`` (a scalar
when both are scalars).  ``basis_count`` and ``basis`` give the directions of ``x``;
``jac_like`` allocates the Jacobian; ``jac_column`` and ``jac_row`` store a column or a
row, and ``column_of`` and ``row_of`` (their vjps) read one back.  The vector form
pushes all of ``x``'s directions through at once on a leading axis: ``basis_block``
makes them, ``jac_block`` reads the Jacobian off the tangents and ``jac_unblock`` is its
transpose.

>>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]); x = np.zeros(2)
>>> jac = jac_like(A @ x, x)
>>> for j in range(basis_count(x)):
...     jac = jac_column(jac, j, A @ basis(x, j))
>>> np.array_equal(jac, A), row_of(jac, 1, x)
(True, array([3., 4.]))
>>> np.array_equal(jac_block(basis_block(x, 0, 2) @ A.T, 0, A @ x, x), A)
True
"""

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from ._types import _dtype_of, _inexact, _is_nd, _is_scalar, _nb, _np_dtype
from .broadcasting import one_like, zero_like
from .shapes import reshape_like

__all__ = [
    "basis_count", "basis", "jac_like", "jac_column", "jac_row", "column_of", "row_of",
    "basis_block", "jac_block", "jac_unblock",
]

# ---------------------------------------------------------------------------
# A column (jacfwd) or a row (jacrev) at a time
# ---------------------------------------------------------------------------
# Column j is the tangent of ``out`` along ``basis(x, j)``, row i the cotangent of ``x``
# from ``basis(out, i)``.


def basis_count(x):
    """How many basis directions ``x`` has: its size (1 for a scalar).

    >>> basis_count(np.zeros((2, 3))), basis_count(2.0)
    (6, 1)
    """
    return x.size if _is_nd(x) else 1


def basis(x, j):
    """The ``j``-th basis direction of ``x``: zeros like ``x`` (its float type) with a one
    at flat position ``j``; ``1`` for a scalar.

    >>> basis(np.zeros((2, 2)), 3)
    array([[0., 0.],
           [0., 1.]])
    """
    if not _is_nd(x):
        return one_like(x)
    e = np.zeros(x.shape, dtype=_inexact(x.dtype))
    if j < e.size:
        e.reshape(-1)[j] = 1
    return e


def jac_like(a, x):
    """A Jacobian to fill: zeros of shape ``shape(a) + shape(x)`` (``a``'s float type), a
    scalar zero when both are scalars.

    >>> jac_like(np.zeros(2), np.zeros(3)).shape
    (2, 3)
    """
    if not _is_nd(a) and not _is_nd(x):
        return zero_like(a)
    return np.zeros(np.shape(a) + np.shape(x), dtype=_inexact(_dtype_of(a)))


def jac_column(jac, j, col):
    """``jac`` with column ``j`` (over the flattened trailing axes) set to ``col``, in place;
    ``col`` itself when the Jacobian is a scalar.

    >>> jac_column(np.zeros((2, 2)), 1, np.array([5.0, 6.0]))
    array([[0., 5.],
           [0., 6.]])
    """
    if not _is_nd(jac):
        return col
    m = np.size(col)
    if m:
        jac.reshape(m, -1)[:, j] = np.reshape(col, -1)
    return jac


def jac_row(jac, i, row):
    """``jac`` with row ``i`` (over the flattened leading axes) set to ``row``, in place;
    ``row`` itself when the Jacobian is a scalar.

    >>> jac_row(np.zeros((2, 2)), 1, np.array([5.0, 6.0]))
    array([[0., 0.],
           [5., 6.]])
    """
    if not _is_nd(jac):
        return row
    n = np.size(row)
    if n:
        jac.reshape(-1, n)[i, :] = np.reshape(row, -1)
    return jac


@overload(basis_count)
def _ov_basis_count(x):
    if isinstance(x, types.Array):
        return lambda x: x.size
    return lambda x: 1


@overload(basis)
def _ov_basis(x, j):
    if isinstance(x, types.Array):
        fty = _nb(_inexact(_np_dtype(x)))

        def impl(x, j):
            e = np.zeros(x.shape, fty)
            if j < e.size:
                e.reshape(-1)[j] = 1
            return e
        return impl
    if _is_scalar(x):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x, j: fty(1)
    return None


@overload(jac_like)
def _ov_jac_like(a, x):
    if isinstance(a, types.Array):
        fty = _nb(_inexact(_np_dtype(a)))
        if isinstance(x, types.Array):
            return lambda a, x: np.zeros(a.shape + x.shape, fty)
        return lambda a, x: np.zeros(a.shape, fty)
    if _is_scalar(a):
        fty = _nb(_inexact(_np_dtype(a)))
        if isinstance(x, types.Array):
            return lambda a, x: np.zeros(x.shape, fty)
        return lambda a, x: fty(0)
    return None


# jac_column and jac_row run once per basis direction inside a Jacobian's loop: inlined in
# Numba's IR, a Hessian's call is ~3% faster; basis_count, like batch_size and batch_set,
# is not (inlining only cost compile time: ~10% of the BA Jacobian's)
@overload(jac_column, inline="always")
def _ov_jac_column(jac, j, col):
    if not isinstance(jac, types.Array):
        return lambda jac, j, col: col
    if isinstance(col, types.Array):
        def impl(jac, j, col):
            m = col.size
            if m:
                jac.reshape((m, jac.size // m))[:, j] = col.copy().reshape(-1)
            return jac
        return impl

    def impl_scalar(jac, j, col):
        jac.reshape((1, jac.size))[0, j] = col
        return jac
    return impl_scalar


@overload(jac_row, inline="always")
def _ov_jac_row(jac, i, row):
    if not isinstance(jac, types.Array):
        return lambda jac, i, row: row
    if isinstance(row, types.Array):
        def impl(jac, i, row):
            n = row.size
            if n:
                jac.reshape((jac.size // n, n))[i, :] = row.copy().reshape(-1)
            return jac
        return impl

    def impl_scalar(jac, i, row):
        jac.reshape((jac.size, 1))[i, 0] = row
        return jac
    return impl_scalar


def column_of(jac, j, like):
    """Column ``j`` of ``jac`` shaped like ``like`` (vjp of ``jac_column``); ``jac`` itself
    when it is a scalar.

    >>> column_of(np.arange(4.0).reshape(2, 2), 1, np.zeros(2))
    array([1., 3.])
    """
    if not _is_nd(jac):
        return jac
    m = np.size(like)
    return reshape_like(jac.reshape(m, -1)[:, j].copy(), like)


def row_of(jac, i, like):
    """Row ``i`` of ``jac`` shaped like ``like`` (vjp of ``jac_row``); ``jac`` itself when it
    is a scalar.

    >>> row_of(np.arange(4.0).reshape(2, 2), 1, np.zeros(2))
    array([2., 3.])
    """
    if not _is_nd(jac):
        return jac
    n = np.size(like)
    return reshape_like(jac.reshape(-1, n)[i, :].copy(), like)


@overload(column_of)
def _ov_column_of(jac, j, like):
    if not isinstance(jac, types.Array):
        return lambda jac, j, like: jac
    if isinstance(like, types.Array):
        def impl(jac, j, like):
            m = like.size
            c = np.ascontiguousarray(jac).reshape((m, jac.size // m))[:, j].copy()
            return c.reshape(like.shape)
        return impl
    return lambda jac, j, like: jac.reshape((1, jac.size))[0, j]


@overload(row_of)
def _ov_row_of(jac, i, like):
    if not isinstance(jac, types.Array):
        return lambda jac, i, like: jac
    if isinstance(like, types.Array):
        def impl(jac, i, like):
            n = like.size
            r = np.ascontiguousarray(jac).reshape((jac.size // n, n))[i, :].copy()
            return r.reshape(like.shape)
        return impl
    return lambda jac, i, like: jac.reshape((jac.size, 1))[i, 0]



# ---------------------------------------------------------------------------
# jacfwd's vector forward mode: all basis directions of the arguments on axis 0
# ---------------------------------------------------------------------------


def basis_block(x, start, n):
    """``n`` directions shaped like ``x`` (its float type), on axis 0: direction
    ``start + k`` is the ``k``-th basis direction of ``x``, the others are zero.

    >>> basis_block(np.zeros(2), 1, 4)
    array([[0., 0.],
           [1., 0.],
           [0., 1.],
           [0., 0.]])
    """
    size = np.size(x)
    e = np.zeros((n, size), dtype=_inexact(_dtype_of(x)))
    for k in range(size):
        e[start + k, k] = 1
    return e.reshape((n,) + np.shape(x))


@overload(basis_block)
def _ov_basis_block(x, start, n):
    fty = _nb(_inexact(_np_dtype(x)))
    if isinstance(x, types.Array):
        def impl(x, start, n):
            size = x.size
            e = np.zeros((n, size), fty)
            for k in range(size):
                e[start + k, k] = 1
            return e.reshape((n,) + x.shape)
        return impl
    if _is_scalar(x):
        def impl_scalar(x, start, n):
            e = np.zeros(n, fty)
            e[start] = 1
            return e
        return impl_scalar
    return None


def jac_block(dots, start, a, x):
    """The Jacobian of ``a`` with respect to ``x`` (shape ``shape(a) + shape(x)``, a
    scalar when both are) from the tangents ``dots`` of ``a`` along the directions of
    ``basis_block(x, start, n)`` (axis 0 of ``dots``).

    >>> jac_block(np.arange(6.0).reshape(3, 2), 1, np.zeros(2), np.zeros(2))
    array([[2., 4.],
           [3., 5.]])
    """
    dots = np.asarray(dots)
    m, s = int(np.size(a)), int(np.size(x))
    flat = dots.reshape(dots.shape[0], m)[start:start + s]
    jac = flat.T.copy().reshape(np.shape(a) + np.shape(x))
    return jac[()] if jac.ndim == 0 else jac


@register_jitable
def _flat_jac(dots, start, m, s):
    """The (m, s) Jacobian from directions ``start`` to ``start + s`` of ``dots``."""
    flat = np.ascontiguousarray(dots).reshape((dots.shape[0], m))
    jac = np.empty((m, s), dots.dtype)
    for i in range(m):
        for k in range(s):
            jac[i, k] = flat[start + k, i]
    return jac


@overload(jac_block)
def _ov_jac_block(dots, start, a, x):
    if not isinstance(dots, types.Array):
        return None
    a_nd, x_nd = isinstance(a, types.Array), isinstance(x, types.Array)
    if not a_nd and not x_nd:
        return lambda dots, start, a, x: dots[start]
    flat_jac = _flat_jac
    if a_nd and x_nd:
        return lambda dots, start, a, x: flat_jac(dots, start, a.size, x.size).reshape(
            a.shape + x.shape)
    if a_nd:
        return lambda dots, start, a, x: flat_jac(dots, start, a.size, 1).reshape(a.shape)
    return lambda dots, start, a, x: flat_jac(dots, start, 1, x.size).reshape(x.shape)


def jac_unblock(g, start, like):
    """The transpose of ``jac_block``: directions shaped like ``like`` (``dots``), zero but
    for those of ``start`` onwards, which hold the columns of the Jacobian ``g``."""
    like = np.asarray(like)
    n = like.shape[0]
    m = like.size // n if n else 0
    out = np.zeros((n, m), like.dtype)
    cols = np.reshape(g, (m, -1)) if m else np.zeros((0, 0))
    out[start:start + cols.shape[1]] = cols.T
    return out.reshape(like.shape)


@overload(jac_unblock)
def _ov_jac_unblock(g, start, like):
    if not isinstance(like, types.Array):
        return None

    def impl(g, start, like):
        n = like.shape[0]
        m = like.size // n
        gg = np.asarray(g)
        s = gg.size // m
        cols = np.ascontiguousarray(gg).reshape((m, s))
        out = np.zeros((n, m), like.dtype)
        for i in range(m):
            for k in range(s):
                out[start + k, i] = cols[i, k]
        return out.reshape(like.shape)
    return impl
