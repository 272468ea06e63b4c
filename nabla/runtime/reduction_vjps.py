"""The way back through a reduction: its result put back in the input's shape.

``keepdims`` gives a reduction's result the shape ``keepdims=True`` gives,
``expand_reduced`` broadcasts it back over the input (the vjp of a sum), and
``extremum_vjp`` and ``prod_vjp`` are the vjps of ``reduce_max``/``reduce_min`` (the
cotangent shared among ties) and of ``reduce_prod`` (exact where the input holds
zeros).

>>> x = np.array([[1.0, 3.0], [3.0, 2.0]])
>>> keepdims(np.array([3.0, 3.0]), x, 1).shape, expand_reduced(np.array([1.0, 2.0]), x, 1)
((2, 1), array([[1., 1.],
       [2., 2.]]))
>>> extremum_vjp(1.0, x, 3.0), prod_vjp(1.0, np.array([2.0, 5.0]))
(array([[0. , 0.5],
       [0.5, 0. ]]), array([5., 2.]))
"""

import math

import numpy as np
from numba import types
from numba.extending import overload
from numba.np.unsafe.ndarray import to_fixed_tuple

from ._compiled import _as_flat, _axis_mask, _keep_shape, _shape_of
from ._kernels import _group_ids, _k_extremum_vjp, _k_prod_vjp, _k_prod_vjp_jvp
from ._types import (
    _axis_count,
    _is_nd,
    _is_none,
    _is_scalar,
    _nb_vjp_dtype,
    _need_array,
    _py_axes,
    _vjp_dtype,
)

__all__ = ["keepdims", "expand_reduced", "extremum_vjp", "prod_vjp", "prod_vjp_jvp"]


def keepdims(r, x, axis=None):
    """Reshape reduction result ``r`` of ``x`` to what ``keepdims=True`` gives.

    >>> keepdims(np.array([1.0, 2.0]), np.ones((2, 3)), 1)
    array([[1.],
           [2.]])
    """
    if np.ndim(x) == 0:
        return r
    shape = list(np.shape(x))
    for a in _py_axes(axis, len(shape)):
        shape[a] = 1
    return np.reshape(r, shape)


@overload(keepdims)
def _ov_keepdims(r, x, axis=None):
    if _is_scalar(x) or (isinstance(x, types.Array) and x.ndim == 0):

        def impl(r, x, axis=None):
            return r

        return impl
    _need_array(x, "keepdims")
    nd = x.ndim
    _axis_count(axis, nd)
    if isinstance(r, types.Array):

        def impl(r, x, axis=None):
            shape = _keep_shape(_shape_of(x), _axis_mask(axis, nd))
            return np.ascontiguousarray(r).reshape(to_fixed_tuple(shape, nd))

    else:

        def impl(r, x, axis=None):
            shape = _keep_shape(_shape_of(x), _axis_mask(axis, nd))
            return np.full(to_fixed_tuple(shape, nd), r)

    return impl


def expand_reduced(g, x, axis=None):
    """``g`` (shaped like a reduction of ``x``) broadcast back to ``x.shape``, fresh and contiguous.

    >>> expand_reduced(np.array([1.0, 2.0]), np.ones((2, 2)), 0)
    array([[1., 2.],
           [1., 2.]])
    """
    if not _is_nd(x):
        return g
    return np.broadcast_to(keepdims(g, x, axis), x.shape).copy()


@overload(expand_reduced)
def _ov_expand_reduced(g, x, axis=None):
    if _is_scalar(x):
        return lambda g, x, axis=None: g
    _need_array(x, "expand_reduced")
    _axis_count(axis, x.ndim)
    if _is_scalar(g):
        return lambda g, x, axis=None: np.full(x.shape, g)
    if x.ndim == 0:
        return lambda g, x, axis=None: np.full(x.shape, g.ravel()[0])
    return lambda g, x, axis=None: np.broadcast_to(keepdims(g, x, axis), x.shape).copy()


def extremum_vjp(g, x, r, axis=None):
    """Cotangent of ``x`` for ``r = reduce_max(x, axis)`` (or min): ``g`` split among the ties.

    >>> extremum_vjp(1.0, np.array([3.0, 1.0, 3.0]), 3.0)
    array([0.5, 0. , 0.5])
    """
    if not _is_nd(x):
        return g
    dt = _vjp_dtype(g, x)
    rk = keepdims(r, x, axis)
    gk = np.asarray(keepdims(g, x, axis), dtype=dt)
    eq = x == rk
    if np.issubdtype(x.dtype, np.inexact):
        eq |= np.isnan(x) & np.isnan(rk)
    cnt = np.sum(eq, axis=_py_axes(axis, x.ndim), keepdims=True)
    return np.where(eq, gk / np.maximum(cnt, 1).astype(dt), dt.type(0))


