"""Scatter to gather: a reverse loop whose iterations add into ``x_bar[i]`` and
``x_bar[i + 1]`` becomes a loop that writes each ``x_bar[i]`` once, summing what
the iterations ``i`` and ``i - 1`` added, with the ends peeled. Every element of
``x_bar`` then depends on one iteration of the new loop only, so it vectorizes (the
loop Rosenbrock's gradient at n = 10^5 under Numba: 1.7x faster, 107 to 62 us).

It applies only where the rewrite provably keeps the result: a loop at the top level
of the function, over a step-one range, whose body is straight-line code that
recomputes its values from the counter and from names the loop does not change,
carries no state between iterations except names it leaves as they were (a
cotangent it only reads), changes nothing but the gradient arrays, each only by
``index_add`` at the counter plus a constant, and reads none of them; nothing after
the loop reads what the body assigned. Anything else is left as it is.

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in [
...     "for k in range(n - 1, -1, -1):\\n    i = k\\n    t2 = i + 1\\n"
...     "    x_bar = index_add(x_bar, i, x[t2])\\n    x_bar = index_add(x_bar, t2, x[i])",
...     "return x_bar"]]
>>> print(syntax.to_source(syntax.function_def("f_grad", ["x", "x_bar", "n"],
...                                            gather_loops(body))))  # doctest: +ELLIPSIS
def f_grad(x, x_bar, n):
    # gather form: each x_bar[i] written once (the scatter into x_bar[i], x_bar[i + 1] ...
    for k in range(0, min(1, n)):
        i = k
        t1 = x[k + 1]
        x_bar = index_add(x_bar, k, t1)
    for k in range(1, n):
        i = k
        t3 = x[k + 1]
        i_1 = k - 1
        t5 = x[i_1]
        x_bar = index_add(x_bar, k, t3 + t5)
    for k in range(max(1, n), n + 1):
        i_1 = k - 1
        t6 = x[i_1]
        x_bar = index_add(x_bar, k, t6)
    return x_bar
"""

from __future__ import annotations

from .. import rules, syntax
from ..names import Namer
from .bodies import assigned_names, dotted, target
from .optimize import _TEMP, live_in, simplify


def gather_loops(body: list, keep=frozenset()) -> list:
    """``body`` (a function's statements) with each top-level reverse loop that scatters
    into gradient arrays at the counter plus constants rewritten in gather form (``body``
    itself where none is); ``keep`` are the user's names, never replaced by what they
    hold."""
    taken = {n.id for s in body for n in syntax.walk(s) if isinstance(n, syntax.Name)}
    namer = Namer(taken)
    out, changed = [], False
    for pos, s in enumerate(body):
        made = _gather(s, body[pos + 1:], namer, keep, out) if isinstance(s, syntax.For) \
            else None
        if made is None:
            out.append(s)
            continue
        new, covered = made
        for a, rows in sorted(covered.items()):
            init = _init_outside(out, a, rows)
            if init is not None:
                new = init + new
        out.extend(new)
        changed = True
    return out if changed else body


def _init_outside(before, a, rows):
    """``[comment, a = zeros_outside(x, first, last, lo, hi)]``, taking the place of ``a
    = zero_like(x)`` (removed from ``before``), when the loops that follow store into every
    row ``rows`` names; None where ``x`` changes between them."""
    at = _last_mention(before, a)  # the zero_like assignment (_zeroed found it)
    zero = before[at].value
    if len(zero.args) != 1 or zero.keywords:
        return None
    first, last, lo, hi = rows
    between = assigned_names(before[at + 1:])
    if between & set(syntax.names_loaded(zero.args[0])):
        return None
    del before[at]
    call = syntax.call(syntax.load("zeros_outside"), [
        syntax.clone(zero.args[0]), first.node(), last.node(), syntax.const(lo),
        syntax.const(hi)])
    return [syntax.comment(f"{a}: zeros, but for the elements the loops below write, once "
                           "each"), syntax.assign(a, call)]


