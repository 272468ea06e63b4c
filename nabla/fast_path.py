"""The per-call fast path: a cheap signature of plain arguments ((dtype, ndim) per exact
ndarray, the type of anything else) mapped to a closure that reads the free values,
calls the compiled function and casts its result only where it differs from what a
slow call returns.

>>> import numpy as np
>>> fast_key((np.zeros((2, 3)), 1.0))
((dtype('float64'), 2), <class 'float'>)
"""

from __future__ import annotations

import functools

import numpy as np

from . import arguments, pytree, running

_ndarray = np.ndarray
# scalars whose type says all a call's dispatch needs (the fast path's key is their type)
_PLAIN_SCALARS = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32,
                            np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8,
                            np.bool_})


def enter(f, variant: running.Variant, readers, args, result) -> None:
    """After a compiled call of plain arrays and scalars, a closure for later calls
    with arguments of the same signature: the compiled function, the free values read
    (at every call, as the slow path does), the result cast as ``_finish`` would."""
    if not all(type(a) is _ndarray or type(a) in _PLAIN_SCALARS for a in args):
        return
    name = variant.meta.entry
    compiled = (variant._numba or {}).get(name)
    if compiled is None:
        return
    cast = post(f, variant.meta, args, result)

    if readers:
        def fast(args):
            f._last = variant
            frees = [r() for r in readers]
            try:
                result = compiled(*args, *frees)
            except Exception as e:  # noqa: BLE001 - handled as the slow path does
                result = running.call_failed(f, variant, name, args, frees, e, True)
            return result if cast is None else cast(result, args)
    else:  # no free values to read
        def fast(args):
            f._last = variant
            try:
                result = compiled(*args)
            except Exception as e:  # noqa: BLE001 - handled as the slow path does
                result = running.call_failed(f, variant, name, args, (), e, True)
            return result if cast is None else cast(result, args)

    holds = holds_all(f)
    if holds is not None:  # the user's functions it calls: checked at every call
        unchecked = fast

        def fast(args):
            if holds():
                return unchecked(args)
            return f._call_slow(args)

    f._fast_key = fast_key_of(len(args))
    f._fast[f._fast_key(args)] = fast


def holds_all(f):
    """One check of this transform's bindings and its inner ones' (None: none)."""
    checks = []
    f = f
    while f is not None:
        if f._holds is not None:
            checks.append(f._holds)
        f = f.inner
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda: all(c() for c in checks)


def post(f, meta, args, result):
    """``_finish`` for calls with arguments like ``args`` (``result``: what the compiled
    code returned for them), or None where it returns the result as is."""
    tree = meta.result_tree
    if f.mode == "grad" and not f.has_aux:
        idx = f._argnum_tuple(len(args))
        if isinstance(f.argnums, tuple):
            if type(result) is tuple and len(result) == len(idx) and all(
                    type(args[i]) is _ndarray and type(g) is _ndarray and
                    g.dtype == args[i].dtype for g, i in zip(result, idx)):
                # the usual case: every derivative already as its argument is
                return derivatives_as_returned(idx, tuple(g.dtype for g in result))
            return lambda g, args: tuple([arguments.like(gi, args[i]) for gi, i in zip(g, idx)])
        i = idx[0]
        if type(args[i]) is _ndarray and type(result) is _ndarray and \
                result.dtype == args[i].dtype:
            returned = result.dtype  # the compiled code's dtype object

            def cast_array(g, args):
                x = args[i]
                if type(g) is _ndarray and g.shape == x.shape and g.dtype is returned:
                    return g
                return arguments.like(g, x)
            return cast_array
        if type(args[i]) is float:
            return lambda g, args: g if type(g) is float else arguments.like(g, args[i])
        return lambda g, args: arguments.like(g, args[i])
    if f.mode not in ("grad", "value_and_grad") and not meta.float32 and \
            pytree.returned_as_tree(result, tree):
        return None  # nested tuples already, as _finish would return them
    return lambda result, args: f._finish(meta, result, args)


def fast_key(args) -> tuple:
    """The fast path's key: (dtype, ndim) of an exact ndarray, the type of anything else.

    >>> fast_key((np.zeros((2, 3)), 1.0))
    ((dtype('float64'), 2), <class 'float'>)
    """
    return tuple([(a.dtype, a.ndim) if type(a) is _ndarray else type(a) for a in args])


@functools.cache
def fast_key_of(nparams: int):
    """``fast_key`` unrolled for ``nparams`` arguments (a third faster than the loop for
    six arrays); another number of arguments raises ValueError.

    >>> fast_key_of(2)((np.zeros((2, 3)), 1.0)) == fast_key((np.zeros((2, 3)), 1.0))
    True
    """
    if nparams == 0:
        return fast_key
    names = [f"a{k}" for k in range(nparams)]
    items = "".join(f"(({a}.dtype, {a}.ndim) if type({a}) is ndarray else type({a})), "
                    for a in names)
    namespace = {"ndarray": _ndarray}
    exec(f"def key(args):\n    {', '.join(names)}, = args\n    return ({items})", namespace)
    return namespace["key"]


@functools.cache
def derivatives_as_returned(idx: tuple, dtypes: tuple):
    """cast(g, args): the tuple of derivatives ``g`` (one per argument ``args[i]``, ``i`` in
    ``idx``) as ``tuple(arguments.like(gi, args[i]) ...)`` gives it, returning ``g`` itself, checked
    unrolled, where each is an array of its argument's shape and of the dtype object
    ``dtypes[k]`` (the one the compiled code returned at the first call: an identity test;
    any other is cast by ``arguments.like``)."""
    names = [f"g{k}" for k in range(len(idx))]
    test = " and ".join(f"type({g}) is ndarray and {g}.shape == args[{i}].shape and "
                        f"{g}.dtype is d{k}" for k, (g, i) in enumerate(zip(names, idx)))
    namespace = {"ndarray": _ndarray, "arguments.like": arguments.like, "idx": idx,
                 **{f"d{k}": d for k, d in enumerate(dtypes)}}
    exec(f"def cast(g, args):\n    try:\n        {', '.join(names)}, = g\n"
         f"        if type(g) is tuple and {test}:\n            return g\n"
         "    except (TypeError, ValueError):\n        pass\n"
         "    return tuple([arguments.like(gi, args[i]) for gi, i in zip(g, idx)])", namespace)
    return namespace["cast"]


def holds_check(bindings):
    """A function telling, in one expression unrolled over ``bindings``, whether each
    name still means the object it meant (a dict look-up and an identity test each)."""
    terms, namespace = [], {"MISSING": object()}
    for k, b in enumerate(bindings):
        namespace[f"w{k}"], namespace[f"o{k}"] = b.where, b.obj
        if isinstance(b.where, dict):
            terms.append(f"w{k}.get({b.name!r}, MISSING) is o{k}")
        else:  # a closure cell (emptied: ValueError, caught below)
            terms.append(f"w{k}.cell_contents is o{k}")
    body = " and ".join(terms) or "True"
    exec("def holds():\n    try:\n        return " + body + "\n    except ValueError:\n"
         "        return False", namespace)
    return namespace["holds"]
