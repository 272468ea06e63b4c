"""Runtime helpers called by the code that nabla generates.

Generated derivative code is plain Python that runs either as is on NumPy
values or compiled with ``numba.njit``.  Every helper below is therefore an
ordinary Python function (correct on NumPy arrays, NumPy scalars and Python
numbers) *and* has a Numba implementation registered with
:func:`numba.extending.overload`, so the very same function object can be
called from nopython code.

Conventions shared by all helpers:

* inputs are never mutated;
* floating dtypes are kept (float32 in, float32 out), in Python mode and under
  Numba alike; a cotangent that comes from ``g`` takes ``g``'s dtype (a Python
  float is float64, integers become float64) unless the docstring says
  otherwise;
* ``axis`` is None (all axes), an int (negative allowed) or a tuple of ints;
  a reduction over all axes returns a scalar, as NumPy does;
* under Numba the number of dimensions of every result must be known when
  compiling, so a few forms are Python-only; each docstring says which.

Under Numba, reductions over an axis are computed by compiled kernels that
map every element to its output position (NumPy's ``axis=`` forms are missing
there); float32 sums accumulate in float64 and are rounded back to float32.
"""

import math
import operator

import numpy as np
from numba import njit, types
from numba.core import errors
from numba.extending import overload
from numba.np.numpy_support import as_dtype, from_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

try:  # builds a strided view directly; Numba's transpose-with-axes compiles far more
    from numba.np.arrayobj import reshape_unchecked
except ImportError:  # pragma: no cover - internal to Numba, present in 0.5x-0.6x
    reshape_unchecked = None

__all__ = [
    "basis",
    "basis_count",
    "jac_like",
    "jac_column",
    "jac_row",
    "column_of",
    "row_of",
    "in_python",
    "write_log",
    "log_write",
    "log_size",
    "undo_writes",
    "pop_writes",
    "index_zero",
    "snapshot",
    "index_add",
    "range_continues",
    "range_len",
    "tape_push",
    "array_of",
    "astype",
    "broadcast_like",
    "cumsum",
    "dot_vjp_a",
    "dot_vjp_b",
    "expand_reduced",
    "extremum_vjp",
    "keepdims",
    "log_base",
    "matmul_vjp_a",
    "matmul_vjp_b",
    "norm",
    "one_like",
    "prod_vjp",
    "rcumsum",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_std",
    "reduce_sum",
    "reduce_var",
    "reduced_count",
    "reshape_like",
    "slice_axis",
    "squeeze",
    "take_axis",
    "tape_like",
    "unbroadcast",
    "unindex",
    "untranspose",
    "zero_like",
]


# ---------------------------------------------------------------------------
# Python-side utilities
# ---------------------------------------------------------------------------


def _py_axis(a, ndim):
    """One axis, normalised to ``0 <= a < ndim``."""
    a = operator.index(a)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def _py_axes(axis, ndim):
    """Sorted tuple of the axes named by ``axis`` (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = [_py_axis(a, ndim) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
        return tuple(sorted(axes))
    return (_py_axis(axis, ndim),)


def _inexact(dt):
    """``dt`` if it is a floating (or complex) dtype, else float64."""
    dt = np.dtype(dt)
    return dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)


def _dtype_of(x):
    """NumPy dtype of an array, NumPy scalar or Python number."""
    dt = getattr(x, "dtype", None)
    return dt if isinstance(dt, np.dtype) else np.asarray(x).dtype


def _vjp_dtype(g, x):
    """dtype of a cotangent of ``x`` computed from ``g`` and ``x``'s values."""
    gd = _inexact(_dtype_of(g))
    xd = _dtype_of(x)
    return np.promote_types(gd, xd) if np.issubdtype(xd, np.inexact) else gd


def _is_nd(x):
    return isinstance(x, np.ndarray)


# ---------------------------------------------------------------------------
# Numba typing-time utilities
# ---------------------------------------------------------------------------


def _is_none(t):
    if isinstance(t, types.Omitted):
        return t.value is None
    return t is None or isinstance(t, types.NoneType)


def _is_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


def _np_dtype(t):
    """NumPy dtype of a Numba array or scalar type."""
    return as_dtype(t.dtype if isinstance(t, types.Array) else t)


def _nb(dt):
    return from_dtype(np.dtype(dt))


def _nb_vjp_dtype(g, x):
    gd = _inexact(_np_dtype(g))
    xd = _np_dtype(x)
    return _nb(np.promote_types(gd, xd) if np.issubdtype(xd, np.inexact) else gd)


def _axis_count(axis, ndim):
    """How many axes a Numba ``axis`` type names (None: ``ndim``)."""
    if _is_none(axis):
        return ndim
    if isinstance(axis, types.Integer):
        return 1
    if isinstance(axis, types.BaseTuple) and all(isinstance(t, types.Integer) for t in axis):
        return len(axis)
    raise errors.TypingError(f"nabla: axis must be None, an int or a tuple of ints, not {axis}")


def _need_array(x, what):
    if not isinstance(x, types.Array):
        raise errors.TypingError(f"nabla: {what} needs an array, got {x}")


# ---------------------------------------------------------------------------
# Small compiled building blocks
# ---------------------------------------------------------------------------


def _int(v):
    """``v`` as a plain (non-literal) int under Numba.

    A constant passed to a compiled kernel (``0``, even ``np.intp(0)`` or a
    global) is typed as a literal and compiles a separate specialisation.
    """
    return v


@overload(_int)
def _ov_int(v):
    return lambda v: v


@njit
def _norm_axis(a, ndim):
    if a < -ndim or a >= ndim:
        raise ValueError("axis is out of bounds for array")
    return a + ndim if a < 0 else a


@njit
def _set_axis(mask, a):
    b = _norm_axis(a, mask.size)
    if mask[b]:
        raise ValueError("duplicate value in 'axis'")
    mask[b] = True


def _axis_mask(axis, ndim):
    """Boolean array, True at the axes named by ``axis``."""
    mask = np.zeros(ndim, np.bool_)
    mask[list(_py_axes(axis, ndim))] = True
    return mask


@overload(_axis_mask)
def _ov_axis_mask(axis, ndim):
    if _is_none(axis):

        def impl(axis, ndim):
            return np.ones(ndim, np.bool_)

    elif isinstance(axis, types.Integer):

        def impl(axis, ndim):
            mask = np.zeros(ndim, np.bool_)
            _set_axis(mask, axis)
            return mask

    elif isinstance(axis, types.UniTuple) and isinstance(axis.dtype, types.Integer):

        def impl(axis, ndim):
            mask = np.zeros(ndim, np.bool_)
            for a in axis:
                _set_axis(mask, a)
            return mask

    elif isinstance(axis, types.BaseTuple):
        _axis_count(axis, 0)  # type check
        body = "".join(f"    _set_axis(mask, axis[{i}])\n" for i in range(len(axis)))
        src = f"def impl(axis, ndim):\n    mask = np.zeros(ndim, np.bool_)\n{body}    return mask\n"
        impl = _exec_impl(src)
    else:
        _axis_count(axis, 0)
    return impl


