"""Small arrays of a known length as scalars: no allocation for a 3-vector.

An array the code builds from a few scalars (``np.array([a, b, c])``, a literal of
constants) and only reads element by element, in elementwise arithmetic with scalars or
arrays like it, or sums, is a handful of scalars: ``q`` of 2 elements becomes ``q_0`` and
``q_1``, and each statement that computes it becomes one per element. Where any read of
it needs an array (it is returned, passed to a function, indexed by a variable), it stays
an array, and so do the arrays computed from it. So does an array divided, raised to a
power or given to a function that may raise (a rule's ``raises``): on scalars, Python's
``/`` and ``**`` raise or make complex numbers where NumPy's give infinities and NaNs.
The adjoint's helpers of such arrays follow their rules' ``broadcast_of`` and
``shaped_like``: the cotangent of a sum, ``expand_reduced(g, d, None)``, is ``g`` in each
element, and ``unbroadcast(v, q)`` of arrays of one length is ``v``.

>>> from nabla import syntax
>>> body = [syntax.parse_stmt(s) for s in (
...     "q = array_of((c * x, s * x))", "d = q - np.array([1.0, 0.5])",
...     "return np.sum(d * d)")]
>>> fn = syntax.function_def("f", ["x", "c", "s"], unroll(body, {"x": 0, "c": 0, "s": 0}))
>>> print(syntax.to_source(fn))
def f(x, c, s):
    # q, d: arrays of 2 elements, as scalars
    q_0 = c * x
    q_1 = s * x
    d_0 = q_0 - 1.0
    d_1 = q_1 - 0.5
    return d_0 * d_0 + d_1 * d_1
"""

from __future__ import annotations

from types import SimpleNamespace

from .. import rules, syntax
from .bodies import assigned_values, stored
from .ranks import example_ranks, rank, spelling

__all__ = ["LARGEST", "unroll"]

LARGEST = 4  # the most elements an array made of scalars may have to become scalars


class _Escape(Exception):
    """A read of these names needs an array."""

    def __init__(self, names):
        super().__init__(sorted(names))
        self.names = set(names)


def unroll(body: list, ranks: dict, params=()) -> list:
    """``body`` (a function's) with its small arrays of a known length as scalars;
    ``ranks``: the number of dimensions of each parameter the call tells; ``params``: the
    function's parameters (the call gives them their first values: never unrolled)."""
    given = {p: r for p, r in ranks.items() if r is not None}
    assigns = assigned_values(body)
    lengths = _lengths(assigns, set(ranks) | set(params))
    if not lengths:
        return body
    taken = {n.id for s in syntax.walk_statements(body) for n in syntax.walk(s)
             if isinstance(n, syntax.Name)}
    while lengths:
        # the ranks of the rest, the small arrays given as vectors (t = q[0] is a scalar)
        rest = SimpleNamespace(body=_without(body, set(lengths)), callees={}, call_tuples={})
        known = example_ranks(rest, dict(given, **{n: 1 for n in lengths}))
        try:
            out = _Rewrite(lengths, known, rest, taken).block(body)
        except _Escape as e:
            if not e.names & set(lengths):
                return body
            for n in e.names:
                lengths.pop(n, None)
            lengths = _settled(lengths, assigns)
            continue
        names = sorted(lengths, key=lambda n: _first(body, n))
        sizes = sorted({lengths[n] for n in names})
        what = "arrays" if len(names) > 1 else "an array"
        of = " or ".join(str(k) for k in sizes)
        return [syntax.comment(f"{', '.join(names)}: {what} of {of} elements, as "
                               "scalars")] + out
    return body


def _without(body, names: set) -> list:
    """``body`` without the assignments to ``names``."""
    out = []
    for s in body:
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name) and \
                s.targets[0].id in names:
            continue
        if isinstance(s, (syntax.If, syntax.For, syntax.While)):
            s = syntax.clone(s)
            s.body, s.orelse = _without(s.body, names), _without(s.orelse, names)
        out.append(s)
    return out


def _first(body, name) -> int:
    for k, s in enumerate(syntax.walk_statements(body)):
        if name in stored(s):
            return k
    return 0


def _lengths(assigns: dict, params: set) -> dict:
    """name -> length of every name whose every assignment makes an array of one small
    length (from scalars, constants, or names of that length)."""
    lengths: dict = {}
    while True:  # built from scalars, or elementwise of such (an update of itself too)
        grown = False
        for n, values in assigns.items():
            if n in lengths or n in params or any(v is None for v in values):
                continue
            ks = {_elementwise_length(v, lengths) for v in values
                  if n not in syntax.names_loaded(v)}
            if len(ks) != 1 or None in ks:
                continue
            tentative = dict(lengths, **{n: ks.pop()})
            if all(_elementwise_length(v, tentative) == tentative[n] for v in values):
                lengths[n] = tentative[n]
                grown = True
        if not grown:
            break
    return _settled(lengths, assigns)


