"""Pytrees: container arguments and structured results.

A container argument (tuples, lists, dicts and namedtuples of arrays; see
``nabla.pytree``) is one parameter per leaf, and the container a tuple of those
leaves, read statically (``p[0]``, ``d["w"]``, ``nt.field``). A result holding
dicts, lists or namedtuples is returned as nested tuples, and its structure kept in
``Canonical.result_tree``:

>>> from nabla import pytree
>>> from nabla.transforms.normalize import normalize
>>> def f(params, x):
...     return {"y": params["w"] * x + params["b"]}
>>> tree = pytree.flatten({"w": 1.0, "b": 0.0})[1]
>>> canon = normalize(f, trees=(tree, pytree.LEAF))
>>> print(canon.to_source())
def f(params_b, params_w, x):
    params = (params_b, params_w)
    t1 = params_w * x
    t2 = t1 + params_b
    t3 = (t2,)
    return (t2,)
>>> canon.result_tree
['dict', [['y']], [['leaf']]]
"""

from __future__ import annotations

from ... import pytree, syntax


class Trees:
    """Normalizer's pytrees (a mixin): ``tree_leaves`` and ``tree_value`` for container
    parameters, ``result`` and ``tree_of`` for the function's result."""

    def tree_leaves(self, base: str, tree) -> list[str]:
        """Parameter names for the leaves of an argument of structure ``tree``."""
        if tree[0] == "leaf":
            name = self.namer.fresh(base)
            self.namer.take(name)
            return [name]
        out = []
        fields = pytree.field_names(tree)
        for key, sub in pytree.children(tree):
            key = fields[key] if fields else key
            part = str(key) if str(key).isidentifier() or isinstance(key, int) else "k"
            out.extend(self.tree_leaves(f"{base}_{part}", sub))
        self.leaf_names[base] = out
        return out

    def tree_value(self, name: str, tree, leaves=None) -> list:
        """Define ``name`` as the container ``tree`` over its leaf parameters (a tuple of the
        elements, read statically: t[0], d["key"], nt.field)."""
        leaves = list(self.leaf_names[name]) if leaves is None else leaves
        elements = []
        for key, sub in pytree.children(tree):
            if sub[0] == "leaf":
                elements.append(syntax.load(leaves.pop(0)))
            else:
                inner = self.namer.fresh(f"{name}_{key}" if str(key).isidentifier()
                                         or isinstance(key, int) else f"{name}_k")
                n = pytree.num_leaves(sub)
                self.tree_value(inner, sub, leaves[:n])
                del leaves[:n]
                elements.append(syntax.load(inner))
        self.emit(name, syntax.tuple_(elements))
        self.tuples[name] = elements
        self.argument_tuples.add(name)
        if tree[0] == "dict":
            self.dicts[name] = dict(zip(tree[1], elements))
            self.kinds[name] = ("dict", list(tree[1]))
        elif tree[0] in ("namedtuple", "dataclass"):  # fields read by name: p.w
            self.dicts[name] = dict(zip(pytree.field_names(tree), elements))
            self.kinds[name] = (tree[0], tree[1].__module__, tree[1].__qualname__)
        elif tree[0] == "list":
            self.kinds[name] = ("list",)
        return elements

    # -- structured results --------------------------------------------------
    def result(self, value):
        """The function's returned value as an atom (a tuple's elements spelled out); its
        structure recorded."""
        atom = self.atom(value)
        tree = self.tree_of(atom)
        self.result_tree = None if tree == ["leaf"] else tree
        return self.spelled_out(atom)

    def spelled_out(self, atom):
        """A tuple's name as the Tuple of its elements; any other atom as it is."""
        if isinstance(atom, syntax.Name) and atom.id in self.tuples:
            return syntax.tuple_(self.tuples[atom.id])
        return atom

    def tree_of(self, atom) -> list:
        """The structure of a value, in the JSON form of ``Canonical.result_tree``."""
        if not isinstance(atom, syntax.Name) or atom.id not in self.tuples:
            return ["leaf"]
        children = [self.tree_of(e) for e in self.tuples[atom.id]]
        kind = self.kinds.get(atom.id, ("tuple",))
        return [kind[0], list(kind[1:]), children]