def _exec_impl(src, **names):
    """Compile generated source for an overload implementation named ``impl``."""
    ns = {
        "np": np,
        "_set_axis": _set_axis,
        "_norm_index": _norm_index,
        "_shape_of": _shape_of,
        "_axis_mask": _axis_mask,
        "_group_ids": _group_ids,
        "_kept_shape": _kept_shape,
        "to_fixed_tuple": to_fixed_tuple,
        "_int": _int,
    }
    ns.update(names)
    exec(src, ns)  # noqa: S102 - source built from type information only
    return ns["impl"]


def _shape_of(x):
    """Shape of ``x`` as an intp array."""
    return np.array(np.shape(x), np.intp)


@overload(_shape_of)
def _ov_shape_of(x):
    if _is_scalar(x) or x.ndim == 0:

        def impl(x):
            return np.empty(0, np.intp)

    else:
        nd = x.ndim

        def impl(x):
            s = np.empty(nd, np.intp)
            for i in range(nd):
                s[i] = x.shape[i]
            return s

    return impl


@njit
def _kept_shape(shape, mask):
    n = 0
    for d in range(shape.size):
        if not mask[d]:
            n += 1
    out = np.empty(n, np.intp)
    k = 0
    for d in range(shape.size):
        if not mask[d]:
            out[k] = shape[d]
            k += 1
    return out


@njit
def _keep_shape(shape, mask):
    out = shape.copy()
    for d in range(shape.size):
        if mask[d]:
            out[d] = 1
    return out


@njit
def _group_ids(shape, mask):
    """Group (output position) of every element, in C order, for a reduction.

    Returns ``(gid, ngroups, nreduced)``; ``gid`` is empty when all axes are
    reduced (then every element is in group 0).
    """
    nd = shape.size
    n = 1
    nred = 1
    ng = 1
    ostride = np.zeros(nd, np.intp)
    for d in range(nd - 1, -1, -1):
        n *= shape[d]
        if mask[d]:
            nred *= shape[d]
        else:
            ostride[d] = ng
            ng *= shape[d]
    if ng == 1:
        return np.empty(0, np.intp), 1, nred
    gid = np.empty(n, np.intp)
    idx = np.zeros(nd, np.intp)
    o = 0
    for f in range(n):
        gid[f] = o
        d = nd - 1
        while d >= 0:
            idx[d] += 1
            o += ostride[d]
            if idx[d] < shape[d]:
                break
            o -= ostride[d] * shape[d]
            idx[d] = 0
            d -= 1
    return gid, ng, nred


@njit
def _k_sum(xf, gid, acc, out, nred, ddof, kind):
    """Per-group sum (``gid`` empty: a single group)."""
    single = gid.size == 0
    for f in range(xf.size):
        acc[0 if single else gid[f]] += xf[f]
    for i in range(out.size):
        out[i] = acc[i]
    return out


@njit
def _k_mean(xf, gid, acc, out, nred, ddof, kind):
    """Per-group mean."""
    single = gid.size == 0
    for f in range(xf.size):
        acc[0 if single else gid[f]] += xf[f]
    for i in range(out.size):
        out[i] = acc[i] / nred if nred > 0 else np.nan
    return out


@njit
def _k_var(xf, gid, acc, out, nred, ddof, kind):
    """Per-group variance (kind 2) or standard deviation (kind 3), two passes."""
    single = gid.size == 0
    for f in range(xf.size):
        acc[0 if single else gid[f]] += xf[f]
    mean = acc / (nred if nred > 0 else 1)
    acc[:] = 0
    for f in range(xf.size):
        i = 0 if single else gid[f]
        d = xf[f] - mean[i]
        acc[i] += d * d
    den = nred - ddof
    for i in range(out.size):
        if den > 0:
            v = acc[i] / den
        elif acc[i] == 0 or acc[i] != acc[i]:
            v = np.nan
        else:
            v = np.inf
        out[i] = np.sqrt(v) if kind == 3 else v
    return out


@njit
def _k_prod(xf, gid, acc, out, nred, ddof, kind):
    """Per-group product."""
    single = gid.size == 0
    acc[:] = 1
    for f in range(xf.size):
        acc[0 if single else gid[f]] *= xf[f]
    for i in range(out.size):
        out[i] = acc[i]
    return out


@njit
def _k_extreme(xf, gid, acc, out, nred, ddof, kind):
    """Per-group maximum (kind 5) or minimum (kind 6); NaN propagates."""
    if nred == 0 and out.size > 0:
        raise ValueError("zero-size array to reduction operation which has no identity")
    single = gid.size == 0
    seen = np.zeros(out.size, np.bool_)
    for f in range(xf.size):
        i = 0 if single else gid[f]
        v = xf[f]
        if not seen[i]:
            out[i] = v
            seen[i] = True
        elif v != v:
            out[i] = v
        elif kind == 5:
            if v > out[i]:
                out[i] = v
        elif v < out[i]:
            out[i] = v
    return out


@njit
def _k_cumsum(xf, out, n, s, zero, reverse):
    """Cumulative sum along the middle axis of ``xf`` viewed as (outer, n, s)."""
    if n == 0 or s == 0:
        return out
    outer = xf.size // (n * s)
    for o in range(outer):
        b = o * n * s
        if reverse:
            r = b + (n - 1) * s
            for i in range(s):
                out[r + i] = zero + xf[r + i]
            for j in range(n - 2, -1, -1):
                r = b + j * s
                for i in range(s):
                    out[r + i] = out[r + s + i] + xf[r + i]
        else:
            for i in range(s):
                out[b + i] = zero + xf[b + i]
            for j in range(1, n):
                r = b + j * s
                for i in range(s):
                    out[r + i] = out[r - s + i] + xf[r + i]
    return out


@njit
def _k_extremum_vjp(xf, gid, gf, rf, cnt, out):
    single = gid.size == 0
    for f in range(xf.size):
        i = 0 if single else gid[f]
        v = xf[f]
        r = rf[i]
        if v == r or (v != v and r != r):
            cnt[i] += 1
    for f in range(xf.size):
        i = 0 if single else gid[f]
        v = xf[f]
        r = rf[i]
        if v == r or (v != v and r != r):
            out[f] = gf[i] / cnt[i]
    return out


@njit
def _k_prod_vjp(xf, gid, gf, acc, out):
    single = gid.size == 0
    acc[:] = 1
    for f in range(xf.size):
        i = 0 if single else gid[f]
        out[f] = acc[i]
        acc[i] *= xf[f]
    acc[:] = 1
    for f in range(xf.size - 1, -1, -1):
        i = 0 if single else gid[f]
        out[f] = out[f] * acc[i] * gf[i]
        acc[i] *= xf[f]
    return out


@njit
def _norm_index(a, n):
    """Integer index array ``a`` (any shape) as a flat array in ``[0, n)``."""
    flat = np.asarray(a).ravel()
    out = np.empty(flat.size, np.intp)
    for k in range(flat.size):
        i = flat[k]
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise IndexError("index out of bounds")
        out[k] = i
    return out


