r"""What a body of generated statements reads and assigns: the facts the passes over
generated code share (optimize.py, versions.py, gather.py, writes.py, reverse_loops.py).

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in ["y = x * 2.0", "for i in range(n):\n    y = y + x",
...                                         "return y"]]
>>> assign_counts(body, ["x", "n"])["y"], use_counts(body)["x"], sorted(assigned_names(body))
(2, 2, ['i', 'y'])
"""

from __future__ import annotations

from .. import rules, syntax


def target(stmt) -> str | None:
    """The name ``stmt`` assigns (``y = ...``), else None (``a[i] = ...``, a branch)."""
    if isinstance(stmt, syntax.Assign) and isinstance(stmt.targets[0], syntax.Name):
        return stmt.targets[0].id
    return None


def key(node):
    """A fingerprint of ``node``'s code: equal exactly when the code is."""
    if isinstance(node, list):
        return tuple(key(x) for x in node)
    if isinstance(node, syntax.AST):
        return (type(node),) + tuple(key(getattr(node, f, None)) for f in node._fields)
    return node


def map_blocks(body, fn):
    """Apply ``fn`` to every statement list, innermost first."""
    out = []
    for s in body:
        if isinstance(s, syntax.If):
            s = syntax.copy_location(syntax.If(test=s.test, body=map_blocks(s.body, fn)
                                               or [syntax.Pass()],
                                               orelse=map_blocks(s.orelse, fn)), s)
        elif isinstance(s, syntax.For):
            s = syntax.copy_location(syntax.For(target=s.target, iter=s.iter,
                                                body=map_blocks(s.body, fn) or [syntax.Pass()],
                                                orelse=[], type_comment=None), s)
        elif isinstance(s, syntax.While):
            s = syntax.copy_location(syntax.While(test=s.test, body=map_blocks(s.body, fn)
                                                  or [syntax.Pass()], orelse=[]), s)
        out.append(s)
    return fn(out)


def with_body(loop, body):
    """A copy of the loop ``loop`` (``for`` or ``while``) with the statements ``body``."""
    if isinstance(loop, syntax.For):
        return syntax.For(target=loop.target, iter=loop.iter, body=body, orelse=loop.orelse,
                          type_comment=None)
    return syntax.While(test=loop.test, body=body, orelse=loop.orelse)


def insert_before_loop(out: list, stmts: list) -> None:
    """Put ``stmts`` at the end of ``out``, the statements before a loop, above the
    comments that introduce the loop."""
    at = len(out)
    while at and syntax.comment_text(out[at - 1]) is not None:
        at -= 1
    out[at:at] = stmts


def stmt_loads(s) -> list[str]:
    """Names a statement reads itself (not those of its nested blocks)."""
    if isinstance(s, syntax.Assign):
        names = syntax.names_loaded(s.value)
        t = s.targets[0]
        if isinstance(t, syntax.Subscript):
            # (a[i][j] = v reads a[i]: refused where it is normalized, read here as it is)
            names += syntax.names_loaded(t.slice) + syntax.names_loaded(t.value)
        return names
    if isinstance(s, syntax.Return):
        return syntax.names_loaded(s.value) if s.value is not None else []
    if isinstance(s, (syntax.If, syntax.While)):
        return syntax.names_loaded(s.test)
    if isinstance(s, syntax.For):
        return syntax.names_loaded(s.iter)
    return []


def assigned_names(body) -> set[str]:
    """Names ``body`` assigns, loop targets included, at any depth."""
    out = set()
    for s in syntax.walk_statements(body):
        t = target(s)
        if t is not None:
            out.add(t)
        if isinstance(s, syntax.For):
            out.add(s.target.id)
    return out


# -- expressions ------------------------------------------------------------------------


def dotted(expr) -> str:
    """``np.sin`` for ``np.sin`` (a name or attributes of one); "" for anything else."""
    if isinstance(expr, syntax.Name):
        return expr.id
    if isinstance(expr, syntax.Attribute):
        inner = dotted(expr.value)
        return f"{inner}.{expr.attr}" if inner else ""
    return ""


def spelling(expr) -> str:
    """The rules' key of an operation: ``BinOp.Mult``, ``UnaryOp.USub``, ``np.sin``."""
    if isinstance(expr, syntax.BinOp):
        return f"BinOp.{type(expr.op).__name__}"
    if isinstance(expr, syntax.UnaryOp):
        return f"UnaryOp.{type(expr.op).__name__}"
    if isinstance(expr, syntax.Call) and not expr.keywords:
        return dotted(expr.func)
    return ""


def elementwise_op(expr) -> bool:
    """An operation that makes a new value from its operands' elements (its rule is
    elementwise, neither in place nor impure)."""
    rule = rules.lookup(spelling(expr))
    return (rule is not None and rule.elementwise and rule.kind in ("diff", "zero")
            and rule.in_place is None and not rule.impure)


def elementwise_value(expr, quiet: bool = False) -> bool:
    """Names, constants and elementwise operations of them; ``quiet``: none whose rule
    says it may raise (a division, ``math.log``).

    >>> from nabla import syntax
    >>> [elementwise_value(syntax.parse_expr(e), quiet=True)
    ...  for e in ("np.exp(w) * 2.0", "x / y", "x[i] + 1")]
    [True, False, False]
    """
    if isinstance(expr, (syntax.Name, syntax.Constant)):
        return True
    if not elementwise_op(expr):
        return False
    if quiet and rules.lookup(spelling(expr)).raises:
        return False
    return all(elementwise_value(p, quiet) for p in operands(expr))


def operands(expr) -> list:
    """The operands of a BinOp, a UnaryOp or a call (its positional arguments)."""
    if isinstance(expr, syntax.BinOp):
        return [expr.left, expr.right]
    if isinstance(expr, syntax.UnaryOp):
        return [expr.operand]
    return list(expr.args)