def _zeroed(before, arrays) -> set[str]:
    """The ``arrays`` whose last mention in the statements ``before`` is their
    assignment from a helper that fills with zeros (``x_bar = zero_like(x)``): all zero."""
    out = set()
    for a in arrays:
        at = _last_mention(before, a)
        s = before[at] if at is not None else None
        v = getattr(s, "value", None)
        if isinstance(s, syntax.Assign) and target(s) == a and isinstance(
                v, syntax.Call) and rules.fact(dotted(v.func), "fill") == 0.0 and \
                a not in syntax.names_loaded(v):
            out.add(a)
    return out


def _last_mention(stmts, name):
    """The position of the last statement of ``stmts`` that mentions ``name``, or None."""
    for i in range(len(stmts) - 1, -1, -1):
        if any(isinstance(n, syntax.Name) and n.id == name for n in syntax.walk(stmts[i])):
            return i
    return None


# -- affine values: (coefficient of the counter, a loop-invariant name or None, constant) --
def _affine(expr, counter, known, invariant):
    """``expr`` as ``coef * counter + base + const``, or None: ``known`` maps body names to
    their affine values, ``invariant`` tells a name the loop does not change."""
    if isinstance(expr, syntax.Name):
        if expr.id == counter:
            return (1, None, 0)
        if expr.id in known:
            return known[expr.id]
        return (0, expr.id, 0) if invariant(expr.id) else None
    if syntax.is_const(expr) and type(expr.value) is int:
        return (0, None, expr.value)
    if isinstance(expr, syntax.UnaryOp) and syntax.operator(expr) == "-":
        a = _affine(expr.operand, counter, known, invariant)
        return None if a is None or a[1] is not None else (-a[0], None, -a[2])
    if isinstance(expr, syntax.BinOp) and syntax.operator(expr) in ("+", "-"):
        a = _affine(expr.left, counter, known, invariant)
        b = _affine(expr.right, counter, known, invariant)
        if a is None or b is None:
            return None
        sign = 1 if syntax.operator(expr) == "+" else -1
        if b[1] is not None and (sign < 0 or a[1] is not None):
            return None
        return (a[0] + sign * b[0], a[1] or b[1], a[2] + sign * b[2])
    return None


def _expr(base, counter, const):
    """The source of ``base + counter + const`` (either of the first two may be None)."""
    terms = [t for t in (base, counter) if t is not None]
    text = " + ".join(terms) if terms else str(const)
    if terms and const:
        text += f" + {const}" if const > 0 else f" - {-const}"
    return syntax.parse_expr(text)


class _Bound:
    """An integer bound ``expr + const`` (``expr`` an expression or None)."""

    def __init__(self, expr, const=0):
        self.expr, self.const = expr, const

    @classmethod
    def of(cls, expr):
        a = _affine(expr, None, {}, lambda n: True)
        if a is not None:
            return cls(a[1] and syntax.load(a[1]), a[2])
        return cls(expr)

    def plus(self, c):
        return _Bound(self.expr, self.const + c)

    def same_base(self, other):
        if self.expr is None or other.expr is None:
            return self.expr is other.expr
        return syntax.to_source(self.expr) == syntax.to_source(other.expr)

    def node(self):
        if self.expr is None:
            return syntax.const(self.const)
        if not self.const:
            return syntax.clone(self.expr)
        op = "a + b" if self.const > 0 else "a - b"
        node = syntax.parse_expr(op)
        node.left, node.right = syntax.clone(self.expr), syntax.const(abs(self.const))
        return simplify(node)


def _extreme(fn, a, b):
    """``min(a, b)`` or ``max(a, b)`` of two bounds, decided here when they share a base."""
    if a.same_base(b):
        return _Bound(a.expr, (min if fn == "min" else max)(a.const, b.const)).node()
    return syntax.call(syntax.load(fn), [a.node(), b.node()])


# -- the rewrite ----------------------------------------------------------------------------
def _range_bounds(loop):
    """(first, last) counter values of a step-one range loop, as bounds, or None."""
    it = loop.iter
    if not (isinstance(it, syntax.Call) and isinstance(it.func, syntax.Name)
            and it.func.id == "range" and len(it.args) == 3 and not it.keywords):
        return None
    a, b, c = it.args
    step = _affine(c, None, {}, lambda n: False)
    if step is None or step[0] != 0 or step[2] not in (1, -1):
        return None
    if step[2] == 1:
        return _Bound.of(a), _Bound.of(b).plus(-1)
    return _Bound.of(b).plus(1), _Bound.of(a)


