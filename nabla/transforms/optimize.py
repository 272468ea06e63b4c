"""Make generated straight-line code read like what a person would write:
fold constants, propagate copies, drop dead code, fold single-use
temporaries back into the expression that uses them, compute loop invariants
once before their loop (hoist.py, and tables.py for a math function of the elements
inner loops read), and renumber what is left.

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in ["t1 = x / 2.0 * 1.0", "t2 = np.sin(t1)",
...                                         "y = t2 + x", "t3 = y * 2", "return y"]]
>>> print(syntax.to_source(syntax.function_def("f", ["x"], optimize(body, {"x", "y"}))))
def f(x):
    y = np.sin(x / 2.0) + x
    return y
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import re
from functools import partial

from .. import rules, syntax
from .bodies import (
    assign_counts,
    assigned_names,
    dotted,
    elementwise_value,
    key,
    map_blocks,
    mutated,
    stmt_loads,
    target,
    use_counts,
    written,
)
from .broadcasts import drop_broadcasts
from .hoist import hoist, mark
from .tables import tabulate
from .versions import loop_tests, merge_versions, read_before_reassigned

_TEMP = re.compile(r"^(t)(\d+)((?:_bar|_dot|_tape)(?:_\d+)?)*$")
_FOLDABLE = re.compile(r"^t\d+(?:_\d+)?(?:_bar|_dot)*(?:_\d+)?$")


_SKIP = contextvars.ContextVar("nabla_optimize_skip", default=False)


@contextlib.contextmanager
def skipped():
    """Within it, ``optimize`` (and the gather rewrite) leave code as the transforms
    wrote it: the "transformed" stage of ``nabla.source``."""
    token = _SKIP.set(True)
    try:
        yield
    finally:
        _SKIP.reset(token)


def is_skipped() -> bool:
    return _SKIP.get()


def optimize(body: list, keep: set[str], params=()) -> list:
    """Optimize ``body`` (statements ending in a Return, loops and branches allowed);
    names in ``keep`` are the user's and are never folded away or renumbered;
    ``params`` are assigned on entry."""
    if _SKIP.get():
        return body
    params = set(params)
    users = set(keep) | params
    body = map_blocks(body, partial(_simplify_block, changed=mutated(body), users=users))
    hoisted: set[str] = set()
    for _ in range(6):
        before = _text(body)
        body = _propagate_copies(body, keep, params)
        body = _eliminate_dead(body)
        body = map_blocks(body, _drop_self_copies)
        body = map_blocks(body, partial(_fold_single_use, keep=keep,
                                         assigned=assign_counts(body, params),
                                         uses=use_counts(body)))
        body = map_blocks(body, partial(_merge_accumulations, inplace=_inplace_targets(body)))
        body = map_blocks(body, _merge_index_adds)
        body = map_blocks(body, partial(_common_subexpressions,
                                         counts=assign_counts(body, params),
                                         changed=mutated(body)))
        body = map_blocks(body, partial(merge_versions, assigned=assign_counts(body, params),
                                         uses=use_counts(body)))
        body = map_blocks(body, partial(loop_tests, uses=use_counts(body),
                                         assigned=assign_counts(body, params)))
        body = map_blocks(body, partial(read_before_reassigned,
                                         assigned=assign_counts(body, params),
                                         uses=use_counts(body), keep=keep))
        body = map_blocks(body, partial(_simplify_block, changed=mutated(body), users=users))
        body = hoist(body, params, hoisted)
        body = tabulate(body, hoisted, keep)
        if _text(body) == before:
            break
    body = mark(body, hoisted)
    body = map_blocks(body, _drop_empty_comments)
    return _renumber(body, keep)


def _text(body):
    """A fingerprint of ``body``'s code: equal exactly when the code is (cheaper than
    rendering it)."""
    return key(body)


def _num(node):
    return (isinstance(node, syntax.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))


def _is(node, value) -> bool:
    return _num(node) and node.value == value


_op = syntax.operator  # the Python spelling of an operation's operator: "+", "-", ...


_DERIVATIVE = re.compile(r"_(bar|dot)(_\d+)?$")


def _floating(node, users=frozenset()) -> bool:
    """``node`` is a float (or float array) whatever the arguments: ``x * 1``, ``x / 1``,
    ``x + 0`` are then ``x`` itself. Of an int array they are not (``k * 1.0``, ``k / 1``
    are floats, ``mask * 1`` is ints where ``mask + mask`` is a logical or). Read from the
    spelling: a float constant, a cotangent or a tangent of the transform's (``x_bar``,
    ``x_dot``; not a name of the user's, ``users``, which may be spelled so), a true
    division, arithmetic with one of those."""
    if isinstance(node, syntax.Constant):
        return isinstance(node.value, float)
    if isinstance(node, syntax.Name):
        return node.id not in users and bool(_DERIVATIVE.search(node.id))
    if isinstance(node, syntax.UnaryOp):
        return _op(node) == "-" and _floating(node.operand, users)
    if isinstance(node, syntax.BinOp):
        return _op(node) == "/" or (_op(node) in ("+", "-", "*", "**") and (
            _floating(node.left, users) or _floating(node.right, users)))
    return False


class _Simplify(syntax.NodeTransformer):
    """``users``: the user's names and the parameters, whose values may be ints or bools:
    ``x * 1`` and ``x + 0`` of one are kept (``mask * 1`` is ints, ``mask + mask`` a
    logical or); the code's own counters (``k * 1`` of a loop's ``k``) are ints."""

    def __init__(self, users=frozenset()):
        self.users = users

    def _floating(self, node) -> bool:
        return _floating(node, self.users)

    def _same(self, node, constant) -> bool:
        """``node`` times ``constant`` (1 or -1), plus or minus it (0), divided by it (1)
        has ``node``'s dtype: ``node`` is a float, or the constant an int and ``node`` holds
        none of the user's names (the code's own int counters)."""
        return self._floating(node) or (isinstance(constant.value, int) and not (
            set(syntax.names_loaded(node)) & self.users))

    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b, op = node.left, node.right, _op(node)
        if _num(a) and _num(b):
            try:
                value = {"+": lambda: a.value + b.value, "-": lambda: a.value - b.value,
                         "*": lambda: a.value * b.value,
                         "**": lambda: a.value ** b.value}.get(op, lambda: None)()
            except (OverflowError, ZeroDivisionError):
                value = None
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                return syntax.const(value)
        if op == "*":
            if _is(b, 1) and self._same(a, b):
                return a
            if _is(a, 1) and self._same(b, a):
                return b
            if _is(b, -1) and self._same(a, b):
                return syntax.unaryop("-", a)
            if isinstance(b, syntax.BinOp) and _op(b) == "/" and _is(b.left, 1):
                return syntax.BinOp(left=a, op=b.op, right=b.right)
            if isinstance(a, syntax.BinOp) and _op(a) == "/" and _is(a.left, 1):
                return syntax.BinOp(left=b, op=a.op, right=a.right)
        if op in ("*", "/") and isinstance(a, syntax.UnaryOp) and _op(a) == "-":
            # (-a) * b -> -(a * b), so that signs meet and cancel
            return syntax.UnaryOp(op=a.op, operand=syntax.BinOp(left=a.operand, op=node.op,
                                                                right=b))
        if op == "*" and isinstance(b, syntax.UnaryOp) and _op(b) == "-":
            return syntax.UnaryOp(op=b.op, operand=syntax.BinOp(left=a, op=node.op,
                                                                right=b.operand))
        if op == "/" and _is(b, 1) and self._floating(a):  # a true division: a float
            return a
        if op == "+" and _is(a, 0) and isinstance(a.value, int) and self._same(b, a):
            return b
        if op in ("+", "-") and _is(b, 0) and isinstance(b.value, int) and self._same(a, b):
            return a
        if op == "**" and _is(b, 1):
            return a
        if op in ("+", "-") and isinstance(b, syntax.UnaryOp) and _op(b) == "-":
            return syntax.binop(a, "-" if op == "+" else "+", b.operand)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if _op(node) == "-":
            inner = node.operand
            if isinstance(inner, syntax.UnaryOp) and _op(inner) == "-":
                return inner.operand
            if isinstance(inner, syntax.BinOp) and _op(inner) in ("*", "/") and (
                isinstance(inner.left, syntax.UnaryOp) and _op(inner.left) == "-"
            ):
                return syntax.BinOp(left=inner.left.operand, op=inner.op, right=inner.right)
            if _num(inner):
                return syntax.const(-inner.value)
        return node


def simplify(expr):
    return _Simplify().visit(expr)


def _simplify_block(block, changed, users):
    return [_simplify_stmt(s, changed, users) for s in block]


def _simplify_stmt(stmt, changed=frozenset(), users=frozenset()):
    """``stmt`` simplified. ``changed``: names whose arrays the code writes into; ``y = x *
    1.0`` assigns such a name a new array, which ``y = x`` would make the same array as
    ``x`` (an argument's, written into): there the operation is kept, its operands
    simplified."""
    if isinstance(stmt, (syntax.If, syntax.For, syntax.While)):
        # the header only: _map_blocks simplifies the blocks on their own
        new = copy.copy(stmt)
        if isinstance(stmt, syntax.For):
            new.iter = _Simplify(users).visit(syntax.clone(stmt.iter))
        else:
            new.test = _Simplify(users).visit(syntax.clone(stmt.test))
        return new
    new = drop_broadcasts(_Simplify(users).visit(syntax.clone(stmt)))
    if target(stmt) in changed and isinstance(stmt.value, (syntax.BinOp, syntax.UnaryOp)) \
            and not isinstance(new.value, (syntax.BinOp, syntax.UnaryOp, syntax.Call)):
        new = syntax.clone(stmt)
        for field in ("left", "right", "operand"):
            if hasattr(new.value, field):
                setattr(new.value, field, _Simplify(users).visit(getattr(new.value, field)))
    return new


# -- statements -------------------------------------------------------------------------
def _substitute_everywhere(body, mapping):
    def fix(s):
        s = syntax.clone(s)
        if isinstance(s, (syntax.Assign, syntax.Return)) and s.value is not None:
            s.value = syntax.substitute(s.value, mapping)
            if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Subscript):
                s.targets[0].slice = syntax.substitute(s.targets[0].slice, mapping)
                base = s.targets[0].value
                if base.id in mapping and isinstance(mapping[base.id], syntax.Name):
                    s.targets[0].value = syntax.Name(id=mapping[base.id].id, ctx=base.ctx,
                                                     annotation=None, type_comment=None)
        elif isinstance(s, (syntax.If, syntax.While)):
            s.test = syntax.substitute(s.test, mapping)
        elif isinstance(s, syntax.For):
            s.iter = syntax.substitute(s.iter, mapping)
        return s
    return map_blocks(body, lambda b: [fix(s) if not isinstance(
        s, (syntax.If, syntax.For, syntax.While)) else _fix_header(s, fix) for s in b])


def _fix_header(s, fix):
    header = copy.copy(s)  # the header only: the blocks are fixed on their own
    header.body, header.orelse = [], []
    new = fix(header)
    new.body, new.orelse = s.body, s.orelse
    return new


def _propagate_copies(body, keep, params):
    """``a = b`` with both assigned once: uses of ``a`` read ``b`` (or, when ``b`` is a
    temporary defined just before in the same block, ``b``'s definition is renamed ``a``).
    All such copies are removed in one rewrite of the body, so that the cost grows with the
    body's size, not with its size times the number of copies."""
    while True:
        counts = assign_counts(body, params)
        mapping: dict[str, str] = {}
        removed: set[int] = set()
        rename = None
        for s in syntax.walk_statements(body):
            t = target(s)
            if t is None or not isinstance(s.value, syntax.Name) or counts.get(t) != 1:
                continue
            src = s.value.id
            if counts.get(src, 0) != 1 or (t in keep and src in keep):
                continue
            if t in keep and src not in keep and src not in params:
                if rename is None:
                    rename = (s, t, src)
                continue
            mapping[t] = src
            removed.add(id(s))
        if mapping:
            resolved = {}
            for t in mapping:
                seen, src = {t}, mapping[t]
                while src in mapping and src not in seen:
                    seen.add(src)
                    src = mapping[src]
                if src in seen:  # a cycle: only code reading unset names has one
                    continue
                resolved[t] = src
            def keep_stmt(x, dropped=removed, resolved=resolved):
                return id(x) not in dropped or target(x) not in resolved

            body = map_blocks(body, lambda b, keep_stmt=keep_stmt: [x for x in b
                                                                     if keep_stmt(x)])
            body = _substitute_everywhere(body, {t: syntax.load(v)
                                                 for t, v in resolved.items()})
            if resolved:
                continue
        if rename is None:
            return body
        s, t, src = rename
        # rename the temporary's definition to the user's name, if in the same block
        renamed = _rename_in_block(body, s, src, t)
        if renamed is not None:
            body = renamed
            continue
        keep = keep | {src}  # cannot rename: leave this copy alone


def _rename_in_block(body, copy, src, t):
    def find(block):
        if copy in block:
            idx = block.index(copy)
            return any(target(x) == src for x in block[:idx])
        for x in block:
            if isinstance(x, (syntax.If, syntax.For, syntax.While)):
                if find(x.body) or find(x.orelse):
                    return True
        return False
    if not find(body):
        return None
    body = map_blocks(body, lambda b: [x for x in b if x is not copy])
    return [syntax.rename(x, {src: t}) for x in body]


def _pure(stmt) -> bool:
    """Whether ``stmt`` may be dropped when nothing reads what it assigns: not a call
    whose rule says ``impure`` (a random draw changes the generator's state, ``seed(out)``
    is grad's check that the output is a scalar float, a log records writes)."""
    value = stmt.value
    if not isinstance(value, syntax.Call):
        return True
    return not rules.fact(dotted(value.func), "impure", False)


def _eliminate_dead(body):
    read = set()
    for s in syntax.walk_statements(body):
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Subscript):
            read |= set(syntax.names_loaded(s.value)) | set(syntax.names_loaded(
                s.targets[0].slice))
        else:
            read |= set(stmt_loads(s))
    out, _ = _dce(body, set(), read)
    return out


def _drop_self_copies(block):
    """Without ``x = x`` (what a cotangent that flows through a statement unchanged,
    ``s_bar = s_bar``, is left as): it does nothing."""
    return [s for s in block if not (isinstance(s, syntax.Assign) and target(s) is not None
                                     and isinstance(s.value, syntax.Name)
                                     and s.value.id == target(s))]


def _dce(stmts, live_after, read):
    live = set(live_after)
    out = []
    for s in reversed(stmts):
        if syntax.comment_text(s) is not None:
            out.append(s)
            continue
        if isinstance(s, syntax.Return):
            live |= set(stmt_loads(s))
            out.append(s)
        elif isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Subscript):
            array = s.targets[0].value.id
            if array not in read:
                continue  # nobody reads the array written into
            live |= set(stmt_loads(s))
            out.append(s)
        elif isinstance(s, syntax.Assign):
            t = target(s)
            if t not in live and _pure(s):
                continue
            live.discard(t)
            live |= set(stmt_loads(s))
            out.append(s)
        elif isinstance(s, syntax.If):
            b1, l1 = _dce(s.body, live, read)
            b2, l2 = _dce(s.orelse, live, read)
            if not _has_code(b1) and not _has_code(b2):
                continue
            live = l1 | l2 | set(stmt_loads(s))
            out.append(syntax.copy_location(syntax.If(test=s.test, body=b1 or [syntax.Pass()],
                                                      orelse=b2 if _has_code(b2) else []), s))
        elif isinstance(s, (syntax.For, syntax.While)):
            bound = {s.target.id} if isinstance(s, syntax.For) else set()
            head = set(live)
            while True:
                b, lb = _dce(s.body, head, read)
                new = live | (lb - bound) | set(stmt_loads(s))
                if new == head:
                    break
                head = new
            if not _has_code(b):
                continue
            live = head
            if isinstance(s, syntax.For):
                new_loop = syntax.For(target=s.target, iter=s.iter, body=b, orelse=[],
                                      type_comment=None)
            else:
                new_loop = syntax.While(test=s.test, body=b, orelse=[])
            out.append(syntax.copy_location(new_loop, s))
        else:
            out.append(s)
    return out[::-1], live


