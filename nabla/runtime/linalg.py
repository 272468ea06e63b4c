"""vjps of products: ``a @ b`` (``matmul_vjp_a``, ``matmul_vjp_b``) and ``np.dot(a, b)``
(``dot_vjp_a``, ``dot_vjp_b``).

In Python every 1-D/N-D mix NumPy takes is handled (batch dimensions broadcast, their
cotangents summed by ``unbroadcast``); under Numba, scalars and 1-D and 2-D operands,
as Numba's own ``@``, with the operands converted to one float dtype and made
contiguous for BLAS.

>>> a, b = np.ones((2, 3)), np.arange(3.0)
>>> matmul_vjp_a(np.ones(2), a, b), matmul_vjp_b(np.ones(2), a, b)
(array([[0., 1., 2.],
       [0., 1., 2.]]), array([2., 2., 2.]))
"""

import numpy as np
from numba import njit, types
from numba.core import errors
from numba.extending import overload

from ._compiled import _exec_impl
from ._types import _inexact, _is_scalar, _nb, _np_dtype
from .broadcasting import unbroadcast

__all__ = ["matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b"]


def matmul_vjp_a(g, a, b):
    """Cotangent of ``a`` for ``out = a @ b``; any 1-D/N-D mix, batch dims broadcast.

    Under Numba only 1-D and 2-D operands (as Numba's ``@``).

    >>> matmul_vjp_a(np.ones(2), np.ones(3), np.ones((3, 2)))
    array([2., 2., 2.])
    """
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if b.ndim == 1:
        ga = g * b if a.ndim == 1 else g[..., :, None] * b
    elif a.ndim == 1:
        ga = (g[..., None, :] @ np.swapaxes(b, -1, -2))[..., 0, :]
    else:
        ga = g @ np.swapaxes(b, -1, -2)
    return unbroadcast(ga, a)


def matmul_vjp_b(g, a, b):
    """Cotangent of ``b`` for ``out = a @ b``; any 1-D/N-D mix, batch dims broadcast.

    Under Numba only 1-D and 2-D operands (as Numba's ``@``).

    >>> matmul_vjp_b(np.ones(2), np.ones((2, 3)), np.ones(3))
    array([2., 2., 2.])
    """
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if a.ndim == 1:
        gb = g * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    elif b.ndim == 1:
        gb = (np.swapaxes(a, -1, -2) @ g[..., :, None])[..., 0]
    else:
        gb = np.swapaxes(a, -1, -2) @ g
    return unbroadcast(gb, b)


def dot_vjp_a(g, a, b):
    """Cotangent of ``a`` for ``out = np.dot(a, b)`` (scalars multiply; N-D in Python mode).

    Under Numba: scalars and 1-D/2-D arrays.

    >>> dot_vjp_a(np.ones(2), np.ones((2, 3)), np.ones(3))
    array([[1., 1., 1.],
           [1., 1., 1.]])
    """
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(np.multiply(g, b), a)
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul_vjp_a(g, a, b)
    if b.ndim == 1:
        return np.multiply.outer(g, b)
    na, nb = a.ndim, b.ndim
    g_axes = list(range(na - 1, na - 1 + nb - 1))
    b_axes = list(range(nb - 2)) + [nb - 1]
    return np.tensordot(g, b, axes=(g_axes, b_axes))


def dot_vjp_b(g, a, b):
    """Cotangent of ``b`` for ``out = np.dot(a, b)`` (scalars multiply; N-D in Python mode).

    Under Numba: scalars and 1-D/2-D arrays.

    >>> dot_vjp_b(np.ones(2), np.ones((2, 3)), np.ones(3))
    array([2., 2., 2.])
    """
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(np.multiply(g, a), b)
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul_vjp_b(g, a, b)
    lead = list(range(a.ndim - 1))
    t = np.tensordot(a, g, axes=(lead, lead))
    if b.ndim == 1:
        return t
    return np.ascontiguousarray(np.moveaxis(t, 0, -2))


def _prep(name, t, ty):
    """Source expression making operand ``name`` ready for BLAS (dtype ``ty``, contiguous)."""
    if isinstance(t, types.Array):
        if t.dtype != ty:
            return f"{name}.astype(ty)"
        if t.layout == "A":
            return f"np.ascontiguousarray({name})"
        return name
    return name if t == ty else f"ty({name})"


def _matmul_impl(g, a, b, what, forms):
    """Implementation ``return forms[(a.ndim, b.ndim)]`` with prepared operands."""
    for t in (a, b):
        if not isinstance(t, types.Array) or t.ndim not in (1, 2):
            raise errors.TypingError(f"nabla: {what} under Numba needs 1-D or 2-D operands")
    ty = _nb(_inexact(np.result_type(*[_np_dtype(t) for t in (g, a, b)])))
    names = {n: _prep(n, t, ty) for n, t in zip("gab", (g, a, b), strict=True)}
    expr = forms[(a.ndim, b.ndim)].format(**names)
    return _exec_impl(f"def impl(g, a, b):\n    return {expr}\n", ty=ty, _outer=_outer)


@njit
def _outer(u, v, ty):
    """``np.outer(u, v)`` with dtype ``ty`` (much cheaper to compile than Numba's)."""
    out = np.empty((u.size, v.size), ty)
    for i in range(u.size):
        for j in range(v.size):
            out[i, j] = u[i] * v[j]
    return out


_MATMUL_A = {(1, 1): "{g} * {b}", (1, 2): "{b} @ {g}", (2, 1): "_outer({g}, {b}, ty)"}
_MATMUL_A[(2, 2)] = "{g} @ {b}.T"
_MATMUL_B = {(1, 1): "{g} * {a}", (1, 2): "_outer({a}, {g}, ty)", (2, 1): "{g} @ {a}"}
_MATMUL_B[(2, 2)] = "{a}.T @ {g}"

overload(matmul_vjp_a)(lambda g, a, b: _matmul_impl(g, a, b, "matmul_vjp_a", _MATMUL_A))
overload(matmul_vjp_b)(lambda g, a, b: _matmul_impl(g, a, b, "matmul_vjp_b", _MATMUL_B))


@overload(dot_vjp_a)
def _ov_dot_vjp_a(g, a, b):
    if _is_scalar(a) or _is_scalar(b):
        return lambda g, a, b: unbroadcast(g * b, a)
    return _matmul_impl(g, a, b, "dot_vjp_a", _MATMUL_A)


@overload(dot_vjp_b)
def _ov_dot_vjp_b(g, a, b):
    if _is_scalar(a) or _is_scalar(b):
        return lambda g, a, b: unbroadcast(g * a, b)
    return _matmul_impl(g, a, b, "dot_vjp_b", _MATMUL_B)