def _as_flat(v):
    """``v`` as a flat 1-D array (a scalar becomes a 1-element array)."""
    return np.ravel(v)


@overload(_as_flat)
def _ov_as_flat(v):
    if isinstance(v, types.Array):
        return lambda v: v.ravel()
    return lambda v: np.full(1, v)


def _rows(g, n, r):
    """``g`` as a C-contiguous (n, r) array (a scalar is broadcast)."""
    return np.ascontiguousarray(np.broadcast_to(g, (n, r)))


@overload(_rows)
def _ov_rows(g, n, r):
    if isinstance(g, types.Array):
        return lambda g, n, r: np.ascontiguousarray(g).reshape((n, r))
    return lambda g, n, r: np.full((n, r), g)


def _permute(a, perm):
    """View of ``a`` with its axes permuted by ``perm`` (an intp array; not checked)."""
    return np.transpose(a, tuple(perm))


@overload(_permute)
def _ov_permute(a, perm):
    # reshape_unchecked builds the view directly: Numba's own transpose with an
    # axes tuple compiles set/str machinery for its error messages (seconds).
    nd = a.ndim
    if reshape_unchecked is None:  # pragma: no cover
        return lambda a, perm: np.transpose(a, to_fixed_tuple(perm, nd))

    def impl(a, perm):
        shape = np.empty(nd, np.intp)
        strides = np.empty(nd, np.intp)
        for i in range(nd):
            shape[i] = a.shape[perm[i]]
            strides[i] = a.strides[perm[i]]
        return reshape_unchecked(a, to_fixed_tuple(shape, nd), to_fixed_tuple(strides, nd))

    return impl


# ---------------------------------------------------------------------------
# Broadcasting
# ---------------------------------------------------------------------------


