r"""Writes into arrays, as reverse mode sees them: which arrays a loop only fills
(``filled_arrays``: no write log needed), and the statements with those writes taken
out (the loop recomputed in the adjoint sweep). Reverse mode handles every write: a loop
records what each write overwrites and its adjoint puts it back right after the write's
own adjoint (reverse_loops.py), so every statement's adjoint reads the arrays as the
statement did. What it refuses (``check_slices``): a slice written inside an inner loop or
a branch of a loop, which the loop's write log (element by element) cannot record.

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
from .bodies import assigned_names, stmt_loads


def check_slices(canon, filled=frozenset()) -> None:
    """Refuse, at its line, a write of a slice nested in a loop other than directly in the
    body of its one loop (in an inner loop, or in a branch of the loop's body), but into
    an array a loop only fills (``filled``: nothing records its writes)."""
    def refuse(st, why, hint):
        raise NotDifferentiableError(
            f"reverse mode through this write into an array is not supported: {why}",
            **canon.parsed.where(st), hint=hint + ", or use nabla.jvp (forward mode)")

    def visit(stmts, changing, loops, direct):
        """``changing``: the names the innermost loop assigns, its counter included."""
        for st in stmts:
            if isinstance(st, syntax.Assign) and is_store(st) and loops and \
                    stored_name(st) not in filled:
                slices = [n for n in syntax.walk(st.targets[0].slice)
                          if isinstance(n, syntax.Slice)]
                if slices and not (loops == 1 and direct):
                    refuse(st, "a slice written inside an inner loop or a branch of a loop",
                           "write element by element, or move the write to the loop's own body")
                if any(set(syntax.names_loaded(n)) & changing for n in slices):
                    refuse(st, "a slice whose bounds change from one iteration of the loop to "
                               "the next", "write element by element")
            if isinstance(st, syntax.If):
                visit(st.body, changing, loops, False)
                visit(st.orelse, changing, loops, False)
            elif isinstance(st, (syntax.For, syntax.While)):
                counter = syntax.names_stored(st.target) if isinstance(st, syntax.For) else []
                visit(st.body, assigned_names(st.body) | set(counter), loops + 1, True)

    visit(canon.body, set(), 0, True)


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
