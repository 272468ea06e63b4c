"""Forward mode: each active statement is followed by its tangent (``x_dot``).

>>> from nabla.transforms.normalize import normalize
>>> def f(x):
...     return x * x
>>> stmts, result, result_dot = forward(normalize(f), ["x"])  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import syntax
from .activity import ShapeClasses, analyse, describe, differentiable_operands
from .templates import instantiate


@dataclass
class ForwardSweep:
    body: list  # primal and tangent statements, interleaved
    result: object  # the primal result (an atom or a Tuple of atoms)
    result_dot: object  # its tangent, of the same structure
    tangents: dict  # differentiated parameter -> name of its tangent parameter


def forward(canon, wrt: list[str]) -> ForwardSweep:
    namer = canon.namer
    result = canon.result
    outs = result.elts if isinstance(result, syntax.Tuple) else [result]
    activity = analyse(canon, wrt, [n.id for n in outs if isinstance(n, syntax.Name)])
    shapes = ShapeClasses(canon)
    dots: dict[str, str] = {p: namer.fresh(f"{p}_dot") for p in wrt}
    tangents = dict(dots)
    body: list = []

    def dot_of(node):
        if isinstance(node, syntax.Name) and node.id in dots:
            return syntax.load(dots[node.id])
        return None

    last_line = None
    for stmt in canon.body:
        body.append(stmt)
        target = stmt.targets[0].id
        if not activity.active(target):
            continue
        key, rule, bound = describe(stmt.value)
        parts = []
        if rule is None:  # a copy
            for _, name in differentiable_operands(rule, bound):
                if name in dots:
                    parts.append(syntax.load(dots[name]))
        elif rule.seq is not None:
            seq = bound[rule.seq].elts
            elt_dots = [dot_of(e) or syntax.call(syntax.load("zero_like"), [syntax.clone(e)])
                        for e in seq]
            extra = {f"{rule.seq}_dot": syntax.tuple_(elt_dots), "out": syntax.load(target)}
            parts.append(instantiate(rule.seq_jvp, bound, extra))
        else:
            for p, name in differentiable_operands(rule, bound):
                if name in dots and p in rule.jvp:
                    extra = {f"{p}_dot": syntax.load(dots[name]), "out": syntax.load(target)}
                    parts.append(instantiate(rule.jvp[p], bound, extra,
                                             same_shape=shapes.same(name, target)))
        if not parts:
            continue
        expr = parts[0]
        for more in parts[1:]:
            expr = syntax.BinOp(left=expr, op=syntax.parse_expr("a + b").op, right=more)
        if stmt.lineno != last_line:
            last_line = stmt.lineno
        dots[target] = namer.fresh(f"{target}_dot")
        body.append(syntax.assign(dots[target], expr, lineno=stmt.lineno))

    def tangent(node):
        d = dot_of(node)
        if d is not None:
            return d
        return syntax.call(syntax.load("zero_like"), [syntax.clone(node)])

    if isinstance(result, syntax.Tuple):
        result_dot = syntax.tuple_([tangent(e) for e in result.elts])
    else:
        result_dot = tangent(result)
    return ForwardSweep(body=body, result=result, result_dot=result_dot, tangents=tangents)
