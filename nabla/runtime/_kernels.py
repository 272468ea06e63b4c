"""Compiled kernels of the reductions, cumulative sums and their vjps under Numba.

NumPy's ``axis=`` forms are missing from Numba, so a reduction over some axes is done
on the flattened input: ``_group_ids`` gives every element (in C order) the position
of the output it goes to, and a kernel combines each group.  Every reduction kernel
takes ``(xf, gid, acc, out, nred, ddof, kind)`` so that one source template calls them
all (``reductions._REDUCE_SRC``); sums accumulate in ``acc`` (float64 for float32
input) and are rounded into ``out``.

>>> gid, ngroups, nreduced = _group_ids(np.array([2, 3]), np.array([False, True]))
>>> gid, ngroups, nreduced
(array([0, 0, 0, 1, 1, 1]), 2, 3)
>>> _k_sum(np.arange(6.0), gid, np.zeros(2), np.empty(2), nreduced, 0, 0)
array([ 3., 12.])
"""

import numpy as np
from numba import njit


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
def _k_prod_vjp_jvp(xf, df, gid, gf, ng, out):
    """``_k_prod_vjp``'s tangent along ``df``: each element's products of the others
    carried with their tangents, prefixes then suffixes."""
    single = gid.size == 0
    acc = np.ones(ng, out.dtype)
    acc_dot = np.zeros(ng, out.dtype)
    pre_dot = np.empty(xf.size, out.dtype)
    for f in range(xf.size):
        i = 0 if single else gid[f]
        out[f] = acc[i]
        pre_dot[f] = acc_dot[i]
        acc_dot[i] = acc_dot[i] * xf[f] + acc[i] * df[f]
        acc[i] *= xf[f]
    acc[:] = 1
    acc_dot[:] = 0
    for f in range(xf.size - 1, -1, -1):
        i = 0 if single else gid[f]
        out[f] = (pre_dot[f] * acc[i] + out[f] * acc_dot[i]) * gf[i]
        acc_dot[i] = acc_dot[i] * xf[f] + acc[i] * df[f]
        acc[i] *= xf[f]
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