def unbroadcast(g, x):
    """Sum ``g`` down to ``x``'s shape (vjp of broadcasting); may return ``g`` itself.

    >>> unbroadcast(np.ones((2, 3)), np.ones((1, 3)))
    array([[2., 2., 2.]])
    """
    if not _is_nd(x) or x.ndim == 0:
        return np.sum(g) if _is_nd(g) else g
    if not _is_nd(g):
        return np.full(x.shape, g, dtype=_inexact(_dtype_of(g)))
    lead = g.ndim - x.ndim
    if lead < 0:
        raise ValueError("unbroadcast: g has fewer dimensions than x")
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(x.shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if g.shape != x.shape:
        raise ValueError("unbroadcast: shapes do not match")
    return g


@overload(unbroadcast)
def _ov_unbroadcast(g, x):
    if _is_scalar(x) or (isinstance(x, types.Array) and x.ndim == 0):
        if isinstance(g, types.Array):
            return lambda g, x: reduce_sum(g)
        return lambda g, x: g
    _need_array(x, "unbroadcast")
    if _is_scalar(g):
        fty = _nb(_inexact(_np_dtype(g)))
        return lambda g, x: np.full(x.shape, fty(g))
    _need_array(g, "unbroadcast")
    xnd, gnd = x.ndim, g.ndim
    lead = gnd - xnd
    if lead < 0:
        raise errors.TypingError("nabla: unbroadcast: g has fewer dimensions than x")
    accty = _nb(_acc_dtype(_np_dtype(g)))
    outty = _nb(_ref_dtype("sum", _np_dtype(g)))
    if lead > 0:  # the leading axes always need summing
        same = ""
    else:
        keep = "np.ascontiguousarray(g)" if g.dtype == outty else "g.astype(outty)"
        same = f"    if not anym:\n        return {keep}\n"
    src = _UNBROADCAST_SRC.format(same=same)
    return _exec_impl(src, gnd=gnd, lead=lead, accty=accty, outty=outty, _k_sum=_k_sum)


_UNBROADCAST_SRC = """
def impl(g, x):
    gs = _shape_of(g)
    xs = _shape_of(x)
    mask = np.zeros(gnd, np.bool_)
    anym = False
    for d in range(gnd):
        if d < lead:
            mask[d] = True
        elif xs[d - lead] != gs[d]:
            if xs[d - lead] != 1:
                raise ValueError("unbroadcast: shapes do not match")
            mask[d] = True
            anym = True
{same}    gid, ng, nred = _group_ids(gs, mask)
    acc, out = np.zeros(ng, accty), np.empty(ng, outty)
    out = _k_sum(g.ravel(), gid, acc, out, nred, _int(0), _int(0))
    return out.reshape(x.shape)
"""


def broadcast_like(t, out):
    """``t`` broadcast to ``np.shape(out)`` as a fresh array (``t`` itself if ``out`` is a scalar).

    >>> broadcast_like(2.0, np.zeros(3))
    array([2., 2., 2.])
    """
    if not _is_nd(out):
        return t
    return np.broadcast_to(t, out.shape).copy()


@overload(broadcast_like)
def _ov_broadcast_like(t, out):
    if not isinstance(out, types.Array):
        return lambda t, out: t
    if isinstance(t, types.Array):
        return lambda t, out: np.broadcast_to(t, out.shape).copy()
    return lambda t, out: np.full(out.shape, t)


def one_like(x):
    """One of ``x``'s float type: a scalar, or an array of ones shaped like ``x``.

    >>> one_like(np.float32(3)), one_like(np.zeros(2, np.int64))
    (np.float32(1.0), array([1., 1.]))
    """
    return _const_like(x, 1)


def zero_like(x):
    """Zero of ``x``'s float type: a scalar, or an array of zeros shaped like ``x``.

    >>> zero_like(3), zero_like(np.ones((1, 2), np.float32))
    (0.0, array([[0., 0.]], dtype=float32))

    ``None`` stands for a value some path left unset (generated code gives such names
    ``None`` under Python only): its cotangent is never used, and 0.0 adds to anything.
    """
    if x is None:
        return 0.0
    return _const_like(x, 0)


def _const_like(x, c):
    if _is_nd(x):
        return np.full(x.shape, c, dtype=_inexact(x.dtype))
    if isinstance(x, np.inexact):
        return x.dtype.type(c)
    return float(c)


def _ov_const_like(x, c):
    if isinstance(x, types.Array):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x: np.full(x.shape, c, fty)
    if _is_scalar(x):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x: fty(c)
    return None


overload(one_like)(lambda x: _ov_const_like(x, 1))
overload(zero_like)(lambda x: _ov_const_like(x, 0))


# ---------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------

_NP_REDUCE = {
    "sum": np.sum,
    "prod": np.prod,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "var": np.var,
    "std": np.std,
}
_KINDS = {
    "sum": (_k_sum, 0),
    "mean": (_k_mean, 1),
    "var": (_k_var, 2),
    "std": (_k_var, 3),
    "prod": (_k_prod, 4),
    "max": (_k_extreme, 5),
    "min": (_k_extreme, 6),
}


def _ref_dtype(kind, dt):
    """The dtype NumPy's reduction ``kind`` returns for input dtype ``dt``."""
    return np.asarray(_NP_REDUCE[kind](np.ones(2, dt))).dtype


def _acc_dtype(dt):
    """Accumulator dtype for sums: float64 for low-precision floats."""
    dt = np.dtype(dt)
    if dt.kind == "f" and dt.itemsize < 8:
        return np.dtype(np.float64)
    if dt.kind == "c" and dt.itemsize < 16:
        return np.dtype(np.complex128)
    return _ref_dtype("sum", dt)


_REDUCE_SRC = {
    "scalar": """
def impl(x, axis=None{extra}):
    acc, out = np.zeros(1, accty), np.empty(1, outty)
    return kernel(np.full(1, x), np.empty(0, np.intp), acc, out, _int(1), {ddof}, _int(kind))[0]
""",
    "none": """
def impl(x, axis=None{extra}):
    acc, out = np.zeros(1, accty), np.empty(1, outty)
    xf = x.ravel()
    return kernel(xf, np.empty(0, np.intp), acc, out, xf.size, {ddof}, _int(kind))[0]
""",
    "all": """
def impl(x, axis=None{extra}):
    gid, ng, nred = _group_ids(_shape_of(x), _axis_mask(axis, nd))
    acc, out = np.zeros(1, accty), np.empty(1, outty)
    return kernel(x.ravel(), gid, acc, out, nred, {ddof}, _int(kind))[0]
""",
    "some": """
def impl(x, axis=None{extra}):
    shape = _shape_of(x)
    mask = _axis_mask(axis, nd)
    gid, ng, nred = _group_ids(shape, mask)
    acc, out = np.zeros(ng, accty), np.empty(ng, outty)
    res = kernel(x.ravel(), gid, acc, out, nred, {ddof}, _int(kind))
    return res.reshape(to_fixed_tuple(_kept_shape(shape, mask), out_nd))
""",
}


def _reduce_impl(name, x, axis, with_ddof):
    """Implementation of reduction ``name`` for Numba types ``x``, ``axis``."""
    if _is_scalar(x):
        if not _is_none(axis):
            raise errors.TypingError("nabla: a reduction of a scalar needs axis=None")
        nd = 0
    elif isinstance(x, types.Array):
        nd = x.ndim
    else:
        return None
    out_nd = nd - _axis_count(axis, nd)
    dt = _np_dtype(x)
    if dt.kind == "c" and name in ("var", "std", "max", "min"):
        raise errors.TypingError(f"nabla: reduce_{name} of complex values is Python-only")
    outty = _nb(_ref_dtype(name, dt))
    if name in ("max", "min", "prod"):
        accty = outty
    else:
        accty = _nb(_acc_dtype(dt) if name == "sum" else _acc_dtype(_ref_dtype(name, dt)))
    if _is_scalar(x):
        form = "scalar"
    elif _is_none(axis):
        form = "none"
    else:
        form = "all" if out_nd == 0 else "some"
    src = _REDUCE_SRC[form].format(
        extra=", ddof=0" if with_ddof else "",
        ddof="_int(ddof)" if with_ddof else "_int(0)",
    )
    kernel, kind = _KINDS[name]
    return _exec_impl(src, kernel=kernel, kind=kind, accty=accty, outty=outty, nd=nd, out_nd=out_nd)


def _reduce_overload(name, with_ddof):
    if with_ddof:

        def ov(x, axis=None, ddof=0):
            return _reduce_impl(name, x, axis, True)

    else:

        def ov(x, axis=None):
            return _reduce_impl(name, x, axis, False)

    return ov


def reduce_sum(x, axis=None):
    """``np.sum(x, axis=axis)``.

    >>> reduce_sum(np.ones((2, 3)), -1)
    array([3., 3.])
    """
    return np.sum(x, axis=axis)


def reduce_mean(x, axis=None):
    """``np.mean(x, axis=axis)``.

    >>> reduce_mean(np.arange(4.0).reshape(2, 2), (0, 1))
    np.float64(1.5)
    """
    return np.mean(x, axis=axis)


def reduce_prod(x, axis=None):
    """``np.prod(x, axis=axis)``.

    >>> reduce_prod(np.arange(1.0, 5.0).reshape(2, 2), 0)
    array([3., 8.])
    """
    return np.prod(x, axis=axis)


def reduce_max(x, axis=None):
    """``np.max(x, axis=axis)`` (NaN propagates).

    >>> reduce_max(np.array([[1.0, 5.0], [4.0, 2.0]]), 1)
    array([5., 4.])
    """
    return np.max(x, axis=axis)


def reduce_min(x, axis=None):
    """``np.min(x, axis=axis)`` (NaN propagates).

    >>> reduce_min(np.array([[1.0, 5.0], [4.0, 2.0]]), 0)
    array([1., 2.])
    """
    return np.min(x, axis=axis)


def reduce_var(x, axis=None, ddof=0):
    """``np.var(x, axis=axis, ddof=ddof)`` (complex input is Python-only).

    >>> reduce_var(np.array([1.0, 3.0]), 0, 1)
    np.float64(2.0)
    """
    return np.var(x, axis=axis, ddof=ddof)


def reduce_std(x, axis=None, ddof=0):
    """``np.std(x, axis=axis, ddof=ddof)`` (complex input is Python-only).

    >>> reduce_std(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    return np.std(x, axis=axis, ddof=ddof)


overload(reduce_sum)(_reduce_overload("sum", False))
overload(reduce_mean)(_reduce_overload("mean", False))
overload(reduce_prod)(_reduce_overload("prod", False))
overload(reduce_max)(_reduce_overload("max", False))
overload(reduce_min)(_reduce_overload("min", False))
overload(reduce_var)(_reduce_overload("var", True))
overload(reduce_std)(_reduce_overload("std", True))


def reduced_count(x, axis=None):
    """Number of elements a reduction over ``axis`` combines, as a scalar of ``x``'s float type.

    >>> reduced_count(np.ones((2, 3, 4), np.float32), (0, -1))
    np.float32(8.0)
    """
    shape = np.shape(x)
    n = 1
    for a in _py_axes(axis, len(shape)):
        n *= shape[a]
    if not isinstance(x, (np.ndarray, np.generic)):
        return float(n)
    return _inexact(x.dtype).type(n)


@overload(reduced_count)
def _ov_reduced_count(x, axis=None):
    if not (_is_scalar(x) or isinstance(x, types.Array)):
        return None
    nd = x.ndim if isinstance(x, types.Array) else 0
    _axis_count(axis, nd)
    fty = _nb(_inexact(_np_dtype(x)))

    def impl(x, axis=None):
        shape = _shape_of(x)
        mask = _axis_mask(axis, nd)
        n = 1
        for d in range(nd):
            if mask[d]:
                n *= shape[d]
        return fty(n)

    return impl


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


def squeeze(x, axis=None):
    """``np.squeeze(x, axis)``; under Numba ``axis`` must be an int or a tuple (not None).

    >>> squeeze(np.ones((1, 2, 1)), (0, -1))
    array([1., 1.])
    """
    return np.squeeze(x, axis)


@overload(squeeze)
def _ov_squeeze(x, axis=None):
    if _is_scalar(x):
        return lambda x, axis=None: x
    _need_array(x, "squeeze")
    nd = x.ndim
    if _is_none(axis):
        if nd == 0:
            return lambda x, axis=None: x
        raise errors.TypingError(
            "nabla: squeeze(x, None) is not supported under Numba (the result's number of "
            "dimensions depends on the runtime shape); pass the axes explicitly"
        )
    out_nd = nd - _axis_count(axis, nd)

    def impl(x, axis=None):
        shape = _shape_of(x)
        mask = _axis_mask(axis, nd)
        for d in range(nd):
            if mask[d] and shape[d] != 1:
                raise ValueError("cannot squeeze out an axis whose size is not one")
        return np.ascontiguousarray(x).reshape(to_fixed_tuple(_kept_shape(shape, mask), out_nd))

    return impl


# ---------------------------------------------------------------------------
# Elementwise extras
# ---------------------------------------------------------------------------


def log_base(x, base):
    """``math.log(x, base)`` for scalars, ``np.log(x) / np.log(base)`` for arrays (dtype kept).

    Under Numba a scalar ``x <= 0`` gives ``-inf``/``nan`` where ``math.log`` raises.

    >>> log_base(8.0, 2.0), log_base(np.array([1.0, 100.0], np.float32), 10)
    (3.0, array([0., 2.], dtype=float32))
    """
    if _is_nd(x) or _is_nd(base):
        lx = np.log(x)
        lb = np.log(base)
        if not _is_nd(base):
            lb = np.asarray(lx).dtype.type(lb)
        return lx / lb
    if isinstance(x, np.inexact):
        return x.dtype.type(math.log(x, base))
    return math.log(x, base)


@overload(log_base)
def _ov_log_base(x, base):
    if isinstance(x, types.Array) or isinstance(base, types.Array):
        if isinstance(base, types.Array):
            return lambda x, base: np.log(x) / np.log(base)
        ldt = np.log(np.ones(1, _np_dtype(x))).dtype
        lty = _nb(ldt)
        return lambda x, base: np.log(x) / lty(math.log(base))
    if not (_is_scalar(x) and _is_scalar(base)):
        return None
    fty = _nb(_inexact(_np_dtype(x)))
    return lambda x, base: fty(math.log(np.float64(x)) / math.log(np.float64(base)))


def norm(x, axis=None):
    """``np.linalg.norm(x, axis=axis)``: 2-norm along ``axis``, Frobenius for None/2 axes.

    Under Numba: real inputs; the square root of the sum of squares over ``axis``.

    >>> norm(np.array([[3.0, 4.0], [0.0, 1.0]]), -1)
    array([5., 1.])
    """
    return np.linalg.norm(x, axis=axis)


@overload(norm)
def _ov_norm(x, axis=None):
    if _is_scalar(x):
        fty = _nb(_inexact(_np_dtype(x)))
        return lambda x, axis=None: fty(abs(x))
    _need_array(x, "norm")
    if isinstance(x.dtype, types.Complex):
        raise errors.TypingError("nabla: norm of complex arrays is not supported under Numba")
    return lambda x, axis=None: np.sqrt(reduce_sum(x * x, axis))


# ---------------------------------------------------------------------------
# Building arrays
# ---------------------------------------------------------------------------


def array_of(items):
    """``np.array(list(items))`` for a tuple of scalars or of equal-shape arrays.

    Under Numba: a tuple (or list) of scalars, or of arrays of one ndim (shapes are
    checked at run time); mixed dtypes promote as NumPy's ``np.array`` does.

    >>> array_of((1.0, 2.0)), array_of((np.zeros(2), np.ones(2)))
    (array([1., 2.]), array([[0., 0.],
           [1., 1.]]))
    """
    return np.array(list(items))


@overload(array_of)
def _ov_array_of(items):
    if isinstance(items, (types.List, types.ListType)):
        elems = [items.dtype]
        n = None
    elif isinstance(items, types.BaseTuple):
        elems = list(items)
        n = len(items)
    else:
        return None
    if n == 0:
        return lambda items: np.empty(0, np.float64)
    if all(_is_scalar(t) for t in elems):
        scalars = True
    elif all(isinstance(t, types.Array) for t in elems):
        scalars = False
        if len({t.ndim for t in elems}) != 1:
            raise errors.TypingError("nabla: array_of needs arrays of equal shape")
    else:
        raise errors.TypingError(f"nabla: array_of needs all scalars or all arrays, got {items}")
    outty = _nb(np.result_type(*[_np_dtype(t) for t in elems]))
    if scalars and n is None:

        def impl(items):
            out = np.empty(len(items), outty)
            for i in range(len(items)):
                out[i] = items[i]
            return out

    elif scalars:
        body = "".join(f"    out[{i}] = items[{i}]\n" for i in range(n))
        src = f"def impl(items):\n    out = np.empty({n}, outty)\n{body}    return out\n"
        impl = _exec_impl(src, outty=outty)
    elif n is None:

        def impl(items):
            first = items[0]
            out = np.empty((len(items),) + first.shape, outty)
            rows = out.reshape((len(items), first.size))
            for i in range(len(items)):
                _copy_row(rows, i, items[i], first)
            return out

    else:
        body = "".join(f"    _copy_row(rows, _int({i}), items[{i}], first)\n" for i in range(n))
        src = (
            "def impl(items):\n    first = items[0]\n"
            f"    out = np.empty(({n},) + first.shape, outty)\n"
            f"    rows = out.reshape(({n}, first.size))\n{body}    return out\n"
        )
        impl = _exec_impl(src, outty=outty, _copy_row=_copy_row)
    return impl


@njit
def _copy_row(rows, i, a, first):
    """``rows[i] = a.ravel()`` after checking that ``a`` has ``first``'s shape."""
    if a.shape != first.shape:
        raise ValueError("array_of: arrays must have the same shape")
    flat = a.ravel()
    for j in range(flat.size):
        rows[i, j] = flat[j]


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


def astype(x, dtype):
    """``np.asarray(x).astype(dtype)`` for arrays, ``dtype(x)`` for scalars (always a copy).

    ``dtype`` is a NumPy scalar type such as ``np.float32`` (or an ``np.dtype``).

    >>> astype(np.arange(2), np.float32), astype(2, np.float64)
    (array([0., 1.], dtype=float32), np.float64(2.0))
    """
    if _is_nd(x):
        return x.astype(dtype)
    return np.dtype(dtype).type(x)


@overload(astype)
def _ov_astype(x, dtype):
    if isinstance(dtype, types.NumberClass):
        ty = dtype.instance_type
    elif isinstance(dtype, types.DType):
        ty = dtype.dtype
    else:
        raise errors.TypingError(f"nabla: astype needs a NumPy scalar type, got {dtype}")
    if isinstance(x, types.Array):
        return lambda x, dtype: x.astype(ty)
    if _is_scalar(x):
        return lambda x, dtype: ty(x)
    return None


# ---------------------------------------------------------------------------
# Shape manipulation (vjps of views)
# ---------------------------------------------------------------------------


def untranspose(g, axes=None):
    """vjp of ``np.transpose(x, axes)``: ``g`` transposed by the inverse permutation (a view).

    >>> untranspose(np.zeros((4, 2, 3)), (1, 2, 0)).shape
    (3, 4, 2)
    """
    if axes is None:
        return np.transpose(g)
    nd = np.ndim(g)
    return np.transpose(g, tuple(np.argsort([_py_axis(a, nd) for a in axes])))


@overload(untranspose)
def _ov_untranspose(g, axes=None):
    if _is_scalar(g):
        return lambda g, axes=None: g
    _need_array(g, "untranspose")
    if _is_none(axes):
        return lambda g, axes=None: g.T
    nd = g.ndim
    if _axis_count(axes, nd) != nd:
        raise errors.TypingError("nabla: untranspose: axes must name every axis")

    def impl(g, axes=None):
        inv = np.empty(nd, np.intp)
        seen = np.zeros(nd, np.bool_)
        for i in range(nd):
            a = _norm_axis(axes[i], _int(nd))
            if seen[a]:
                raise ValueError("repeated axis in transpose")
            seen[a] = True
            inv[a] = i
        return _permute(g, inv)

    return impl


def reshape_like(g, x):
    """``g`` reshaped to ``np.shape(x)`` (a scalar when ``x`` is a scalar).

    >>> reshape_like(np.arange(4.0).reshape(2, 2).T, np.zeros(4))
    array([0., 2., 1., 3.])
    """
    if _is_nd(x):
        return np.reshape(g, x.shape)
    if _is_nd(g):
        return g.reshape(())[()]
    return g


@overload(reshape_like)
def _ov_reshape_like(g, x):
    if isinstance(x, types.Array):
        if _is_scalar(g):
            return lambda g, x: np.full(x.shape, g)
        return lambda g, x: np.ascontiguousarray(g).reshape(x.shape)
    if not _is_scalar(x):
        return None
    if isinstance(g, types.Array):

        def impl(g, x):
            if g.size != 1:
                raise ValueError("cannot reshape an array of size != 1 to a scalar")
            return g.ravel()[0]

        return impl
    return lambda g, x: g


def take_axis(g, i, axis):
    """``np.take(g, i, axis=axis)`` for an int ``i`` (vjp of ``np.stack``), a fresh array.

    >>> take_axis(np.arange(6.0).reshape(2, 3), -1, 1)
    array([2., 5.])
    """
    return np.take(g, i, axis=axis)


@overload(take_axis)
def _ov_take_axis(g, i, axis):
    _need_array(g, "take_axis")
    if not isinstance(i, types.Integer) or not isinstance(axis, types.Integer):
        raise errors.TypingError("nabla: take_axis needs an int index and an int axis")
    nd = g.ndim
    if nd == 1:

        def impl(g, i, axis):
            _norm_axis(axis, _int(1))
            _norm_index(np.full(1, i), g.shape[0])
            return g[i]

        return impl

    def impl(g, i, axis):
        a = _norm_axis(axis, _int(nd))
        perm = np.empty(nd, np.intp)
        perm[0] = a
        k = 1
        for d in range(nd):
            if d != a:
                perm[k] = d
                k += 1
        gt = _permute(g, perm)
        j = _norm_index(np.full(1, i), gt.shape[0])[0]
        return gt[j].copy()

    return impl


def slice_axis(g, start, stop, axis):
    """``g[start:stop]`` along ``axis`` (vjp of ``np.concatenate``), a fresh array.

    >>> slice_axis(np.arange(6.0).reshape(2, 3), 1, 3, -1)
    array([[1., 2.],
           [4., 5.]])
    """
    nd = np.ndim(g)
    index = [slice(None)] * nd
    index[_py_axis(axis, nd)] = slice(start, stop)
    return g[tuple(index)].copy()


@overload(slice_axis)
def _ov_slice_axis(g, start, stop, axis):
    _need_array(g, "slice_axis")
    nd = g.ndim

    def impl(g, start, stop, axis):
        a = _norm_axis(axis, _int(nd))
        perm = np.empty(nd, np.intp)
        perm[0] = a
        k = 1
        for d in range(nd):
            if d != a:
                perm[k] = d
                k += 1
        inv = np.empty(nd, np.intp)
        for d in range(nd):
            inv[perm[d]] = d
        return _permute(_permute(g, perm)[start:stop], inv).copy()

    return impl


# ---------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------


def unindex(g, x, index):
    """vjp of ``x[index]``: zeros like ``x`` (x's float dtype) with ``g`` added at ``index``.

    Repeated integer indices accumulate (``np.add.at`` semantics).  Python mode
    takes every NumPy index.  Under Numba: an int, a slice, None, Ellipsis or a
    tuple of these; a boolean array over the leading axes of ``x``; an integer
    array (any shape); and a tuple mixing ints, slices, None, Ellipsis with
    1-D integer or 1-D boolean arrays (NumPy's placement rules for the
    advanced-index dimension apply).  Not under Numba: lists, N-D integer
    arrays inside a tuple, N-D boolean arrays inside a tuple.

    >>> unindex(np.array([1.0, 2.0, 3.0]), np.zeros(3), np.array([0, 0, 2]))
    array([3., 0., 3.])
    """
    out = np.zeros(np.shape(x), dtype=_inexact(_dtype_of(x)))
    np.add.at(out, index, g)
    return out


def _index_kind(t):
    if isinstance(t, types.Integer):
        return "int"
    if isinstance(t, types.SliceType):
        return "slice"
    if isinstance(t, types.NoneType):
        return "none"
    if isinstance(t, types.EllipsisType):
        return "ellipsis"
    if isinstance(t, types.Array) and isinstance(t.dtype, types.Integer):
        return "iarr"
    if isinstance(t, types.Array) and isinstance(t.dtype, types.Boolean):
        return "barr"
    raise errors.TypingError(f"nabla: unindex: unsupported index element {t} under Numba")


@overload(unindex)
def _ov_unindex(g, x, index):
    _need_array(x, "unindex")
    nd = x.ndim
    oty = _nb(_inexact(_np_dtype(x)))
    is_tuple = isinstance(index, types.BaseTuple)
    elems = list(index) if is_tuple else [index]
    kinds = [_index_kind(t) for t in elems]

    if not any(k in ("iarr", "barr") for k in kinds):
        # Basic indexing never repeats an element: write g into the view.
        consumed = sum(k in ("int", "slice") for k in kinds)
        if consumed > nd:
            raise errors.TypingError("nabla: unindex: too many indices for array")
        if kinds.count("int") == nd and "none" not in kinds:  # one element
            gval = "g[()]" if isinstance(g, types.Array) else "g"
            src = "def impl(g, x, index):\n    out = np.zeros(x.shape, oty)\n"
            src += f"    out[index] = {gval}\n    return out\n"
            return _exec_impl(src, oty=oty)

        def impl(g, x, index):
            out = np.zeros(x.shape, oty)
            view = out[index]
            np.add(view, g, view)
            return out

        return impl

    if not is_tuple and kinds[0] == "barr":
        bnd = index.ndim
        if bnd > nd:
            raise errors.TypingError("nabla: unindex: boolean index has too many dimensions")

        def impl(g, x, index):
            out = np.zeros(x.shape, oty)
            xs = _shape_of(x)
            ms = _shape_of(index)
            rest = 1
            for d in range(nd):
                if d < bnd:
                    if ms[d] != xs[d]:
                        raise IndexError("boolean index did not match indexed array")
                else:
                    rest *= xs[d]
            m = index.ravel()
            cnt = 0
            for f in range(m.size):
                if m[f]:
                    cnt += 1
            o2 = out.reshape((m.size, rest))
            g2 = _rows(g, cnt, rest)
            k = 0
            for f in range(m.size):
                if m[f]:
                    for j in range(rest):
                        o2[f, j] = g2[k, j]
                    k += 1
            return out

        return impl

    if not is_tuple:  # an integer array, any shape: rows of x

        def impl(g, x, index):
            out = np.zeros(x.shape, oty)
            xs = _shape_of(x)
            rest = 1
            for d in range(1, nd):
                rest *= xs[d]
            ai = _norm_index(index, xs[0])
            o2 = out.reshape((xs[0], rest))
            g2 = _rows(g, ai.size, rest)
            for k in range(ai.size):
                i = ai[k]
                for j in range(rest):
                    o2[i, j] += g2[k, j]
            return out

        return impl

    return _unindex_tuple_impl(g, nd, oty, elems, kinds)


def _unindex_tuple_impl(g, nd, oty, elems, kinds):
    """Generated implementation for a tuple index holding 1-D index arrays."""
    if kinds.count("ellipsis") > 1:
        raise errors.TypingError("nabla: unindex: an index can only have a single ellipsis")
    for t, k in zip(elems, kinds, strict=True):
        if k in ("iarr", "barr") and t.ndim != 1:
            raise errors.TypingError("nabla: unindex: arrays inside a tuple index must be 1-D")
    consumed = sum(k in ("int", "slice", "iarr", "barr") for k in kinds)
    if consumed > nd:
        raise errors.TypingError("nabla: unindex: too many indices for array")
    items = []  # (kind, source expression, x axis or None)
    axis = 0
    for j, k in enumerate(kinds):
        if k == "ellipsis":
            for _ in range(nd - consumed):
                items.append(("slice", ":", axis))
                axis += 1
        elif k == "none":
            items.append(("none", None, None))
        else:
            items.append((k, f"index[{j}]" if k in ("int", "slice") else f"a{j}", axis))
            axis += 1
            if k in ("iarr", "barr"):
                items[-1] = ("arr", f"a{j}", axis - 1, j, k)
    while axis < nd:
        items.append(("slice", ":", axis))
        axis += 1
    adv = [p for p, it in enumerate(items) if it[0] in ("int", "arr")]
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    gpos = sum(it[0] in ("slice", "none") for it in items[: adv[0]]) if adjacent else 0

    lines = ["def impl(g, x, index):", "    out = np.zeros(x.shape, oty)"]
    arrs = [it for it in items if it[0] == "arr"]
    for _, name, ax, j, k in arrs:
        src = f"index[{j}]" if k == "iarr" else f"np.nonzero(index[{j}])[0]"
        lines.append(f"    {name} = _norm_index({src}, x.shape[{ax}])")
    first = arrs[0][1]
    lines.append(f"    m = {first}.size")
    for it in arrs[1:]:
        lines.append(f"    if {it[1]}.size != m:")
        lines.append("        raise IndexError('shape mismatch: index arrays differ in length')")
    gcast = not isinstance(g, types.Array) or g.dtype != oty
    lines.append("    gg = g.astype(oty)" if isinstance(g, types.Array) and gcast else "    gg = g")
    osub = []
    gsub = []
    for it in items:
        if it[0] == "arr":
            osub.append(f"{it[1]}[k]")
        elif it[0] in ("int", "slice"):
            osub.append(it[1])
            if it[0] == "slice":
                gsub.append(":")
        else:  # None: a size-1 dimension of g
            gsub.append("0")
    gsub.insert(gpos, "k")
    gexpr = f"gg[{', '.join(gsub)}]" if isinstance(g, types.Array) else "oty(gg)"
    lines.append("    for k in range(m):")
    if any(it[0] == "slice" for it in items):  # out[...] is a view: add in place
        lines.append(f"        view = out[{', '.join(osub)}]")
        lines.append(f"        np.add(view, {gexpr}, view)")
    else:
        lines.append(f"        out[{', '.join(osub)}] += {gexpr}")
    lines.append("    return out")
    return _exec_impl("\n".join(lines) + "\n", oty=oty)


# ---------------------------------------------------------------------------
# Cumulative sums
# ---------------------------------------------------------------------------


def cumsum(x, axis=None):
    """``np.cumsum(x, axis=axis)`` (axis None flattens; otherwise a single int axis).

    >>> cumsum(np.array([[1.0, 2.0], [3.0, 4.0]]), -1)
    array([[1., 3.],
           [3., 7.]])
    """
    return np.cumsum(x, axis=axis)


def rcumsum(g, axis=None):
    """vjp of ``cumsum``: reverse cumulative sum along ``axis`` (None: of ``g`` flattened).

    >>> rcumsum(np.array([1.0, 2.0, 3.0]))
    array([6., 5., 3.])
    """
    g = np.asarray(g)
    if axis is None:
        g, axis = g.ravel(), 0
    return np.ascontiguousarray(np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis))


