"""Copy an array before updating it in place, unless the code owns it alone.

Adjoint code adds into a cotangent in place (``x_bar = index_add(x_bar, i, g)``,
``index_zero``): fast, and right only when no other name, and no caller, holds the
same array. An argument (a cotangent passed to a vjp's backward function), a value a
helper may hand back unchanged (``unbroadcast`` returns ``g`` itself when no axis is
summed), a copy (``a_bar = b_bar``) or a view may share its array; this pass copies
such an array once, before its first in-place update (before the loop, when the
update is in a loop the array enters shared), so the update changes nothing else.

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in ["w_bar = unbroadcast(w1_bar, w)",
...         "w_bar = index_add(w_bar, 1, g)", "return (w_bar, w1_bar)"]]
>>> fdef = own_updates(syntax.function_def("f", ["w", "w1_bar", "g"], body))
>>> print(syntax.to_source(fdef))
def f(w, w1_bar, g):
    w_bar = unbroadcast(w1_bar, w)
    # w_bar may share its array with another name: a copy of its own, updated in place
    w_bar = snapshot(w_bar)
    w_bar = index_add(w_bar, 1, g)
    return (w_bar, w1_bar)

An array the function made itself (``zero_like``, arithmetic, ``snapshot``) is its
own, and updating it needs no copy. Handing an array on to another name moves it where
the old name is read no more (``x_bar_1 = index_add(x_bar, i, g)``, then ``x_bar =
x_bar_1`` at the end of a loop's body): the new name owns it alone, so the next
iteration's update needs no copy either:

>>> body = [syntax.parse_stmt(s) for s in ["x_bar = zero_like(x)",
...         "for i in range(n):\\n    x_bar_1 = index_add(x_bar, i, g)\\n    x_bar = x_bar_1",
...         "return x_bar"]]
>>> print(syntax.to_source(own_updates(syntax.function_def("f", ["x", "g", "n"], body))))
def f(x, g, n):
    x_bar = zero_like(x)
    for i in range(n):
        x_bar_1 = index_add(x_bar, i, g)
        x_bar = x_bar_1
    return x_bar
"""

from __future__ import annotations

from .. import rules, syntax


def own_updates(fdef):
    """``fdef`` (a generated FunctionDef) with a copy before each in-place update of an
    array it may not own alone."""
    params = {a.id for a in fdef.args.args}
    everything = {n.id for n in syntax.walk(fdef) if isinstance(n, syntax.Name)}
    body, _ = _block(list(fdef.body), set(), set(params), _Liveness(everything), set())
    out = syntax.clone(fdef)
    out.body = body
    return out


def _fresh(value) -> bool:
    """Whether ``value`` makes a new array (or a scalar) that no other name holds: an
    operator's result, or a call whose rule says so (a constructor, an elementwise
    function, a reduction)."""
    if isinstance(value, (syntax.BinOp, syntax.UnaryOp, syntax.Compare, syntax.BoolOp,
                          syntax.Constant)):
        return True
    if isinstance(value, syntax.Call):
        rule = rules.lookup(syntax.to_source(value.func))
        return rule is not None and rule.new_array
    return False


def _accumulates(call) -> bool:
    """Whether ``call`` updates its first argument in place as an accumulator (a
    cotangent: ``index_add``, ``index_zero``)."""
    return isinstance(call, syntax.Call) and isinstance(call.func, syntax.Name) and \
        rules.fact(call.func.id, "in_place") == "accumulator" and bool(call.args) and \
        isinstance(call.args[0], syntax.Name)


def _updates(value) -> list[str]:
    """Names whose arrays ``value`` updates in place as accumulators."""
    return [n.args[0].id for n in syntax.walk(value) if _accumulates(n)]


def _copy(name: str, lineno) -> list:
    return [syntax.comment(f"{name} may share its array with another name: a copy of its "
                           "own, updated in place"),
            syntax.assign(name, syntax.call(syntax.load("snapshot"), [syntax.load(name)]),
                          lineno=lineno)]


def _updated_in(stmts) -> set[str]:
    out = set()
    for s in _walk(stmts):
        if isinstance(s, syntax.Assign):
            out.update(_updates(s.value))
    return out


def _walk(stmts):
    for s in stmts:
        yield s
        if isinstance(s, (syntax.If, syntax.For, syntax.While)):
            yield from _walk(s.body)
            yield from _walk(s.orelse)