def _has_code(stmts) -> bool:
    return any(syntax.comment_text(s) is None and not isinstance(s, syntax.Pass)
               for s in stmts)


def _fold_single_use(block, keep, assigned, uses):
    """Fold temporaries used once into their use; ``assigned`` and ``uses`` count over the
    whole body (folding changes the counts of the folded name only, which is gone)."""
    i = 0
    while i < len(block):
        s = block[i]
        t = target(s)
        if (t is None or t in keep or not _FOLDABLE.match(t) or assigned.get(t) != 1
                or uses.get(t) != 1):
            i += 1
            continue
        reads = set(syntax.names_loaded(s.value))
        j = i + 1
        found = False
        while j < len(block):
            u = block[j]
            if isinstance(u, (syntax.Assign, syntax.Return)) and not (
                isinstance(u, syntax.Assign) and isinstance(u.targets[0], syntax.Subscript)
            ) and u.value is not None and t in syntax.names_loaded(u.value):
                found = True
                break
            if isinstance(u, (syntax.If, syntax.For, syntax.While)):
                if t in stmt_loads(u) or (assigned_names([u]) & reads) or any(
                    t in stmt_loads(x) for x in syntax.walk_statements(u.body + u.orelse)
                ):
                    break
            elif _changes(u) & reads or t in stmt_loads(u):
                break
            j += 1
        if not found:
            i += 1
            continue
        use = syntax.clone(block[j])
        use.value = syntax.substitute(use.value, {t: s.value})
        block = block[:i] + block[i + 1:j] + [use] + block[j + 1:]
        # counts changed only for t, which is gone
    return block