def _index_add(stmt):
    """(array, index, value) of ``a = index_add(a, i, v)``, else None."""
    v = stmt.value
    if (isinstance(v, syntax.Call) and isinstance(v.func, syntax.Name)
            and v.func.id == "index_add" and len(v.args) == 3 and not v.keywords
            and isinstance(v.args[0], syntax.Name) and v.args[0].id == target(stmt)):
        return v.args[0].id, v.args[1], v.args[2]
    return None


def _calls_ok(expr) -> bool:
    """No call in ``expr`` changes an array in place or state (a draw, a log): a body
    making one is left alone."""
    for node in syntax.walk(expr):
        if isinstance(node, syntax.Call):
            rule = rules.lookup(dotted(node.func))
            if rule is not None and (rule.in_place or rule.impure):
                return False
    return True


def _exposed(stmts) -> set[str]:
    """Names straight-line ``stmts`` read before assigning them."""
    out, assigned = set(), set()
    for s in stmts:
        out |= set(syntax.names_loaded(s.value)) - assigned
        assigned.add(target(s))
    return out


def _carried_unchanged(stmts, carried) -> bool:
    """Whether each name of ``carried`` ends the body holding the value it started with
    (``t9 = s_bar; s_bar = t9``)."""
    value = {}
    for n, s in enumerate(stmts):
        t = target(s)
        if isinstance(s.value, syntax.Name):
            value[t] = value.get(s.value.id, ("in", s.value.id))
        else:
            value[t] = ("stmt", n)
    return all(value.get(n, ("in", n)) == ("in", n) for n in carried)


def _gather(loop, after, namer, keep, before=()):
    """``_rewrite``'s (statements replacing ``loop``, rows they store into), or None where
    the rewrite does not apply; ``before``: the statements ahead of it."""
    if loop.orelse or not isinstance(loop.target, syntax.Name):
        return None
    counter = loop.target.id
    bounds = _range_bounds(loop)
    stmts = [s for s in loop.body if syntax.comment_text(s) is None
             and not isinstance(s, syntax.Pass)]
    if bounds is None or not all(isinstance(s, syntax.Assign) and target(s) for s in stmts):
        return None
    assigned = {target(s) for s in stmts}
    adds = {id(s): _index_add(s) for s in stmts}
    arrays = {a[0] for a in adds.values() if a is not None}
    if not arrays or counter in assigned:
        return None
    # each name but the arrays assigned once: a name's value is the one its statement gives
    names = [target(s) for s in stmts if target(s) not in arrays]
    if len(names) != len(set(names)):
        return None
    # the arrays: changed only by index_add, read nowhere else in the body
    for s in stmts:
        add = adds[id(s)]
        if add is None:
            if target(s) in arrays or arrays & set(syntax.names_loaded(s.value)):
                return None
            if not _calls_ok(s.value):
                return None
        elif arrays & set(syntax.names_loaded(add[1]) + syntax.names_loaded(add[2])) or not (
                _calls_ok(add[1]) and _calls_ok(add[2])):
            return None
    # loop-invariant names: the bounds' and the indices' bases are not changed by the body
    for bound in bounds:
        if bound.expr is not None and set(syntax.names_loaded(bound.expr)) & (
                assigned | {counter}):
            return None
    # state carried between iterations: only names the body leaves unchanged
    carried = _exposed(stmts) & assigned
    if not _carried_unchanged(stmts, carried - arrays):
        return None
    # nothing after the loop reads what the body assigned, nor the counter
    rest = live_in(list(after))
    if rest & ((assigned - arrays - carried) | {counter}):
        return None
    # the counter's affine names, and each addition's offset
    known = {}
    offsets: dict[str, set[int]] = {a: set() for a in arrays}
    bases: dict[str, str | None] = {}
    for s in stmts:
        add = adds[id(s)]
        if add is not None:
            a = _affine(add[1], counter, known, lambda n: n not in assigned)
            if a is None or a[0] != 1 or bases.setdefault(add[0], a[1]) != a[1]:
                return None
            offsets[add[0]].add(a[2])
            continue
        a = _affine(s.value, counter, known, lambda n: n not in assigned)
        t = target(s)
        if a is not None and a[0] == 1:
            known[t] = a
    every = sorted(set().union(*offsets.values()))
    if len(every) < 2:
        return None  # every element is written once already
    return _rewrite(loop, stmts, adds, counter, bounds, every, known, bases, carried,
                    assigned, namer, keep, _zeroed(before, arrays), offsets)


