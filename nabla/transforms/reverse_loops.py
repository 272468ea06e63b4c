"""Reverse mode through loops (the loop half of ``reverse.py``'s sweeper): the forward
sweep records per iteration what the body overwrites (the carried values on a tape, the
values writes into arrays replace, a log of the writes made in inner loops or branches);
the adjoint sweep runs the iterations backwards, restoring them, recomputing the body
(a callee's call keeps its residuals there) and running the body's adjoint.

A loop over ``nabla.checkpointed_range`` keeps the carried values only every ``span``
iterations (``span`` about the square root of the trip count): its adjoint recomputes one
segment at a time from its checkpoint, keeping that segment's values, and runs the
segment's iterations backwards. The tape then holds O(sqrt(n)) entries, not n:

>>> import numpy as np
>>> import nabla
>>> def rollout(x, n):
...     for i in nabla.checkpointed_range(n):
...         x = x + 0.1 * np.sin(x)
...     return np.sum(x)
>>> g = nabla.grad(rollout)
>>> x = np.array([0.5, -1.0])
>>> def fd(x, k, eps=1e-6):
...     e = np.zeros(2); e[k] = eps
...     return (rollout(x + e, 100) - rollout(x - e, 100)) / (2 * eps)
>>> bool(np.allclose(g(x, 100), [fd(x, 0), fd(x, 1)], rtol=1e-6))
True
>>> for line in g.source.splitlines():
...     if "checkpoint" in line:
...         print(line)
from nabla.runtime import checkpoint_span, expand_reduced, range_len, tape_entry, tape_like
    # checkpoints: x kept every span of the n_1 iterations (span: about the square root of n_1)
    span = checkpoint_span(n_1)
    x_checkpoints = tape_like(x, segments)
            x_checkpoints[k // span] = tape_entry(x, x_checkpoints)
        x = x_checkpoints[j]
        # the segment again, from its checkpoint, keeping every iteration's values
"""

from __future__ import annotations

import re

from .. import rules, syntax
from ..errors import NotDifferentiableError
from .activity import assignments, index_value, is_store, stored_name
from .bodies import always_assigned, assigned_names, dotted, read_before_written, stmt_loads
from .writes import store, without_writes


def _counts_itself(loop) -> bool:
    """``for i in range(a, n, 1)``, ``a`` a number, whose body never assigns ``i``: ``i -
    a`` is the number of iterations done, and indexes the tapes (not ``_``, a name the
    user chose not to read)."""
    a, _, c = loop.iter.args
    if not (isinstance(loop.target, syntax.Name) and loop.target.id != "_" and syntax.is_const(a)
            and type(a.value) is int and syntax.is_const(c) and c.value == 1):
        return False
    i = loop.target.id
    return not any(isinstance(n, syntax.Name) and n.id == i and isinstance(n.ctx, syntax.Store)
                   for s in loop.body for n in syntax.walk(s))