def _changes(stmt) -> set[str]:
    """The names whose values ``stmt`` changes: the name it assigns, the arrays it writes
    into (``y[1:] = v``) and those a helper updates in place (``index_add``,
    ``pop_writes``) or an impure call is given. A value read before it is not read
    again after it: moving that read past it would read the new values. (Generated
    functions never change their arguments: a call of one changes nothing here.)"""
    out = written([stmt])
    for node in syntax.walk(stmt):
        if isinstance(node, syntax.Call):
            rule = rules.lookup(dotted(node.func))
            if rule is not None and rule.in_place and node.args:
                out.update(syntax.names_loaded(node.args[0]))
            elif rule is not None and rule.impure:
                out.update(n for a in node.args for n in syntax.names_loaded(a))
    return out


def _index_add_parts(stmt):
    """(array, index, value) of ``a = index_add(a, i, v)``, else None."""
    t = target(stmt)
    v = stmt.value if isinstance(stmt, syntax.Assign) else None
    if (t is not None and isinstance(v, syntax.Call) and isinstance(v.func, syntax.Name)
            and v.func.id == "index_add" and isinstance(v.args[0], syntax.Name)
            and v.args[0].id == t):
        return t, v.args[1], v.args[2]
    return None


def _merge_index_adds(body):
    """Two in-place additions at the same index become one."""
    i = 0
    while i < len(body):
        first = _index_add_parts(body[i])
        if first is None:
            i += 1
            continue
        array, index, value = first
        reads = set(syntax.names_loaded(value)) | set(syntax.names_loaded(index))
        merged = False
        for j in range(i + 1, len(body)):
            u = body[j]
            if isinstance(u, (syntax.If, syntax.For, syntax.While)):
                break
            second = _index_add_parts(u)
            if second is not None and second[0] == array and syntax.to_source(
                    second[1]) == syntax.to_source(index):
                new = syntax.clone(u)
                new.value.args[2] = syntax.binop(syntax.clone(value), "+", second[2])
                body = body[:i] + body[i + 1:j] + [new] + body[j + 1:]
                merged = True
                break
            if array in stmt_loads(u) or _changes(u) & (reads | {array}):
                break
        if not merged:
            i += 1
    return body


