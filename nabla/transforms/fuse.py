"""A sum of an elementwise expression in one loop: no temporary array, one pass.

``np.sum(t1 * x)`` makes ``t1 * x`` an array (Numba fuses the product into one loop,
and allocates its result), then reads it again to sum it. Where the shapes of the
expression's arrays are proven equal, the sum becomes one loop nest over their common
shape with a scalar accumulator. The proof is symbolic: a parameter's dimensions (its
rank from the call's arguments) are ``x.shape[0]``, ``x.shape[1]``...; an element
``x[i]`` drops the first; an elementwise operation of arrays of one shape has it; a
name assigned once has its value's. Nothing is assumed of two parameters' dimensions,
so ``np.sum(w * x)`` of two parameters keeps its temporary.

>>> import numpy as np
>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in ("t1 = np.exp(w)", "r = np.sum(t1 * w)",
...                                        "return r")]
>>> fused = fuse_sums(body, {"w": 1}, floats={"w"})
>>> print(syntax.to_source(syntax.function_def("f", ["w"], fused)))
def f(w):
    t1 = np.exp(w)
    # np.sum(t1 * w) in one pass: no temporary array
    r = 0.0
    for i in range(w.shape[0]):
        r = r + t1[i] * w[i]
    return r
"""

from __future__ import annotations

from types import SimpleNamespace

from .. import rules, syntax
from ..names import Namer
from .bodies import assign_counts, elementwise_op, operands
from .floats import FloatProof
from .ranks import example_ranks, spelling

__all__ = ["fuse_sums"]

SCALAR = ()  # the shape of a scalar


def fuse_sums(body: list, ranks: dict, floats: set[str] = frozenset()) -> list:
    """``body`` (a function's) with each ``np.sum(e)`` in an assignment whose array
    operands provably share one shape, and whose value is a float, computed by a loop nest
    just before it. ``ranks``: the number of dimensions of each parameter the call tells;
    ``floats``: the parameters known to be floats."""
    counts = assign_counts(body)
    known = example_ranks(SimpleNamespace(body=body, callees={}, call_tuples={}),
                          {p: r for p, r in ranks.items() if r is not None})
    namer = Namer({n.id for s in syntax.walk_statements(body) for n in syntax.walk(s)
                   if isinstance(n, syntax.Name)})
    state = _State(_Shapes(ranks, counts, known), FloatProof(body, set(floats), set(ranks)),
                   namer, counts)
    return _block(body, state)


class _State:
    def __init__(self, shapes, floats, namer, counts):
        self.shapes = shapes
        self.floats = floats
        self.fresh = namer.fresh
        self.counts = counts


def _block(body: list, state: _State) -> list:
    out = []
    for s in body:
        if isinstance(s, (syntax.If, syntax.For, syntax.While)):
            s = syntax.clone(s)
            s.body, s.orelse = _block(s.body, state), _block(s.orelse, state)
            out.append(s)
            continue
        out.extend(_fused(s, state))
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name) and \
                state.counts.get(s.targets[0].id) == 1:
            state.shapes.names[s.targets[0].id] = state.shapes.of(s.value)
    return out


class _Shapes:
    """Symbolic shapes: a tuple of dimensions, each ``(parameter, axis)``; None unknown."""

    def __init__(self, ranks: dict, counts: dict, known: dict):
        self.known = known  # every name's rank, where the parameters' tell it
        self.names: dict = {}
        for p, r in ranks.items():
            if r is not None and not counts.get(p):  # a parameter never assigned again
                self.names[p] = tuple((p, k) for k in range(r))

    def of(self, node):
        if isinstance(node, syntax.Constant):
            return SCALAR if isinstance(node.value, (int, float)) else None
        if isinstance(node, syntax.Name):
            return self.names.get(node.id)
        if elementwise_op(node):  # not a matrix product: its rule is no elementwise one
            return self._common(operands(node))
        if isinstance(node, syntax.Subscript) and _element(node, self.known):
            shape = self.names.get(node.value.id)
            k = len(node.slice.elts) if isinstance(node.slice, syntax.Tuple) else 1
            return None if shape is None or len(shape) < k else shape[k:]
        if isinstance(node, syntax.Call) and not node.keywords and len(node.args) == 1 \
                and rules.fact(spelling(node), "rank") == "whole":
            return SCALAR
        return None

    def _common(self, operands):
        found = SCALAR
        for o in operands:
            s = self.of(o)
            if s is None:
                return None
            if s != SCALAR:
                if found != SCALAR and s != found:
                    return None
                found = s
        return found


