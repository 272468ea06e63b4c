"""Indexing: the vjp of reading ``x[index]``, and the updates of a cotangent in place.

``unindex`` is the vjp of ``x[index]`` as a fresh array; ``index_add`` adds a
cotangent into ``acc[index]`` and ``index_zero`` clears it, in place (the adjoints of a
read and of a write inside loops, where the cotangent array is updated rather than
rebuilt); ``snapshot`` copies a value read from an array that is written later.
Repeated integer indices accumulate, as with ``np.add.at``.

>>> unindex(np.array([1.0, 2.0]), np.zeros(3), np.array([2, 2]))
array([0., 0., 3.])
>>> acc = index_add(np.zeros(3), 0, 5.0); acc
array([5., 0., 0.])
>>> index_zero(acc, 0), snapshot(2.0)
(array([0., 0., 0.]), 2.0)
"""

import numpy as np
from numba import njit, types
from numba.core import errors
from numba.extending import overload

from ._compiled import _exec_impl, _norm_index, _rows, _shape_of
from ._types import _dtype_of, _inexact, _nb, _need_array, _np_dtype

__all__ = ["unindex", "index_add", "index_zero", "snapshot", "alone"]


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


def index_zero(acc, index):
    """Set ``acc[index]`` to zero in place and return ``acc``: the adjoint of writing
    ``a[index] = v`` clears the cotangent of the value it overwrote. An index that names
    one element twice raises ValueError: of the values the write stored there only the
    last is kept, and reverse mode cannot tell which (its cotangent would go to each).

    >>> index_zero(np.ones(3), 1)
    array([1., 0., 1.])
    """
    if _holds_array(index):
        ids = np.arange(np.size(acc)).reshape(np.shape(acc))[index]
        if np.unique(ids).size != np.size(ids):
            raise ValueError(_REPEATS)
    acc[index] = 0
    return acc


_REPEATS = ("reverse mode through a write into an array at repeated indices: only the last "
            "value written there is kept, and which one that is has no derivative nabla can "
            "tell; write each index once")


def _holds_array(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


@njit
def _refuse_repeats(ids):
    """Raise where the element numbers ``ids`` (which elements an index names) repeat."""
    flat = np.sort(ids.ravel())
    for k in range(1, flat.size):
        if flat[k] == flat[k - 1]:
            raise ValueError(_REPEATS)


@overload(index_zero, inline="always")  # see _INLINED
def _ov_index_zero(acc, index):
    elems = list(index) if isinstance(index, types.BaseTuple) else [index]
    if not any(isinstance(t, types.Array) for t in elems):
        def impl(acc, index):
            acc[index] = 0
            return acc
        return impl

    def impl_checked(acc, index):
        _refuse_repeats(np.arange(acc.size).reshape(acc.shape)[index])
        acc[index] = 0
        return acc
    return impl_checked


def snapshot(x):
    """A copy of ``x`` if it is an array, ``x`` itself if it is a scalar: a value read
    from an array that is written later must not change with it.

    >>> a = np.zeros((2, 2)); row = snapshot(a[0]); a[0] = 1.0; row
    array([0., 0.])
    """
    return x.copy() if isinstance(x, np.ndarray) else x


@overload(snapshot)
def _ov_snapshot(x):
    if isinstance(x, types.Array):
        return lambda x: x.copy()
    return lambda x: x


ALONE_MESSAGE = ("nabla: an augmented assignment (x += ...) would change in place an array that "
                 "another variable, read later, also holds (a view or an alias of it, or the "
                 "caller's array passed to a function of yours); nabla "
                 "computes it as a new array, so that variable would keep its old values where "
                 "NumPy changes them. Update that variable itself, or make x a copy first "
                 "(x = x.copy())")


def alone(x, other):
    """``x``, checked to share no memory with ``other`` where both are arrays: the value of
    ``x += v`` in generated code is a new array (``x + v``), right only where no other
    variable still read holds ``x``'s array (normalize's augmented assignments). Raises
    ValueError where one may.

    >>> a = np.zeros(3)
    >>> alone(a, np.zeros(3)) is a, alone(a, a[0]) is a
    (True, True)
    >>> alone(a[1:], a)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: nabla: an augmented assignment (x += ...) would change in place an array ...
    """
    if isinstance(x, np.ndarray) and x.ndim > 0 and isinstance(other, np.ndarray) and \
            np.may_share_memory(x, other):
        raise ValueError(ALONE_MESSAGE)
    return x


@overload(alone)
def _ov_alone(x, other):
    if isinstance(x, types.Array) and x.ndim > 0 and isinstance(other, types.Array):
        def impl(x, other):
            if x.size and other.size and _overlap(x, other):
                raise ValueError(ALONE_MESSAGE)
            return x
        return impl
    return lambda x, other: x


@njit(inline="always")
def _span(a):
    """The first and one-past-last byte addresses ``a``'s elements occupy."""
    lo = a.ctypes.data
    hi = lo
    for k in range(a.ndim):
        step = (a.shape[k] - 1) * a.strides[k]
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + a.itemsize


@njit(inline="always")
def _overlap(a, b):
    alo, ahi = _span(a)
    blo, bhi = _span(b)
    return alo < bhi and blo < ahi
