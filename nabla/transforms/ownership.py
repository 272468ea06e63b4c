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
own, and updating it needs no copy.
"""

from __future__ import annotations

from .. import rules, syntax


def own_updates(fdef):
    """``fdef`` (a generated FunctionDef) with a copy before each in-place update of an
    array it may not own alone."""
    params = {a.id for a in fdef.args.args}
    body, _ = _block(list(fdef.body), set(), set(params))
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


def _block(stmts, owned: set, defined: set):
    """(new statements, names owned after them); ``owned``: the names whose arrays are
    the code's own on entry, ``defined``: the names surely assigned on entry."""
    owned, defined = set(owned), set(defined)
    out = []
    for s in stmts:
        if isinstance(s, syntax.If):
            b1, o1 = _block(s.body, owned, defined)
            b2, o2 = _block(s.orelse, owned, defined)
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
            while True:
                body, end = _block(s.body, entry, defined | target)
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
                    # the helper returns the array it updated: the target is that array
                    base = value.args[0].id
                    if base != target.id:
                        owned.discard(base)
                        owned.discard(target.id)
                elif _fresh(value):
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


def _assigned(stmts) -> list[str]:
    return [n for s in stmts for n in syntax.names_stored(s)]
