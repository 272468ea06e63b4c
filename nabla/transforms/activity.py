"""What each canonical statement computes, and which values carry derivatives.

A value is *varied* if it depends, through differentiable operations, on an
input being differentiated, and *useful* if an output depends on it; it is
*active* if both. Transforms emit derivative code for active values only.

>>> from nabla import syntax
>>> op = syntax.parse_expr("np.sin(x)")
>>> key, rule, bound = describe(op, {})
>>> key, sorted(bound)
('np.sin', ['x'])
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import rules, syntax
from ..errors import NotDifferentiableError
from .ranks import example_ranks


def callee_rules(canon) -> dict:
    """spelling -> Rule of each of the user's functions that ``canon`` calls: what
    ``describe`` and ``callee_of`` are given for the statements of ``canon``."""
    return {sp: c.rule for sp, c in getattr(canon, "callees", {}).items()}


def callee_of(op, callees: dict):
    """The spelling of the user's function ``op`` calls, or None. ``callees``: see
    ``callee_rules``."""
    if isinstance(op, syntax.Call) and isinstance(op.func, syntax.Name) and \
            op.func.id in callees:
        return op.func.id
    return None


def describe(op, callees: dict):
    """(rule key, rule or None, {parameter: operand node}) for a canonical operation.
    ``callees``: the rules of the user's functions the code calls (``callee_rules``)."""
    if isinstance(op, syntax.Name) or isinstance(op, syntax.Constant) or (
        isinstance(op, syntax.Attribute) and not _is_value_attribute(op)
    ):
        return "copy", None, {"x": op}
    if isinstance(op, syntax.BinOp):
        key = syntax.rule_key(op)
        return key, rules.lookup(key), {"x": op.left, "y": op.right}
    if isinstance(op, syntax.UnaryOp):
        key = syntax.rule_key(op)
        return key, rules.lookup(key), {"x": op.operand}
    if isinstance(op, syntax.Compare):
        key = syntax.rule_key(op)
        return key, rules.lookup(key), {"x": op.left, "y": op.comparators[0]}
    if isinstance(op, syntax.Attribute):
        key = f"Attribute.{op.attr}"
        return key, rules.lookup(key), {"x": op.value}
    if isinstance(op, syntax.Subscript):
        return "Subscript", rules.lookup("Subscript"), {
            "x": op.value, "index": op.slice, "index_value": index_value(op.slice)}
    if isinstance(op, syntax.Tuple):
        return "Tuple", None, {f"e{i}": e for i, e in enumerate(op.elts)}
    if isinstance(op, syntax.Call):
        key = syntax.to_source(op.func)
        rule = rules.lookup(key) or callees.get(key)
        if rule is None:
            raise AssertionError(f"no rule for {key} in canonical code")
        bound = rule.bind(list(op.args), {k.arg: k.value for k in op.keywords})
        for p in rule.params:
            if p not in bound:
                bound[p] = syntax.const(rule.defaults.get(p))
        return key, rule, bound
    raise AssertionError(f"not a canonical operation: {syntax.to_source(op)}")


def _is_value_attribute(op) -> bool:
    """x.T, x.shape (an operation) as opposed to np.pi (a constant)."""
    return not syntax.to_source(op).startswith(("np.", "math."))


def index_value(index):
    """An index as a value: ``1:3`` becomes ``slice(1, 3, None)``."""
    if isinstance(index, syntax.Slice):
        parts = [syntax.clone(getattr(index, k)) if getattr(index, k) is not None
                 else syntax.const(None) for k in ("lower", "upper", "step")]
        return syntax.call(syntax.load("slice"), parts)
    if isinstance(index, syntax.Tuple):
        return syntax.tuple_([index_value(e) for e in index.elts])
    return syntax.clone(index)