def _rewrite(loop, stmts, adds, counter, bounds, every, known, bases, carried, assigned,
             namer, keep, zeroed=frozenset(), offsets=None):
    """(the statements replacing ``loop``, {array: (first, last, lo, hi)} for each array
    whose rows ``first + lo`` to ``last + hi`` the new loops store into, once each)."""
    first, last = bounds
    lo, hi = every[0], every[-1]
    if first.expr is not None or first.const + lo < 0:
        # an element may be named twice (x_bar[-1] is x_bar[n - 1]): added, not stored
        zeroed = set()
    zeroed = {a for a in zeroed if bases[a] is None}
    covered = {}
    if len(every) == 2 and hi == lo + 1:  # every write a store, the rows written contiguous
        covered = {a: (first, last, min(offsets[a]), max(offsets[a])) for a in zeroed}
    kept_names = 0 if 0 in every else lo
    renames = {}

    def names_for(d):
        if d == kept_names:
            return {}
        if d not in renames:
            mapping, temps = {}, {}
            for n in sorted(assigned - set(bases)):
                m = _TEMP.match(n)
                if m:
                    base = f"t{m.group(2)}"
                    if base not in temps:
                        temps[base] = namer.temp()
                    rest = n[len(base):]
                    mapping[n] = namer.fresh(temps[base] + rest) if rest else temps[base]
                else:
                    mapping[n] = namer.fresh(n)
            renames[d] = mapping
        return renames[d]

    def copy(d):
        """The body at iteration ``counter - d``: its statements, and its additions into
        each array at ``counter`` (as names of temporaries holding them). Temporaries that
        only name an index (``t2 = i + 1``) or copy a name the loop leaves alone
        (``t9 = s_bar``) are replaced by what they hold."""
        mapping = names_for(d)
        out, parts = [], {a: [] for a in bases}
        env = {counter: _expr(None, counter, -d)} if d else {}
        for s in stmts:
            add = adds[id(s)]
            value = s.value if add is None else add[2]
            value = simplify(syntax.substitute(value, env))
            line = getattr(s, "lineno", None)
            if add is not None:
                a = _affine(add[1], counter, known, lambda n: n not in assigned)
                if a[2] == d:
                    part = namer.temp()
                    out.append(syntax.assign(part, value, lineno=line))
                    parts[add[0]].append(part)
                continue
            t = target(s)
            if t in carried:
                continue  # it gets back the value it has (``s_bar = t9``, ``t9 = s_bar``)
            if t in known:
                a = known[t]
                value = _expr(a[1], counter, a[2] - d)
            temporary = _TEMP.match(t) and t not in keep
            if temporary and (t in known or isinstance(value, syntax.Name) and (
                    value.id not in assigned or value.id in carried)):
                env[t] = value
                continue
            env[t] = syntax.load(mapping.get(t, t))
            out.append(syntax.assign(mapping.get(t, t), value, lineno=line))
        return out, parts

    def body(ds, once=False):
        """The iterations ``counter - d`` for each ``d`` of ``ds``; ``once``: no other
        statement of this loop writes the elements this one does, so an array that was all
        zeros gets its sum stored (``x_bar[i] = t3 + t5``) rather than added."""
        out, parts = [], {a: [] for a in bases}
        for d in ds:
            stmts_d, parts_d = copy(d)
            out += stmts_d
            for a in parts:
                parts[a] += parts_d[a]
        for a in sorted(parts):
            if not parts[a]:
                continue
            store = once and a in zeroed
            if store:  # the parts' values in the store itself, as index_add gets them folded
                defs = {target(st): st for st in out if target(st) in parts[a]}
                out = [st for st in out if target(st) not in defs]
                terms = [syntax.clone(defs[p].value) for p in parts[a]]
            else:
                terms = [syntax.load(p) for p in parts[a]]
            total = terms[0]
            for term in terms[1:]:
                total = syntax.binop(total, "+", term)
            index = _expr(bases[a], counter, 0)
            if store:
                out.append(syntax.parse_stmt(f"{a}[{syntax.to_source(index)}] = "
                                             f"{syntax.to_source(total)}"))
            else:
                out.append(syntax.assign(a, syntax.call(syntax.load("index_add"), [
                    syntax.load(a), index, total])))
        return out

    def guarded(d, lower, upper):
        """``body([d])``, under the test that iteration ``counter - d`` exists."""
        if not (lower or upper):
            return body([d])
        # (two comparisons joined by ``and``, not chained: normalize, which reads this code
        # again under jvp or vmap, mishandles a chained comparison of a loop's variable)
        tests = []
        if lower:
            tests.append(f"{syntax.to_source(first.plus(d).node())} <= {counter}")
        if upper:
            tests.append(f"{counter} <= {syntax.to_source(last.plus(d).node())}")
        test = syntax.parse_expr(" and ".join(tests))
        return [syntax.If(test=test, body=body([d]), orelse=[])]

    def loop_over(start, stop, stmts_):
        new = syntax.For(target=syntax.store(counter),
                         iter=syntax.call(syntax.load("range"), [start, stop]),
                         body=stmts_, orelse=[], type_comment=None)
        return syntax.copy_location(new, loop)

    out = [syntax.comment(_describe(stmts, adds, known, counter, bases, every))]
    # the start: elements fewer iterations add into (no iteration counter - d for large d)
    # (each loop writes elements no other writes: counter + base, over ranges apart)
    head = body([lo], once=True) if len(every) == 2 else [
        st for d in every[:-1] for st in guarded(d, d != lo, False)]
    out.append(loop_over(first.plus(lo).node(),
                         _extreme("min", first.plus(hi), last.plus(lo + 1)), head))
    # the interior: every iteration adds into each element
    out.append(loop_over(first.plus(hi).node(), last.plus(lo + 1).node(),
                         body(every, once=True)))
    # between the ends, when the range is shorter than the offsets span: middle offsets only
    if len(every) > 2:
        middle = [st for d in every[1:-1] for st in guarded(d, True, True)]
        out.append(loop_over(last.plus(lo + 1).node(), first.plus(hi).node(), middle))
    # the end: no iteration counter - d for small d
    tail = body([hi], once=True) if len(every) == 2 else [
        st for d in every[1:] for st in guarded(d, False, d != hi)]
    out.append(loop_over(_extreme("max", first.plus(hi), last.plus(lo + 1)),
                         last.plus(hi + 1).node(), tail))
    return out, covered


def _describe(stmts, adds, known, counter, bases, every) -> str:
    """``gather form: each x_bar[i] written once (the scatter into x_bar[i], x_bar[i + 1]
    rewritten; the ends peeled)``, in the user's loop variable where the body names one."""
    user = next((n for n, a in known.items() if not _TEMP.match(n)), None)
    arrays = sorted(bases)
    offsets = {a: sorted({_affine(add[1], counter, known, lambda n: True)[2]
                          for add in adds.values() if add is not None and add[0] == a})
               for a in arrays}

    def index(a, d):
        if user and known[user][1] == bases[a]:  # in the user's variable: i + (d - shift)
            return _index_text(None, user, d - known[user][2])
        return _index_text(bases[a], counter, d)
    each = ", ".join(f"{a}[{user or counter}]" for a in arrays)
    scatter = ", ".join(f"{a}[{index(a, d)}]" for a in arrays for d in offsets[a])
    return (f"gather form: each {each} written once (the scatter into {scatter} rewritten;"
            " the ends peeled)")


def _index_text(base, var, const) -> str:
    return syntax.to_source(_expr(base, var, const))