_CUMSUM_SRC = {
    "scalar": """
def impl({v}, axis=None):
    return np.full(1, outty({v}))
""",
    "flat": """
def impl({v}, axis=None):
    xf = {v}.ravel()
    return _k_cumsum(xf, np.empty(xf.size, outty), xf.size, _int(1), outty(0), reverse)
""",
    "axis": """
def impl({v}, axis=None):
    a = _norm_axis(axis, _int(nd))
    shape = _shape_of({v})
    s = _int(1)
    for d in range(a + 1, nd):
        s *= shape[d]
    xf = {v}.ravel()
    out = _k_cumsum(xf, np.empty(xf.size, outty), shape[a], s, outty(0), reverse)
    return out.reshape({v}.shape)
""",
}


def _cumsum_impl(x, axis, reverse, v):
    """Implementation of a (reverse) cumulative sum; ``v`` names the array parameter."""
    if not (_is_scalar(x) or isinstance(x, types.Array)):
        return None
    outty = _nb(np.cumsum(np.ones(1, _np_dtype(x))).dtype)
    if _is_scalar(x):
        if not _is_none(axis):
            raise errors.TypingError("nabla: cumulative sum of a scalar needs axis=None")
        form = "scalar"
    elif _is_none(axis):
        form = "flat"
    elif isinstance(axis, types.Integer):
        form = "axis"
    else:
        raise errors.TypingError("nabla: cumulative sums take axis=None or an int axis")
    nd = x.ndim if isinstance(x, types.Array) else 0
    return _exec_impl(
        _CUMSUM_SRC[form].format(v=v),
        outty=outty,
        nd=nd,
        reverse=np.bool_(reverse),
        _k_cumsum=_k_cumsum,
        _norm_axis=_norm_axis,
    )


