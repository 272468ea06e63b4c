"""Rewrites of generated code across a reassignment, one block at a time (optimize.py runs
them with its other rewrites): a variable's new version assigned under its own name, a
while test written back in the ``while``, a copy read until its source changes reading
the source. Before and after, the adjoint of one loop iteration:

>>> from nabla import syntax
>>> block = [syntax.parse_stmt(s) for s in ["t4 = x_bar", "t5_bar = -t4", "x_bar = t4 + t5_bar",
...                                          "return x_bar"]]
>>> out = read_before_reassigned(block, {"t4": 1}, {"t4": 2}, set())
>>> [syntax.to_source(s) for s in out]
['t5_bar = -x_bar', 'x_bar = x_bar + t5_bar', 'return x_bar']
"""

from __future__ import annotations

import re

from .. import syntax
from .bodies import key, target, written


def merge_versions(block, assigned, uses):
    """``x_1 = e`` then ``x = x_1``, ``x_1`` read nowhere else: ``x = e`` (a loop-carried
    variable's new version, assigned under its own name)."""
    out = []
    for s in block:
        prev = out[-1] if out else None
        t, v = target(s), target(prev) if prev is not None else None
        if (t is not None and v is not None and isinstance(s.value, syntax.Name)
                and s.value.id == v and re.fullmatch(rf"{re.escape(t)}_\d+", v)
                and assigned.get(v) == 1 and uses.get(v) == 1):
            merged = syntax.clone(prev)
            merged.targets = [syntax.store(t)]
            out[-1] = merged
            continue
        out.append(s)
    return out


def loop_tests(block, uses, assigned):
    """``c = E`` / ``while c:`` / ... ``c = E`` at the end of the body, ``c`` read nowhere
    else: ``while E:`` (the test written where Python evaluates it)."""
    out = []
    for s in block:
        if isinstance(s, syntax.While) and isinstance(s.test, syntax.Name):
            c = s.test.id
            first = [k for k, u in enumerate(out) if target(u) == c]
            ends = [k for k, u in enumerate(s.body) if target(u) == c]
            if first and len(ends) == 1 and uses.get(c) == 1 and assigned.get(c) == 2:
                test, between = out[first[-1]].value, out[first[-1] + 1:]
                reads = set(syntax.names_loaded(test))
                if (key(s.body[ends[0]].value) == key(test)
                        and not (written(between) & reads)
                        and not (written(s.body[ends[0] + 1:]) & reads)):
                    del out[first[-1]]
                    s = syntax.copy_location(syntax.While(
                        test=syntax.clone(test),
                        body=s.body[:ends[0]] + s.body[ends[0] + 1:] or [syntax.Pass()],
                        orelse=[]), s)
        out.append(s)
    return out


def read_before_reassigned(block, assigned, uses, keep):
    """``t = a`` (a temporary copy of ``a``), then statements reading ``t`` up to one that
    assigns ``a`` again, ``t`` read nowhere after it: each of them reads ``a`` itself (in
    the adjoint of a loop, ``t3 = x_bar`` ... ``x_bar = t3 + ...``)."""
    i = 0
    while i < len(block):
        s = block[i]
        t = target(s)
        if (t is None or t in keep or assigned.get(t) != 1
                or not isinstance(s.value, syntax.Name)):
            i += 1
            continue
        a = s.value.id
        j, seen, ok = i + 1, 0, False
        while j < len(block):
            u = block[j]
            if syntax.comment_text(u) is not None:
                j += 1
                continue
            if not isinstance(u, (syntax.Assign, syntax.Return)) or (
                    isinstance(u, syntax.Assign) and target(u) is None):
                break  # a branch, a loop, a write into an array: not followed
            seen += syntax.names_loaded(u.value).count(t) if u.value is not None else 0
            if isinstance(u, syntax.Assign) and target(u) in (t, a):
                ok = target(u) == a and seen == uses.get(t)
                if target(u) == a and not ok:  # t read after a's new value: move that down
                    block, j, ok = _sink(block, j, t, a, uses.get(t, 0) - seen)
                break
            j += 1
        if not ok:
            i += 1
            continue
        mapping = {t: syntax.load(a)}
        rest = []
        for u in block[i + 1:j + 1]:
            if syntax.comment_text(u) is None:
                u = syntax.clone(u)
                u.value = syntax.substitute(u.value, mapping)
            rest.append(u)
        block = block[:i] + rest + block[j + 1:]
    return block


def _sink(block, j, t, a, left):
    """``block`` with ``block[j]`` (``a = ...``) moved after the statements that read
    ``t`` ``left`` more times, where that changes nothing: they are plain assignments that
    neither read ``a`` nor assign what ``block[j]`` reads or ``a``. (block, where
    ``block[j]`` is now, whether it moved): unmoved where it cannot."""
    r = block[j]
    reads = set(syntax.names_loaded(r.value))
    k = j + 1
    while left > 0 and k < len(block):
        u = block[k]
        if syntax.comment_text(u) is None:
            if not (isinstance(u, syntax.Assign) and target(u) is not None):
                return block, j, False
            loads = syntax.names_loaded(u.value)
            if a in loads or target(u) in reads | {a, t}:
                return block, j, False
            left -= loads.count(t)
        k += 1
    if left:
        return block, j, False
    return block[:j] + block[j + 1:k] + [r] + block[k:], k - 1, True