def _common_subexpressions(body, counts, changed=frozenset()):
    """A pure operation computed twice in a block, on unchanged operands, is computed once
    (an elementwise one, whose value no name in ``changed`` holds: those arrays are
    changed in place)."""
    seen: dict[str, str] = {}
    out = []
    for s in body:
        t = target(s)
        if isinstance(s, (syntax.For, syntax.While)):
            # a loop: forget what reads a name it assigns or changes in place
            in_loop = assigned_names(s.body) | mutated(s.body)
            if isinstance(s, syntax.For):
                in_loop |= set(syntax.names_stored(s.target))
            seen = {k: v for k, v in seen.items()
                    if not (_names_of_key(k) | {v}) & in_loop}
            out.append(s)
            continue
        if isinstance(s, syntax.If) or (isinstance(s, syntax.Assign) and t is None):
            # a branch or a store may change anything: forget what was seen
            seen = {}
            out.append(s)
            continue
        record = None
        if t is not None and _pure(s) and not isinstance(
                s.value, (syntax.Name, syntax.Constant)) and not _is_index_add(s.value):
            key = syntax.to_source(s.value)
            if key in seen:
                s = syntax.assign(t, syntax.load(seen[key]), lineno=getattr(s, "lineno", None))
            elif t not in syntax.names_loaded(s.value) and t not in changed and \
                    elementwise_value(s.value):
                record = key  # (one array for two names: only where neither changes)
        if t is not None:
            # forget expressions reading a name this statement changes
            seen = {k: v for k, v in seen.items() if t not in _names_of_key(k) and v != t}
            if _is_index_add(s.value):
                seen = {}
            if record is not None:
                seen[record] = t
        out.append(s)
    return out