overload(cumsum)(lambda x, axis=None: _cumsum_impl(x, axis, False, "x"))
overload(rcumsum)(lambda g, axis=None: _cumsum_impl(g, axis, True, "g"))


# ---------------------------------------------------------------------------
# vjps of reductions
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


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


# -- loops (control flow) ---------------------------------------------------------------
def range_len(start, stop, step):
    """Number of iterations of ``range(start, stop, step)``.

    >>> range_len(0, 10, 3)
    4
    """
    return len(range(start, stop, step))


def range_continues(k, stop, step):
    """Whether a counter ``k`` stepping by ``step`` has not reached ``stop``."""
    return k < stop if step > 0 else k > stop


def tape_push(tape, k, value):
    """``tape`` with ``value`` stored at ``k``, doubled first when full."""
    if k >= tape.shape[0]:
        bigger = np.empty((2 * tape.shape[0] + 1,) + tape.shape[1:], dtype=tape.dtype)
        bigger[: tape.shape[0]] = tape
        tape = bigger
    tape[k] = value
    return tape


@overload(range_len)
def _range_len_numba(start, stop, step):
    def impl(start, stop, step):
        if step > 0:
            n = (stop - start + step - 1) // step
        else:
            n = (start - stop - step - 1) // (-step)
        return max(n, 0)
    return impl