def _settled(lengths: dict, assigns: dict) -> dict:
    """Only names whose every assignment has the same length from what is left."""
    while True:
        drop = set()
        for n in lengths:
            if any(_elementwise_length(v, lengths) != lengths[n] for v in assigns[n]):
                drop.add(n)
        if not drop:
            return lengths
        for n in drop:
            lengths.pop(n)


def _made(value) -> int | None:
    """The length of the array ``value`` builds from scalars, or None."""
    if not isinstance(value, syntax.Call) or value.keywords or len(value.args) != 1:
        return None
    spelled = syntax.to_source(value.func)
    seq = value.args[0]
    if spelled == "array_of" and isinstance(seq, syntax.Tuple):
        elts = seq.elts
    elif spelled == "np.array" and isinstance(seq, (syntax.List, syntax.Tuple)) and all(
            syntax.is_const(e) and isinstance(e.value, (int, float))
            and not isinstance(e.value, bool) for e in seq.elts):
        elts = seq.elts
    else:
        return None
    return len(elts) if 1 <= len(elts) <= LARGEST else None


def _elementwise_length(value, lengths: dict) -> int | None:
    """The length of an elementwise expression of names in ``lengths`` (and others,
    checked later to be scalars), or None."""
    found = set()

    def visit(node) -> bool:
        if isinstance(node, syntax.Name):
            if node.id in lengths:
                found.add(lengths[node.id])
            return True
        if isinstance(node, syntax.Constant):
            return True
        k = _made(node)
        if k is not None:
            found.add(k)
            return True
        if isinstance(node, syntax.BinOp) and syntax.operator(node) != "@":
            return visit(node.left) and visit(node.right)
        if isinstance(node, syntax.UnaryOp):
            return visit(node.operand)
        if isinstance(node, syntax.Call):
            spelled = spelling(node)
            rule = rules.RULES.get(spelled)
            if rule is None or node.keywords:
                return False
            if rule.elementwise:
                return all(visit(a) for a in node.args)
            if rule.broadcast_of or rule.shaped_like:  # expand_reduced, unbroadcast
                like = node.args[list(rule.params).index(rule.shaped_like)] if \
                    rule.shaped_like in rule.params[:len(node.args)] else None
                return like is not None and visit(like)  # like's shape
            if rule.fill is not None and len(node.args) == 1 and isinstance(
                    node.args[0], syntax.Name) and node.args[0].id in lengths:
                found.add(lengths[node.args[0].id])  # zero_like(q): q's length
                return True
            if rule.copy_of is not None and len(node.args) == 1:  # snapshot(q)
                return visit(node.args[0])
            if _added(node) and node.args[0].id in lengths:  # acc[c] += v, v a scalar
                found.add(lengths[node.args[0].id])
                return True
        return False
    if not visit(value) or len(found) != 1:
        return None
    return found.pop()


def _added(node) -> bool:
    """``index_add(acc, c, v)`` at a constant index of a name: ``acc[c] += v``."""
    return isinstance(node, syntax.Call) and syntax.to_source(node.func) == "index_add" and \
        len(node.args) == 3 and not node.keywords and isinstance(node.args[0], syntax.Name) \
        and syntax.is_const(node.args[1]) and isinstance(node.args[1].value, int) and \
        not isinstance(node.args[1].value, bool)


class _Scalars(syntax.NodeTransformer):
    """An expression read as a whole: small arrays in it only as elements or sums."""

    def __init__(self, rewrite):
        self.rewrite = rewrite
        self.lengths = rewrite.lengths

    def visit_Name(self, node):
        if node.id in self.lengths:
            raise _Escape({node.id})
        return node

    def visit_Subscript(self, node):
        if isinstance(node.value, syntax.Name) and node.value.id in self.lengths:
            k = self.lengths[node.value.id]
            if syntax.is_const(node.slice) and isinstance(node.slice.value, int) and \
                    not isinstance(node.slice.value, bool) and -k <= node.slice.value < k:
                return syntax.load(self.rewrite.names[node.value.id][node.slice.value % k])
            raise _Escape({node.value.id})
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        if not node.keywords and node.args:
            spelled = spelling(node)
            rw = self.rewrite
            length = rw.length(node.args[0])
            if length is not None and spelled == "np.sum" and len(node.args) == 1:
                return rw.total(node.args[0], length)
            rule = rules.RULES.get(spelled)
            if length is not None and rule is not None and rule.shaped_like and \
                    len(node.args) == 2 and rank(node.args[1], rw.ranks, rw.canon) == 0 \
                    and not rw.reads(node.args[1]):
                return rw.total(node.args[0], length)  # unbroadcast to a scalar: a sum
        self.generic_visit(node)
        return node


