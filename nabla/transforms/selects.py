"""A branch on a batched value, in vmap's vector form: both sides for every example, then
``np.where`` keeps each example's own.

The vector form cannot run ``if c:`` when ``c`` differs from example to example. Where
both sides only assign names, cannot raise (a division or ``np.sqrt`` of a batched
value is NumPy's: an infinity or a NaN in the examples the other side serves, which
``np.where`` drops) and read no element at a varying index, the branch becomes straight
code. A name either side assigns and code after the branch reads is merged; one side's
own temporaries keep their names:

>>> import numpy as np
>>> from nabla import syntax
>>> from nabla.transforms.normalize import normalize
>>> from nabla.transforms.views import build
>>> from nabla.transforms.batching import Options
>>> def f(x):
...     s = np.sum(x * x)
...     if s > 1.0:
...         y = x / np.sqrt(s)
...     else:
...         y = x
...     return y
>>> over_x = Options(in_axes=(0,), out_axes=0, axis_size=None, target="cpu", ranks=(1,))
>>> print(syntax.to_source(build(normalize(f), "vmap", [], options=over_x).functions[0]))
def f_vmap(x):
    # the vector form: each batched value carries the batch on its axis 0
    s = batch_sum(x * x)
    # `if s > 1.0:` on every example for y: both sides computed, np.where keeps each example's own
    y_if = x / batch_pair(np.sqrt(s), x)
    y_1 = x
    y = np.where(batch_pair(s > 1.0, y_if), y_if, y_1)
    return y

Only where the examples are arrays: with scalar examples, the loop form's one compiled
loop is faster than two whole-batch sides (measured in docs/performance.md), and there
the vector form is not used for the branch.
"""

from __future__ import annotations

from .. import rules, syntax
from .ranks import spelling

__all__ = ["NOTE", "select_branch"]

NOTE = "both sides computed, np.where keeps each example's own"

def select_branch(vec, s) -> list | str:
    """The statements that compute the branch ``s`` (its test batched) on every example
    of the vectorizer ``vec``, or a string saying why it stays a branch."""
    if vec.rank(s.test) != 0:
        return "a branch on a batched array"
    sides = [s.body, s.orelse]
    assigned = [_assigned(side) for side in sides]
    if any(a is None for a in assigned):
        return "a branch on a batched value that does more than assign names"
    for side in sides:
        for st in side:
            if syntax.comment_text(st) is None and not _safe(st.value, vec):
                return ("a branch on a batched value whose sides cannot both run on every "
                        "example")
    body = vec.canon.body
    outside = _reads_outside(body, s)
    if vec.canon.result is not None:  # what the function returns
        outside |= set(syntax.names_loaded(vec.canon.result))
    assigned_elsewhere = _assigned_outside(body, s)
    merged = [n for n in dict.fromkeys(assigned[0] + assigned[1])
              if n in outside or (n in assigned[0] and n in assigned[1])]
    if not any((vec.ranks.get(n) or 0) > 0 for n in merged) or any(
            vec.ranks.get(n) is None for n in merged):
        # scalar examples (or ranks unknown): the loop form is faster
        return "a branch on a batched value"
    for n in list(merged):
        if not (n in assigned[0] and n in assigned[1]) and n not in vec.defined:
            # the other side's examples have no value for n: what they read after the
            # branch cannot be n (it would raise), unless a loop brings one round
            if vec.loops or n in assigned_elsewhere:
                return f"a branch on a batched value that assigns {n} on one side only"
            merged.remove(n)

    out = []
    test = syntax.clone(s.test)
    if not isinstance(test, syntax.Name):
        cond = vec.canon.namer.fresh("cond")
        out.append(syntax.assign(cond, vec.expr(test, s), lineno=getattr(s, "lineno", None)))
        vec.batched.add(cond)
        vec.ranks[cond] = 0
        test = syntax.load(cond)
    text = vec.canon.parsed.lines.get(getattr(s, "lineno", None), "").strip()
    head = f"`{text}`" if text else "this branch"
    what = f" for {', '.join(merged)}" if merged else ""
    out.append(syntax.comment(f"{head} on every example{what}: {NOTE}"))
    picks = []
    for side, suffix in zip(sides, ("if", "else")):
        names = {}
        for st in side:
            if syntax.comment_text(st) is not None:
                out.append(st)
                continue
            n = st.targets[0].id
            value = syntax.rename(st.value, names)
            if n in merged or n in assigned_elsewhere:
                new = vec.canon.namer.fresh(f"{n}_{suffix}")
                vec.ranks[new] = vec.ranks.get(n)
                names[n] = new
            else:
                new = n
            if vec.value_batched(value):
                vec.batched.add(new)
            else:
                vec.batched.discard(new)  # assigned here only: its value says
            new_st = syntax.assign(new, vec.expr(value, st), lineno=getattr(st, "lineno",
                                                                          None))
            out.append(syntax.copy_location(new_st, st))
            vec.defined.add(new)
        picks.append(names)
    for n in merged:
        ops = vec.lined_up([syntax.load(picks[k].get(n, n)) for k in (0, 1)])
        out.append(syntax.assign(n, syntax.call(syntax.parse_expr("np.where"),
                                                [_lifted(vec, test, n, picks)] + ops),
                                 lineno=getattr(s, "lineno", None)))
        vec.batched.add(n)
        vec.defined.add(n)
    return out


