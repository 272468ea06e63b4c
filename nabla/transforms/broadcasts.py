"""A broadcast next to a value of its shape is the value itself.

In a tree of ``+ - * /``, a call that only broadcasts a value to the shape of ``like``
(``expand_reduced(g, like, None)``, ``broadcast_like(v, like)``: the rule's
``broadcast_of``) gives the same numbers as the value alone where another operand has
``like``'s shape already: NumPy broadcasts the value the same way, without an array
filled first. One broadcast is kept where it is the only operand of that shape:

>>> from nabla import syntax
>>> print(syntax.to_source(drop_broadcasts(syntax.parse_expr(
...     "expand_reduced(out_bar, x, None) * 2 * t1 * np.cos(x)"))))
out_bar * 2 * t1 * np.cos(x)
>>> print(syntax.to_source(drop_broadcasts(syntax.parse_expr(
...     "broadcast_like(a, t) + broadcast_like(b, t)"))))
broadcast_like(a, t) + b
"""

from __future__ import annotations

from .. import rules, syntax
from .bodies import dotted, key

_ELEMENTWISE_OPS = ("+", "-", "*", "/")


def drop_broadcasts(expr):
    """``expr`` with the broadcasts its elementwise trees do not need dropped."""
    if isinstance(expr, syntax.BinOp) and syntax.operator(expr) in _ELEMENTWISE_OPS:
        leaves: list = []
        _leaves(expr, leaves)
        spreads = [_broadcast_of(leaf) for leaf in leaves]
        shapes = [key(spread[1] if spread is not None else _shape_source(leaf))
                  for leaf, spread in zip(leaves, spreads)]
        swap, kept = {}, set()  # (a broadcast kept where it is the only witness)
        for i, (leaf, spread) in enumerate(zip(leaves, spreads)):
            if spread is None:
                continue
            if any(j != i and shapes[j] == shapes[i] and id(other) not in swap
                   and (spreads[j] is None or id(other) in kept)
                   for j, other in enumerate(leaves)):
                swap[id(leaf)] = spread[0]
            else:
                kept.add(id(leaf))
        return _rebuild(expr, swap)
    if isinstance(expr, syntax.AST):
        for field in expr._fields:
            value = getattr(expr, field, None)
            if isinstance(value, syntax.AST):
                setattr(expr, field, drop_broadcasts(value))
            elif isinstance(value, list):
                setattr(expr, field, [drop_broadcasts(v) for v in value])
    return expr


def _leaves(expr, out):
    if isinstance(expr, syntax.BinOp) and syntax.operator(expr) in _ELEMENTWISE_OPS:
        _leaves(expr.left, out)
        _leaves(expr.right, out)
    else:
        out.append(expr)


def _rebuild(expr, swap):
    if isinstance(expr, syntax.BinOp) and syntax.operator(expr) in _ELEMENTWISE_OPS:
        return syntax.BinOp(left=_rebuild(expr.left, swap), op=expr.op,
                            right=_rebuild(expr.right, swap))
    return drop_broadcasts(swap.get(id(expr), expr))


def _shape_source(leaf):
    """The expression whose shape ``leaf`` has for certain: itself, or what a one-argument
    elementwise call or operator reads (``np.cos(x)``: ``x``)."""
    while True:
        if isinstance(leaf, syntax.UnaryOp):
            leaf = leaf.operand
        elif isinstance(leaf, syntax.Call) and len(leaf.args) == 1 and not leaf.keywords \
                and rules.fact(dotted(leaf.func), "elementwise", False):
            leaf = leaf.args[0]
        else:
            return leaf


def _broadcast_of(leaf):
    """(the value, the ``like``) of a call that only broadcasts a value to ``like``'s
    shape; else None."""
    if not isinstance(leaf, syntax.Call) or leaf.keywords:
        return None
    rule = rules.lookup(dotted(leaf.func))
    if rule is None or rule.broadcast_of is None or rule.shaped_like is None:
        return None
    try:
        bound = rule.bind(list(leaf.args), {})
    except TypeError:
        return None
    others = [p for p in rule.params if p not in (rule.broadcast_of, rule.shaped_like)]
    if any(p in bound and not (isinstance(bound[p], syntax.Constant)
                               and bound[p].value is None) for p in others):
        return None
    return bound[rule.broadcast_of], bound[rule.shaped_like]