@overload(range_continues)
def _range_continues_numba(k, stop, step):
    return lambda k, stop, step: k < stop if step > 0 else k > stop


@overload(tape_push)
def _tape_push_numba(tape, k, value):
    def impl(tape, k, value):
        if k >= tape.shape[0]:
            bigger = np.empty((2 * tape.shape[0] + 1,) + tape.shape[1:], dtype=tape.dtype)
            bigger[: tape.shape[0]] = tape
            tape = bigger
        tape[k] = value
        return tape
    return impl


def index_add(acc, index, g):
    """Add ``g`` into ``acc[index]`` in place (repeated indices accumulate, as
    ``np.add.at``) and return ``acc``: the adjoint of reading ``x[index]``, when
    ``acc`` is ``x``'s cotangent.

    >>> index_add(np.zeros(3), np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))
    array([3., 0., 3.])
    """
    np.add.at(acc, index, g)
    return acc


# _INLINED: helpers that generated loops call to update an array they then reassign
# (``x_bar = index_add(x_bar, i, g)``) are inlined in Numba's IR, so the array's reference
# count is not touched at every call: 1.6x faster adjoint loops on the loop Rosenbrock.
# (Not tape_push and log_write: they rebind their argument, which Numba's IR inliner
# warns about; they run in while loops, rarer.)
@overload(index_add, inline="always")  # see _INLINED
def _ov_index_add(acc, index, g):
    _need_array(acc, "index_add")
    is_tuple = isinstance(index, types.BaseTuple)
    elems = list(index) if is_tuple else [index]
    kinds = [_index_kind(t) for t in elems]
    if not any(k in ("iarr", "barr") for k in kinds):
        if kinds.count("int") == acc.ndim and "none" not in kinds:  # one element
            if isinstance(g, types.Array):
                return lambda acc, index, g: _index_add_element(acc, index, g[()])
            return lambda acc, index, g: _index_add_element(acc, index, g)

        def impl(acc, index, g):
            view = acc[index]
            np.add(view, g, view)
            return acc
        return impl

    def impl_general(acc, index, g):
        acc += unindex(g, acc, index)
        return acc
    return impl_general


