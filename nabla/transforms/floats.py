"""Which values are floats whatever the arguments' values: the proof that lets grad seed
its adjoint sweep with ``1.0`` instead of ``seed(out)``, so that the primal value, which a
gradient never returns, is not computed at all.

``seed(out)`` is a check (a scalar float output) whose value, 1 of ``out``'s type, needs
nothing of ``out`` but its type. Where the output is proven a scalar (its rank, from the
call's arguments) and a float (below), the check always passes and the seed is ``1.0``:
``out = np.sum(np.sin(x) ** 2)`` is then dead code, and ``np.sin(x)`` is computed where
the adjoint reads it, in one pass with ``np.cos(x)``.

A value is a float when it is a float constant, a differentiated parameter (only floats
have derivatives), an element of a float array, a true division, an arithmetic operation
with a float operand, or a call whose rule has a derivative (``kind="diff"``: a function
with a derivative maps floats to floats) with a float among its differentiable
arguments. A name is a float when every assignment to it is.

>>> import numpy as np
>>> from nabla.transforms.normalize import normalize
>>> def f(x, n):
...     s = 0
...     t = np.sum(np.sin(x) ** 2)
...     for i in range(n):
...         s = s + i
...     return t + s
>>> canon = normalize(f)
>>> [is_float(canon, syntax.load(v), {"x"}) for v in ("t", "s", "x", "n")]
[True, False, True, False]
"""

from __future__ import annotations

from .. import rules, syntax
from .bodies import assigned_values
from .ranks import spelling

__all__ = ["FloatProof", "is_float"]


def is_float(canon, node, floats: set[str]) -> bool:
    """``node`` (an expression of ``canon``) is a float for every value of the arguments;
    ``floats``: the parameters known to be floats."""
    return FloatProof(canon.body, floats, set(canon.params) | set(canon.free)).float(node)


class FloatProof:
    """Which expressions of a function's ``body`` are floats; ``floats``: the parameters
    known to be floats, ``params``: all of them."""

    def __init__(self, body, floats: set[str], params: set[str]):
        self.assigns = assigned_values(body)
        self.floats = floats
        self.params = params
        self.names: dict[str, bool] = {}

    def float(self, node) -> bool:
        if isinstance(node, syntax.Constant):
            return isinstance(node.value, float)
        if isinstance(node, syntax.Name):
            return self.name(node.id)
        if isinstance(node, syntax.BinOp):
            if syntax.operator(node) == "/":
                return True
            return self.float(node.left) or self.float(node.right)
        if isinstance(node, syntax.UnaryOp):
            return syntax.operator(node) in ("-", "+") and self.float(node.operand)
        if isinstance(node, (syntax.Tuple, syntax.List)):  # np.array's items
            return any(self.float(e) for e in node.elts)
        if isinstance(node, syntax.Subscript) and isinstance(node.value, syntax.Name):
            return self.name(node.value.id)  # an array's elements have its dtype
        if isinstance(node, syntax.Call):
            rule = rules.RULES.get(spelling(node))
            if rule is None or rule.kind != "diff":
                return False
            try:
                bound = rule.bind(list(node.args), {k.arg: k.value for k in node.keywords})
            except TypeError:
                return False
            return any(self.float(v) for p, v in bound.items()
                       if p not in rule.nondiff and isinstance(v, syntax.AST))
        return False

    def name(self, n: str) -> bool:
        if n in self.names:
            return self.names[n]
        if n in self.params:
            self.names[n] = n in self.floats
            return self.names[n]
        values = self.assigns.get(n)
        if not values or any(v is None for v in values):
            self.names[n] = False
            return False
        before = dict(self.names)
        self.names[n] = True  # a cycle (s = s + x) is a float when the rest says so
        if all(self.float(v) for v in values):
            return True
        self.names = before  # what was proven assuming n a float is not
        self.names[n] = False
        return False
