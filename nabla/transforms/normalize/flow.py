"""Control flow: ``if``, ``for`` and ``while`` stay in canonical form, their blocks
normalized like the function's body.

After an ``if``, a variable the two paths leave with different names gets one name,
copied at the end of each path (a *join*). A value a loop carries from one iteration
to the next, or out of the loop, is copied back at the end of the body to the name
it had on entry, so every iteration reads it there. A tuple is joined element by
element after an ``if``; a loop may not carry one (``_no_carried_tuples``).

>>> from nabla.transforms.normalize import normalize
>>> def f(x, n):
...     s = 0.0
...     for i in range(n):
...         s += x
...     if s > 1.0:
...         s = s / 2.0
...     return s
>>> print(normalize(f).to_source())
def f(x, n):
    s = 0.0
    for i in range(0, n, 1):
        s_1 = s + x
        s = s_1
    t1 = s > 1.0
    if t1:
        s_2 = s / 2.0
    else:
        s_2 = s
    return s_2
"""

from __future__ import annotations

from collections import Counter

from ... import syntax
from ...errors import UnsupportedSyntaxError
from ..bodies import read_before_written


class Flow:
    """Normalizer's control flow (a mixin): ``block`` normalizes a block on its own
    (versions and tuples restored after it); ``if_statement``, ``for_statement`` and
    ``while_statement`` join and carry what the blocks changed."""

    # -- blocks --------------------------------------------------------------
    def block(self, stmts):
        """Normalize ``stmts`` into a new block; (statements, versions after them)."""
        saved_body, saved_versions = self.body, dict(self.versions)
        saved_tuples = dict(self.tuples)
        saved_line, saved_col = self.lineno, self.col
        self.body = []
        for i, s in enumerate(stmts):
            self.lineno = getattr(s, "lineno", self.lineno)
            self.col = getattr(s, "col_offset", self.col)
            self.rest.append(stmts[i + 1:])
            self.statement(s)
            self.rest.pop()
        out, after = self.body, self.versions
        self.block_tuples = self.tuples  # the tuples known at the block's end
        self.body, self.versions, self.tuples = saved_body, saved_versions, saved_tuples
        self.lineno, self.col = saved_line, saved_col
        return out, after

    def copy_stmt(self, target: str, source: str):
        stmt = syntax.assign(target, syntax.load(source), lineno=self.lineno)
        stmt.col_offset = self.col
        if source in self.fresh_arrays:
            self.fresh_arrays.add(target)
        self.share(target, source)
        return stmt

    def test_atom(self, test):
        atom = self.atom(test)
        return atom

    # -- branches ------------------------------------------------------------
    def if_statement(self, node):
        test = self.test_atom(node.test)
        before = dict(self.versions)
        before_tuples = self.tuples
        body1, v1 = self.block(node.body)
        tuples1 = self.block_tuples
        body2, v2 = self.block(node.orelse)
        tuples2 = self.block_tuples
        existing = set(before.values())
        merged = dict(before)
        joined_tuples = {}
        after_if = []
        for var in sorted(set(v1) | set(v2)):
            a, b, o = v1.get(var), v2.get(var), before.get(var)
            # a generated module's name unset until assigned (``if in_python: t2 = None``)
            # has no value on a path that does not assign it: defined on the other only
            a = None if a in self.unset_names else a
            b = None if b in self.unset_names else b
            if a is None and b is None:
                continue
            if a == b:
                merged[var] = a
                continue
            if a is None or b is None:  # defined on one path only
                merged[var] = a if a is not None else b
                continue
            if a in tuples1 or b in tuples2:
                # a tuple: join it element by element, and read it so after the branch
                if a not in tuples1 or b not in tuples2 or len(tuples1[a]) != len(tuples2[b]) \
                        or self.kinds.get(a) != self.kinds.get(b):
                    self.refuse(UnsupportedSyntaxError, f"{var!r} is a tuple on one path "
                                "through this branch and something else (or a tuple of "
                                "another length, or a dict with other keys) on the other",
                                node, "give the tuple the same length (a dict the same keys) "
                                "on every path, or use variables of their own for its "
                                "elements")
                elements = []
                for i, (ea, eb) in enumerate(zip(tuples1[a], tuples2[b])):
                    e = self.namer.fresh(f"{var}{i}")
                    for body, src in ((body1, ea), (body2, eb)):
                        copy = syntax.assign(e, syntax.clone(src), lineno=node.lineno)
                        copy.col_offset = node.col_offset
                        body.append(copy)
                    elements.append(syntax.load(e))
                m = self.namer.fresh(var)
                after_if.append((m, elements))
                joined_tuples[m] = elements
                if a in self.kinds:  # a dict (or a list) on both paths: read so after it
                    self.kinds[m] = self.kinds[a]
                if a in self.dicts:
                    self.dicts[m] = dict(zip(self.dicts[a], elements))
                self.user_names.setdefault(m, var)
                merged[var] = m
                continue
            if a != o and a not in existing:
                m = a
                body2.append(self.copy_stmt(m, b))
            elif b != o and b not in existing:
                m = b
                body1.append(self.copy_stmt(m, a))
            else:
                m = self.namer.fresh(var)
                body1.append(self.copy_stmt(m, a))
                body2.append(self.copy_stmt(m, b))
            self.user_names.setdefault(m, var)
            merged[var] = m
        self.versions = merged
        self.tuples = self._still_known(before_tuples, body1 + body2)
        stmt = syntax.If(test=test, body=body1 or [syntax.Pass()], orelse=body2)
        stmt.lineno, stmt.col_offset = node.lineno, node.col_offset
        self.body.append(stmt)
        for m, elements in after_if:
            self.emit(m, syntax.tuple_(elements))
        self.tuples.update(joined_tuples)

    # -- loops ---------------------------------------------------------------
    def _forget_carried(self, carried):
        """A tuple holding the value a loop variable had before the loop keeps that value:
        the element is copied to a name of its own before the loop (the variable's name
        takes each iteration's value)."""
        names = {self.versions[v] for v in carried if v in self.versions}
        copies: dict[str, str] = {}
        for k, elements in list(self.tuples.items()):
            if k in names:
                continue
            new = []
            for e in elements:
                if isinstance(e, syntax.Name) and e.id in names:
                    if e.id not in copies:
                        copies[e.id] = self.namer.fresh(f"{e.id}_before")
                        self.body.append(self.copy_stmt(copies[e.id], e.id))
                    e = syntax.load(copies[e.id])
                new.append(e)
            self.tuples[k] = new
            if k in self.dicts:
                self.dicts[k] = dict(zip(self.dicts[k], new))

    @staticmethod
    def _still_known(tuples: dict, stmts) -> dict:
        """The tuples made before ``stmts`` that stay known after them: those none of whose
        elements (nor the tuple's own name) ``stmts`` assign."""
        assigned = {n.id for st in stmts for n in syntax.walk(st)
                    if isinstance(n, syntax.Name) and isinstance(n.ctx, syntax.Store)}
        return {k: v for k, v in tuples.items() if k not in assigned and not any(
            isinstance(e, syntax.Name) and e.id in assigned for e in v)}

    def _no_carried_tuples(self, loop, carried, after):
        """Tuples are read element by element where they are made: one carried from an
        iteration to the next (or out of the loop) has no such place."""
        later = {n for rest in self.rest for s in rest for n in syntax.names_loaded(s)}
        inside = Counter(syntax.names_loaded(loop))
        for outer in self.loops:  # what an enclosing loop reads outside this one
            later |= set(Counter(syntax.names_loaded(outer)) - inside)
        exported = [v for v in after if v in later and after[v] != self.versions.get(v)]
        for var in sorted(set(carried) | set(exported)):
            if self.versions.get(var) in self.tuples or after.get(var) in self.block_tuples \
                    or after.get(var) in self.call_tuples:
                self.refuse(UnsupportedSyntaxError, f"the tuple {var!r} is carried by this "
                            "loop (from one iteration to the next, or out of the loop)", loop,
                            f"carry its elements in variables of their own: a, b = {var} "
                            "before the loop, and assign a and b in it")

    def _carried(self, loop, assigned) -> list[str]:
        """Variables whose value flows from one iteration to the next or out of the loop:
        assigned in the body, defined before it, and read in the body before being
        assigned there, or read after the loop (or anywhere in an enclosing loop)."""
        before = read_before_written(loop.body)
        if isinstance(loop, syntax.While):
            before |= set(syntax.names_loaded(loop.test))
        later = self._read_later()
        return sorted(v for v in assigned if v in self.versions and (v in before or v in later))

    def _read_later(self) -> set[str]:
        """The names read after the current statement: in the statements that follow, in
        this block and every enclosing one, and anywhere in an enclosing loop (the
        structure decides, not line numbers: desugared loops have none of their own)."""
        later = {n for rest in self.rest for s in rest for n in syntax.names_loaded(s)}
        for outer in self.loops:
            later |= set(syntax.names_loaded(outer))
        return later

    def _assigned_in(self, stmts) -> set[str]:
        out = set()
        for s in stmts:
            for n in syntax.walk(s):
                if isinstance(n, syntax.Name) and isinstance(n.ctx, syntax.Store):
                    out.add(n.id)
        return out

    def _carry_back(self, body, carried, after):
        for var in carried:
            head = self.versions[var]
            if after.get(var) != head:
                body.append(self.copy_stmt(head, after[var]))

    def for_statement(self, node):
        it = node.iter
        args = [self.atom(a) for a in it.args]
        values = self._unrolled_range(node, args)
        if values is not None:
            self.unroll(node, values)
            return
        iterator = syntax.call(syntax.load("range"), args)
        assigned = self._assigned_in(node.body)
        carried = self._carried(node, assigned)
        var = node.target.id
        # the loop's variable read after it: its last value, or where the loop does not run
        # the value it had before (Python's): a variable of the loop's, set in its body
        kept = var in self._read_later() and var not in assigned
        before = self.versions.get(var) if kept else None
        target = self.define(var)
        self._forget_carried(carried)
        self.loops.append(node)
        body, after = self.block(node.body)
        self.loops.pop()
        self._no_carried_tuples(node, carried, after)
        self._carry_back(body, carried, after)
        for v, name in after.items():
            if v not in carried and v in assigned:
                self.versions[v] = name
        if kept:
            last = before if before is not None else self.namer.fresh(var)
            body.insert(0, self.copy_stmt(last, target))
            self.user_names.setdefault(last, var)
            self.versions[var] = last
        self.tuples = self._still_known(self.tuples, body)
        stmt = syntax.For(target=syntax.store(target), iter=iterator, body=body or
                          [syntax.Pass()], orelse=[], type_comment=None)
        stmt.lineno, stmt.col_offset = node.lineno, node.col_offset
        if getattr(node, "checkpoint", False):  # nabla.checkpointed_range (see control.py)
            stmt.checkpoint = True
        self.body.append(stmt)

    # a loop over a tuple's elements runs once per element, each its own statements (a
    # tuple is read element by element: its elements may differ in shape)
    UNROLLED_AT_MOST = 256

    def _unrolled_range(self, node, args):
        """The values of the loop's variable, where the loop indexes a tuple with it (``for
        p in params``, ``for i in range(len(t))``) and its range is known here; else None."""
        var = node.target.id
        if not all(syntax.is_const(a) and type(a.value) is int for a in args) or \
                var in self._assigned_in(node.body):
            return None
        indexes = any(isinstance(n, syntax.Subscript) and isinstance(n.value, syntax.Name)
                      and self.versions.get(n.value.id) in self.tuples
                      and isinstance(n.slice, syntax.Name) and n.slice.id == var
                      for s in node.body for n in syntax.walk(s))
        values = range(*(a.value for a in args))
        if not indexes or len(values) > self.UNROLLED_AT_MOST:
            return None
        return values

    def unroll(self, node, values):
        """The loop's body once for each value of its variable, the variable a constant in
        each copy (and, after the loop, its last value)."""
        var = node.target.id
        for v in values:
            body = [syntax.substitute(s, {var: syntax.const(v)}) for s in node.body]
            for i, s in enumerate(body):
                self.lineno = getattr(s, "lineno", self.lineno)
                self.col = getattr(s, "col_offset", self.col)
                self.rest.append(body[i + 1:] + list(node.body))
                self.statement(s)
                self.rest.pop()
        if len(values):
            self.emit(self.define(var), syntax.const(values[-1]))

    def while_statement(self, node):
        cond = self.namer.fresh("cond")
        first = self.atom(node.test)
        self.body.append(self.copy_stmt(cond, first.id) if isinstance(first, syntax.Name)
                         else syntax.assign(cond, first, lineno=self.lineno))
        assigned = self._assigned_in(node.body)
        carried = self._carried(node, assigned)
        self._forget_carried(carried)
        self.loops.append(node)
        body, after = self.block(list(node.body))
        self.loops.pop()
        self._no_carried_tuples(node, carried, after)
        self._carry_back(body, carried, after)
        saved_body = self.body
        self.body = body
        again = self.atom(node.test)
        self.body.append(self.copy_stmt(cond, again.id) if isinstance(again, syntax.Name)
                         else syntax.assign(cond, again, lineno=self.lineno))
        self.body = saved_body
        for var, name in after.items():
            if var not in carried and var in assigned:
                self.versions[var] = name
        self.tuples = self._still_known(self.tuples, body)
        stmt = syntax.While(test=syntax.load(cond), body=body, orelse=[])
        stmt.lineno, stmt.col_offset = node.lineno, node.col_offset
        self.body.append(stmt)
