"""Ranks of the values of one example, for reverse mode (which drops the unbroadcasts
of proven scalars) and vmap's vector form (which lines batched operands up): the number
of dimensions of every canonical name, from those of the parameters.

>>> from nabla.transforms.normalize import normalize
>>> import numpy as np
>>> def f(x, n):
...     s = np.sum(x * x)
...     return s * n
>>> ranks = example_ranks(normalize(f), {"x": 1, "n": 0})
>>> ranks["s"], ranks["t1"]
(0, 1)
"""

from __future__ import annotations

from .. import rules, syntax


def user_callee(canon, value):
    """The user's function (a Callee) the operation ``value`` calls, or None."""
    if isinstance(value, syntax.Call) and isinstance(value.func, syntax.Name):
        return canon.callees.get(value.func.id)
    return None


def tuple_length(canon, atom) -> int | None:
    """The length of the tuple ``atom`` names (a function's returned tuple, or one the code
    builds); None when it is not a tuple."""
    if not isinstance(atom, syntax.Name):
        return None
    if atom.id in canon.call_tuples:
        return canon.call_tuples[atom.id]
    for st in syntax.walk_statements(canon.body):
        if isinstance(st, syntax.Assign) and isinstance(st.targets[0], syntax.Name) \
                and st.targets[0].id == atom.id and isinstance(st.value, syntax.Tuple):
            return len(st.value.elts)
    return None


def tuple_element(canon, atom, i):
    """Element ``i`` of the tuple ``atom`` (a Tuple node, or a name bound to one), or None."""
    if isinstance(atom, syntax.Tuple):
        return atom.elts[i]
    if isinstance(atom, syntax.Name):
        for st in syntax.walk_statements(canon.body):
            if isinstance(st, syntax.Assign) and isinstance(st.targets[0], syntax.Name) \
                    and st.targets[0].id == atom.id and isinstance(st.value, syntax.Tuple):
                return st.value.elts[i]
    return None


def spelling(node) -> str:
    """How the call ``node`` is spelled for array arguments (``math.sin`` is ``np.sin``)."""
    return rules.array_spelling(syntax.to_source(node.func))


