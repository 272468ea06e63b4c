"""Make generated straight-line code read like what a person would write:
fold constants, propagate copies, drop dead code, fold single-use
temporaries back into the expression that uses them, and renumber what is
left.

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in ["t1 = x * 1.0", "t2 = np.sin(t1)", "y = t2 + x",
...                                         "t3 = y * 2", "return y"]]
>>> print(syntax.to_source(syntax.function_def("f", ["x"], optimize(body, {"x", "y"}))))
def f(x):
    y = np.sin(x) + x
    return y
"""

from __future__ import annotations

import re

from .. import syntax

_TEMP = re.compile(r"^(t)(\d+)((?:_bar|_dot)(?:_\d+)?)*$")
_FOLDABLE = re.compile(r"^t\d+(?:_\d+)?(?:_bar|_dot)*(?:_\d+)?$")


def optimize(body: list, keep: set[str]) -> list:
    """Optimize ``body`` (statements ending in a Return); names in ``keep`` are the
    user's and are never folded away or renumbered."""
    body = [_simplify_stmt(s) for s in body]
    for _ in range(4):
        before = [syntax.to_source(s) for s in body]
        body = _propagate_copies(body, keep)
        body = _eliminate_dead(body)
        body = _fold_single_use(body, keep)
        body = _merge_accumulations(body)
        body = [_simplify_stmt(s) for s in body]
        if [syntax.to_source(s) for s in body] == before:
            break
    body = _drop_empty_comments(body)
    return _renumber(body, keep)


# -- expressions ------------------------------------------------------------------------
def _num(node):
    return (isinstance(node, syntax.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))


def _is(node, value) -> bool:
    return _num(node) and node.value == value


def _op(node) -> str:
    return type(node.op).__name__


