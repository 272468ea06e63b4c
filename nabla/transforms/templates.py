"""Turn a rule's template into code for one call site.

>>> from nabla import syntax
>>> e = instantiate("unbroadcast(g * y, x)", {"x": syntax.load("a"), "y": syntax.load("b")},
...                 {"g": syntax.load("t1_bar")}, same_shape=True)
>>> syntax.to_source(e)
't1_bar * b'
"""

from __future__ import annotations

from .. import rules, syntax

_SHAPE_HELPERS = ("unbroadcast", "broadcast_like")


class _Elide(syntax.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, syntax.Name) and node.func.id in _SHAPE_HELPERS:
            return node.args[0]
        return node


def instantiate(template: str, bound: dict, extra: dict, same_shape: bool = False):
    """The template's expression with parameters replaced by the call's operands.

    ``same_shape``: the operand this contribution is for has the output's shape,
    so ``unbroadcast``/``broadcast_like`` are identities and are dropped.
    """
    expr = syntax.parse_expr(template)
    if same_shape:
        expr = _Elide().visit(expr)
    mapping = dict(bound)
    mapping.update(extra)
    return syntax.substitute(expr, mapping)


class _ShapeReads(syntax.NodeTransformer):
    def __init__(self, stand_in):
        self.stand_in = stand_in

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, syntax.Name):
            like = rules.fact(node.func.id, "shaped_like")
            if like is not None:
                k = rules.lookup(node.func.id).params.index(like)
                if k < len(node.args) and isinstance(node.args[k], syntax.Name):
                    node.args[k] = syntax.load(self.stand_in(node.args[k].id))
        return node


def read_shapes_from(expr, stand_in):
    """``expr`` with the arguments read only for their shape (``like`` of
    ``unbroadcast(v, like)``: the rule's ``shaped_like``) read from ``stand_in(name)``,
    a name of the same shape.

    >>> e = syntax.parse_expr("expand_reduced(g, t2, None) * y")
    >>> syntax.to_source(read_shapes_from(e, {"t2": "x"}.get))
    'expand_reduced(g, x, None) * y'
    """
    return _ShapeReads(stand_in).visit(expr)