def mutated(body) -> set[str]:
    """Names whose arrays ``body`` may change in place: subscript and augmented
    assignments' targets, the first argument of a call whose rule says it updates it in
    place (``index_add``), and every name passed to a call without a rule (a user's
    function) or an impure one.

    >>> from nabla import syntax
    >>> sorted(mutated([syntax.parse_stmt(s) for s in (
    ...     "a[i] = 1.0", "g = index_add(g, i, np.exp(w))", "y = f(x, 2.0 * z)")]))
    ['a', 'g', 'x', 'z']
    """
    out = set()
    for s in syntax.walk_statements(body):
        if isinstance(s, (syntax.Assign, syntax.AugAssign)):
            for t in (s.targets if isinstance(s, syntax.Assign) else [s.target]):
                while isinstance(t, (syntax.Subscript, syntax.Attribute)):
                    t = t.value
                    if isinstance(t, syntax.Name):
                        out.add(t.id)
        # the statement's own expressions (a loop's or branch's header, not its body)
        own = s.test if isinstance(s, (syntax.If, syntax.While)) else \
            s.iter if isinstance(s, syntax.For) else s
        for node in syntax.walk(own):
            if isinstance(node, syntax.Call):
                rule = rules.lookup(dotted(node.func))
                if rule is not None and rule.in_place and not rule.impure:
                    out.update(syntax.names_loaded(node.args[0]) if node.args else [])
                elif rule is None or rule.impure:
                    out.update(n for a in list(node.args) + [k.value for k in node.keywords]
                               for n in syntax.names_loaded(a))
                    if isinstance(node.func, syntax.Attribute):
                        out.update(syntax.names_loaded(node.func.value))
    return out


def written(body) -> set[str]:
    """Names ``body`` assigns, and arrays it writes into."""
    out = assigned_names(body)
    for s in syntax.walk_statements(body):
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Subscript):
            out.add(s.targets[0].value.id)
    return out


def assign_counts(body, params=()) -> dict:
    """How many times each name is assigned (``params`` once, on entry; a loop target
    twice: every iteration)."""
    counts: dict[str, int] = {p: 1 for p in params}
    for s in syntax.walk_statements(body):
        t = target(s)
        if t is not None:
            counts[t] = counts.get(t, 0) + 1
        if isinstance(s, syntax.For):
            counts[s.target.id] = counts.get(s.target.id, 0) + 2  # assigned every iteration
    return counts


def stored(s) -> list[str]:
    """The names the statement ``s`` itself assigns: its targets', an augmented
    assignment's, a loop's variables (not those of its nested blocks)."""
    if isinstance(s, syntax.Assign):
        return [n for t in s.targets for n in syntax.names_stored(t)]
    if isinstance(s, syntax.AugAssign):
        return syntax.names_stored(s.target)
    if isinstance(s, syntax.For):
        return syntax.names_stored(s.target)
    return []


def assigned_values(body) -> dict[str, list]:
    """name -> the value of each assignment to it, at any depth; None for one that is not
    ``name = value`` (a loop's variable, an element of an unpacked tuple, an augmented
    assignment), which the passes that follow values do not follow."""
    out: dict[str, list] = {}
    for s in syntax.walk_statements(body):
        if isinstance(s, syntax.Assign) and len(s.targets) == 1 and isinstance(
                s.targets[0], syntax.Name):
            out.setdefault(s.targets[0].id, []).append(s.value)
        else:
            for n in stored(s):
                out.setdefault(n, []).append(None)
    return out


def use_counts(body) -> dict:
    """How many times each name is read, at any depth."""
    counts: dict[str, int] = {}
    for s in syntax.walk_statements(body):
        for n in stmt_loads(s):
            counts[n] = counts.get(n, 0) + 1
    return counts


def read_before_written(stmts) -> set[str]:
    """Names ``stmts`` may read before assigning them (a name assigned on both paths of a
    branch counts as assigned after it; a loop's body may not run).

    >>> from nabla import syntax
    >>> sorted(read_before_written([syntax.parse_stmt("s += x"), syntax.parse_stmt("y = s")]))
    ['s', 'x']
    """
    return _reads_and_writes(stmts)[0]


def always_assigned(stmts) -> set[str]:
    """Names ``stmts`` assign on every path through them (on both paths of a branch; not
    in a loop's body, which may not run).

    >>> from nabla import syntax
    >>> sorted(always_assigned([syntax.parse_stmt("y = 1"),
    ...                         syntax.parse_stmt("if c:\\n    z = 1\\n    y = 2")]))
    ['y']
    """
    return _reads_and_writes(stmts)[1]


def _reads_and_writes(stmts):
    """(names read before assigned, names assigned on every path) of ``stmts``."""
    out: set[str] = set()

    def visit(block, written):
        written = set(written)
        for s in block:
            if isinstance(s, syntax.If):
                out.update(n for n in syntax.names_loaded(s.test) if n not in written)
                w1 = visit(s.body, written)
                w2 = visit(s.orelse, written)
                written |= w1 & w2
            elif isinstance(s, (syntax.For, syntax.While)):
                head = s.iter if isinstance(s, syntax.For) else s.test
                out.update(n for n in syntax.names_loaded(head) if n not in written)
                target = set(syntax.names_stored(s.target)) if isinstance(s, syntax.For) \
                    else set()
                visit(s.body, written | target)
            else:
                loads = stmt_loads(s) if isinstance(s, syntax.Assign) else \
                    syntax.names_loaded(s)
                out.update(n for n in loads if n not in written)
                written |= set(syntax.names_stored(s))
        return written

    return out, visit(stmts, set())