class _Rewrite:
    def __init__(self, lengths: dict, ranks: dict, canon, taken: set):
        self.lengths = lengths
        self.ranks = ranks
        self.canon = canon
        self.names = {}  # name -> the names of its elements: q_0, q_1 (free ones)
        for n in sorted(lengths):
            base = n
            while any(f"{base}_{j}" in taken for j in range(lengths[n])):
                base += "_"
            self.names[n] = [f"{base}_{j}" for j in range(lengths[n])]

    def block(self, body) -> list:
        out = []
        for s in body:
            if isinstance(s, (syntax.If, syntax.For, syntax.While)):
                new = syntax.clone(s)
                if isinstance(s, (syntax.If, syntax.While)):
                    new.test = self.scalar(s.test)
                else:
                    new.iter = self.scalar(s.iter)
                new.body, new.orelse = self.block(s.body), self.block(s.orelse)
                out.append(new)
            elif isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name) and \
                    s.targets[0].id in self.lengths:
                n = s.targets[0].id
                for j in range(self.lengths[n]):
                    value = self.element(s.value, j, self.lengths[n])
                    if isinstance(value, syntax.Name) and value.id == self.names[n][j]:
                        continue  # an element an update leaves as it is
                    new = syntax.assign(self.names[n][j], value,
                                        lineno=getattr(s, "lineno", None))
                    out.append(syntax.copy_location(new, s))
            elif syntax.comment_text(s) is not None:
                out.append(s)
            else:
                out.append(self.statement(s))
        return out

    def statement(self, s):
        new = syntax.clone(s)
        if isinstance(s, syntax.Assign):
            for t in new.targets:
                if not isinstance(t, syntax.Name):
                    self.check(t)
            new.value = self.scalar(s.value)
        elif isinstance(s, syntax.Return):
            if s.value is not None:
                new.value = self.scalar(s.value)
        else:
            self.check(s)
        return new

    def check(self, node):
        found = {n for n in syntax.names_loaded(node) if n in self.lengths}
        if found:
            raise _Escape(found)

    def scalar(self, node):
        """``node`` where a scalar (or an array of another kind) is read: the small
        arrays it reads must be read as elements, or summed."""
        return _Scalars(self).visit(syntax.clone(node))

    def reads(self, node) -> bool:
        return any(n in self.lengths for n in syntax.names_loaded(node))

    def length(self, node) -> int | None:
        if not self.reads(node) and _made(node) is None:
            return None
        k = _elementwise_length(node, self.lengths)
        if k is None:
            raise _Escape({n for n in syntax.names_loaded(node) if n in self.lengths})
        return k

    def total(self, node, k):
        out = self.element(node, 0, k)
        for j in range(1, k):
            out = syntax.binop(out, "+", self.element(node, j, k))
        return out

    def element(self, node, j, k):
        """Element ``j`` of the elementwise expression ``node`` (of ``k`` elements)."""
        if isinstance(node, syntax.Name) and node.id in self.lengths:
            return syntax.load(self.names[node.id][j])
        if not self.reads(node) and _made(node) is None:
            if rank(node, self.ranks, self.canon) != 0:  # an array of another kind
                raise _Escape(set(self.lengths))
            return syntax.clone(node)  # a scalar, the same in every element
        if _made(node) is not None:
            return syntax.clone(node.args[0].elts[j])
        if isinstance(node, syntax.BinOp):
            if rules.lookup(syntax.rule_key(node)).raises:
                # a scalar's / and ** are Python's (a ZeroDivisionError, a complex
                # number) where an array's are NumPy's (an infinity, a NaN)
                raise _Escape({n for n in syntax.names_loaded(node) if n in self.lengths})
            return syntax.BinOp(left=self.element(node.left, j, k), op=node.op,
                                right=self.element(node.right, j, k))
        if isinstance(node, syntax.UnaryOp):
            return syntax.UnaryOp(op=node.op, operand=self.element(node.operand, j, k))
        if isinstance(node, syntax.Call):
            spelled = spelling(node)
            rule = rules.RULES.get(spelled)
            if rule is not None and rule.fill is not None:
                return syntax.const(rule.fill)
            if rule is not None and rule.copy_of is not None:
                return self.element(rule.bind(list(node.args), {})[rule.copy_of], j, k)
            if _added(node) and node.args[1].value % k == j:
                acc, v = node.args[0], node.args[2]
                if not self.reads(v) and rank(v, self.ranks, self.canon) != 0:
                    raise _Escape({acc.id})
                return syntax.binop(self.element(acc, j, k), "+", self.scalar(v))
            if _added(node):
                return self.element(node.args[0], j, k)
            if rule is not None and rule.elementwise and not rule.raises:
                return syntax.call(syntax.clone(node.func),
                                   [self.element(a, j, k) for a in node.args])
            if rule is not None and (rule.broadcast_of or rule.shaped_like):
                bound = rule.bind(list(node.args), {})
                value = bound[rule.broadcast_of or rule.params[0]]
                others = [v for p, v in bound.items() if p not in (
                    rule.broadcast_of, rule.shaped_like, rule.params[0])]
                # the value itself, in each element: of this length, or a scalar
                if all(syntax.is_const(v) and v.value is None for v in others) and (
                        self.length(value) == k or (not self.reads(value) and rank(
                            value, self.ranks, self.canon) == 0)):
                    return self.element(value, j, k)
        if isinstance(node, syntax.Subscript):
            return self.scalar(node)
        raise _Escape({n for n in syntax.names_loaded(node) if n in self.lengths})
