r"""Writes into arrays, as reverse mode sees them: which it handles (``check_stores``),
which arrays a loop only fills (``filled_arrays``: no write log needed), and the
statements with those writes taken out (the loop recomputed in the adjoint sweep).

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in (
...     "out = np.zeros(n)", "for i in range(n):\n    t = x[i]\n    out[i] = t * t")]
>>> filled_arrays(body)
{'out'}
>>> print(syntax.to_source(without_writes(body, {"out"})[1]))
for i in range(n):
    t = x[i]
"""

from __future__ import annotations

from .. import rules, syntax
from ..errors import NotDifferentiableError
from .activity import assignments, is_store, stored_name
from .bodies import dotted, stmt_loads


def _value_reads(value) -> list[str]:
    """Names ``value`` reads the values of: not those a call passes to a parameter its
    rule reads only for the shape (``tape_entry(x, x_tape)`` reads x_tape's shape)."""
    rule = rules.RULES.get(dotted(value.func)) if isinstance(value, syntax.Call) else None
    if rule is None or not rule.shape_only:
        return syntax.names_loaded(value)
    try:
        bound = rule.bind(list(value.args), {k.arg: k.value for k in value.keywords})
    except TypeError:
        return syntax.names_loaded(value)
    return [n for p, a in bound.items() if p not in rule.shape_only
            for n in syntax.names_loaded(a)]


def refuse_store(canon, stmt, why, hint):
    raise NotDifferentiableError(
        f"reverse mode through this write into an array is not supported: {why}",
        **canon.parsed.where(stmt), hint=hint)


def check_stores(canon, activity):
    """Writes into arrays that reverse mode handles: at the function's top level (in
    branches too), or inside loops, into an array the loops read only element by element,
    without slices."""
    hint = ("use nabla.jvp (forward mode), or build the array without writing into it "
            "(np.stack, np.concatenate, np.where)")

    def whole_reads(stmts, name):
        for st in assignments(stmts):
            if is_store(st):
                continue
            value = st.value
            if isinstance(value, syntax.Subscript) and isinstance(value.value, syntax.Name) \
                    and value.value.id == name:
                continue
            if name in _value_reads(value):
                return st
        return None

    def visit(stmts, loop):
        for st in stmts:
            if isinstance(st, syntax.Assign) and is_store(st) and activity.active(
                    stored_name(st)):
                if loop is not None and any(isinstance(i, syntax.Slice) for i in syntax.walk(
                        st.targets[0].slice)):
                    refuse_store(canon, st, "a loop writes a slice", "write element by "
                                  "element, or " + hint)
                if loop is not None:
                    reader = whole_reads(loop.body, stored_name(st))
                    if reader is not None:
                        refuse_store(canon, reader, f"the loop reads all of "
                                      f"{stored_name(st)!r} while writing into it",
                                      "read it element by element (a[i]), or " + hint)
            elif isinstance(st, syntax.If):
                visit(st.body, loop)
                visit(st.orelse, loop)
            elif isinstance(st, (syntax.For, syntax.While)):
                visit(st.body, loop or st)  # the outermost loop: it reads what inner ones do

    visit(canon.body, None)


def filled_arrays(body) -> set[str]:
    """Arrays a function makes (a call whose rule says ``fresh``: ``np.empty``, ``np.zeros``)
    and then fills in one loop that never reads them, with nothing reading them before:
    recomputing that loop's iterations reads none of the values its writes overwrite, so
    the loop needs neither a write log nor tapes of overwritten values (``out[i, j] = ...``
    filling a table)."""
    out = set()
    for p, made in enumerate(body):
        if not (isinstance(made, syntax.Assign) and not is_store(made)
                and isinstance(made.value, syntax.Call)
                and rules.fact(syntax.to_source(made.value.func), "fresh", False)):
            continue
        a = stored_name(made)
        if sum(1 for st in assignments(body) if not is_store(st) and stored_name(st) == a) != 1:
            continue
        loops = [q for q, st in enumerate(body) if isinstance(st, (syntax.For, syntax.While))
                 and any(is_store(w) and stored_name(w) == a for w in assignments([st]))]
        if len(loops) != 1 or loops[0] < p:
            continue
        q = loops[0]
        if any(is_store(w) and stored_name(w) == a for w in assignments(body[:q] + body[q + 1:])):
            continue
        if any(a in reads(st) for st in body[p + 1:q + 1]):
            continue
        out.add(a)
    return out


def without_writes(stmts, arrays):
    """``stmts`` without their writes into ``arrays`` (in nested blocks too)."""
    if not arrays:
        return stmts
    out = []
    for st in stmts:
        if isinstance(st, syntax.Assign) and is_store(st) and stored_name(st) in arrays:
            continue
        if isinstance(st, (syntax.For, syntax.While, syntax.If)):
            st = syntax.copy_location(type(st)(**{
                f: (without_writes(getattr(st, f), arrays) if f in ("body", "orelse")
                    else getattr(st, f)) for f in st._fields}), st)
            if not st.body and isinstance(st, syntax.If):
                st.body = [syntax.Pass()]
        out.append(st)
    return out


def reads(stmt) -> set[str]:
    """Names whose values ``stmt`` (nested blocks included) reads; a write ``a[i] = v``
    reads ``i`` and ``v``, not ``a``."""
    names = set()
    for st in syntax.walk_statements([stmt]):
        if isinstance(st, syntax.Assign) and is_store(st):
            names.update(syntax.names_loaded(st.value), syntax.names_loaded(st.targets[0].slice))
        else:
            names.update(stmt_loads(st))
    return names


def stored_arrays(body) -> set[str]:
    return {stored_name(s) for s in assignments(body) if is_store(s)}


def store(array: str, index, value, lineno):
    """``array[index] = value`` (``index``: a name, or an expression)."""
    index = syntax.load(index) if isinstance(index, str) else index
    sub = syntax.Subscript(value=syntax.load(array), slice=index, ctx=syntax.Store())
    return syntax.assign(sub, value, lineno=lineno)