def _lifted(vec, test, n, picks):
    """The test, its batch axis lined up with the merged value ``n``'s examples."""
    if not vec.ranks.get(n):
        return syntax.clone(test)
    widest = max((picks[k].get(n, n) for k in (0, 1)), key=lambda m: vec.ranks.get(m) or 0)
    how = "batch_pair" if widest in vec.batched else "batch_lift"
    return syntax.call(syntax.load(how), [syntax.clone(test), syntax.load(widest)])


def _assigned(side) -> list[str] | None:
    """The names ``side`` assigns, in order, or None if it does anything else."""
    out = []
    for st in side:
        if syntax.comment_text(st) is not None:
            continue
        if not (isinstance(st, syntax.Assign) and len(st.targets) == 1
                and isinstance(st.targets[0], syntax.Name)):
            return None
        out.append(st.targets[0].id)
    return out


def _safe(node, vec) -> bool:
    """``node`` cannot raise when evaluated for an example whose side it is not, and reads
    no element at an index that varies."""
    if isinstance(node, (syntax.Name, syntax.Constant)):
        return True
    if isinstance(node, syntax.BinOp):
        if syntax.operator(node) == "@":
            return False
        # an operation that may raise on scalars (a rule's raises); on a batched (array)
        # value NumPy's give an infinity or a NaN instead
        if rules.lookup(syntax.rule_key(node)).raises and not vec.value_batched(node):
            return False
        return _safe(node.left, vec) and _safe(node.right, vec)
    if isinstance(node, syntax.UnaryOp):
        return _safe(node.operand, vec)
    if isinstance(node, syntax.Compare):
        return all(_safe(c, vec) for c in [node.left] + list(node.comparators))
    if isinstance(node, syntax.Subscript):
        return isinstance(node.value, syntax.Name) and _constant_index(node.slice)
    if isinstance(node, syntax.Call):
        spelled = spelling(node)
        rule = rules.RULES.get(spelled)
        if rule is None or rule.in_place is not None:
            return False
        if rule.raises and not vec.value_batched(node):
            return False
        return all(_safe(a, vec) for a in list(node.args) + [k.value for k in node.keywords])
    return False


def _constant_index(index) -> bool:
    parts = list(index.elts) if isinstance(index, syntax.Tuple) else [index]
    for p in parts:
        if isinstance(p, syntax.Slice):
            if not all(b is None or syntax.is_const(b) for b in (p.lower, p.upper, p.step)):
                return False
        elif not (syntax.is_const(p) and isinstance(p.value, int)):
            return False
    return True


def _reads_outside(body, branch) -> set[str]:
    """Names read anywhere in ``body`` but inside ``branch``'s two sides."""
    out = set()
    for st in syntax.walk_statements(body):
        if st is branch:
            out |= set(syntax.names_loaded(st.test))
            continue
        if _inside(st, branch):
            continue
        own = st.test if isinstance(st, (syntax.If, syntax.While)) else \
            st.iter if isinstance(st, syntax.For) else st
        out |= set(syntax.names_loaded(own))
    return out


def _assigned_outside(body, branch) -> set[str]:
    out = set()
    for st in syntax.walk_statements(body):
        if st is branch or _inside(st, branch):
            continue
        if isinstance(st, syntax.Assign):
            for t in st.targets:
                out |= set(syntax.names_stored(t))
        elif isinstance(st, syntax.For):
            out |= set(syntax.names_stored(st.target))
    return out


def _inside(st, branch) -> bool:
    return any(st is x for x in syntax.walk_statements(branch.body + branch.orelse))
