"""Compute once, before a loop, a math function of the elements that the loops inside it
index by their counters alone (loop-invariant code motion into a table): what hoist.py
moves only when the whole value is the same in every iteration.

In a loop ``L``, a call ``math.f(a[i, j])`` whose indices are the counters of ``for``
loops inside ``L`` over ``range(n)`` (or, in an adjoint sweep, ``range(n - 1, -1, -1)``),
with ``n`` and ``a`` the same in every iteration of ``L``, reads the table
``np.f(a[:n, :m])`` made before ``L``. The table is the function's array form (the
rule's ``array_form``), which NumPy and Numba type as Numba types ``math.f`` of one
element; it computes only functions defined for every finite number (the rule's
``total``), and a slice never raises, so making it cannot fail where the loop would not
have run. The table is named ``<f>_<a>_table`` (``names.TABLE``: ``numba_cuda.py`` turns
its reads back into the calls, as a GPU thread allocates no arrays):

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in [
...     "for ix in range(n):\\n    for ik in range(k):\\n        for j in range(d):\\n"
...     "            s = s + math.exp(q[ik, j]) * x[ix, j]", "return s"]]
>>> print(syntax.to_source(syntax.function_def("f", ["q", "x", "s", "n", "k", "d"],
...                                            tabulate(body, set()))))
def f(q, x, s, n, k, d):
    exp_q_table = np.exp(q[:k, :d])
    for ix in range(n):
        for ik in range(k):
            for j in range(d):
                s = s + exp_q_table[ik, j] * x[ix, j]
    return s
"""

from __future__ import annotations

from .. import rules, syntax
from ..names import TABLE
from .bodies import (
    assign_counts,
    assigned_names,
    dotted,
    insert_before_loop,
    key,
    mutated,
    spelling,
    stored,
    target,
    with_body,
)


def tabulate(body: list, moved: set, keep=frozenset()) -> list:
    """``body`` with the tables of its loops made before them; their names are added to
    ``moved`` (hoist.mark comments them). ``keep``: the user's names, never renamed."""
    taken = {n.id for s in body for n in syntax.walk(s) if isinstance(n, syntax.Name)}
    # a table numbered while another of its name was still there (dead code, dropped since)
    numbered = [(n, n[:m.start(1)]) for n in sorted(taken - set(keep))
                if (m := TABLE.search(n)) and m.group(1) and n[:m.start(1)] not in taken]
    bases = [b for _, b in numbered]
    renamed = {n: b for n, b in numbered if bases.count(b) == 1}
    if renamed:
        body = [syntax.rename(s, renamed) for s in body]
        moved.update(renamed.values())
        taken = (taken - set(renamed)) | set(renamed.values())
    # a table of the function's body that reads what nothing assigns again or changes is
    # the table of every later loop too (the adjoint sweep's, of the primal's)
    counts, changed = assign_counts(body), mutated(body)
    shared = {"tables": {}, "stable": lambda value: all(
        counts.get(n, 0) <= 1 and n not in changed for n in syntax.names_loaded(value))}
    return _block(body, taken, moved, shared)


def _block(stmts: list, taken: set, moved: set, shared: dict | None) -> list:
    """``shared``: the tables of the function's body made so far (in its body itself)."""
    out = []
    for s in stmts:
        if isinstance(s, (syntax.For, syntax.While)):
            tables, s = _tables_of(s, taken, shared)
            if tables:
                moved.update(t.targets[0].id for t in tables)
                insert_before_loop(out, tables)
                for t in tables:
                    _share(t, shared)
            s = syntax.copy_location(with_body(s, _block(s.body, taken, moved, None)), s)
        elif isinstance(s, syntax.If):
            s = syntax.copy_location(syntax.If(
                test=s.test, body=_block(s.body, taken, moved, None),
                orelse=_block(s.orelse, taken, moved, None)), s)
        else:
            _share(s, shared)
        out.append(s)
    return out


