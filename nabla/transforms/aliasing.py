r"""Views read after a write into their array, which reverse mode refuses.

In NumPy a view (``v = a[1:]``, a row ``a[i]`` of a matrix, ``a.T``, ``a.reshape(...)``,
what a function returns of its argument) shares its array's memory: a later write
``a[2] = ...`` shows through it. Reverse mode keeps every value as it was when made (its
adjoint puts back what each write overwrote), so a view read after such a write would
give another value than the function's, and another derivative. ``check_views`` refuses
that read at its line; a view read before any write into its array, or after writes that
provably miss it (``traj[k]`` and a write into ``traj[k + 1]``), is left alone.

>>> from nabla import syntax
>>> from types import SimpleNamespace
>>> body = [syntax.parse_stmt(s) for s in (
...     "a = np.copy(x)", "v = a[1:]", "a[2] = t", "s = np.sum(v)")]
>>> ranks = {"x": 1, "a": 1, "v": 1, "t": 0, "s": 0}
>>> views = stale_views(SimpleNamespace(body=body, result=syntax.load("s")), ranks, {})
>>> [(syntax.to_source(read).strip(), view, array) for read, view, array, _ in views]
[('s = np.sum(v)', 'v', 'a')]
>>> body[3] = syntax.parse_stmt("s = np.sum(a[1:])")  # the view taken after the write
>>> stale_views(SimpleNamespace(body=body, result=syntax.load("s")), ranks, {})
[]
"""

from __future__ import annotations

from .. import rules, syntax
from ..errors import NotDifferentiableError
from .activity import callee_of, describe, is_store, stored_name
from .bodies import stmt_loads
from .writes import stored_arrays

__all__ = ["check_views", "part_not_element", "stale_views"]


def check_views(canon, ranks, callees) -> None:
    """Refuse the first read of a view after a write into its array (reverse mode)."""
    found = stale_views(canon, ranks, callees)
    if found:
        read, view, array, element = found[0]
        hint = (f"take the view after the write, or a copy before it ({view} = "
                f"np.copy(...)) if the old values are meant, or use forward mode "
                f"(mode=\"forward\")")
        if element:  # x[i] of an array whose number of dimensions is not known here
            hint = (f"if {element!r} has one dimension, {view!r} is one number: say so, "
                    f"{view} = float(...); if it has more, take a copy, {view} = "
                    "np.copy(...), or use forward mode (mode=\"forward\")")
        raise NotDifferentiableError(
            f"{view!r} is a view of the array {array!r} (it shares its memory), read here "
            f"after a write into {array!r}: reverse mode keeps {view!r} as it was when made"
            + (" (its element, if the array has one dimension: nabla does not know its "
               "number of dimensions here)" if element else ""),
            **canon.parsed.where(read), hint=hint)


def stale_views(canon, ranks, callees) -> list:
    """[(statement, view, array, element)]: each read of a view after a write into its
    array that may reach it, in the order the code runs (a loop's body twice: a view
    carried to the next iteration); ``element``: the array, where the view is ``x[i]`` of
    an array whose rank is not known (one number, if it has one dimension), else None.
    ``ranks``: name -> number of dimensions, where known (a scalar is no view);
    ``callees``: the rules of the user's functions called (``callee_rules``)."""
    stored = stored_arrays(canon.body)
    fresh = {sp: c.fresh_result for sp, c in getattr(canon, "callees", {}).items()}
    walk = _Walk(stored, ranks or {}, callees, fresh)
    if stored:
        walk.block(canon.body)
        walk.reads(canon.result, set(syntax.names_loaded(canon.result)))
    return walk.found