class LoopSweeps:
    """``_Sweeper``'s loops (a mixin): ``loop`` makes a loop's forward and adjoint sweeps."""

    def _record_stores(self, stmt, index_of, trips, pre, is_for, line, logged=frozenset()):
        """The loop's body with each write into an array preceded by recording the value it
        overwrites and the index names; and the statements undoing one iteration's writes.
        Writes into the arrays in ``logged`` are left to the loop's write logs."""
        body, undo = [], []
        size = syntax.load(trips) if is_for else syntax.const(16)
        made = set()  # arrays the iteration makes before writing into them: not recorded
        varying = assigned_names(stmt.body) | (set(syntax.names_stored(stmt.target))
                                               if is_for else set())
        for st in stmt.body:
            # every array written (the adjoint reads the values of inactive ones too)
            if not (isinstance(st, syntax.Assign) and is_store(st)) or \
                    stored_name(st) in logged or stored_name(st) in made:
                if isinstance(st, syntax.Assign) and not is_store(st):
                    made.update(syntax.names_stored(st.targets[0]))
                body.append(st)
                continue
            array, index = stored_name(st), st.targets[0].slice
            old = self.namer.fresh(f"{array}_old_tape")
            # an entry like those the loop overwrites, read before it (from a zero entry
            # where the array is empty: a loop that runs no iteration writes none)
            sample = syntax.Subscript(value=syntax.call(syntax.load("pad_empty"), [
                syntax.load(array)]), slice=_sample_index(index, varying), ctx=syntax.Load())
            pre.append(syntax.assign(old, syntax.call(syntax.load("tape_like"), [
                syntax.call(syntax.load("snapshot"), [sample]), syntax.clone(size)]),
                lineno=line))
            names = sorted(set(syntax.names_loaded(index)))
            index_tapes = {n: self.namer.fresh(f"{n}_tape") for n in names}
            for n in names:
                pre.append(syntax.assign(index_tapes[n], syntax.call(syntax.load("tape_like"), [
                    syntax.const(0), syntax.clone(size)]), lineno=line))
            current = syntax.Subscript(value=syntax.load(array), slice=syntax.clone(index),
                                       ctx=syntax.Load())
            records = [(old, syntax.call(syntax.load("snapshot"), [current]))] + [
                (index_tapes[n], syntax.load(n)) for n in names]
            for tape, value in records:
                if is_for:
                    body.append(store(tape, index_of(), value, line))
                else:
                    body.append(syntax.assign(tape, syntax.call(syntax.load("tape_push"), [
                        syntax.load(tape), index_of(), value]), lineno=line))
            body.append(st)
            taped_index = syntax.substitute(index, {n: syntax.Subscript(
                value=syntax.load(index_tapes[n]), slice=index_of(), ctx=syntax.Load())
                for n in names})
            undo.insert(0, syntax.assign(syntax.Subscript(
                value=syntax.load(array), slice=taped_index, ctx=syntax.Store()),
                syntax.Subscript(value=syntax.load(old), slice=index_of(),
                                 ctx=syntax.Load()), lineno=line))
            self._undo_of[id(st)] = undo[0]
        return body, undo

    def _carried(self, stmt) -> list[str]:
        """The names a loop's iterations hand on, each recorded at an iteration's start: a
        value the body assigns that an iteration reads as it was at its start, or that
        something outside the loop reads (not one the body always assigns before reading
        it, and nothing else reads: a copy merging two versions of a variable may assign it
        on a path where it is never set)."""
        body_names = {stored_name(s) for s in assignments(stmt.body) if not is_store(s)}
        # a value the body assigns on every path before reading it is made again by each
        # iteration's recomputed body: read after the loop too, it needs no tape
        needed = read_before_written(stmt.body) | (self._read_outside(stmt)
                                                   - always_assigned(stmt.body))
        if isinstance(stmt, syntax.While):
            needed |= set(syntax.names_loaded(stmt.test))
        carried = sorted(n for n in body_names if self.home.get(n) != id(stmt.body)
                         and not _inside_only(n, stmt.body, self.home) and n in needed)
        # a write log (generated reverse-mode code differentiated again) grows and shrinks
        # from one iteration to the next: no tape of fixed-shape entries keeps it
        for s in assignments(stmt.body):
            call = s.value
            if not (isinstance(call, syntax.Call) and dotted(call.func) in _LOGS):
                continue
            log = rules.lookup(dotted(call.func)).bind(list(call.args), {}).get("log")
            if isinstance(log, syntax.Name) and log.id in carried:
                message, hint = rules.fact("write_log", "no_derivative")
                raise NotDifferentiableError(message, **self.canon.parsed.where(stmt),
                                             hint=hint)
        return carried

    def _entry(self, name, tape):
        """What the tape ``tape`` of ``name`` stores: ``name``, checked to have the entries'
        shape (``tape_entry``: NumPy would broadcast a value of another shape into its
        entry, and the adjoint would restore a wrong value), unless it is known to be a
        scalar."""
        if self.shapes.ranks is not None and self.shapes.ranks.get(name) == 0:
            return syntax.load(name)
        return syntax.call(syntax.load("tape_entry"), [syntax.load(name), syntax.load(tape)])

    def _tape(self, name, stmt, size, line):
        """``name_tape = tape_like(name, size)`` (statements: a comment first where the
        tape holds floats for a value that may start as an int)."""
        out = []
        inexact = name in self.floats and self._may_start_integral(name, stmt)
        if inexact:
            # 2, then 2 / w[i]: the tape takes the floats, not the int it starts as
            out.append(syntax.comment(f"{name} may start as an int and take floats in the "
                                      "loop: its tape holds floats"))
        tape = syntax.call(syntax.load("tape_like"), [syntax.load(name), size],
                           [("inexact", syntax.const(True))] if inexact else ())
        return out, tape

    def _recomputed(self, stmt, carried):
        """(the body recomputed in the adjoint, the body's adjoint); None for the adjoint
        where nothing in the loop is differentiated."""
        f_body, a_body = self.block(stmt.body, loop_body=True)
        # the recomputed body keeps the values of the iteration's start: it does not copy the
        # new values of the carried names back (their adjoint still runs)
        # (a copy-back assigns a name that is also assigned before the loop; a carried name
        # assigned only in the body, like a desugared loop's index, is recomputed)
        before = self._assigned_before(stmt)
        copied_back = {n for n in carried if n in before}
        f_body = [s for s in f_body if not (isinstance(s, syntax.Assign) and isinstance(
            s.targets[0], syntax.Name) and s.targets[0].id in copied_back)]
        # the arrays the loop fills already hold what it wrote: their writes are not redone
        f_body = without_writes(f_body, self.write_once)
        if all(id(s) in self._restores for s in a_body):
            return f_body, None
        return f_body, a_body

    def _untouched(self, stmt, carried, line):
        """A loop nothing in which is differentiated: the adjoint of what came before may
        read the values it overwrites, kept from before the loop and put back."""
        keep = [(n, self.namer.fresh(f"{n}_before")) for n in carried]
        saves = [syntax.assign(b, syntax.load(n), lineno=line) for n, b in keep]
        restores = [syntax.assign(n, syntax.load(b), lineno=line) for n, b in keep]
        self._restores.update(id(s) for s in restores)
        return saves + [stmt], restores

    def loop(self, stmt):
        """(forward, adjoint) of a loop: record overwritten values per iteration in the
        forward sweep; in the adjoint, run the iterations backwards, restoring them,
        recomputing the body and running its adjoint."""
        if getattr(stmt, "checkpoint", False):
            return self.checkpointed_loop(stmt)
        namer = self.namer
        carried = self._carried(stmt)
        is_for = isinstance(stmt, syntax.For)
        # ``for i in range(a, n, 1)`` (a a number) whose body leaves i alone: i - a counts
        # the iterations (no counter of their own)
        direct = is_for and _counts_itself(stmt)
        count = stmt.target.id if direct else namer.fresh("k")
        first = stmt.iter.args[0].value if direct else 0

        def index_of():
            if first == 0:
                return syntax.load(count)
            return syntax.binop(syntax.load(count), "-", syntax.const(first))
        # a while loop's trip count is its counter, as the loop leaves it
        trips = namer.fresh("n") if is_for else count
        tapes = {n: namer.fresh(f"{n}_tape") for n in carried}
        line = getattr(stmt, "lineno", None)
        pre = [] if direct else [syntax.assign(count, syntax.const(0), lineno=line)]
        size = syntax.load(trips) if is_for else syntax.const(16)
        for n in carried:
            comment, tape = self._tape(n, stmt, syntax.clone(size), line)
            pre.extend(comment + [syntax.assign(tapes[n], tape, lineno=line)])
        if is_for:
            record = [store(tapes[n], index_of(), self._entry(n, tapes[n]), line)
                      for n in carried]
        else:
            record = []
            for n in carried:
                grow = syntax.call(syntax.load("tape_push"), [syntax.load(tapes[n]),
                                                              syntax.load(count), syntax.load(n)])
                record.append(syntax.assign(tapes[n], grow, lineno=line))
        step = syntax.assign(count, syntax.parse_expr(f"{count} + 1"), lineno=line)
        # arrays written inside an inner loop or a branch: every write into them is logged,
        # and each iteration's entries are undone, newest first
        logged = [a for a in self._logged_arrays(stmt.body) if a not in self.write_once]
        logs = {a: namer.fresh(f"{a}_log") for a in logged}
        marks = {a: namer.fresh(f"{a}_log_marks") for a in logged}
        for a in logged:
            pre.append(syntax.assign(logs[a], syntax.call(syntax.load("write_log"), [
                syntax.load(a)]), lineno=line))
            size = syntax.load(trips) if is_for else syntax.const(16)
            pre.append(syntax.assign(marks[a], syntax.call(syntax.load("tape_like"), [
                syntax.const(0), size]), lineno=line))
            mark = syntax.call(syntax.load("log_size"), [syntax.load(logs[a])])
            if is_for:
                record.append(store(marks[a], index_of(), mark, line))
            else:
                record.append(syntax.assign(marks[a], syntax.call(syntax.load("tape_push"), [
                    syntax.load(marks[a]), syntax.load(count), mark]), lineno=line))
        primal_body, undo = self._record_stores(stmt, index_of, trips, pre, is_for, line,
                                                set(logged) | self.write_once)
        primal_body = self._log_writes(primal_body, logs)
        fwd_body = record + primal_body + ([] if direct else [step])
        if is_for:
            fwd_loop = syntax.For(target=stmt.target, iter=stmt.iter, body=fwd_body,
                                  orelse=[], type_comment=None)
        else:
            fwd_loop = syntax.While(test=stmt.test, body=fwd_body, orelse=[])
        syntax.copy_location(fwd_loop, stmt)
        if is_for:  # the trip count, from the range as it was when the loop started
            a, b, c = stmt.iter.args
            forward = [syntax.assign(trips, syntax.call(syntax.load("range_len"), [
                syntax.clone(a), syntax.clone(b), syntax.clone(c)]), lineno=line)] + pre + [
                fwd_loop]
        else:
            forward = pre + [fwd_loop]
        # adjoint: iterations backwards
        f_body, a_body = self._recomputed(stmt, carried)
        if a_body is None:
            return self._untouched(stmt, carried, line)
        restore = [syntax.assign(n, syntax.Subscript(value=syntax.load(tapes[n]),
                                                     slice=index_of(),
                                                     ctx=syntax.Load()), lineno=line)
                   for n in carried]
        if is_for and not direct:
            a, b, c = stmt.iter.args
            index = syntax.assign(stmt.target.id, syntax.binop(
                syntax.clone(a), "+", syntax.binop(syntax.load(count), "*", syntax.clone(c))),
                lineno=line)
            restore.append(index)
        inits = self.inits_for(stmt.body, False, set())
        # writes into arrays: undone before the body is recomputed (it may read what it
        # overwrites), and each again right after its own adjoint (block puts it there: the
        # adjoints of the statements before it read what it overwrote), leaving the
        # iteration's starting state
        undo_logged, pop_logged = [], []
        for a in logged:
            start = syntax.Subscript(value=syntax.load(marks[a]), slice=index_of(),
                                     ctx=syntax.Load())
            undo_logged.append(syntax.assign(a, syntax.call(syntax.load("undo_writes"), [
                syntax.load(a), syntax.load(logs[a]), start]), lineno=line))
            pop_logged.append(syntax.assign(logs[a], syntax.call(syntax.load("pop_writes"), [
                syntax.load(a), syntax.load(logs[a]), syntax.clone(start)]), lineno=line))
        body = restore + undo + undo_logged + f_body + inits + a_body + pop_logged
        # the temporaries the body recomputes get names of their own: each is then assigned
        # once, in one loop, and the optimizer folds it into its use, here and in the
        # forward sweep alike
        temps = sorted({stored_name(s) for s in assignments(f_body) if not is_store(s)
                        and re.fullmatch(r"t\d+", stored_name(s))} - set(carried))
        fresh = {t: namer.temp() for t in temps}
        if fresh:
            body = [syntax.rename(s, fresh) for s in body]
        last = f"{trips} - 1" if first == 0 else (
            f"{trips}" if first == 1 else f"{trips} + {first - 1}")
        back = syntax.For(target=syntax.store(count),
                          iter=syntax.parse_expr(f"range({last}, {first - 1}, -1)"),
                          body=body, orelse=[], type_comment=None)
        syntax.copy_location(back, stmt)
        return forward, [back]


    def checkpointed_loop(self, stmt):
        """(forward, adjoint) of ``for i in nabla.checkpointed_range(...)``: the forward
        sweep keeps the carried values at the start of every ``span``-th iteration; the
        adjoint, for each segment from the last, restores them, recomputes the segment
        keeping each iteration's values on a tape of ``span`` entries, and runs its
        iterations backwards as a loop over ``range`` does."""
        namer = self.namer
        line = getattr(stmt, "lineno", None)
        # (an array nothing differentiates too: the adjoint reads its values, which the
        # checkpoints do not keep; a table the loop only fills is left alone)
        writes = [s for s in assignments(stmt.body) if is_store(s)
                  and stored_name(s) not in self.write_once]
        if writes:
            raise NotDifferentiableError(
                "a loop over nabla.checkpointed_range writes into an array: checkpointed "
                "loops carry their values in names",
                **self.canon.parsed.where(writes[0]),
                hint="carry the values in names (x = x + ...), or loop over range()")
        carried = self._carried(stmt)
        f_body, a_body = self._recomputed(stmt, carried)
        if a_body is None:
            return self._untouched(stmt, carried, line)
        count, trips, span, segments = (namer.fresh(n) for n in ("k", "n", "span", "segments"))
        start, stop, seg = namer.fresh("start"), namer.fresh("stop"), namer.fresh("j")
        kept = {n: namer.fresh(f"{n}_checkpoints") for n in carried}
        tapes = {n: namer.fresh(f"{n}_tape") for n in carried}
        a, b, c = stmt.iter.args

        def call(fn, *args):
            return syntax.call(syntax.load(fn), [syntax.clone(x) if isinstance(x, syntax.AST)
                                                 else syntax.load(x) for x in args])

        def at(tape, index):
            return syntax.Subscript(value=syntax.load(tape), slice=index, ctx=syntax.Load())

        def index_of(k):  # the loop's variable in iteration k
            return syntax.assign(stmt.target.id, syntax.binop(syntax.clone(a), "+", syntax.binop(
                syntax.load(k), "*", syntax.clone(c))), lineno=line)

        forward = [
            syntax.assign(trips, call("range_len", a, b, c), lineno=line),
            syntax.comment(f"checkpoints: {', '.join(carried) or 'nothing'} kept every {span} "
                           f"of the {trips} iterations ({span}: about the square root of "
                           f"{trips})"),
            syntax.assign(span, call("checkpoint_span", trips), lineno=line),
            syntax.assign(segments, call("range_len", syntax.const(0), trips, span),
                          lineno=line),
            syntax.assign(count, syntax.const(0), lineno=line)]
        for n in carried:
            comment, tape = self._tape(n, stmt, syntax.load(segments), line)
            forward.extend(comment + [syntax.assign(kept[n], tape, lineno=line)])
        first = syntax.compare(syntax.binop(syntax.load(count), "%", syntax.load(span)), "==",
                               syntax.const(0))
        where = syntax.binop(syntax.load(count), "//", syntax.load(span))
        keep = syntax.If(test=first, body=[store(kept[n], where, self._entry(n, kept[n]), line)
                                           for n in carried] or [syntax.Pass()], orelse=[])
        step = syntax.assign(count, syntax.binop(syntax.load(count), "+", syntax.const(1)),
                             lineno=line)
        fwd_loop = syntax.For(target=stmt.target, iter=stmt.iter,
                              body=[keep] + list(stmt.body) + [step], orelse=[],
                              type_comment=None)
        forward.append(syntax.copy_location(fwd_loop, stmt))
        # the adjoint: segment by segment, from the last
        adjoint = []
        for n in carried:
            comment, tape = self._tape(n, stmt, syntax.load(span), line)
            adjoint.extend(comment + [syntax.assign(tapes[n], tape, lineno=line)])
        offset = syntax.binop(syntax.load(count), "-", syntax.load(start))
        redo = syntax.For(target=syntax.store(count), iter=call(
            "range", syntax.load(start), syntax.load(stop), syntax.const(1)),
            body=[store(tapes[n], syntax.clone(offset), self._entry(n, tapes[n]), line)
                  for n in carried]
            + [index_of(count)] + syntax.clone(list(stmt.body)), orelse=[], type_comment=None)
        restore = [syntax.assign(n, at(tapes[n], syntax.clone(offset)), lineno=line)
                   for n in carried]
        back = syntax.For(target=syntax.store(count), iter=call(
            "range", syntax.binop(syntax.load(stop), "-", syntax.const(1)),
            syntax.binop(syntax.load(start), "-", syntax.const(1)), syntax.const(-1)),
            body=restore + [index_of(count)] + f_body + self.inits_for(stmt.body, False, set())
            + a_body, orelse=[], type_comment=None)
        segment = [syntax.assign(n, at(kept[n], syntax.load(seg)), lineno=line) for n in carried]
        segment += [
            syntax.assign(start, syntax.binop(syntax.load(seg), "*", syntax.load(span)),
                          lineno=line),
            syntax.assign(stop, call("min", syntax.binop(syntax.load(start), "+",
                                                         syntax.load(span)), trips),
                          lineno=line),
            syntax.comment("the segment again, from its checkpoint, keeping every iteration's "
                           "values"),
            syntax.copy_location(redo, stmt), syntax.copy_location(back, stmt)]
        outer = syntax.For(target=syntax.store(seg), iter=call(
            "range", syntax.binop(syntax.load(segments), "-", syntax.const(1)),
            syntax.const(-1), syntax.const(-1)), body=segment, orelse=[], type_comment=None)
        adjoint.append(syntax.copy_location(outer, stmt))
        return forward, adjoint

    def _may_start_integral(self, name: str, loop) -> bool:
        """Whether ``name`` may hold an int or a bool when ``loop`` starts: it is assigned
        before the loop a value that is not surely a float (an int constant, a value that
        depends on no differentiated input), or it is a parameter not differentiated."""
        before = []

        def walk(stmts):
            for st in stmts:
                if st is loop:
                    return True
                if isinstance(st, syntax.Assign) and not is_store(st) and \
                        stored_name(st) == name:
                    before.append(st.value)
                if isinstance(st, (syntax.If, syntax.For, syntax.While)):
                    if walk(st.body) or walk(st.orelse):
                        return True
            return False

        walk(self.canon.body)
        if not before:
            return name not in self.canon.params + self.canon.free or \
                not self.activity.active(name)
        return any(not _surely_float(v, self.activity) for v in before)

    def _read_outside(self, loop) -> set[str]:
        """Names read anywhere but in ``loop``'s body (its header included), or returned."""
        out = set(syntax.names_loaded(self.canon.result))
        for st in syntax.walk_statements(self.canon.body, skip=loop.body):
            out.update(stmt_loads(st))
        return out

    def _assigned_before(self, loop) -> set[str]:
        """Names assigned before ``loop`` starts, in the order the source runs: the
        parameters and every assignment textually ahead of it (a branch after it does not
        count, though a copy there may assign the same name)."""
        out = set(self.canon.params + self.canon.free)

        def walk(stmts):
            for st in stmts:
                if st is loop:
                    return True
                if isinstance(st, syntax.Assign):
                    out.add(stored_name(st))
                elif isinstance(st, (syntax.For, syntax.While)):
                    if isinstance(st, syntax.For):
                        out.update(syntax.names_stored(st.target))
                    if walk(st.body):
                        return True
                elif isinstance(st, syntax.If):
                    if walk(st.body) or walk(st.orelse):
                        return True
            return False

        walk(self.canon.body)
        return out

    def _logged_arrays(self, body) -> list[str]:
        """Arrays written inside an inner loop or a branch of ``body`` (active or not: the
        adjoint reads the values of both)."""
        nested = [st for s in body if isinstance(s, (syntax.If, syntax.For, syntax.While))
                  for st in assignments([s])]
        return sorted({stored_name(st) for st in nested if is_store(st)})

    def _log_writes(self, stmts, logs):
        """``stmts`` with each write into a logged array preceded by logging it."""
        out = []
        for st in stmts:
            if isinstance(st, syntax.If):
                new = syntax.If(test=st.test, body=self._log_writes(st.body, logs),
                                orelse=self._log_writes(st.orelse, logs))
                out.append(syntax.copy_location(new, st))
            elif isinstance(st, syntax.For):
                new = syntax.For(target=st.target, iter=st.iter, body=self._log_writes(
                    st.body, logs), orelse=[], type_comment=None)
                out.append(syntax.copy_location(new, st))
            elif isinstance(st, syntax.While):
                new = syntax.While(test=st.test, body=self._log_writes(st.body, logs),
                                   orelse=[])
                out.append(syntax.copy_location(new, st))
            elif isinstance(st, syntax.Assign) and is_store(st) and stored_name(st) in logs:
                log = logs[stored_name(st)]
                out.append(syntax.assign(log, syntax.call(syntax.load("log_write"), [
                    syntax.load(log), syntax.load(stored_name(st)),
                    index_value(st.targets[0].slice)]), lineno=st.lineno))
                out.append(st)
            else:
                out.append(st)
        return out


def _surely_float(value, activity) -> bool:
    """A float constant, or a value computed from a differentiated input (whose values are
    floats)."""
    if isinstance(value, syntax.Constant):
        return isinstance(value.value, float)
    return any(activity.active(n) for n in syntax.names_loaded(value))


_LOGS = ("log_write", "undo_writes", "pop_writes")  # the helpers that read a write log


def _sample_index(index, varying):
    """``index`` with the names in ``varying`` replaced by 0: an index of the same kind,
    computed before the loop (a slice's bounds are the same in every iteration: writes.py)."""
    return syntax.substitute(index, {n: syntax.const(0) for n in syntax.names_loaded(index)
                                     if n in varying})


def _inside_only(name, body, home):
    """Whether every assignment of ``name`` is inside ``body`` (a body-local value)."""
    ids = set()

    def walk(stmts):
        ids.add(id(stmts))
        for s in stmts:
            if isinstance(s, syntax.If):
                walk(s.body)
                walk(s.orelse)
            elif isinstance(s, (syntax.For, syntax.While)):
                walk(s.body)
    walk(body)
    return home.get(name) in ids
