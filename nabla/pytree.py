"""Pytrees: nested tuples, lists, dicts, namedtuples and dataclass instances of arrays and
scalars, as in JAX (a dataclass's fields are its children, in declaration order, as
``jax.tree_util.register_dataclass`` makes them).

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

import dataclasses
import importlib

from .errors import TransformInputError

LEAF = ("leaf",)


def is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def is_namedtuple_class(obj) -> bool:
    """Whether ``obj`` is a class ``collections.namedtuple`` or ``typing.NamedTuple`` made
    (its ``__new__`` the one they write), not a subclass that makes its own."""
    return (isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields")
            and getattr(obj.__new__, "__module__", "") == f"namedtuple_{obj.__name__}")


def importable_class(cls):
    """The class its module and qualified name find (how a result's namedtuple is made
    again), or None."""
    return _find_class(cls.__module__, cls.__qualname__)


def is_dataclass_instance(obj) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def is_container(obj) -> bool:
    """Whether ``obj`` is taken apart into leaves: a tuple, list, dict or dataclass."""
    return isinstance(obj, (tuple, list, dict)) or is_dataclass_instance(obj)


def _init_fields(cls) -> tuple:
    """A dataclass's fields its constructor takes, in declaration order: its children."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def field_names(tree):
    """The names of a namedtuple's or a dataclass's children (None for other kinds)."""
    if tree[0] == "namedtuple":
        return tree[1]._fields
    if tree[0] == "dataclass":
        return _init_fields(tree[1])
    return None


def flatten(obj):
    """(leaves, treedef) of ``obj``."""
    leaves: list = []
    return leaves, _flatten(obj, leaves)


def _flatten(obj, leaves):
    if is_namedtuple(obj):
        return ("namedtuple", type(obj), tuple(_flatten(v, leaves) for v in obj))
    if is_dataclass_instance(obj):
        return ("dataclass", type(obj), tuple(_flatten(getattr(obj, n), leaves)
                                             for n in _init_fields(type(obj))))
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
    if kind == "dataclass":
        return tree[1](**dict(zip(field_names(tree), [_unflatten(t, it) for t in tree[2]])))
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
    children = tree[2] if kind in ("namedtuple", "dataclass", "dict") else tree[1]
    return sum(num_leaves(t) for t in children)


def children(tree):
    """[(key, subtree)] of a container treedef: int positions, or dict keys."""
    kind = tree[0]
    if kind == "dict":
        return list(zip(tree[1], tree[2]))
    subtrees = tree[2] if kind in ("namedtuple", "dataclass") else tree[1]
    return list(enumerate(subtrees))


def describe(tree) -> str:
    """A short, stable text for cache keys and messages."""
    kind = tree[0]
    if kind == "leaf":
        return "*"
    if kind in ("namedtuple", "dataclass"):
        inner = ", ".join(describe(t) for t in tree[2])
        return f"{tree[1].__module__}.{tree[1].__qualname__}({inner})"
    if kind == "tuple":
        return "(" + "".join(describe(t) + ", " for t in tree[1]) + ")"
    if kind == "list":
        return "[" + ", ".join(describe(t) for t in tree[1]) + "]"
    return "{" + ", ".join(f"{k!r}: {describe(t)}" for k, t in zip(tree[1], tree[2])) + "}"


# -- results: what generated code returns as nested tuples, in the structure the user's
# function returned ---------------------------------------------------------------------
def restructure(tree, value):
    """A result generated code returns as nested tuples, in the structure ``tree`` (the
    JSON form of ``Canonical.result_tree``): dicts, lists and namedtuples again."""
    if tree is None or tree[0] == "leaf":
        return value
    return _build(tree, [restructure(t, v) for t, v in zip(tree[2], value)])


def _build(tree, items: list):
    """One container of the JSON form's kind around ``items``, its children."""
    kind, extra, _ = tree
    if kind == "dict":
        return dict(zip(extra[0], items))
    if kind == "grads":  # a flat version's derivatives: the arguments' containers again
        it = iter(items)
        parts = [_unflatten_json(t, it) for t in extra[1]]
        return tuple(parts) if extra[0] else parts[0]
    if kind == "list":
        return items
    if kind in ("namedtuple", "dataclass"):
        cls = json_class(tree)
        try:
            if kind == "dataclass":
                return cls(**dict(zip(_init_fields(cls), items)))
            return cls(*items)
        except TypeError:  # the class is gone, or no longer takes these fields
            return tuple(items)
    return tuple(items)


def json_class(tree):
    """The namedtuple or dataclass class of a node of the JSON form (None if its module
    and qualified name no longer find it)."""
    return _find_class(*tree[1])


def _find_class(module: str, qualname: str):
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


def map_result(tree, value, fn):
    """``fn`` applied at each leaf of ``value``, a result ``restructure`` returned for
    ``tree``, the structure kept (a Jacobian's blocks put in the arguments' shapes):

    >>> map_result(["dict", [["a", "b"]], [["leaf"], ["leaf"]]], {"a": 1, "b": 2}, str)
    {'a': '1', 'b': '2'}
    """
    if tree is None or tree[0] == "leaf":
        return fn(value)
    items = _children(tree, value, "a result")
    return _build(tree, [map_result(t, v, fn) for t, v in zip(tree[2], items)])