@njit(inline="always")
def _index_add_element(acc, index, g):
    acc[index] += g
    return acc


# True where generated code runs as Python; the Numba copy of a generated module sets it to
# False before compiling, and Numba, reading it as a constant, drops the branch it guards.
# Generated code gives names that some paths leave unset a value under it: Python cannot copy
# an unset name, Numba can (and would type a None as optional).
in_python = True


def index_zero(acc, index):
    """Set ``acc[index]`` to zero in place and return ``acc``: the adjoint of writing
    ``a[index] = v`` clears the cotangent of the value it overwrote.

    >>> index_zero(np.ones(3), 1)
    array([1., 0., 1.])
    """
    acc[index] = 0
    return acc


def snapshot(x):
    """A copy of ``x`` if it is an array, ``x`` itself if it is a scalar: a value read
    from an array that is written later must not change with it.

    >>> a = np.zeros((2, 2)); row = snapshot(a[0]); a[0] = 1.0; row
    array([0., 0.])
    """
    return x.copy() if isinstance(x, np.ndarray) else x


@overload(index_zero, inline="always")  # see _INLINED
def _ov_index_zero(acc, index):
    def impl(acc, index):
        acc[index] = 0
        return acc
    return impl


@overload(snapshot)
def _ov_snapshot(x):
    if isinstance(x, types.Array):
        return lambda x: x.copy()
    return lambda x: x


# -- a log of writes into an array, for loops that write inside inner loops or branches ------
# The log is a float64 array of (flat position, old value) rows; row 0 holds the number of
# entries. A loop records where each iteration's entries start, and its adjoint undoes an
# iteration's writes, newest first, before recomputing the iteration and after its adjoint.


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


def log_size(log):
    """The number of writes in ``log``."""
    return int(log[0, 0])


def undo_writes(a, log, start):
    """``a`` with the writes logged from entry ``start`` on undone, newest first."""
    for e in range(int(log[0, 0]), start, -1):
        a.flat[int(log[e, 0])] = log[e, 1]
    return a


def pop_writes(a, log, start):
    """``log`` without the entries from ``start`` on, whose writes into ``a`` are undone."""
    undo_writes(a, log, start)
    log[0, 0] = start
    return log


@overload(write_log)
def _ov_write_log(a):
    return lambda a: np.zeros((17, 2))


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


@overload(log_size)
def _ov_log_size(log):
    return lambda log: int(log[0, 0])


@overload(undo_writes)
def _ov_undo_writes(a, log, start):
    def impl(a, log, start):
        for e in range(int(log[0, 0]), start, -1):
            a.flat[int(log[e, 0])] = log[e, 1]
        return a
    return impl


@overload(pop_writes)
def _ov_pop_writes(a, log, start):
    def impl(a, log, start):
        undo_writes(a, log, start)
        log[0, 0] = start
        return log
    return impl


# -- Jacobians, a column (jacfwd) or a row (jacrev) at a time ----------------------------------
# A Jacobian of ``out`` with respect to ``x`` has shape ``out.shape + x.shape`` (a scalar when
# both are scalars); column j is the tangent of ``out`` along ``basis(x, j)``, row i the
# cotangent of ``x`` from ``basis(out, i)``.


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


@overload(basis_count, inline="always")
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


# the helpers of batched (vmap) code live in their own module
from .runtime_batch import *  # noqa: E402,F401,F403
from .runtime_batch import __all__ as _batch_all  # noqa: E402

__all__ = __all__ + _batch_all

# grad's check that its output is a scalar float, which generated code imports from here
from .checks import seed  # noqa: E402,F401

__all__ = sorted([*__all__, "seed"])