def _is_index_add(expr) -> bool:
    return (isinstance(expr, syntax.Call) and isinstance(expr.func, syntax.Name)
            and expr.func.id == "index_add")


def _names_of_key(key: str) -> set[str]:
    return set(syntax.names_loaded(syntax.parse_expr(key)))


def _inplace_targets(body) -> set[str]:
    """Names of arrays changed in place (``index_add(a, ...)``, ``a[i] = ...``)."""
    out = set()
    for s in syntax.walk_statements(body):
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Subscript):
            out.add(s.targets[0].value.id)
        if isinstance(s, syntax.Assign):
            for node in syntax.walk(s.value):
                if (isinstance(node, syntax.Call) and isinstance(node.func, syntax.Name)
                        and node.func.id in ("index_add", "index_zero") and node.args
                        and isinstance(node.args[0], syntax.Name)):
                    out.add(node.args[0].id)
    return out


def _merge_accumulations(body, inplace=frozenset()):
    """``a = e1`` followed (with no use of ``a`` between, loops and branches that leave
    ``a`` and what ``e1`` reads alone included) by ``a = a + e2`` becomes ``a = e1 + e2``
    (``a = e2`` when ``e1`` is ``zero_like(...)``): one statement per adjoint where a
    person would write one."""
    i = 0
    while i < len(body):
        s = body[i]
        t = target(s)
        # a = e1, or a = a + e1 (an accumulation goes on: a = a + e1 + e2, summed in the
        # same order)
        going_on = t is not None and _accumulates(s.value, t)
        if t is None or (t in syntax.names_loaded(s.value) and not going_on):
            i += 1
            continue
        reads = set(syntax.names_loaded(s.value)) - {t}
        merged = False
        for j in range(i + 1, len(body)):
            u = body[j]
            if isinstance(u, (syntax.If, syntax.For, syntax.While)):
                inner = [u]
                if t in {n for x in syntax.walk_statements(inner) for n in stmt_loads(x)} \
                        or (assigned_names(inner) | mutated(inner)) & (reads | {t}):
                    break
                continue  # a loop or branch that leaves a and what e1 reads alone
            value = u.value if isinstance(u, (syntax.Assign, syntax.Return)) else None
            if value is None:
                continue
            if (target(u) == t and isinstance(value, syntax.BinOp) and _op(value) in ("+", "-")
                    and isinstance(value.left, syntax.Name) and value.left.id == t
                    and syntax.names_loaded(value).count(t) == 1
                    and not (_is_zero(s.value) and isinstance(value.right, syntax.Name)
                             and t in inplace)):
                # (zero_like(v) + a name would make two names share one array, which an
                # in-place index_add could then change behind the other's back)
                new = syntax.clone(u)
                if going_on:
                    new.value = syntax.BinOp(left=syntax.clone(s.value), op=value.op,
                                             right=value.right)
                elif _is_zero(s.value) and _op(value) == "+":
                    new.value = value.right
                elif _is_zero(s.value):
                    new.value = syntax.unaryop("-", value.right)
                else:
                    new.value = syntax.BinOp(left=syntax.clone(s.value), op=value.op,
                                             right=value.right)
                body = body[:i] + body[i + 1:j] + [new] + body[j + 1:]
                merged = True
                break
            if t in stmt_loads(u) or target(u) == t or _changes(u) & reads:
                break
        if not merged:
            i += 1
    return body