def _children(tree, value, what: str) -> list:
    """The values of the children of ``value``, a container of the JSON form's node
    ``tree``, in the tree's order; ``value`` of another structure is refused (``what``
    names it in the message)."""
    kind, extra, children = tree
    if kind == "dict":
        if not isinstance(value, dict) or sorted(value) != list(extra[0]):
            raise TransformInputError(f"{what} must have the structure it stands for (a dict "
                                      f"with keys {list(extra[0])})")
        return [value[k] for k in extra[0]]
    if kind == "grads":
        parts = value if extra[0] else (value,)
        if not isinstance(parts, (tuple, list)) or len(parts) != len(extra[1]):
            raise TransformInputError(f"{what} must have {len(extra[1])} values, one per "
                                      "argument differentiated")
        out: list = []
        for t, v in zip(extra[1], parts):
            _collect(t, v, out, what)
        return out
    if is_dataclass_instance(value):
        items = [getattr(value, n) for n in _init_fields(type(value))]
    elif isinstance(value, (tuple, list)):
        items = list(value)
    else:
        items = None
    if items is None or len(items) != len(children):
        raise TransformInputError(f"{what} must have the structure it stands for (a {kind} "
                                  f"of {len(children)})")
    return items


def returned_tree(meta, block):
    """The JSON form of the structure a generated entry function returns, which a
    transform over it reads as its function's result (``meta``: the entry's): the user's
    function's containers, and ``block`` (the structure of one derivative: a leaf, a
    tuple for tuple ``argnums``, the arguments' containers) at each output leaf of a
    derivative.

    >>> from nabla.transforms.generated import Meta
    >>> aux = ["dict", [["v"]], [["leaf"]]]
    >>> returned_tree(Meta("grad", wrt=["x"], has_aux=True,
    ...                    result_tree=["tuple", [], [["leaf"], aux]]), ["leaf"])
    ['tuple', [], [['leaf'], ['dict', [['v']], [['leaf']]]]]
    """
    tree = meta.result_tree
    if meta.mode in ("jit", "vmap"):
        return tree
    out, aux = (tree[2][0], tree[2][1]) if meta.has_aux else (tree or LEAF_JSON, None)
    if meta.mode == "grad":
        main = block
    elif meta.mode == "value_and_grad":
        return _simplest(["tuple", [], [tree or LEAF_JSON, block]])
    elif meta.mode in ("jacfwd", "jacrev"):
        main = _with_blocks(out, block)
    else:
        return None
    return _simplest(["tuple", [], [main, aux]] if meta.has_aux else main)


def _simplest(tree):
    return None if tree == LEAF_JSON else tree


LEAF_JSON = ["leaf"]


def json_tree(tree) -> list:
    """A treedef (``flatten``'s) in the JSON form of ``Canonical.result_tree``.

    >>> json_tree(flatten({"b": 1.0, "a": (2.0,)})[1])
    ['dict', [['a', 'b']], [['tuple', [], [['leaf']]], ['leaf']]]
    """
    kind = tree[0]
    if kind == "leaf":
        return LEAF_JSON
    if kind == "dict":
        return ["dict", [list(tree[1])], [json_tree(t) for t in tree[2]]]
    if kind in ("namedtuple", "dataclass"):
        return [kind, [tree[1].__module__, tree[1].__qualname__],
                [json_tree(t) for t in tree[2]]]
    return [kind, [], [json_tree(t) for t in tree[1]]]


def grads_tree(trees, argnums_tuple: bool) -> list:
    """The JSON node of a flat version's derivatives: one leaf per argument leaf where
    generated code returns them, the arguments' containers (``trees``) where the user
    sees them (one, or a tuple for tuple ``argnums``)."""
    leaves = [LEAF_JSON] * sum(num_leaves(t) for t in trees)
    return ["grads", [argnums_tuple, [json_tree(t) for t in trees]], leaves]


def _unflatten_json(tree, it):
    """``unflatten`` for the JSON form: the structure ``tree`` around leaves from ``it``."""
    if tree[0] == "leaf":
        return next(it)
    return _build(tree, [_unflatten_json(t, it) for t in tree[2]])


def _collect(tree, value, out, what: str) -> None:
    """The leaves of ``value`` (of the JSON form's structure ``tree``) appended to ``out``,
    not looking inside a leaf."""
    if tree[0] == "leaf":
        out.append(value)
        return
    for t, v in zip(tree[2], _children(tree, value, what)):
        _collect(t, v, out, what)


def _with_blocks(tree, block):
    if tree[0] == "leaf":
        return block
    return [tree[0], tree[1], [_with_blocks(t, block) for t in tree[2]]]


def returned_as_tree(value, tree) -> bool:
    """Whether ``value`` already is what ``restructure(tree, value)`` returns: ``tree``
    holds only tuples, and ``value`` is made of tuples in its shape (a compiled function's
    return type is fixed, so one value shows it for every call of its signature)."""
    if tree is None or tree[0] == "leaf":
        return True
    kind, _, children = tree
    return kind == "tuple" and type(value) is tuple and len(value) == len(children) and \
        all(returned_as_tree(v, t) for v, t in zip(value, children))


def destructure(tree, value):
    """A cotangent in the result's structure as the nested tuples generated code takes."""
    if tree is None or tree[0] == "leaf":
        return value
    return tuple(destructure(t, v) for t, v in zip(tree[2], _children(
        tree, value, "the cotangent")))


def aux_tree(tree):
    return tree[2][1] if tree is not None and tree[0] == "tuple" else None


def out_tree(tree):
    return tree[2][0] if tree is not None and tree[0] == "tuple" else None


def nest_values(paths, values: list):
    """Nested tuples with ``values`` at ``paths`` (the output's structure again)."""
    paths = [tuple(p) for p in paths]
    if paths == [()]:
        return values[0]

    def build(prefix):
        kids = sorted({p[len(prefix)] for p in paths if p[:len(prefix)] == prefix
                       and len(p) > len(prefix)})
        return tuple(values[paths.index(prefix + (k,))] if prefix + (k,) in paths
                     else build(prefix + (k,)) for k in kids)
    return build(())