class _Walk:
    def __init__(self, stored, ranks, callees, fresh):
        self.stored = stored
        self.ranks = ranks
        self.callees = callees
        self.fresh = fresh  # a function of the user's -> whether it returns a new array
        self.bases: dict[str, set] = {}  # name -> the written arrays it may be a view of
        # a view's index as it was taken (an element's or a row's), and the assignments of
        # its names then: a write that provably misses it leaves it alone
        self.taken: dict[str, tuple] = {}
        self.version: dict[str, int] = {}  # name -> how many times it was assigned
        self.stale: dict[str, str] = {}  # view -> the array written since it was taken
        # an int name -> (name, offset, that name's assignments then): t2 = k + 1
        self.offsets: dict[str, tuple] = {}
        self.found: list = []
        # view -> its array, for x[i] of an array of unknown rank (one number if 1-D)
        self.elements: dict = {}

    def block(self, stmts):
        for st in stmts:
            if isinstance(st, syntax.If):
                self.reads(st, set(syntax.names_loaded(st.test)))
                before = self._state()
                self.block(st.body)
                taken = self._state()
                self._restore(before)
                self.block(st.orelse)
                self._merge(taken)
            elif isinstance(st, (syntax.For, syntax.While)):
                before = self._state()  # a loop may run no iteration
                for _ in range(2):  # a view carried to the next iteration
                    head = st.iter if isinstance(st, syntax.For) else st.test
                    self.reads(st, set(syntax.names_loaded(head)))
                    if isinstance(st, syntax.For):
                        for n in syntax.names_stored(st.target):
                            self.assigned(n)
                    self.block(st.body)
                self._merge(before)
            elif isinstance(st, syntax.Assign):
                self.reads(st, stmt_loads(st))
                if is_store(st):
                    self.write(st)
                else:
                    self.define(st)
            else:
                self.reads(st, stmt_loads(st))

    _STATE = ("bases", "taken", "version", "stale", "offsets")

    def _state(self) -> dict:
        return {k: {n: (set(v) if isinstance(v, set) else v)
                    for n, v in getattr(self, k).items()} for k in self._STATE}

    def _restore(self, state):
        for k in self._STATE:
            setattr(self, k, {n: (set(v) if isinstance(v, set) else v)
                              for n, v in state[k].items()})

    def _merge(self, other):
        """The state after either of two paths: this one's and ``other``'s."""
        for n, v in other["stale"].items():
            self.stale.setdefault(n, v)
        for n, v in other["bases"].items():
            self.bases[n] = self.bases.get(n, set()) | v
        for k in ("taken", "offsets"):  # kept where both paths agree
            mine = getattr(self, k)
            setattr(self, k, {n: v for n, v in mine.items() if other[k].get(n) == v})
        for n in set(self.version) | set(other["version"]):
            a, b = self.version.get(n, 0), other["version"].get(n, 0)
            self.version[n] = max(a, b) + (a != b)

    def reads(self, st, names):
        for n in sorted(names):
            if n in self.stale and not any(f[1] == n for f in self.found):
                self.found.append((st, n, self.stale[n], self.elements.get(n)))

    def assigned(self, name):
        self.version[name] = self.version.get(name, 0) + 1
        self.offsets.pop(name, None)
        self.bases.pop(name, None)
        self.stale.pop(name, None)
        self.taken.pop(name, None)

    def define(self, st):
        target = stored_name(st)
        sources = self._sources(target, st.value)
        offset = self._offset(st.value)
        self.assigned(target)
        if offset is not None and offset[0] != target:
            self.offsets[target] = offset
        bases = set()
        for s in sources:
            bases |= self.bases.get(s, set()) | ({s} if s in self.stored else set())
        if target not in bases:
            # writes through this name go into another array now: views of the one it
            # held (u = unext, then unext = np.zeros(n)) no longer see them
            for view in list(self.bases):
                if view != target and target in self.bases[view]:
                    self.bases[view] = self.bases[view] - {target}
                    if not self.bases[view]:
                        del self.bases[view]
        self.elements.pop(target, None)
        if bases:
            self.bases[target] = bases
            value = st.value
            if isinstance(value, syntax.Subscript) and isinstance(value.value, syntax.Name):
                index = _parts(value.slice)
                self.taken[target] = (value.value.id, index, self._versions(index))
                if self.ranks.get(value.value.id) is None and not any(
                        isinstance(n, syntax.Slice) for p in index for n in syntax.walk(p)):
                    self.elements[target] = value.value.id  # a view, or one number

    def write(self, st):
        array = stored_name(st)
        index = _parts(st.targets[0].slice)
        for view, bases in self.bases.items():
            if array not in bases or view == array or view in self.stale:
                continue
            taken = self.taken.get(view)
            if taken is not None and taken[0] == array and \
                    self._versions(taken[1]) == taken[2] and self._apart(taken[1], index):
                continue
            self.stale[view] = array

    def _apart(self, first, second) -> bool:
        """Whether the indices provably name different rows: their first parts are
        ``i + a`` and ``i + b`` (or constants a and b) with a != b."""
        a, b = self._offset(first[0]), self._offset(second[0])
        return a is not None and b is not None and a[0] == b[0] and a[2] == b[2] and \
            a[1] != b[1]

    def _offset(self, node):
        """(name or None, int, that name's assignments) for ``i``, ``i + c``, ``i - c``,
        ``c``, or a name assigned one of those; None otherwise."""
        if syntax.is_const(node) and type(node.value) is int:
            return None, node.value, 0
        if isinstance(node, syntax.Name):
            if node.id in self.offsets:
                base, k, version = self.offsets[node.id]
                if base is None or self.version.get(base, 0) == version:
                    return base, k, version
            return node.id, 0, self.version.get(node.id, 0)
        if isinstance(node, syntax.BinOp) and isinstance(node.left, syntax.Name) and \
                syntax.is_const(node.right) and type(node.right.value) is int:
            op = type(node.op).__name__
            if op in ("Add", "Sub"):
                base, k, version = self._offset(node.left)
                step = node.right.value if op == "Add" else -node.right.value
                return (base, k + step, version) if base is not None else None
        return None

    def _versions(self, parts) -> dict:
        names = {n for p in parts for n in syntax.names_loaded(p)}
        return {n: self.version.get(n, 0) for n in names}

    def _sources(self, target, value) -> list[str]:
        """The names whose arrays ``target = value`` may share: none for a scalar or a new
        array."""
        if self.ranks.get(target) == 0:
            return []
        if isinstance(value, syntax.Name):
            return [value.id]
        if isinstance(value, syntax.Subscript):
            base = value.value
            if not isinstance(base, syntax.Name) or \
                    not part_not_element(base.id, value.slice, self.ranks):
                return []
            return [base.id]
        if isinstance(value, syntax.Attribute):  # x.T
            rule = rules.lookup(f"Attribute.{value.attr}")
            ok = rule is not None and rule.view and isinstance(value.value, syntax.Name)
            return [value.value.id] if ok else []
        if isinstance(value, syntax.Call):
            first = value.args[0] if value.args else None
            sp = callee_of(value, self.callees)
            if sp is not None:  # a function of the user's: a view of an argument, unless
                #                 it returns an array it made
                if self.fresh.get(sp, False):
                    return []
                nodes = list(value.args) + [k.value for k in value.keywords]
                return [n.id for n in nodes if isinstance(n, syntax.Name)]
            _, rule, _ = describe(value, self.callees)
            if rule is not None and rule.view and isinstance(first, syntax.Name):
                return [first.id]
        return []


def part_not_element(array: str, index, ranks) -> bool:
    """Whether ``array[index]`` may be more than one element (a slice, an index array, a
    row: a view, or a place a value written may be broadcast into). False only where
    ``ranks`` (name -> number of dimensions, or None) say it is one element."""
    parts = _parts(index)
    if any(isinstance(n, syntax.Slice) for p in parts for n in syntax.walk(p)):
        return True
    ranks = ranks or {}
    rank = ranks.get(array)
    return rank is None or len(parts) < rank or any(
        ranks.get(n, 1) != 0 for p in parts for n in syntax.names_loaded(p))


def _parts(index) -> list:
    return list(index.elts) if isinstance(index, syntax.Tuple) else [index]