def _block(stmts, owned: set, defined: set, live, live_out: set):
    """(new statements, names owned after them); ``owned``: the names whose arrays are
    the code's own on entry, ``defined``: the names surely assigned on entry, ``live``:
    the function's _Liveness, ``live_out``: the names read after the block."""
    owned, defined = set(owned), set(defined)
    out = []
    for s, after in zip(stmts, live.afters(stmts, live_out)):
        if isinstance(s, syntax.If):
            b1, o1 = _block(s.body, owned, defined, live, after)
            b2, o2 = _block(s.orelse, owned, defined, live, after)
            new = syntax.If(test=s.test, body=b1 or [syntax.Pass()], orelse=b2)
            out.append(syntax.copy_location(new, s))
            owned = o1 & o2
            defined |= (set(_assigned(s.body)) & set(_assigned(s.orelse)))
        elif isinstance(s, (syntax.For, syntax.While)):
            # an array the loop updates and that enters it shared is copied once, before it
            for name in sorted(_updated_in(s.body) - owned):
                if name in defined:
                    out.extend(_copy(name, getattr(s, "lineno", None)))
                    owned.add(name)
            target = set(syntax.names_stored(s.target)) if isinstance(s, syntax.For) else set()
            entry = owned - target
            head = live.loop_head(s, after)  # read at the loop's head: after its body too
            while True:
                body, end = _block(s.body, entry, defined | target, live, head)
                again = entry & end
                if again == entry:
                    break
                entry = again
            new = (syntax.For(target=s.target, iter=s.iter, body=body, orelse=[],
                              type_comment=None) if isinstance(s, syntax.For)
                   else syntax.While(test=s.test, body=body, orelse=[]))
            out.append(syntax.copy_location(new, s))
            owned = entry
        elif isinstance(s, syntax.Assign):
            for name in dict.fromkeys(_updates(s.value)):
                if name not in owned:
                    out.extend(_copy(name, getattr(s, "lineno", None)))
                    owned.add(name)
            target = s.targets[0]
            if isinstance(target, syntax.Name):
                value = s.value
                if _accumulates(value):
                    # the helper returns the array it updated: the target is that array,
                    # its own if the old name held it alone and is read no more
                    base = value.args[0].id
                    if base != target.id:
                        moved = base in owned and base not in after
                        owned.discard(base)
                        owned.discard(target.id)
                        if moved:
                            owned.add(target.id)
                elif _fresh(value):
                    owned.add(target.id)
                elif isinstance(value, syntax.Name) and value.id in owned and \
                        value.id not in after:
                    owned.discard(value.id)  # moved: the old name is read no more
                    owned.add(target.id)
                else:
                    owned.discard(target.id)
                    owned.difference_update(syntax.names_loaded(value))
                defined.add(target.id)
            elif not isinstance(target, syntax.Subscript):  # a tuple target, say
                owned.difference_update(syntax.names_stored(target))
                owned.difference_update(syntax.names_loaded(s.value))
                defined.update(syntax.names_stored(target))
            out.append(s)
        else:
            out.append(s)
    return out, owned


class _Liveness:
    """Which names a function may read after each statement (backwards, over its
    blocks; a loop's head is read after its body). ``everything``: the function's names,
    all live where ``break`` or ``continue`` jumps."""

    def __init__(self, everything: set):
        self.everything = everything

    def afters(self, stmts, live_out: set) -> list[set]:
        """The names read after each of ``stmts``, ``live_out`` after the last."""
        out, live = [], set(live_out)
        for s in reversed(stmts):
            out.append(live)
            live = self.before(s, live)
        return out[::-1]

    def before(self, s, after: set) -> set:
        if isinstance(s, syntax.If):
            return (_loads(s.test) | self.block(s.body, after) | self.block(s.orelse, after))
        if isinstance(s, (syntax.For, syntax.While)):
            return self.loop_head(s, after)
        if isinstance(s, syntax.Return):
            return _loads(s.value) if s.value is not None else set()
        if isinstance(s, (syntax.Break, syntax.Continue)):
            return set(self.everything)
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name):
            return (after - {s.targets[0].id}) | _loads(s)
        return after | _loads(s)

    def block(self, stmts, after: set) -> set:
        live = set(after)
        for s in reversed(stmts):
            live = self.before(s, live)
        return live

    def loop_head(self, s, after: set) -> set:
        """The names read from a loop's head on: after it, and by its iterations."""
        head = _loads(s.iter) if isinstance(s, syntax.For) else _loads(s.test)
        target = set(syntax.names_stored(s.target)) if isinstance(s, syntax.For) else set()
        live = set(after) | head
        while True:
            new = live | (self.block(s.body, live) - target)
            if new == live:
                return live
            live = new


def _loads(node) -> set[str]:
    return set(syntax.names_loaded(node))


def _assigned(stmts) -> list[str]:
    return [n for s in stmts for n in syntax.names_stored(s)]
