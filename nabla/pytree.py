"""Pytrees: nested tuples, lists, dicts and namedtuples of arrays and scalars, as in JAX.

Generated code sees the leaves, one parameter each; the structure (a *treedef*,
hashable, part of the dispatch and cache keys) is how the caller's containers
are taken apart and how derivatives are put back together in their shape:

>>> leaves, tree = flatten((1.0, {"b": 2.0, "a": [3.0]}))
>>> leaves
[1.0, 3.0, 2.0]
>>> unflatten(tree, [10.0, 30.0, 20.0])
(10.0, {'a': [30.0], 'b': 20.0})

Dicts are ordered by key, as JAX orders them.
"""

from __future__ import annotations

LEAF = ("leaf",)


def is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def flatten(obj):
    """(leaves, treedef) of ``obj``."""
    leaves: list = []
    return leaves, _flatten(obj, leaves)


def _flatten(obj, leaves):
    if is_namedtuple(obj):
        return ("namedtuple", type(obj), tuple(_flatten(v, leaves) for v in obj))
    if isinstance(obj, tuple):
        return ("tuple", tuple(_flatten(v, leaves) for v in obj))
    if isinstance(obj, list):
        return ("list", tuple(_flatten(v, leaves) for v in obj))
    if isinstance(obj, dict):
        keys = tuple(sorted(obj))
        return ("dict", keys, tuple(_flatten(obj[k], leaves) for k in keys))
    leaves.append(obj)
    return LEAF


def unflatten(tree, leaves):
    """The structure ``tree`` with ``leaves`` (an iterable) in its leaves."""
    it = iter(leaves)
    out = _unflatten(tree, it)
    return out


def _unflatten(tree, it):
    kind = tree[0]
    if kind == "leaf":
        return next(it)
    if kind == "namedtuple":
        return tree[1](*[_unflatten(t, it) for t in tree[2]])
    if kind == "tuple":
        return tuple(_unflatten(t, it) for t in tree[1])
    if kind == "list":
        return [_unflatten(t, it) for t in tree[1]]
    if kind == "dict":
        return {k: _unflatten(t, it) for k, t in zip(tree[1], tree[2])}
    raise ValueError(f"not a treedef: {tree!r}")


def num_leaves(tree) -> int:
    kind = tree[0]
    if kind == "leaf":
        return 1
    children = tree[2] if kind in ("namedtuple", "dict") else tree[1]
    return sum(num_leaves(t) for t in children)


def children(tree):
    """[(key, subtree)] of a container treedef: int positions, or dict keys."""
    kind = tree[0]
    if kind == "dict":
        return list(zip(tree[1], tree[2]))
    subtrees = tree[2] if kind == "namedtuple" else tree[1]
    return list(enumerate(subtrees))


def describe(tree) -> str:
    """A short, stable text for cache keys and messages."""
    kind = tree[0]
    if kind == "leaf":
        return "*"
    if kind == "namedtuple":
        inner = ", ".join(describe(t) for t in tree[2])
        return f"{tree[1].__module__}.{tree[1].__qualname__}({inner})"
    if kind == "tuple":
        return "(" + "".join(describe(t) + ", " for t in tree[1]) + ")"
    if kind == "list":
        return "[" + ", ".join(describe(t) for t in tree[1]) + "]"
    return "{" + ", ".join(f"{k!r}: {describe(t)}" for k, t in zip(tree[1], tree[2])) + "}"
