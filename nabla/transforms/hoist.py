"""Compute once, before a loop, what every iteration of it computes alike (loop-invariant
code motion), in the primal and in the adjoint sweep.

A statement moves when its value reads nothing the loop changes, the loop assigns its
name nowhere else and reads it nowhere before, and the value the name had before the loop
is read nowhere after it; a part of a statement moves (into a temporary of its own) when
it calls a function and reads nothing the loop changes. Only what
cannot raise moves (a rule's ``raises``: a division, ``math.log``, a subscript stay),
since the loop may not run at all:

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in [
...     "for i in range(n):\\n    c = 2.0 * w\\n    y = y + np.exp(w) * x[i] + c",
...     "return y"]]
>>> print(syntax.to_source(syntax.function_def("f", ["x", "w", "y", "n"],
...                                            hoist(body, ["x", "w", "y", "n"]))))
def f(x, w, y, n):
    # the same in every iteration of the loop below: computed once, before it
    c = 2.0 * w
    t1 = np.exp(w)
    for i in range(n):
        y = y + t1 * x[i] + c
    return y
"""

from __future__ import annotations

import re

from .. import syntax
from .bodies import (
    assign_counts,
    assigned_names,
    elementwise_op,
    elementwise_value,
    insert_before_loop,
    key,
    mutated,
    read_before_written,
    stmt_loads,
    target,
    use_counts,
    with_body,
)

_COMMENT = "the same in every iteration of the loop below: computed once, before it"
_TEMP_NUMBER = re.compile(r"^t(\d+)")


def hoist(body: list, params=(), moved: set | None = None) -> list:
    """``body`` with the invariant code of its loops (innermost first) moved out. The
    names moved are added to ``moved``; without it, a comment says so (``mark``: what
    ``optimize``, which hoists in each of its rounds, does once at the end)."""
    taken = {n.id for s in body for n in syntax.walk(s) if isinstance(n, syntax.Name)}
    numbers = [int(m.group(1)) for n in taken if (m := _TEMP_NUMBER.match(n))]
    names = set() if moved is None else moved
    state = {"counts": assign_counts(body, params), "uses": use_counts(body),
             "params": set(params), "next": max(numbers, default=0) + 1, "taken": taken,
             "moved": names}
    body = _block(body, state)
    return mark(body, names) if moved is None else body


def mark(body: list, moved: set) -> list:
    """A comment above the statements just before a loop that assign names in ``moved``."""
    out = []
    for s in body:
        if isinstance(s, (syntax.For, syntax.While)):
            s = syntax.copy_location(with_body(s, mark(s.body, moved)), s)
            at = len(out)
            while at and syntax.comment_text(out[at - 1]) is not None:
                at -= 1  # the comments that introduce the loop
            first = at
            while first and target(out[first - 1]) in moved:
                first -= 1
            if first < at and (not first or syntax.comment_text(out[first - 1]) != _COMMENT):
                out.insert(first, syntax.comment(_COMMENT))
        elif isinstance(s, syntax.If):
            s = syntax.copy_location(syntax.If(test=s.test, body=mark(s.body, moved),
                                               orelse=mark(s.orelse, moved)), s)
        out.append(s)
    return out


def _block(stmts: list, state, top: bool = True) -> list:
    """``top``: ``stmts`` is the function's body (what follows a loop in it is all that
    runs after the loop)."""
    out = []
    for at, s in enumerate(stmts):
        if isinstance(s, (syntax.For, syntax.While)):
            s = syntax.copy_location(with_body(s, _block(s.body, state, False)), s)
            moved, s = _out_of(s, state, read_before_written(stmts[at + 1:]) if top else None)
            if moved:
                state["moved"].update(target(m) for m in moved)
                insert_before_loop(out, moved)
        elif isinstance(s, syntax.If):
            s = syntax.copy_location(syntax.If(test=s.test, body=_block(s.body, state, False),
                                               orelse=_block(s.orelse, state, False)), s)
        out.append(s)
    return out



def _out_of(loop, state, live_after):
    """(statements moved out of ``loop``, ``loop`` without them). ``live_after``: the
    names read after the loop before they are assigned, where that is known."""
    changed = mutated(loop.body)  # (a name moved out would be one array for all)
    varying = assigned_names(loop.body) | changed
    if isinstance(loop, syntax.For):
        varying |= set(syntax.names_stored(loop.target))
    header = syntax.names_loaded(loop.iter if isinstance(loop, syntax.For) else loop.test)
    assigned = assign_counts(loop.body)
    inside = use_counts(loop.body)
    moved, body, seen, made = [], [], set(header), {}
    for s in loop.body:
        n = target(s)
        if n is not None and assigned.get(n) == 1 and n not in seen and n not in changed and \
                not _trivial(s.value) and _invariant(s.value, varying) and (
                    n not in live_after if live_after is not None else
                    state["counts"].get(n) == 1 and n not in state["params"]
                    and inside.get(n, 0) == state["uses"].get(n, 0)):
            moved.append(s)
            varying.discard(n)  # assigned once, now before the loop
            continue
        if isinstance(s, syntax.Assign):
            state["lineno"] = getattr(s, "lineno", None)  # the line what moves came from
            s = syntax.copy_location(syntax.Assign(
                targets=s.targets,
                value=_lift(syntax.clone(s.value), varying, moved, made, state),
                type_comment=None), s)
        body.append(s)
        for t in syntax.walk_statements([s]):
            seen.update(stmt_loads(t))
    if not moved:
        return [], loop
    return moved, syntax.copy_location(with_body(loop, body or [syntax.Pass()]), loop)


def _lift(expr, varying, moved, made, state):
    """``expr`` with its invariant calls replaced by temporaries assigned in ``moved``:
    only operands of elementwise operations (which make a new value of them, so nothing
    can change the temporary through the result)."""
    if isinstance(expr, (syntax.IfExp, syntax.BoolOp)) or not isinstance(expr, syntax.AST):
        return expr  # evaluated only on some paths: left where it is
    operands = elementwise_op(expr)
    for field in expr._fields:
        value = getattr(expr, field, None)
        if isinstance(value, list):
            setattr(expr, field, [_part(v, operands, varying, moved, made, state)
                                  for v in value])
        else:
            setattr(expr, field, _part(value, operands, varying, moved, made, state))
    return expr


def _part(node, operands, varying, moved, made, state):
    if not isinstance(node, syntax.AST) or isinstance(node, (syntax.Load, syntax.Store)):
        return node
    if operands and _invariant(node, varying) and not _trivial(node) and any(
            isinstance(n, syntax.Call) for n in syntax.walk(node)):
        k = key(node)
        if k not in made:
            made[k] = _fresh(state)
            moved.append(syntax.assign(made[k], node, lineno=state.get("lineno")))
        return syntax.load(made[k])
    return _lift(node, varying, moved, made, state)


def _fresh(state) -> str:
    while f"t{state['next']}" in state["taken"]:
        state["next"] += 1
    name = f"t{state['next']}"
    state["taken"].add(name)
    state["counts"][name] = 1
    return name


def _trivial(expr) -> bool:
    return isinstance(expr, (syntax.Name, syntax.Constant))


def _invariant(expr, varying) -> bool:
    """``expr`` reads nothing in ``varying`` and computes what cannot raise."""
    return not set(syntax.names_loaded(expr)) & varying and elementwise_value(expr, quiet=True)
