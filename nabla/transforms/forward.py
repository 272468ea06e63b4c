"""Forward mode: each active statement is followed by its tangent (``x_dot``).

Tangents follow the statements that depend on a differentiated input (``x`` here,
not ``y``), each from its rule's ``jvp`` template; the views (``views.py``) then
return the result's tangent beside the result:

>>> import numpy as np
>>> from nabla import syntax
>>> from nabla.transforms.normalize import normalize
>>> def f(x, y):
...     z = x * y
...     return np.sin(z)
>>> sweep = forward(normalize(f), ["x"])
>>> ret = syntax.ret(syntax.tuple_([sweep.result, sweep.result_dot]))
>>> print(syntax.to_source(syntax.function_def("f_jvp", ["x", "y", "x_dot"], sweep.body + [ret])))
def f_jvp(x, y, x_dot):
    z = x * y
    z_dot = x_dot * y
    t1 = np.sin(z)
    t1_dot = z_dot * np.cos(z)
    return (t1, t1_dot)
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import syntax
from ..errors import NotDifferentiableError
from .activity import (
    ShapeClasses,
    analyse,
    callee_of,
    callee_rules,
    describe,
    differentiable_operands,
)
from .ranks import tuple_element, tuple_length
from .templates import instantiate


@dataclass
class ForwardSweep:
    body: list  # primal and tangent statements, interleaved
    result: object  # the primal result (an atom or a Tuple of atoms)
    result_dot: object  # its tangent, of the same structure
    tangents: dict  # differentiated parameter -> name of its tangent parameter


def forward(canon, wrt: list[str], lib=None) -> ForwardSweep:
    namer = canon.namer
    callees = callee_rules(canon)
    result = canon.result
    outs = result.elts if isinstance(result, syntax.Tuple) else [result]
    activity = analyse(canon, wrt, [n.id for n in outs if isinstance(n, syntax.Name)])
    shapes = ShapeClasses(canon)
    dots: dict[str, str] = {p: namer.fresh(f"{p}_dot") for p in wrt}
    tangents = dict(dots)

    def dot_name(name: str) -> str:
        if name not in dots:
            dots[name] = namer.fresh(f"{name}_dot")
        return dots[name]

    def dot_of(node):
        if isinstance(node, syntax.Name) and activity.active(node.id):
            return syntax.load(dot_name(node.id))
        return None

    def zero(node):
        return syntax.call(syntax.load("zero_like"), [syntax.clone(node)])

    def tangent_of_store(stmt):
        target = stmt.targets[0]
        name = target.value.id
        d = dot_of(stmt.value) or zero(stmt.value)
        sub = syntax.Subscript(value=syntax.load(dot_name(name)), slice=syntax.clone(
            target.slice), ctx=syntax.Store())
        return syntax.assign(sub, d, lineno=stmt.lineno)

    def tangent_expr(stmt):
        target = stmt.targets[0].id
        key, rule, bound = describe(stmt.value, callees)
        parts = []
        if rule is None:  # a copy, a tuple
            for _, name in differentiable_operands(rule, bound):
                if activity.active(name):
                    parts.append(syntax.load(dot_name(name)))
            if key == "Tuple":
                elts = [dot_of(e) or zero(e) for e in stmt.value.elts]
                return syntax.tuple_(elts)
        elif rule.kind != "diff":
            pass
        elif rule.seq is not None:
            seq = bound[rule.seq].elts
            elt_dots = [dot_of(e) or zero(e) for e in seq]
            extra = {f"{rule.seq}_dot": syntax.tuple_(elt_dots), "out": syntax.load(target)}
            if any(isinstance(e, syntax.Name) and activity.active(e.id) for e in seq):
                parts.append(instantiate(rule.seq_jvp, bound, extra))
        else:
            active = [(p, name) for p, name in differentiable_operands(rule, bound)
                      if activity.active(name)]
            missing = [p for p, _ in active if p not in rule.jvp]
            if missing:
                raise NotDifferentiableError(
                    f"{key}() has no forward-mode rule for its argument {missing[0]!r}, which "
                    "here depends on a differentiated input", **canon.parsed.where(stmt),
                    hint="differentiate this in reverse mode (grad, vjp, jacrev) instead")
            if rule.jvp_all is not None and active:
                extra = {f"{p}_dot": dot_of(bound[p]) or zero(bound[p]) for p in rule.jvp}
                extra["out"] = syntax.load(target)
                parts.append(instantiate(rule.jvp_all, bound, extra))
                active = []
            for p, name in active:
                extra = {f"{p}_dot": syntax.load(dot_name(name)), "out": syntax.load(target)}
                parts.append(instantiate(rule.jvp[p], bound, extra,
                                         same_shape=shapes.same(name, target)))
        if not parts:
            return zero(syntax.load(target))
        expr = parts[0]
        for more in parts[1:]:
            expr = syntax.binop(expr, "+", more)
        return expr

    def call_jvp(stmt):
        """``t = h(a, b)`` -> ``t, t_dot`` from h's jvp for the arguments with tangents."""
        callee = canon.callees[callee_of(stmt.value, callees)]
        target = stmt.targets[0].id
        args = stmt.value.args
        params = callee.canon.params + callee.canon.free
        pattern = [p for p, a in zip(params, args)
                   if dot_of(a) is not None and p in callee.rule.jvp]
        n = len(callee.canon.params)
        both = namer.fresh(f"{target}_jvp")
        if callee.custom is not None:
            call = custom_jvp_call(stmt, callee)
        else:
            name = lib.jvp(callee, pattern)
            dots = [dot_of(a) for p, a in zip(params, args) if p in pattern]
            call = syntax.call(syntax.load(name), [syntax.clone(a) for a in args[:n]] + dots
                               + [syntax.clone(a) for a in args[n:]])
        line = stmt.lineno
        pair = syntax.assign(both, call, lineno=line)
        pair.col_offset = getattr(stmt, "col_offset", None)
        return [pair,
                syntax.assign(target, syntax.Subscript(value=syntax.load(both), slice=syntax.const(
                    0), ctx=syntax.Load()), lineno=line),
                syntax.assign(dot_name(target), syntax.Subscript(
                    value=syntax.load(both), slice=syntax.const(1), ctx=syntax.Load()),
                    lineno=line)]

    def custom_jvp_call(stmt, callee):
        """The user's jvp rule, ``rule(*nondiff, (a, b), (a_dot, b_dot))`` (a zero tangent
        for an argument without one); a custom_vjp has none: refused, as JAX does."""
        obj = callee.custom
        name = callee.fn.__name__
        if obj.kind == "custom_vjp":
            raise NotDifferentiableError(
                f"{name}() is a nabla.custom_vjp: its rule is a reverse-mode rule, and forward "
                "mode (jvp, jacfwd) has none",
                **canon.parsed.where(stmt),
                hint=f"differentiate in reverse mode (grad, vjp, jacrev), or make {name} a "
                "nabla.custom_jvp")
        args = stmt.value.args
        user = callee.canon.params
        diff = [i for i in range(len(user)) if i not in obj.nondiff_argnums]
        primals = syntax.tuple_([syntax.clone(args[i]) for i in diff])
        tangents = syntax.tuple_([dot_of(args[i]) or zero(args[i]) for i in diff])
        nondiff = [syntax.clone(args[i]) for i in obj.nondiff_argnums]
        free = [syntax.clone(a) for a in canon.rule_free[callee.spelling]["jvp"]]
        return syntax.call(syntax.load(callee.rules["jvp"].spelling),
                           nondiff + [primals, tangents] + free)

    def block(stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, syntax.If):
                new = syntax.If(test=stmt.test, body=block(stmt.body),
                                orelse=block(stmt.orelse))
                out.append(syntax.copy_location(new, stmt))
            elif isinstance(stmt, syntax.For):
                new = syntax.For(target=stmt.target, iter=stmt.iter, body=block(stmt.body),
                                 orelse=[], type_comment=None)
                out.append(syntax.copy_location(new, stmt))
            elif isinstance(stmt, syntax.While):
                new = syntax.While(test=stmt.test, body=block(stmt.body), orelse=[])
                out.append(syntax.copy_location(new, stmt))
            elif isinstance(stmt, syntax.Assign) and isinstance(stmt.targets[0],
                                                                syntax.Subscript):
                # a write into an array: its tangent array gets the value's tangent
                name = stmt.targets[0].value.id
                if activity.active(name):
                    out.append(tangent_of_store(stmt))
                out.append(stmt)
            elif isinstance(stmt, syntax.Assign) and callee_of(stmt.value, callees) and \
                    activity.active(stmt.targets[0].id):
                out.extend(call_jvp(stmt))
            elif isinstance(stmt, syntax.Assign):
                out.append(stmt)
                target = stmt.targets[0].id
                if activity.active(target):
                    out.append(syntax.assign(dot_name(target), tangent_expr(stmt),
                                             lineno=stmt.lineno))
            else:
                out.append(stmt)
        return out

    body = block(canon.body)
    # a parameter not differentiated that later takes a varied value (in a loop) starts with
    # a zero tangent
    starts = [syntax.assign(dot_name(p), zero(syntax.load(p))) for p in canon.params
              if activity.active(p) and p not in wrt]
    body = starts + body

    def tangent(node):
        d = dot_of(node)
        if d is not None:
            return d
        n = tuple_length(canon, node) if isinstance(node, syntax.Name) else None
        elements = [tuple_element(canon, node, i) for i in range(n or 0)]
        if n is not None and all(e is not None for e in elements):
            # a tuple returned, not differentiated: a tuple of zeros, of its structure
            return syntax.tuple_([tangent(e) for e in elements])
        return zero(node)

    if isinstance(result, syntax.Tuple):
        result_dot = syntax.tuple_([tangent(e) for e in result.elts])
    else:
        result_dot = tangent(result)
    return ForwardSweep(body=body, result=result, result_dot=result_dot, tangents=tangents)