def _share(s, shared):
    name = target(s)
    if shared is not None and name is not None and TABLE.search(name) and \
            shared["stable"](s.value):
        shared["tables"].setdefault(key(s.value), name)


class _Loop:
    """What the statements of one loop ``L`` change: the names they assign or update in
    place, and those only a ``for`` header assigns (the counters)."""

    def __init__(self, loop):
        self.varying = assigned_names(loop.body) | mutated(loop.body)
        if isinstance(loop, syntax.For):
            self.varying |= set(syntax.names_stored(loop.target))
        plain: dict[str, int] = {}
        for s in syntax.walk_statements(loop.body):
            if not isinstance(s, syntax.For):
                for n in stored(s):
                    plain[n] = plain.get(n, 0) + 1
        self.plain = plain  # name -> assignments that are not a for header
        self.tables: list = []
        self.made: dict = {}  # the call's key -> its table's name
        self.shared: dict = {}  # a table's value's key -> the name of one made before


def _tables_of(loop, taken: set, shared):
    """(the tables of ``loop``'s inner counters, ``loop`` reading them)."""
    state = _Loop(loop)
    if shared is not None:
        state.shared = shared["tables"]
    body = _rewrite(loop.body, {}, {}, state, taken)
    if not state.made:
        return [], loop
    return state.tables, syntax.copy_location(with_body(loop, body), loop)


def _rewrite(stmts, counters: dict, known: dict, state: _Loop, taken: set) -> list:
    """``stmts`` (inside the loop) with their tabulated calls read from tables.
    ``counters``: counter -> the length of its range, same in every iteration of the loop;
    ``known``: name -> its value, for names assigned once in the loop, on the way here."""
    known = dict(known)
    out = []
    for s in stmts:
        if isinstance(s, syntax.For):
            inner = {c: n for c, n in counters.items() if c not in stored(s)}
            length = _length(s.iter, known, state)
            if length is not None and isinstance(s.target, syntax.Name) and \
                    s.target.id not in state.plain:
                inner[s.target.id] = length
            s = syntax.copy_location(with_body(s, _rewrite(s.body, inner, known, state,
                                                            taken)), s)
        elif isinstance(s, syntax.While):
            s = syntax.copy_location(syntax.While(
                test=_Reads(counters, state, taken).visit(syntax.clone(s.test)),
                body=_rewrite(s.body, counters, known, state, taken), orelse=s.orelse), s)
        elif isinstance(s, syntax.If):
            s = syntax.copy_location(syntax.If(
                test=_Reads(counters, state, taken).visit(syntax.clone(s.test)),
                body=_rewrite(s.body, counters, known, state, taken),
                orelse=_rewrite(s.orelse, counters, known, state, taken)), s)
        else:
            if counters:
                s = syntax.copy_location(_Reads(counters, state, taken).visit(
                    syntax.clone(s)), s)
            if isinstance(s, syntax.Assign) and len(s.targets) == 1 and \
                    isinstance(s.targets[0], syntax.Name) and \
                    state.plain.get(s.targets[0].id) == 1:
                value = _bound(s.value, known, state)
                if value is not None:
                    known[s.targets[0].id] = value
        out.append(s)
    return out


def _length(it, known, state):
    """The number ``n`` of a ``range(n)``, ``range(0, n, 1)`` or ``range(n - 1, -1, -1)``
    (counters from 0 to n - 1), as an expression the loop does not change; else None."""
    if not (isinstance(it, syntax.Call) and dotted(it.func) == "range" and not it.keywords
            and 1 <= len(it.args) <= 3):
        return None
    args = list(it.args)
    if len(args) == 1:
        args = [syntax.const(0), args[0], syntax.const(1)]
    elif len(args) == 2:
        args.append(syntax.const(1))
    start, stop, step = args
    if _int(start) == 0 and _int(step) == 1:
        n = stop
    elif _int(step) == -1 and _int(stop) == -1 and isinstance(start, syntax.BinOp) and \
            syntax.operator(start) == "-" and _int(start.right) == 1:
        n = start.left
    else:
        return None
    return _bound(n, known, state)