def _element(node, known: dict) -> bool:
    """``x[i]``, ``x[i, j]``: integer indices (scalar names or constants) of a name."""
    if not isinstance(node.value, syntax.Name):
        return False
    parts = node.slice.elts if isinstance(node.slice, syntax.Tuple) else [node.slice]
    return all((isinstance(p, syntax.Name) and known.get(p.id) == 0) or (
        syntax.is_const(p) and isinstance(p.value, int) and not isinstance(p.value, bool))
        for p in parts)


def _fused(s, state: _State) -> list:
    """``s``, after the loops that compute the sums it may hold; those sums replaced by
    their accumulators (the statement's own name where the sum is all its value)."""
    if not isinstance(s, syntax.Assign):
        return [s]
    sums = []
    root = syntax.clone(s.value)

    class _Sums(syntax.NodeTransformer):
        def visit_Call(self, node):
            if spelling(node) == "np.sum" and len(node.args) == 1 and not node.keywords:
                shape = _fusable(node.args[0], state)
                if shape is not None:
                    whole = node is root and isinstance(s.targets[0], syntax.Name) and \
                        s.targets[0].id not in syntax.names_loaded(node)
                    acc = s.targets[0].id if whole else state.fresh("total")
                    sums.append((acc, node, shape))
                    return syntax.load(acc)
            self.generic_visit(node)
            return node

    value = _Sums().visit(root)
    if not sums:
        return [s]
    out = []
    lineno = getattr(s, "lineno", None)
    for acc, node, shape in sums:
        index = [state.fresh("i" if len(shape) == 1 else f"i{k}") for k in range(len(shape))]
        loop = syntax.assign(acc, syntax.binop(syntax.load(acc), "+", _indexed(
            node.args[0], state.shapes, index)), lineno=lineno)
        for k in reversed(range(len(shape))):
            p, axis = shape[k]
            head = syntax.parse_stmt(f"for {index[k]} in range({p}.shape[{axis}]):\n    pass")
            head.body = [loop]
            loop = head
        out += [syntax.comment(f"{syntax.to_source(node)} in one pass: no temporary array"),
                syntax.assign(acc, syntax.const(0.0), lineno=lineno), loop]
    if not (len(sums) == 1 and isinstance(value, syntax.Name) and value.id == sums[0][0]):
        new = syntax.clone(s)
        new.value = value
        out.append(new)
    return out


def _fusable(expr, state: _State):
    """The shape ``expr``'s loop runs over, or None: an elementwise float expression
    (not a lone name) of arrays of one proven shape."""
    if isinstance(expr, syntax.Name) or not _pure(expr):
        return None
    shape = state.shapes.of(expr)
    if not shape or not state.floats.float(expr):
        return None
    return shape


def _pure(expr) -> bool:
    """No call but elementwise ones: a sum inside would be computed again per element."""
    return all(elementwise_op(n) for n in syntax.walk(expr) if isinstance(n, syntax.Call))


def _indexed(expr, shapes: _Shapes, index):
    """``expr`` with each array operand read at the loop's element."""
    if isinstance(expr, syntax.Constant):
        return syntax.clone(expr)
    s = shapes.of(expr)
    if s == SCALAR:
        return syntax.clone(expr)
    if isinstance(expr, syntax.Name):
        return syntax.parse_expr(f"{expr.id}[{', '.join(index)}]")
    if isinstance(expr, syntax.Subscript):
        node = syntax.clone(expr)
        parts = list(node.slice.elts) if isinstance(node.slice, syntax.Tuple) else [
            node.slice]
        node.slice = syntax.tuple_(parts + [syntax.load(i) for i in index])
        return node
    node = syntax.clone(expr)
    if isinstance(node, syntax.BinOp):
        node.left = _indexed(expr.left, shapes, index)
        node.right = _indexed(expr.right, shapes, index)
    elif isinstance(node, syntax.UnaryOp):
        node.operand = _indexed(expr.operand, shapes, index)
    else:  # an elementwise call, of the elements
        node.args = [_indexed(a, shapes, index) for a in expr.args]
    return node