def rank(node, ranks: dict, canon):
    """The number of dimensions ``node`` has in one example, or None where unknown. A call
    follows its rule's ``rank`` (see rules.registry.RANKS)."""
    def join(values):
        values = list(values)
        return None if any(v is None for v in values) else max(values, default=0)
    if isinstance(node, syntax.Name):
        return ranks.get(node.id)
    if isinstance(node, syntax.Constant):
        return 0 if isinstance(node.value, (int, float, bool)) else None
    if isinstance(node, (syntax.BinOp,)):
        if isinstance(node.op, syntax.MatMult):
            return _product_rank(rank(node.left, ranks, canon), rank(node.right, ranks, canon))
        return join([rank(node.left, ranks, canon), rank(node.right, ranks, canon)])
    if isinstance(node, syntax.Compare):
        return join([rank(node.left, ranks, canon)] +
                    [rank(c, ranks, canon) for c in node.comparators])
    if isinstance(node, syntax.UnaryOp):
        return rank(node.operand, ranks, canon)
    if isinstance(node, syntax.Call):
        spelled = spelling(node)
        args = node.args
        if node.keywords:
            return None
        how = rules.fact(spelled, "rank")
        if how == "elementwise":
            return join(rank(a, ranks, canon) for a in args)
        if how == "first" and args:
            return rank(args[0], ranks, canon)
        if how == "second" and len(args) >= 2:
            return rank(args[1], ranks, canon)
        if how == "whole" and len(args) == 1:
            return 0
        if how == "axis" and len(args) == 2 and syntax.is_const(args[1]):
            r = rank(args[0], ranks, canon)
            return None if r is None else r - 1
        if how == "scalar":
            return 0
        if how == "shape" and len(args) == 1:
            shape = args[0]
            if isinstance(shape, syntax.Tuple):
                return len(shape.elts)
            length = tuple_length(canon, shape)
            if length is not None:
                return length
            return 1 if rank(shape, ranks, canon) == 0 else None
        if how == "product" and len(args) == 2:
            return _product_rank(rank(args[0], ranks, canon), rank(args[1], ranks, canon))
        callee = (getattr(canon, "callees", None) or {}).get(spelled)
        if callee is not None and isinstance(callee.canon.result, syntax.Name):
            # a function of the user's: its result's rank, from its arguments' ranks
            inner = callee.canon
            given = [rank(a, ranks, canon) for a in args]
            if len(given) != len(inner.params) or any(r is None for r in given):
                return None
            return example_ranks(inner, dict(zip(inner.params, given))).get(
                inner.result.id)
        return None
    if isinstance(node, syntax.Attribute) and isinstance(node.value, syntax.Name):
        if node.attr == "shape":
            return 1  # indexed like a vector of integers
        if node.attr in ("ndim", "size"):
            return 0
        if syntax.to_source(node) in rules.MODULE_CONSTANTS:
            return 0
        return None
    if isinstance(node, syntax.Subscript):
        if not isinstance(node.value, syntax.Name):
            return None
        if tuple_length(canon, node.value) is not None:
            if syntax.is_const(node.slice) and isinstance(node.slice.value, int):
                return ranks.get((node.value.id, node.slice.value))  # see example_ranks
            return None
        r = ranks.get(node.value.id)
        if r is None:
            return None
        elts = node.slice.elts if isinstance(node.slice, syntax.Tuple) else [node.slice]
        for e in elts:
            if isinstance(e, syntax.Slice):
                continue
            if isinstance(e, syntax.Constant) and e.value is None:
                r += 1
            elif isinstance(e, syntax.Constant) and isinstance(e.value, int) \
                    and not isinstance(e.value, bool):
                r -= 1
            elif isinstance(e, syntax.Name) and ranks.get(e.id) == 0:
                r -= 1  # an integer (a bool mask would have a rank of its own)
            else:
                return None
        return r
    return None


def _product_rank(ra, rb):
    """The rank of a matrix product of operands of ranks ``ra`` and ``rb`` (at most 2)."""
    if ra is None or rb is None or not (1 <= ra <= 2 and 1 <= rb <= 2):
        return None
    return ra + rb - 2


def example_ranks(canon, params: dict, calls=None) -> dict:
    """Per-example ranks of the canonical names, from those of the parameters; a name
    given values of different ranks (or of unknown rank) is unknown (None).

    ``calls(callee, arg_ranks)`` (jacfwd's vector form) gives the ranks of the elements
    of what a call of the user's function returns, kept under ``(name, i)``."""
    ranks = dict(params)
    for s in syntax.walk_statements(canon.body):  # a counter over a range is an integer
        if isinstance(s, syntax.For) and isinstance(s.target, syntax.Name) and \
                isinstance(s.iter, syntax.Call) and spelling(s.iter) == "range":
            ranks[s.target.id] = 0
    assigns = [s for s in syntax.walk_statements(canon.body) if isinstance(s, syntax.Assign)
               and isinstance(s.targets[0], syntax.Name)]

    def settle(key, r) -> bool:
        if key not in ranks:
            ranks[key] = r
            return True
        if ranks[key] is not None and ranks[key] != r:
            ranks[key] = None
            return True
        return False
    while True:  # ends: settle changes a name at most twice (unset -> a rank -> None)
        changed = False
        for s in assigns:
            name = s.targets[0].id
            callee = user_callee(canon, s.value) if calls is not None else None
            if callee is not None:
                elements = calls(callee, [rank(a, ranks, canon) for a in s.value.args])
                for i, r in enumerate(elements):
                    changed |= settle((name, i), r)
                r = elements[0] if callee.outputs is None else None
            else:
                r = rank(s.value, ranks, canon)
            changed |= settle(name, r)
        if not changed:
            break
    return ranks