def _int(node):
    if isinstance(node, syntax.UnaryOp) and isinstance(node.op, syntax.USub):
        inner = _int(node.operand)
        return None if inner is None else -inner
    if isinstance(node, syntax.Constant) and type(node.value) is int:
        return node.value
    return None


def _bound(expr, known, state):
    """``expr`` (an int: names, constants, ``+ - *``, ``x.shape[k]``, ``range_len``) with
    the loop's names replaced by their values, reading only what the loop does not change;
    None where it is not such an expression."""
    if _int(expr) is not None:
        return syntax.clone(expr)
    if isinstance(expr, syntax.Name):
        if expr.id not in state.varying:
            return syntax.load(expr.id)
        return syntax.clone(known[expr.id]) if expr.id in known else None
    if isinstance(expr, syntax.BinOp) and syntax.operator(expr) in ("+", "-", "*"):
        left, right = _bound(expr.left, known, state), _bound(expr.right, known, state)
        if left is None or right is None:
            return None
        return syntax.binop(left, syntax.operator(expr), right)
    if isinstance(expr, syntax.Subscript) and _int(expr.slice) is not None and \
            isinstance(expr.value, syntax.Attribute) and expr.value.attr == "shape":
        inner = _bound(expr.value.value, known, state)
        return None if inner is None else syntax.Subscript(
            value=syntax.Attribute(value=inner, attr="shape", ctx=syntax.Load()),
            slice=syntax.clone(expr.slice), ctx=syntax.Load())
    if isinstance(expr, syntax.Call) and dotted(expr.func) == "range_len" and \
            len(expr.args) == 3 and not expr.keywords and _int(expr.args[2]) not in (None, 0):
        parts = [_bound(a, known, state) for a in expr.args]
        if any(p is None for p in parts):
            return None
        if _int(parts[0]) == 0 and _int(parts[2]) == 1:
            return parts[1]  # the slice :n of a negative n is longer, and never read
        return syntax.call(syntax.load("range_len"), parts)
    return None


class _Reads(syntax.NodeTransformer):
    """Calls ``math.f(a[i, j])`` of counters ``i, j`` as reads of their tables."""

    def __init__(self, counters, state, taken):
        self.counters, self.state, self.taken = counters, state, taken

    def visit_Call(self, node):
        self.generic_visit(node)
        rule = rules.lookup(spelling(node))
        if rule is None or not rule.total or rule.array_form is None or \
                len(node.args) != 1 or node.keywords:
            return node
        arg = node.args[0]
        if not (isinstance(arg, syntax.Subscript) and isinstance(arg.value, syntax.Name)):
            return node
        index = arg.slice.elts if isinstance(arg.slice, syntax.Tuple) else [arg.slice]
        names = [i.id if isinstance(i, syntax.Name) else None for i in index]
        if None in names or len(set(names)) != len(names) or \
                any(n not in self.counters for n in names) or \
                arg.value.id in self.state.varying:
            return node
        k = key(node)
        name = self.state.made.get(k)
        if name is None:
            slices = [syntax.Slice(lower=None, upper=syntax.clone(self.counters[n]), step=None)
                      for n in names]
            table = syntax.call(syntax.parse_expr(rule.array_form), [syntax.Subscript(
                value=syntax.load(arg.value.id),
                slice=slices[0] if len(slices) == 1 else syntax.tuple_(slices),
                ctx=syntax.Load())])
            name = self.state.shared.get(key(table))
            if name is None:
                name = self._fresh(f"{rule.array_form.split('.')[-1]}_{arg.value.id}_table")
                self.state.tables.append(syntax.assign(name, table,
                                                       lineno=getattr(node, "lineno", None)))
            self.state.made[k] = name
        return syntax.Subscript(value=syntax.load(name), slice=syntax.clone(arg.slice),
                                ctx=syntax.Load())

    def _fresh(self, name):
        out, n = name, 1
        while out in self.taken:
            n += 1
            out = f"{name}_{n}"
        self.taken.add(out)
        return out
