"""Turn a rule's template into code for one call site.

>>> from nabla import syntax
>>> e = instantiate("unbroadcast(g * y, x)", {"x": syntax.load("a"), "y": syntax.load("b")},
...                 {"g": syntax.load("t1_bar")}, same_shape=True)
>>> syntax.to_source(e)
't1_bar * b'
"""

from __future__ import annotations

from .. import syntax

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
