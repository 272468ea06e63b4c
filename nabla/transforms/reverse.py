"""Reverse mode: a forward sweep that computes the output and keeps what the
adjoint sweep needs, and an adjoint sweep that runs the statements backwards,
accumulating cotangents (``x_bar``) from the output's (``out_bar``).

For straight-line code in canonical form every intermediate value has its own
name, so the forward sweep is the primal itself and its residuals are the
names the adjoint sweep reads.

>>> from nabla.transforms.normalize import normalize
>>> def f(x):
...     return x * x * x
>>> sweeps = reverse(normalize(f), ["x"])      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import syntax
from .activity import ShapeClasses, analyse, describe, differentiable_operands
from .templates import instantiate


@dataclass
class ReverseSweeps:
    forward: list  # primal statements
    out: object  # the differentiated output (an atom)
    result: object  # everything the function returns (an atom or a Tuple)
    seed: str  # name of the output's cotangent, defined by whoever runs the adjoint sweep
    adjoint: list  # adjoint statements
    grads: list  # cotangent of each differentiated parameter (an expression)


def reverse(canon, wrt: list[str], has_aux: bool = False, scalar_out: bool = False
            ) -> ReverseSweeps:
    """``scalar_out``: the output is known to be a scalar (``grad`` refuses others)."""
    result = canon.result
    if has_aux:
        out = result.elts[0] if isinstance(result, syntax.Tuple) else result
    else:
        out = result
    namer = canon.namer
    body = list(canon.body)
    if isinstance(out, syntax.Name) and out.id not in canon.user_names and out.id not in (
        canon.params + canon.free
    ):
        # the output is a temporary: call it `out`, and its cotangent `out_bar`
        mapping = {out.id: namer.fresh("out")}
        body = [syntax.rename(s, mapping) for s in body]
        result = syntax.rename(result, mapping)
        out = syntax.rename(out, mapping)
    out_names = [n.id for n in [out] if isinstance(n, syntax.Name)]
    canon = _with_body(canon, body, result)
    activity = analyse(canon, wrt, out_names)
    shapes = ShapeClasses(canon, out_names if scalar_out else ())
    seed = namer.fresh(f"{out.id}_bar" if out_names else "out_bar")
    bars: dict[str, str] = {}
    defined: set[str] = set()
    adjoint: list = []

    def bar(name: str) -> str:
        if name not in bars:
            bars[name] = namer.fresh(f"{name}_bar")
        return bars[name]

    def accumulate(name: str, expr, lineno):
        b = bar(name)
        if b in defined:
            expr = syntax.BinOp(left=syntax.load(b), op=syntax.parse_expr("a + b").op,
                                right=expr)
        defined.add(b)
        adjoint.append(syntax.assign(b, expr, lineno=lineno))

    if out_names and activity.active(out_names[0]):
        bars[out_names[0]] = seed
        defined.add(seed)

    last_line = None
    for stmt in reversed(canon.body):
        target = stmt.targets[0].id
        if not activity.active(target) or bar(target) not in defined:
            continue
        key, rule, bound = describe(stmt.value)
        g = syntax.load(bar(target))
        contributions = []
        if rule is None:  # a copy
            for _, name in differentiable_operands(rule, bound):
                if activity.active(name):
                    contributions.append((name, g))
        elif rule.seq is not None:
            seq = bound[rule.seq].elts
            for i, e in enumerate(seq):
                if isinstance(e, syntax.Name) and activity.active(e.id):
                    fmt = rule.seq_vjp.format(i=i, start=_offset(seq, i, bound),
                                              stop=_offset(seq, i + 1, bound))
                    contributions.append(
                        (e.id, instantiate(fmt, bound, {"g": g, "out": syntax.load(target)}))
                    )
        else:
            for p, name in differentiable_operands(rule, bound):
                if activity.active(name) and p in rule.vjp:
                    expr = instantiate(rule.vjp[p], bound,
                                       {"g": g, "out": syntax.load(target)},
                                       same_shape=shapes.same(name, target))
                    contributions.append((name, expr))
        if not contributions:
            continue
        if stmt.lineno != last_line:
            adjoint.append(syntax.comment(canon.line_text(stmt.lineno)))
            last_line = stmt.lineno
        for name, expr in contributions:
            accumulate(name, expr, stmt.lineno)

    grads = []
    for p in wrt:
        if bar(p) in defined:
            grads.append(syntax.load(bar(p)))
        else:
            grads.append(syntax.call(syntax.load("zero_like"), [syntax.load(p)]))
    return ReverseSweeps(forward=list(canon.body), out=out, result=result, seed=seed,
                         adjoint=adjoint, grads=grads)


def _with_body(canon, body, result):
    import dataclasses

    return dataclasses.replace(canon, body=body, result=result)


def _offset(seq, i, bound):
    """Source of where element ``i`` of a concatenated sequence starts along ``axis``."""
    axis = syntax.to_source(bound.get("axis", syntax.const(0)))
    parts = [f"np.shape({syntax.to_source(e)})[{axis}]" for e in seq[:i]]
    return " + ".join(parts) if parts else "0"