class _Simplify(syntax.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b, op = node.left, node.right, _op(node)
        if _num(a) and _num(b):
            try:
                value = {"Add": lambda: a.value + b.value, "Sub": lambda: a.value - b.value,
                         "Mult": lambda: a.value * b.value,
                         "Pow": lambda: a.value ** b.value}.get(op, lambda: None)()
            except (OverflowError, ZeroDivisionError):
                value = None
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                return syntax.const(value)
        if op == "Mult":
            if _is(b, 1):
                return a
            if _is(a, 1):
                return b
            if _is(b, -1):
                return syntax.UnaryOp(op=syntax.parse_expr("-a").op, operand=a)
            if isinstance(b, syntax.BinOp) and _op(b) == "Div" and _is(b.left, 1):
                return syntax.BinOp(left=a, op=b.op, right=b.right)
            if isinstance(a, syntax.BinOp) and _op(a) == "Div" and _is(a.left, 1):
                return syntax.BinOp(left=b, op=a.op, right=a.right)
        if op in ("Mult", "Div") and isinstance(a, syntax.UnaryOp) and _op(a) == "USub":
            # (-a) * b -> -(a * b), so that signs meet and cancel
            return syntax.UnaryOp(op=a.op, operand=syntax.BinOp(left=a.operand, op=node.op,
                                                                right=b))
        if op == "Mult" and isinstance(b, syntax.UnaryOp) and _op(b) == "USub":
            return syntax.UnaryOp(op=b.op, operand=syntax.BinOp(left=a, op=node.op,
                                                                right=b.operand))
        if op == "Div" and _is(b, 1):
            return a
        if op == "Pow" and _is(b, 1):
            return a
        if op in ("Add", "Sub") and isinstance(b, syntax.UnaryOp) and _op(b) == "USub":
            flipped = "a - b" if op == "Add" else "a + b"
            return syntax.BinOp(left=a, op=syntax.parse_expr(flipped).op, right=b.operand)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if _op(node) == "USub":
            inner = node.operand
            if isinstance(inner, syntax.UnaryOp) and _op(inner) == "USub":
                return inner.operand
            if isinstance(inner, syntax.BinOp) and _op(inner) in ("Mult", "Div") and (
                isinstance(inner.left, syntax.UnaryOp) and _op(inner.left) == "USub"
            ):
                return syntax.BinOp(left=inner.left.operand, op=inner.op, right=inner.right)
            if _num(inner):
                return syntax.const(-inner.value)
        return node


def simplify(expr):
    return _Simplify().visit(expr)


def _simplify_stmt(stmt):
    return _Simplify().visit(syntax.clone(stmt))


# -- statements -------------------------------------------------------------------------
def _target(stmt):
    if isinstance(stmt, syntax.Assign) and isinstance(stmt.targets[0], syntax.Name):
        return stmt.targets[0].id
    return None


def _assign_counts(body):
    counts: dict[str, int] = {}
    for s in body:
        t = _target(s)
        if t is not None:
            counts[t] = counts.get(t, 0) + 1
    return counts


def _use_counts(body):
    counts: dict[str, int] = {}
    for s in body:
        value = s.value if isinstance(s, (syntax.Assign, syntax.Return)) else None
        if value is None:
            continue
        for n in syntax.names_loaded(value):
            counts[n] = counts.get(n, 0) + 1
    return counts


def _replace_uses(body, start, mapping):
    out = list(body[:start])
    for s in body[start:]:
        if isinstance(s, (syntax.Assign, syntax.Return)) and s.value is not None:
            s = syntax.clone(s)
            s.value = syntax.substitute(s.value, mapping)
        out.append(s)
    return out


def _propagate_copies(body, keep):
    assigned = _assign_counts(body)
    params_like = set()
    i = 0
    while i < len(body):
        s = body[i]
        t = _target(s)
        if t is None or not isinstance(s.value, syntax.Name) or assigned.get(t, 0) != 1:
            i += 1
            continue
        src = s.value.id
        if assigned.get(src, 0) > 1 or src in params_like:
            i += 1
            continue
        if src not in keep and assigned.get(src, 0) == 1 and t in keep:
            # rename the temporary to the user's name at its definition
            body = [syntax.rename(x, {src: t}) if j != i else None for j, x in enumerate(body)]
            body = [x for x in body if x is not None]
            continue
        if t in keep and src in keep:
            i += 1
            continue
        body = _replace_uses(body[:i] + body[i + 1:], i, {t: syntax.load(src)})
    return body


# never dropped as dead code: random draws change the generator's state, and seed(out)
# is grad's check that the output is a scalar float
_IMPURE = ("np.random.", "seed(")


def _pure(stmt) -> bool:
    return not any(syntax.to_source(stmt.value).startswith(p) for p in _IMPURE)


def _eliminate_dead(body):
    live: set[str] = set()
    out = []
    for s in reversed(body):
        if isinstance(s, syntax.Return):
            live |= set(syntax.names_loaded(s.value))
            out.append(s)
            continue
        t = _target(s)
        if t is None:
            out.append(s)
            continue
        if t not in live and _pure(s):
            continue
        live.discard(t)
        live |= set(syntax.names_loaded(s.value))
        out.append(s)
    return out[::-1]


def _fold_single_use(body, keep):
    assigned = _assign_counts(body)
    uses = _use_counts(body)
    i = 0
    while i < len(body):
        s = body[i]
        t = _target(s)
        if (t is None or t in keep or not _FOLDABLE.match(t) or assigned.get(t) != 1
                or uses.get(t) != 1):
            i += 1
            continue
        reads = set(syntax.names_loaded(s.value))
        j = i + 1
        while j < len(body):
            u = body[j]
            value = u.value if isinstance(u, (syntax.Assign, syntax.Return)) else None
            if value is not None and t in syntax.names_loaded(value):
                break
            if _target(u) in reads:
                j = len(body)  # an operand is overwritten before the use: keep the temporary
                break
            j += 1
        if j >= len(body):
            i += 1
            continue
        use = syntax.clone(body[j])
        use.value = syntax.substitute(use.value, {t: s.value})
        body = body[:i] + body[i + 1:j] + [use] + body[j + 1:]
    return body


def _merge_accumulations(body):
    """``a = e1`` followed (with no use of ``a`` between) by ``a = a + e2`` becomes
    ``a = e1 + e2``: one statement per adjoint where a person would write one."""
    i = 0
    while i < len(body):
        s = body[i]
        t = _target(s)
        if t is None or t in syntax.names_loaded(s.value):
            i += 1
            continue
        reads = set(syntax.names_loaded(s.value))
        merged = False
        for j in range(i + 1, len(body)):
            u = body[j]
            value = u.value if isinstance(u, (syntax.Assign, syntax.Return)) else None
            if value is None:
                continue
            if (_target(u) == t and isinstance(value, syntax.BinOp) and _op(value) == "Add"
                    and isinstance(value.left, syntax.Name) and value.left.id == t
                    and syntax.names_loaded(value).count(t) == 1):
                new = syntax.clone(u)
                new.value = syntax.BinOp(left=syntax.clone(s.value), op=value.op,
                                         right=value.right)
                body = body[:i] + body[i + 1:j] + [new] + body[j + 1:]
                merged = True
                break
            if t in syntax.names_loaded(value) or _target(u) == t or _target(u) in reads:
                break
        if not merged:
            i += 1
    return body


def _drop_empty_comments(body):
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
        names = ([_target(s)] if _target(s) else []) + (
            syntax.names_loaded(s.value) if isinstance(s, (syntax.Assign, syntax.Return))
            and s.value is not None else [])
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
