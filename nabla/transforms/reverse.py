"""Reverse mode: a forward sweep that computes the output and keeps what the
adjoint sweep needs, and an adjoint sweep that runs the statements backwards,
accumulating cotangents (``x_bar``) from the output's (``out_bar``).

For straight-line code in canonical form every intermediate value has its own
name, so the forward sweep is the primal itself and its residuals are the
names the adjoint sweep reads.

The adjoint sweep starts each cotangent at zero and runs the statements backwards,
each block under a comment quoting the user's line it comes from. The caller defines
the seed (``out_bar``) and returns ``grads``; ``views.py`` does, and its optimizer
then folds the zeros and the single-use temporaries away:

>>> import numpy as np
>>> from nabla import syntax
>>> from nabla.transforms.normalize import normalize
>>> def f(x, y):
...     z = x * y
...     return np.sin(z)
>>> sweeps = reverse(normalize(f), ["x"])
>>> body = sweeps.forward + sweeps.adjoint + [syntax.ret(sweeps.grads[0])]
>>> print(syntax.to_source(syntax.function_def("f_vjp", ["x", "y", sweeps.seed], body)))
def f_vjp(x, y, out_bar):
    z = x * y
    out = np.sin(z)
    z_bar = zero_like(z)
    x_bar = zero_like(x)
    # return np.sin(z)
    z_bar = z_bar + out_bar * np.cos(z)
    # z = x * y
    x_bar = x_bar + unbroadcast(z_bar * y, x)
    return x_bar
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .. import rules, syntax
from ..errors import NotDifferentiableError
from .activity import (
    ShapeClasses,
    analyse,
    assignments,
    callee_of,
    callee_rules,
    describe,
    differentiable_operands,
    index_value,
    is_store,
    stored_name,
)
from .aliasing import check_views, part_not_element
from .reverse_loops import LoopSweeps
from .templates import instantiate, read_shapes_from
from .writes import check_slices, filled_arrays, stored_arrays


@dataclass
class Kept:
    """A call ``t = h(a, b)`` whose residuals the forward sweep keeps: ``pair = fwd(*args)``
    returns t, then the ``returned`` names; ``values`` are the residuals the backward
    function takes (those names, and h's parameters as this call's arguments)."""

    values: list  # atoms
    fwd: str
    pair: str
    returned: list
    args: list


@dataclass
class ReverseSweeps:
    forward: list  # primal statements
    out: object  # the differentiated output (an atom)
    result: object  # everything the function returns (an atom or a Tuple)
    seed: str  # name of the output's cotangent, defined by whoever runs the adjoint sweep
    adjoint: list  # adjoint statements
    grads: list  # cotangent of each differentiated parameter (an expression)
    seeds: list = None  # with ``each_output``: one cotangent name per returned value


def reverse(canon, wrt: list[str], has_aux: bool = False, scalar_out: bool = False,
            lib=None, each_output: bool = False, ranks=None, outs=None) -> ReverseSweeps:
    """``scalar_out``: the output is known to be a scalar (``grad`` refuses others).
    ``each_output``: every value returned (a tuple's elements) gets a seed of its own.
    ``lib``: where the derivatives of the user's functions called are made.
    ``ranks``: the number of dimensions of each parameter, when the call tells them.
    ``outs``: with ``each_output``, the values seeded (a nested tuple's leaves), if not
    the returned tuple's elements."""
    if each_output:
        return _reverse_each(canon, wrt, lib, ranks, outs)
    return _reverse(canon, wrt, has_aux, scalar_out, lib, ranks)


def _reverse_each(canon, wrt, lib, ranks=None, outs=None) -> ReverseSweeps:
    """The sweeps of a function of the user's that generated code calls, seeded with a
    cotangent per returned value."""
    result = canon.result
    if outs is None:
        outs = list(result.elts) if isinstance(result, syntax.Tuple) else [result]
    namer = canon.namer
    out_names = [n.id for n in outs if isinstance(n, syntax.Name)]
    activity = analyse(canon, wrt, out_names)
    shapes = ShapeClasses(canon, (), ranks)
    sweeper = _Sweeper(canon, activity, shapes, namer, lib)
    seeds = []
    for i, o in enumerate(outs):
        base = o.id if isinstance(o, syntax.Name) else (f"out{i}" if len(outs) > 1 else "out")
        seeds.append(namer.fresh(f"{base}_bar"))
    by_name: dict[str, list[str]] = {}
    for o, seed in zip(outs, seeds):
        if isinstance(o, syntax.Name):
            by_name.setdefault(o.id, []).append(seed)
    indexed = _indexed(canon)
    seed_stmts = []
    for name, own in by_name.items():
        if len(own) == 1 and name not in indexed:
            sweeper.bars[name] = own[0]
            continue
        # the cotangent starts as a copy: it is updated in place, never the caller's
        value = syntax.call(syntax.load("zero_like"), [syntax.load(name)])
        for seed in own:
            value = syntax.binop(value, "+", syntax.load(seed))
        seed_stmts.append(syntax.assign(sweeper.bar(name), value))
    check_slices(canon, sweeper.write_once)
    check_views(canon, shapes.ranks, sweeper.callees)
    forward, adjoint = sweeper.block(canon.body, top=True)
    grads = sweeper.grads(wrt, by_name)
    inits = sweeper.inits_for(canon.body, top=True, exclude=set(by_name))
    return ReverseSweeps(forward=forward, out=result, result=result, seed=seeds[0],
                         adjoint=seed_stmts + inits + adjoint, grads=grads, seeds=seeds)


def _reverse(canon, wrt, has_aux, scalar_out, lib, ranks=None) -> ReverseSweeps:
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
    shapes = ShapeClasses(canon, out_names if scalar_out else (), ranks)
    seed = namer.fresh(f"{out.id}_bar" if out_names else "out_bar")
    sweeper = _Sweeper(canon, activity, shapes, namer, lib)
    indexed = _indexed(canon)
    seed_copy = []
    if out_names and out_names[0] in indexed:
        # its cotangent is updated in place: start from a copy, never the caller's array
        seed_copy = [syntax.assign(sweeper.bar(out_names[0]), syntax.binop(
            syntax.call(syntax.load("zero_like"), [syntax.load(out_names[0])]),
            "+", syntax.load(seed)))]
    elif out_names:
        sweeper.bars[out_names[0]] = seed
    check_slices(canon, sweeper.write_once)
    check_views(canon, shapes.ranks, sweeper.callees)
    forward, adjoint = sweeper.block(canon.body, top=True)
    grads = sweeper.grads(wrt, out_names)
    # the output's cotangent is the seed; every other one starts at zero
    inits = sweeper.inits_for(canon.body, top=True, exclude=set(out_names))
    adjoint = seed_copy + inits + adjoint
    return ReverseSweeps(forward=forward, out=out, result=result, seed=seed,
                         adjoint=adjoint, grads=grads)


class _Sweeper(LoopSweeps):
    """Builds the forward and adjoint sweeps of nested blocks.

    Every cotangent is set to zero at the start of the adjoint of the innermost block
    that holds all the assignments of its value (so cotangents of values computed in
    a loop body start from zero in each iteration), accumulated with ``+``, and set to
    zero again after an assignment that overwrites its value (``x = x_1`` at the end of
    a loop body). A loop's forward sweep records the values its body overwrites; its
    adjoint runs the iterations backwards, restoring them, recomputing the body and
    running the body's adjoint.
    """

    def __init__(self, canon, activity, shapes, namer, lib=None):
        self.canon = canon
        self.callees = callee_rules(canon)  # what ``describe`` needs to know of canon's calls
        self.lib = lib
        self.activity = activity
        self.shapes = shapes
        self.namer = namer
        self.bars: dict[str, str] = {}
        # parameters are assigned on entry
        self.def_counts: dict[str, int] = {p: 1 for p in canon.params + canon.free}
        for stmt in assignments(canon.body):
            n = stored_name(stmt)
            self.def_counts[n] = self.def_counts.get(n, 0) + 1
        self.home = self._homes(canon.body)
        self.leaves_loop = self._leaving_loops(canon.body)
        self.stored = stored_arrays(canon.body)
        self.write_once = filled_arrays(canon.body)
        self.floats = _float_values(canon, activity)
        self._restores: set[int] = set()  # ids of the restores of loops with no adjoint
        # id of a write in a loop's body -> the statement that puts back what it overwrote
        # (reverse_loops.py records it), run right after the write's adjoint
        self._undo_of: dict[int, object] = {}
        # id of a call of a callee whose residuals the forward sweep keeps -> its Kept
        self.kept: dict[int, Kept] = {}

    # -- names ----------------------------------------------------------------------------
    def bar(self, name: str) -> str:
        if name not in self.bars:  # "t#0": element 0 of the tuple t a function returned
            self.bars[name] = self.namer.fresh(f"{name.replace('#', '_')}_bar")
        return self.bars[name]

    def _homes(self, body):
        """name -> id of the innermost block holding all its assignments."""
        paths: dict[str, list] = {}

        def note(n, path):
            p = paths.get(n)
            if p is None:
                paths[n] = list(path)
            else:  # common prefix
                k = 0
                while k < min(len(p), len(path)) and p[k] == path[k]:
                    k += 1
                paths[n] = p[:k]

        def walk(stmts, path):
            for stmt in stmts:
                if isinstance(stmt, syntax.Assign):
                    note(stored_name(stmt), path)
                    for n in syntax.names_loaded(stmt.value):
                        if n in paths:
                            note(n, path)
                if isinstance(stmt, syntax.If):
                    walk(stmt.body, path + [id(stmt.body)])
                    walk(stmt.orelse, path + [id(stmt.orelse)])
                elif isinstance(stmt, (syntax.For, syntax.While)):
                    walk(stmt.body, path + [id(stmt.body)])
        for p in self.canon.params + self.canon.free:
            paths[p] = [id(body)]
        walk(body, [id(body)])
        # the returned values are read at the end of the function's own block (a value
        # assigned only in a loop, as a `return` inside the loop leaves it, lives outside it)
        for n in syntax.names_loaded(self.canon.result):
            if n in paths:
                note(n, [id(body)])
        return {n: p[-1] for n, p in paths.items()}

    def grads(self, wrt, outputs) -> list:
        """The cotangent of each differentiated parameter (zero where nothing flows)."""
        return [syntax.load(self.bar(p)) if self.activity.active(p) or p in outputs
                else syntax.call(syntax.load("zero_like"), [syntax.load(p)]) for p in wrt]

    def _leaving_loops(self, body) -> set[int]:
        """ids of the assignments, inside a loop, of a value whose cotangent lives outside
        that loop (a name assigned only in the loop and read after it): each iteration
        overwrites the value, so its cotangent is reset once the assignment's adjoint has
        read it."""
        out: set[int] = set()

        def walk(stmts, inside):
            for stmt in stmts:
                if isinstance(stmt, syntax.Assign) and inside is not None and \
                        not is_store(stmt) and self.home.get(stored_name(stmt)) not in inside:
                    out.add(id(stmt))
                if isinstance(stmt, syntax.If):
                    for b in (stmt.body, stmt.orelse):
                        walk(b, None if inside is None else inside | {id(b)})
                elif isinstance(stmt, (syntax.For, syntax.While)):
                    walk(stmt.body, {id(stmt.body)})
        walk(body, None)
        return out

    def inits_for(self, stmts, top: bool, exclude: set):
        """``v_bar = zero_like(v)`` for the active values whose home is this block."""
        out = []
        seen = set()
        for stmt in assignments(stmts):
            n = stored_name(stmt)
            if n in seen or not self.activity.active(n):
                continue
            seen.add(n)
            if n in exclude:
                continue
            if self.home.get(n) == id(stmts) and n in self.canon.call_tuples:
                for i in range(self.canon.call_tuples[n]):
                    element = syntax.Subscript(value=syntax.load(n), slice=syntax.const(i),
                                               ctx=syntax.Load())
                    out.append(syntax.assign(self.bar(f"{n}#{i}"), syntax.call(
                        syntax.load("zero_like"), [element])))
            elif self.home.get(n) == id(stmts):
                out.append(self.zero(n))
        if top:
            for p in self.canon.params:
                if self.activity.active(p) and p not in seen and p not in exclude:
                    out.append(self.zero(p))
        return out

    def zero(self, name: str):
        return syntax.assign(self.bar(name), syntax.call(syntax.load("zero_like"),
                                                         [syntax.load(name)]))

    # -- sweeps ---------------------------------------------------------------------------
    def block(self, stmts, top: bool = False, loop_body: bool = False):
        """(forward statements, adjoint statements) of a block."""
        forward, parts = [], []
        for stmt in stmts:
            if isinstance(stmt, syntax.If):
                f1, a1 = self.block(stmt.body)
                f2, a2 = self.block(stmt.orelse)
                fwd_if = syntax.If(test=stmt.test, body=f1 or [syntax.Pass()], orelse=f2)
                forward.append(syntax.copy_location(fwd_if, stmt))
                if a1 or a2:
                    a1 = self.inits_for(stmt.body, False, set()) + a1
                    a2 = self.inits_for(stmt.orelse, False, set()) + a2
                    adj_if = syntax.If(test=syntax.clone(stmt.test), body=a1 or [syntax.Pass()],
                                       orelse=a2)
                    parts.append([syntax.copy_location(adj_if, stmt)])
            elif isinstance(stmt, (syntax.For, syntax.While)):
                f, a = self.loop(stmt)
                forward.extend(f)
                parts.append(a)
            elif isinstance(stmt, syntax.Assign) and is_store(stmt):
                undo = self._undo_of.get(id(stmt))
                if loop_body and (undo is not None or stored_name(stmt) in self.write_once):
                    forward.append(stmt)  # the loop records and restores what it overwrites
                    # what the adjoints of the statements before it read (an inner loop's
                    # reads its arrays) is the array as it was before the write
                    parts.append(self.assignment(stmt) + ([syntax.clone(undo)] if undo else []))
                    continue
                # save what the write overwrites; the adjoint puts it back (in a loop's
                # recomputed body: an array the iteration makes, or one whose writes the
                # loop logs)
                old = self.namer.fresh(f"{stored_name(stmt)}_old")
                target = stmt.targets[0]
                forward.append(syntax.assign(old, syntax.call(syntax.load("snapshot"), [
                    syntax.Subscript(value=syntax.load(target.value.id),
                                     slice=syntax.clone(target.slice), ctx=syntax.Load())]),
                    lineno=stmt.lineno))
                forward.append(stmt)
                restore = syntax.assign(syntax.Subscript(
                    value=syntax.load(target.value.id), slice=syntax.clone(target.slice),
                    ctx=syntax.Store()), syntax.load(old), lineno=stmt.lineno)
                parts.append(self.assignment(stmt) + [restore])
            elif isinstance(stmt, syntax.Assign) and self._active_call(stmt):
                forward.extend(self.kept_call(stmt))
                parts.append(self.assignment(stmt))
            elif isinstance(stmt, syntax.Assign):
                value = stmt.value
                if isinstance(value, syntax.Subscript) and isinstance(
                        value.value, syntax.Name) and value.value.id in self.stored:
                    # a value read from an array written later must not change with it
                    copy = syntax.clone(stmt)
                    copy.value = syntax.call(syntax.load("snapshot"), [syntax.clone(value)])
                    forward.append(copy)
                else:
                    forward.append(stmt)
                parts.append(self.assignment(stmt))
            else:
                forward.append(stmt)
        adjoint = []
        for part in reversed(parts):
            adjoint.extend(part)
        return forward, adjoint

    def assignment(self, stmt):
        target = stored_name(stmt)
        if not self.activity.active(target):
            return []
        if is_store(stmt):
            # a[i] = v: v's cotangent is what a's cotangent holds at i, which then clears
            sub = stmt.targets[0]
            out = [syntax.comment(self.canon.line_text(stmt.lineno))]
            value = stmt.value
            bar = self.bar(target)
            if isinstance(value, syntax.Name) and self.activity.active(value.id):
                vb = self.bar(value.id)
                read = syntax.Subscript(value=syntax.load(bar), slice=syntax.clone(sub.slice),
                                        ctx=syntax.Load())
                # v may be broadcast there
                if part_not_element(target, sub.slice, self.shapes.ranks):
                    read = syntax.call(syntax.load("unbroadcast"), [read, syntax.load(value.id)])
                part = syntax.call(syntax.load("snapshot"), [read])
                out.append(syntax.assign(vb, syntax.binop(syntax.load(vb), "+", part),
                                         lineno=stmt.lineno))
            out.append(syntax.assign(bar, syntax.call(syntax.load("index_zero"), [
                syntax.load(bar), index_value(sub.slice)]), lineno=stmt.lineno))
            return out
        key, rule, bound = describe(stmt.value, self.callees)
        g = syntax.load(self.bar(target))
        contributions = []
        pre = []  # statements the contributions read
        tuples = self.canon.call_tuples
        if rule is None and isinstance(stmt.value, syntax.Name) and stmt.value.id in tuples:
            raise NotDifferentiableError(
                "a tuple returned by a function of yours is carried by a loop here; nabla "
                "differentiates the tuples functions return only where they are unpacked",
                **self.canon.parsed.where(stmt),
                hint="unpack it where you call the function: a, b = h(...)")
        if callee_of(stmt.value, self.callees):
            pre, contributions = self.call_adjoint(stmt, target, g)
        elif key == "Subscript" and isinstance(bound["x"], syntax.Name) and \
                bound["x"].id in tuples:
            # t_0 = t[0] where h() returned t: element 0's cotangent takes t_0's
            contributions.append((f"{bound['x'].id}#{bound['index'].value}", g))
        elif rule is None:  # a copy or a tuple
            for _, name in differentiable_operands(rule, bound):
                if self.activity.active(name):
                    contributions.append((name, g))
        elif rule.kind != "diff":
            pass
        elif rule.seq is not None:
            seq = bound[rule.seq].elts
            for i, e in enumerate(seq):
                if isinstance(e, syntax.Name) and self.activity.active(e.id):
                    fmt = rule.seq_vjp.format(i=i, start=_offset(seq, i, bound),
                                              stop=_offset(seq, i + 1, bound))
                    contributions.append(
                        (e.id, instantiate(fmt, bound, {"g": g, "out": syntax.load(target)})))
        elif key == "Subscript":
            name = bound["x"].id if isinstance(bound["x"], syntax.Name) else None
            if name is not None and self.activity.active(name):
                # reading x[i]: add into x_bar[i] in place, rather than a whole new array
                update = syntax.call(syntax.load("index_add"), [
                    syntax.load(self.bar(name)), syntax.clone(bound["index_value"]), g])
                contributions.append((name, update, True))
        else:
            for p, name in differentiable_operands(rule, bound):
                if self.activity.active(name) and p not in rule.vjp:
                    raise NotDifferentiableError(
                        f"{key}() has no reverse-mode rule for its argument {p!r}, which "
                        "here depends on a differentiated input",
                        **self.canon.parsed.where(stmt),
                        hint="differentiate this in forward mode (jvp, jacfwd) instead")
                if self.activity.active(name) and p in rule.vjp:
                    expr = read_shapes_from(instantiate(
                        rule.vjp[p], bound, {"g": g, "out": syntax.load(target)},
                        same_shape=self.shapes.same(name, target)), self.shapes.shape_stand_in)
                    contributions.append((name, expr))
        contributions = [c if len(c) == 3 else (c[0], c[1], False) for c in contributions]
        commented = rule is not None or key == "Tuple"
        out = ([syntax.comment(self.canon.line_text(stmt.lineno))]
               if contributions and commented else [])
        overwritten = self.def_counts.get(target, 1) > 1 or id(stmt) in self.leaves_loop
        if overwritten and contributions:
            # the contributions read the cotangent of the new value before it is reset
            held = self.namer.temp()
            out.append(syntax.assign(held, g, lineno=stmt.lineno))
            g_node = syntax.load(held)
            contributions = [(n, syntax.substitute(e, {self.bar(target): g_node}), inplace)
                             for n, e, inplace in contributions]
            pre = [syntax.substitute(p, {self.bar(target): g_node}) for p in pre]
        if overwritten:
            reset = self.zero(target)
            reset.lineno = stmt.lineno
            out_reset = [reset]
        else:
            out_reset = []
        body = list(pre)
        for name, expr, inplace in contributions:
            b = self.bar(name)
            if inplace:
                body.append(syntax.assign(b, expr, lineno=stmt.lineno))
                continue
            body.append(syntax.assign(b, syntax.BinOp(left=syntax.load(b), op=syntax.parse_expr(
                "a + b").op, right=expr), lineno=stmt.lineno))
        if overwritten:
            return out + out_reset + body
        return out + body

    def _call_parts(self, stmt):
        """(callee, [(parameter, active argument)], ranks) of ``t = h(a, b)``; None when
        it is not a call of the user's function."""
        spelling = callee_of(stmt.value, self.callees)
        if spelling is None:
            return None
        callee = self.canon.callees[spelling]
        args = stmt.value.args
        params = callee.canon.params + callee.canon.free
        active = [(p, a.id) for p, a in zip(params, args) if p in callee.rule.vjp
                  and isinstance(a, syntax.Name) and self.activity.active(a.id)]
        ranks = None
        if self.shapes.ranks is not None:  # the callee's, from the arguments at this call
            ranks = tuple(self.shapes.ranks.get(a.id) if isinstance(a, syntax.Name) else
                          (0 if isinstance(a, syntax.Constant) else None) for a in args)
        return callee, active, ranks

    def _active_call(self, stmt) -> bool:
        """Whether ``stmt`` calls a function of the user's whose residuals the forward sweep
        keeps: an argument is active and the function is not checkpointed."""
        if is_store(stmt) or not self.activity.active(stored_name(stmt)):
            return False
        parts = self._call_parts(stmt)
        if parts is None or not parts[1] or parts[0].checkpointed:
            return False
        # a None passed in: Numba compiles the callee with the branches it decides pruned,
        # and its residuals would name values those branches set: it is recomputed
        passes_none = any(isinstance(a, syntax.Constant) and a.value is None
                          for a in stmt.value.args)
        return not passes_none or parts[0].custom is not None

    def kept_call(self, stmt):
        """``t = h(a, b)`` in the forward sweep: ``t_vjp = h_vjp(a, b)`` returns t and
        what h's backward function will read, kept for the adjoint sweep. (A custom_vjp's
        ``fwd`` returns t and its residuals; a custom_jvp keeps nothing.)"""
        callee = self._call_parts(stmt)[0]
        if callee.custom is not None and callee.custom.kind == "custom_jvp":
            return self._rule_value(stmt, callee)
        pair = self.namer.fresh(f"{stored_name(stmt)}_vjp")
        if callee.custom is not None:
            res = self.namer.fresh(f"{callee.spelling}_res")
            args = list(stmt.value.args[:len(callee.canon.params)]) + \
                self.canon.rule_free[callee.spelling]["fwd"]
            kept = Kept([syntax.load(res)], callee.rules["fwd"].spelling, pair, [res], args)
            note = (f"{syntax.to_source(stmt.value)} by your rule: {kept.fwd}, then "
                    f"{callee.rules['bwd'].spelling}")
        else:
            callee, active, ranks = self._call_parts(stmt)
            name, residuals = self.lib.vjp(callee, [p for p, _ in active], ranks)
            # the residuals that are the callee's parameters are the arguments of this call
            args = dict(zip(callee.canon.params + callee.canon.free, stmt.value.args))
            values = [args[r] if r in args else syntax.load(self.namer.fresh(
                f"{callee.spelling}_{r}")) for r in residuals]
            returned = [v.id for r, v in zip(residuals, values) if r not in args]
            kept = Kept(values, name, pair, returned, list(stmt.value.args))
            note = syntax.to_source(stmt.value) + (
                f", keeping what {name}_bwd reads" if returned else "")
        self.kept[id(stmt)] = kept
        first = syntax.assign(pair, syntax.call(syntax.load(kept.fwd), [
            syntax.clone(a) for a in kept.args]), lineno=stmt.lineno)
        first.col_offset = getattr(stmt, "col_offset", None)
        out = [syntax.comment(note), first]
        for i, n in enumerate([stored_name(stmt)] + kept.returned):
            out.append(syntax.assign(n, syntax.Subscript(
                value=syntax.load(pair), slice=syntax.const(i), ctx=syntax.Load()),
                lineno=stmt.lineno))
        return out

    def _rule_value(self, stmt, callee):
        """``t = f(a, b)`` of a custom_jvp in the forward sweep: the value its rule gives
        (at zero tangents), as JAX takes it under differentiation (a stable rule's value is
        finite where the body's may not be)."""
        obj = callee.custom
        args = stmt.value.args[:len(callee.canon.params)]
        diff = [i for i in range(len(args)) if i not in obj.nondiff_argnums]
        rule = callee.rules["jvp"].spelling
        free = self.canon.rule_free[callee.spelling]["jvp"]
        call = syntax.call(syntax.load(rule), [syntax.clone(args[i]) for i in obj.nondiff_argnums]
                           + [syntax.tuple_([syntax.clone(args[i]) for i in diff]),
                              syntax.tuple_(_zeros(args[i] for i in diff))]
                           + [syntax.clone(a) for a in free])
        target = stored_name(stmt)
        pair = self.namer.fresh(f"{target}_jvp")
        first = syntax.assign(pair, call, lineno=stmt.lineno)
        first.col_offset = getattr(stmt, "col_offset", None)
        return [syntax.comment(f"{syntax.to_source(stmt.value)} by your rule: {rule}'s value"),
                first, syntax.assign(target, syntax.Subscript(
                    value=syntax.load(pair), slice=syntax.const(0), ctx=syntax.Load()),
                    lineno=stmt.lineno)]

    def call_adjoint(self, stmt, target, g):
        """``t = h(a, b)``: the cotangents of the active arguments from h's backward
        function, given t's cotangent (each element's, for a tuple) and what the forward
        sweep kept (a checkpointed h: from one call of a function recomputing h)."""
        callee, active, ranks = self._call_parts(stmt)
        args = stmt.value.args
        if not active:
            return [], []
        if callee.outputs is None:
            seeds = [g]
        else:
            seeds = [syntax.load(self.bar(f"{target}#{i}")) for i in range(callee.outputs)]
        if callee.custom is not None:
            return self.custom_adjoint(stmt, callee, active, seeds)
        if id(stmt) in self.kept:
            kept = self.kept[id(stmt)]
            call = syntax.call(syntax.load(f"{kept.fwd}_bwd"),
                               seeds + [syntax.clone(v) for v in kept.values])
        else:
            name = self.lib.remat_vjp(callee, [p for p, _ in active], ranks)
            call = syntax.call(syntax.load(name), [syntax.clone(a) for a in args] + seeds)
        if len(active) == 1:
            return [], [(active[0][1], call)]
        bars = self.namer.fresh(f"{callee.spelling}_bars")
        pre = [syntax.assign(bars, call, lineno=stmt.lineno)]
        return pre, [(n, syntax.Subscript(value=syntax.load(bars), slice=syntax.const(i),
                                          ctx=syntax.Load())) for i, (_, n) in enumerate(active)]

    def custom_adjoint(self, stmt, callee, active, seeds):
        """The cotangents of ``t = f(a, b)`` by the user's rule: a custom_vjp's ``bwd``
        (given the nondiff arguments, what ``fwd`` kept and t's cotangent), a custom_jvp's
        jvp rule transposed (its output tangent, linear in the tangents, differentiated in
        reverse with respect to them, at zero tangents)."""
        obj, n = callee.custom, len(callee.canon.params)
        args = stmt.value.args[:n]
        arg = dict(zip(callee.canon.params, args))
        diff = [p for i, p in enumerate(callee.canon.params) if i not in obj.nondiff_argnums]
        free = self.canon.rule_free[callee.spelling]
        g = seeds[0] if callee.outputs is None else syntax.tuple_(seeds)
        if obj.kind == "custom_vjp":
            nondiff = [syntax.clone(args[i]) for i in obj.nondiff_argnums]
            values = [syntax.clone(v) for v in self.kept[id(stmt)].values]
            call = syntax.call(syntax.load(callee.rules["bwd"].spelling), nondiff + values
                               + [g] + [syntax.clone(a) for a in free["bwd"]])
            positions = [diff.index(p) for p, _ in active]
        else:
            lin = callee.rules["lin"]
            dots = dict(zip(diff, lin.canon.params[n:]))  # each one's tangent parameter
            # a tangent the rule's output does not depend on gives nothing
            active = [(p, name) for p, name in active if dots[p] in lin.rule.vjp]
            if not active:
                return [], []
            vjp = self.lib.transposed(lin, [dots[p] for p, _ in active])
            call = syntax.call(syntax.load(vjp), [syntax.clone(a) for a in args]
                               + _zeros(arg[p] for p in diff)
                               + [syntax.clone(a) for a in free["lin"]] + [g])
            positions = list(range(len(active))) if len(active) > 1 else [None]
        bars = self.namer.fresh(f"{callee.spelling}_bars")
        pre = [syntax.assign(bars, call, lineno=stmt.lineno)]
        contributions = []
        for (p, name), j in zip(active, positions):
            value = syntax.load(bars) if j is None else syntax.Subscript(
                value=syntax.load(bars), slice=syntax.const(j), ctx=syntax.Load())
            # the rule's cotangent has the argument's shape (checked: never a wrong number)
            contributions.append((name, syntax.call(syntax.load("cotangent_of"), [
                value, syntax.clone(arg[p])])))
        return pre, contributions


def _zeros(atoms) -> list:
    """``zero_like(a)`` for each atom: the tangents a rule is called with at zero."""
    return [syntax.call(syntax.load("zero_like"), [syntax.clone(a)]) for a in atoms]


def _float_values(canon, activity) -> set[str]:
    """Names that may take a float value: a differentiated value, or one assigned a float
    constant, a true division, a power, a function whose rule does not say ``integral``, or
    a value computed from such a name (not a comparison: a bool). (Parameters not
    differentiated are what they are: a tape like their first value holds them.)"""
    floats = {n for n in canon.params + canon.free if activity.active(n)}
    defs = [(stored_name(st), st.value) for st in assignments(canon.body) if not is_store(st)]

    def introduces(value) -> bool:
        if isinstance(value, syntax.Compare) or (
                isinstance(value, syntax.UnaryOp) and isinstance(value.op, syntax.Not)):
            return False  # a bool, whatever it compares
        for node in syntax.walk(value):
            if isinstance(node, syntax.Constant) and isinstance(node.value, float):
                return True
            if isinstance(node, syntax.BinOp) and isinstance(node.op, (syntax.Div, syntax.Pow)):
                return True
            if isinstance(node, syntax.Call) and not rules.fact(syntax.to_source(node.func),
                                                                  "integral", False):
                return True
        return any(n in floats or activity.active(n) for n in syntax.names_loaded(value))

    changed = True
    while changed:
        changed = False
        for name, value in defs:
            if name not in floats and introduces(value):
                floats.add(name)
                changed = True
    return floats


def _indexed(canon) -> set[str]:
    """Names read element-wise (``x[i]``): their cotangents are updated in place."""
    return {s.value.value.id for s in assignments(canon.body)
            if not is_store(s) and isinstance(s.value, syntax.Subscript)
            and isinstance(s.value.value, syntax.Name)}


def _with_body(canon, body, result):
    return dataclasses.replace(canon, body=body, result=result)


def _offset(seq, i, bound):
    """Source of where element ``i`` of a concatenated sequence starts along ``axis``."""
    axis = syntax.to_source(bound.get("axis", syntax.const(0)))
    parts = [f"np.shape({syntax.to_source(e)})[{axis}]" for e in seq[:i]]
    return " + ".join(parts) if parts else "0"