@overload(extremum_vjp)
def _ov_extremum_vjp(g, x, r, axis=None):
    if _is_scalar(x):
        return lambda g, x, r, axis=None: g
    _need_array(x, "extremum_vjp")
    nd = x.ndim
    _axis_count(axis, nd)
    oty = _nb_vjp_dtype(g, x)

    if _is_none(axis):  # one group: no group ids needed

        def impl(g, x, r, axis=None):
            xf = x.ravel()
            out = np.zeros(xf.size, oty)
            cnt = np.zeros(1, oty)
            _k_extremum_vjp(xf, np.empty(0, np.intp), _as_flat(g), _as_flat(r), cnt, out)
            return out.reshape(x.shape)

        return impl

    def impl(g, x, r, axis=None):
        gid, ng, nred = _group_ids(_shape_of(x), _axis_mask(axis, nd))
        xf = x.ravel()
        out = np.zeros(xf.size, oty)
        cnt = np.zeros(ng, oty)
        _k_extremum_vjp(xf, gid, _as_flat(g), _as_flat(r), cnt, out)
        return out.reshape(x.shape)

    return impl


def prod_vjp(g, x, axis=None):
    """Cotangent of ``x`` for ``reduce_prod(x, axis)``: ``g`` times the product of the others.

    Exact when ``x`` holds zeros (prefix and suffix products, no division).

    >>> prod_vjp(1.0, np.array([2.0, 0.0, 4.0]))
    array([0., 8., 0.])
    """
    if not _is_nd(x):
        return g
    dt = _vjp_dtype(g, x)
    nd = x.ndim
    axes = _py_axes(axis, nd)
    kept = [d for d in range(nd) if d not in axes]
    perm = kept + list(axes)
    outer = math.prod(x.shape[d] for d in kept)
    inner = math.prod(x.shape[d] for d in axes)
    x2 = np.transpose(x, perm).reshape(outer, inner).astype(dt)
    pre = np.ones_like(x2)
    pre[:, 1:] = np.cumprod(x2[:, :-1], axis=1)
    suf = np.ones_like(x2)
    suf[:, :-1] = np.cumprod(x2[:, :0:-1], axis=1)[:, ::-1]
    res = pre * suf * np.reshape(np.asarray(g, dtype=dt), (outer, 1))
    res = res.reshape([x.shape[d] for d in perm])
    return np.ascontiguousarray(np.transpose(res, np.argsort(perm)))


@overload(prod_vjp)
def _ov_prod_vjp(g, x, axis=None):
    if _is_scalar(x):
        return lambda g, x, axis=None: g
    _need_array(x, "prod_vjp")
    nd = x.ndim
    _axis_count(axis, nd)
    oty = _nb_vjp_dtype(g, x)

    if _is_none(axis):  # one group: no group ids needed

        def impl(g, x, axis=None):
            xf = x.ravel()
            out = np.empty(xf.size, oty)
            _k_prod_vjp(xf, np.empty(0, np.intp), _as_flat(g), np.ones(1, oty), out)
            return out.reshape(x.shape)

        return impl

    def impl(g, x, axis=None):
        gid, ng, nred = _group_ids(_shape_of(x), _axis_mask(axis, nd))
        xf = x.ravel()
        out = np.empty(xf.size, oty)
        _k_prod_vjp(xf, gid, _as_flat(g), np.ones(ng, oty), out)
        return out.reshape(x.shape)

    return impl



def prod_vjp_jvp(g, x, d, axis=None):
    """The tangent of ``prod_vjp(g, x, axis)`` along ``d`` (``x``'s tangent): ``g`` times,
    for each element, the sum over the others of their tangent times the product of the
    rest; no division, so exact where ``x`` holds zeros (second derivatives of a product).

    >>> prod_vjp_jvp(1.0, np.array([2.0, 3.0, 4.0]), np.array([1.0, 0.0, 0.0]))
    array([0., 4., 3.])
    """
    if not _is_nd(x):
        return 0.0 * g  # prod_vjp(g, x) is g for a number x
    dt = _vjp_dtype(g, x)
    axes = _py_axes(axis, x.ndim)
    gid, ng, _ = _group_ids(np.array(x.shape, np.intp),
                            np.array([a in axes for a in range(x.ndim)], np.bool_))
    out = np.empty(x.size, dt)
    _k_prod_vjp_jvp(np.ravel(x).astype(dt), np.ravel(np.broadcast_to(d, x.shape)).astype(dt),
                    gid, np.ravel(np.asarray(g, dt)), ng, out)
    return out.reshape(x.shape)


@overload(prod_vjp_jvp)
def _ov_prod_vjp_jvp(g, x, d, axis=None):
    if _is_scalar(x):
        return lambda g, x, d, axis=None: 0.0 * g
    _need_array(x, "prod_vjp_jvp")
    nd = x.ndim
    _axis_count(axis, nd)
    oty = _nb_vjp_dtype(g, x)

    def impl(g, x, d, axis=None):
        gid, ng, nred = _group_ids(_shape_of(x), _axis_mask(axis, nd))
        out = np.empty(x.size, oty)
        _k_prod_vjp_jvp(x.ravel().astype(oty), np.ravel(d).astype(oty), gid,
                        _as_flat(g).astype(oty), ng, out)
        return out.reshape(x.shape)

    return impl