def differentiable_operands(rule, bound):
    """(parameter, name) pairs through which a derivative can flow."""
    out = []
    if rule is None:
        for p, node in bound.items():
            if p == "index_value":
                continue
            out.extend((p, n) for n in _names_in(node))
        return out
    if rule.kind != "diff":
        return out
    for p, node in bound.items():
        if p == rule.seq:
            for i, e in enumerate(node.elts):
                if isinstance(e, syntax.Name):
                    out.append((f"{p}[{i}]", e.id))
        elif p in rule.vjp or p in rule.jvp:
            if isinstance(node, syntax.Name):
                out.append((p, node.id))
    return out


def _names_in(node):
    return [n for n in syntax.names_loaded(node)]


@dataclass
class Activity:
    varied: set
    useful: set

    def active(self, name: str) -> bool:
        return name in self.varied and name in self.useful


def assignments(stmts):
    """Every assignment in ``stmts``, nested blocks included, in textual order."""
    for stmt in stmts:
        if isinstance(stmt, syntax.Assign):
            yield stmt
        elif isinstance(stmt, (syntax.If, syntax.For, syntax.While)):
            yield from assignments(stmt.body)
            yield from assignments(stmt.orelse)


def is_store(stmt) -> bool:
    """``a[i] = v``: a write into an array."""
    return isinstance(stmt.targets[0], syntax.Subscript)


def stored_name(stmt) -> str:
    target = stmt.targets[0]
    return target.value.id if isinstance(target, syntax.Subscript) else target.id


def _check(canon, stmt, key, rule, bound, touched):
    if rule is not None and rule.kind == "random":
        raise NotDifferentiableError(
            f"{key}() is called with an argument that depends on a differentiated input",
            **canon.parsed.where(stmt),
            hint="draw standard samples (np.random.standard_normal(shape)) and "
            "transform them: mu + sigma * z is differentiable",
        )
    if rule is not None and rule.values_from:
        params = rule.values_from(bound) if callable(rule.values_from) else rule.values_from
        hit = [p for p in params if p in bound and set(_names_in(bound[p])) & touched]
        if hit:
            message, hint = rule.no_derivative
            raise NotDifferentiableError(message.format(fn=key), **canon.parsed.where(stmt),
                                         hint=hint)
    if rule is None or rule.kind in ("zero", "inactive"):
        return
    flows = {n for _, n in differentiable_operands(rule, bound)}
    shape_only = {n for p in rule.nondiff if p in bound for n in _names_in(bound[p])}
    blocked = touched - flows - shape_only
    if blocked and rule.no_derivative is not None:
        message, hint = rule.no_derivative
        first = bound.get(rule.params[0])
        raise NotDifferentiableError(
            message.format(fn=syntax.to_source(first) if first is not None else key),
            **canon.parsed.where(stmt), hint=hint)
    if blocked:
        params = [p for p, node in bound.items()
                  if p != "index_value" and set(_names_in(node)) & blocked]
        raise NotDifferentiableError(
            f"{key}() has no derivative with respect to its argument "
            f"{', '.join(repr(p) for p in params)}, which here depends on a "
            "differentiated input",
            **canon.parsed.where(stmt),
            hint="make that argument a constant, or wrap it in a function nabla can "
            "differentiate",
        )


def analyse(canon, wrt: list[str], outputs: list[str], check: bool = True) -> Activity:
    """Varied and useful names of ``canon`` for derivatives of ``outputs`` w.r.t. ``wrt``.

    Names assigned in loops and branches may be assigned more than once, so both
    sets are computed to a fixed point over every assignment of the function.
    """
    callees = callee_rules(canon)
    stmts = list(assignments(canon.body))
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for stmt in stmts:
            target = stored_name(stmt)
            if target in varied:
                continue
            if is_store(stmt):
                value_names = _names_in(stmt.value)
                if any(n in varied for n in value_names):
                    varied.add(target)
                    changed = True
                continue
            key, rule, bound = describe(stmt.value, callees)
            touched = {n for n in _names_in(stmt.value) if n in varied}
            if not touched:
                continue
            if check:
                _check(canon, stmt, key, rule, bound, touched)
            if rule is not None and rule.kind in ("zero", "inactive"):
                continue
            flows = {n for _, n in differentiable_operands(rule, bound)}
            if flows & varied:
                varied.add(target)
                changed = True
    useful = set(outputs)
    changed = True
    while changed:
        changed = False
        for stmt in reversed(stmts):
            target = stored_name(stmt)
            if target not in useful:
                continue
            if is_store(stmt):
                new = {n for n in _names_in(stmt.value) if n in varied} - useful
            else:
                key, rule, bound = describe(stmt.value, callees)
                new = {n for _, n in differentiable_operands(rule, bound) if n in varied}
                new -= useful
            if new:
                useful |= new
                changed = True
    return Activity(varied=varied, useful=useful)