def _accumulates(value, t: str) -> bool:
    """``t + e`` or ``t - e`` with ``t`` read once: an accumulation into ``t``."""
    return (isinstance(value, syntax.BinOp) and _op(value) in ("+", "-")
            and isinstance(value.left, syntax.Name) and value.left.id == t
            and syntax.names_loaded(value).count(t) == 1)


def _is_zero(expr) -> bool:
    return (isinstance(expr, syntax.Call) and isinstance(expr.func, syntax.Name)
            and expr.func.id == "zero_like")


def _drop_empty_comments(body):
    # a comment repeating the one before it in the same block says nothing new
    deduped, last = [], None
    for s in body:
        text = syntax.comment_text(s)
        if text is not None:
            if text == last:
                continue
            last = text
        elif isinstance(s, (syntax.If, syntax.For, syntax.While)):
            last = None
        deduped.append(s)
    body = deduped
    out = []
    for k, s in enumerate(body):
        if syntax.comment_text(s) is not None:
            nxt = body[k + 1] if k + 1 < len(body) else None
            if nxt is None or syntax.comment_text(nxt) is not None or isinstance(
                nxt, syntax.Return
            ):
                continue
        out.append(s)
    return out


def _renumber(body, keep):
    """Temporaries become t1, t2, ... in order of first appearance; a temporary's
    derived names follow it (``t7_bar`` becomes ``t2_bar`` when ``t7`` becomes ``t2``),
    and a derived name whose temporary was folded away keeps a number of its own."""
    taken = set()
    appearance: list[str] = []
    for s in body:
        for node in syntax.walk(s):
            if isinstance(node, syntax.Name):
                taken.add(node.id)
    for s in syntax.walk_statements(body):
        names = ([target(s)] if target(s) else []) + stmt_loads(s)
        appearance.extend(n for n in names if n)
    bases: list[str] = []
    for n in appearance:
        m = _TEMP.match(n)
        if m and n not in keep and f"t{m.group(2)}" not in bases:
            bases.append(f"t{m.group(2)}")
    mapping: dict[str, str] = {}
    counter = 0
    for old in bases:
        counter += 1
        while f"t{counter}" in taken and f"t{counter}" not in bases:
            counter += 1
        mapping[old] = f"t{counter}"
    full: dict[str, str] = {}
    for n in taken:
        m = _TEMP.match(n)
        if m and n not in keep and f"t{m.group(2)}" in mapping:
            full[n] = mapping[f"t{m.group(2)}"] + n[len(f"t{m.group(2)}"):]
    if len(set(full.values())) != len(full) or set(full.values()) & (taken - set(full)):
        return body  # renumbering would collide: keep the names as they are
    return [syntax.rename(s, full) for s in body]


def live_in(body) -> set[str]:
    """Names ``body`` reads before assigning them (its inputs)."""
    read = set()
    for s in syntax.walk_statements(body):
        read |= set(stmt_loads(s))
    return _dce(body, set(), read)[1]