class ShapeClasses:
    """Which names provably have the same shape (union-find over elementwise results).

    ``sin(x)`` has the shape of ``x``; so does ``x * t1`` when ``t1`` has it, and
    ``x * 2.0``. Transforms drop ``unbroadcast`` and ``broadcast_like`` between
    names of one class.
    """

    SCALAR = "<scalar>"

    def __init__(self, canon, scalar_outputs=(), ranks=None):
        """``ranks``: the number of dimensions of each parameter, where the call that the
        code is generated for tells them; every name they prove to be a scalar joins the
        scalars (so a loop's scalar accumulator needs no tape just for its shape)."""
        self.ranks = None  # every name's number of dimensions (None: unknown), with ranks
        self._build(canon, scalar_outputs, callee_rules(canon))
        # names defined wherever an adjoint runs, in order of preference (shape_stand_in)
        counts: dict[str, int] = {}
        for st in assignments(canon.body):
            counts[stored_name(st)] = counts.get(stored_name(st), 0) + 1
        loop_targets = {n.id for st in syntax.walk_statements(canon.body)
                        if isinstance(st, syntax.For) for n in syntax.walk(st.target)
                        if isinstance(n, syntax.Name)}
        top = [stored_name(st) for st in canon.body if isinstance(st, syntax.Assign)
               and not is_store(st)]
        users = [n for n in top if n in canon.user_names]  # kept anyway: no new value kept
        self._always = [n for n in canon.params + canon.free + users + top
                        if counts.get(n, 0) == (n in top) and n not in loop_targets]
        self._stand_ins = None
        if ranks:
            self.ranks = example_ranks(canon, ranks)
            for name, r in self.ranks.items():
                if r == 0:
                    self.union(name, self.SCALAR)

    def _build(self, canon, scalar_outputs, callees):
        self.parent: dict[str, str] = {}
        for name in scalar_outputs:
            self.union(name, self.SCALAR)
        self.stmts = [s for s in assignments(canon.body) if not is_store(s)]
        counts: dict[str, int] = {}
        for s in assignments(canon.body):
            counts[stored_name(s)] = counts.get(stored_name(s), 0) + 1
        # a name assigned more than once (in a loop, a branch) or written into gets no facts
        self.stmts = [s for s in self.stmts if counts[stored_name(s)] == 1
                      and not any(is_store(t) and stored_name(t) == stored_name(s)
                                  for t in assignments(canon.body))]
        for stmt in self.stmts:
            target = stmt.targets[0].id
            key, rule, bound = describe(stmt.value, callees)
            how = rule.rank if rule is not None else None
            if how == "scalar" or (how == "whole" and all(
                    syntax.is_const(v) and v.value in (None, False)
                    for p, v in bound.items() if p in ("axis", "keepdims"))):
                self.union(target, self.SCALAR)
        self._calls(canon, callees)
        self._elementwise(canon, callees)
        # names assigned more than once (loop-carried values, branch merges) are scalars
        # when every assignment is a scalar, and pass being a scalar back to the copies
        # that assign them: a variable keeps its kind across iterations, as Numba requires
        multi = [s for s in assignments(canon.body) if not is_store(s)
                 and counts[stored_name(s)] > 1]
        # an elementwise result that is a scalar has scalar operands (no broadcasting
        # makes a scalar), and a value computed from scalars only is a scalar
        for _ in range(4):
            by_name: dict[str, list] = {}
            for stmt in multi:
                by_name.setdefault(stored_name(stmt), []).append(stmt.value)
            for name, values in by_name.items():
                scalar_values = [isinstance(v, syntax.Constant) or (
                    isinstance(v, syntax.Name) and self.same(v.id, self.SCALAR))
                    for v in values]
                if all(scalar_values) and name not in self.parent.get(self.SCALAR, ""):
                    self.union(name, self.SCALAR)
                if self.same(name, self.SCALAR):
                    for v in values:
                        if isinstance(v, syntax.Name):
                            self.union(v.id, self.SCALAR)
            for stmt in reversed(self.stmts):
                target = stmt.targets[0].id
                key, rule, bound = describe(stmt.value, callees)
                if rule is None or not rule.elementwise or rule.kind != "diff":
                    continue
                names = [n.id for n in bound.values() if isinstance(n, syntax.Name)]
                if self.same(target, self.SCALAR):
                    for n in names:
                        self.union(n, self.SCALAR)
            self._elementwise(canon, callees)

    def _calls(self, canon, callees):
        """``t = h(x)``: t has x's shape when h's result provably has its parameter's (or
        is a scalar when h's is); likewise each element of a tuple h returns."""
        calls = {}
        for stmt in self.stmts:
            sp = callee_of(stmt.value, callees)
            if sp is not None:
                calls[stmt.targets[0].id] = (canon.callees[sp], stmt.value.args)
        for stmt in self.stmts:
            target = stmt.targets[0].id
            value = stmt.value
            if target in calls:
                callee, args = calls[target]
                if callee.outputs is not None:
                    continue
                out = callee.canon.result
            elif isinstance(value, syntax.Subscript) and isinstance(value.value, syntax.Name) \
                    and value.value.id in calls and syntax.is_const(value.slice):
                callee, args = calls[value.value.id]
                if callee.outputs is None or not isinstance(callee.canon.result, syntax.Tuple):
                    continue  # an element of an array the callee returned, not of a tuple
                out = callee.canon.result.elts[value.slice.value]
            else:
                continue
            if not isinstance(out, syntax.Name):
                if syntax.is_const(out):
                    self.union(target, self.SCALAR)
                continue
            inner = callee.shapes
            if inner.same(out.id, self.SCALAR):
                self.union(target, self.SCALAR)
            for p, a in zip(callee.canon.params + callee.canon.free, args):
                if isinstance(a, syntax.Name) and inner.same(out.id, p):
                    self.union(target, a.id)

    def _elementwise(self, canon, callees):
        for stmt in self.stmts:
            target = stmt.targets[0].id
            key, rule, bound = describe(stmt.value, callees)
            if key == "copy":
                node = bound["x"]
                if isinstance(node, syntax.Name):
                    self.union(target, node.id)
                continue
            if rule is not None and rule.shaped_like is not None:  # unbroadcast(v, like)
                like = bound.get(rule.shaped_like)
                if isinstance(like, syntax.Name):
                    self.union(target, like.id)
                continue
            if rule is None or not rule.elementwise or rule.kind != "diff":
                continue
            names = {n.id for n in bound.values() if isinstance(n, syntax.Name)}
            others = [n for n in bound.values()
                      if not isinstance(n, (syntax.Name, syntax.Constant))]
            if others or not names:
                continue
            roots = {self.find(n) for n in names}
            if len(roots) == 1:
                self.union(target, names.pop())

    def shape_stand_in(self, name: str) -> str:
        """A name of ``name``'s class defined wherever the adjoint runs (a parameter never
        assigned again, else a variable of the user's, else a temporary, assigned once at
        the top level), to read its
        shape from: ``expand_reduced(g, t2, None)`` reads x's shape where t2 = x * x, and
        t2 is then needed nowhere else (or ``name`` itself)."""
        if self._stand_ins is None:
            self._stand_ins = {}
            for n in self._always:
                self._stand_ins.setdefault(self.find(n), n)
        if self.same(name, self.SCALAR):
            return name
        return self._stand_ins.get(self.find(name), name)

    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb

    def same(self, a: str, b: str) -> bool:
        return self.find(a) == self.find(b)
