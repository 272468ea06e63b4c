"""Expressions: each becomes an *atom*, a name or a constant, after one statement per
operation inside it.

``operation`` turns an expression into one operation on atoms, ``atom`` names that
operation. A name reads its variable's current version; a number or array the
function reads from a global or a closure becomes a *free value* (a parameter of
generated code, read at every call). ``a if c else b`` and ``a and b`` evaluate what
Python evaluates, in branches; a chained comparison is an ``and``:

>>> from nabla.transforms.normalize import normalize
>>> SCALE = 3.0
>>> def f(x, y):
...     z = x if 0.0 < x < 1.0 else y
...     return z * SCALE
>>> print(normalize(f).to_source())
def f(x, y, SCALE):
    t1 = 0.0 < x
    if t1:
        t1 = x < 1.0
    if t1:
        t2 = x
    else:
        t2 = y
    z = t2
    t3 = z * SCALE
    return t3
"""

from __future__ import annotations

from ... import syntax
from ...errors import NotDifferentiableError, UnsupportedSyntaxError

VALUE_ATTRIBUTES = {"T", "shape", "ndim", "size", "dtype"}


class Expressions:
    """Normalizer's expressions (a mixin): ``atom`` and ``operation``, and how names,
    attributes and callees resolve (``name_atom``, ``free_value``, ``resolve_callee``)."""

    def atom(self, node):
        """Normalize ``node`` to an atom, emitting statements for its operations."""
        if isinstance(node, syntax.Dict):
            return self.dict_literal(node)
        op = self.operation(node)
        if self.is_atom(op):
            return op
        name = self.emit(self.namer.temp(), op)
        if isinstance(op, syntax.Tuple):  # read element-wise wherever it goes
            self.tuples[name] = list(op.elts)
            if isinstance(node, syntax.List):
                self.kinds[name] = ("list",)
        return syntax.load(name)

    def operation(self, node):
        """Normalize ``node`` to one operation whose operands are atoms."""
        if isinstance(node, syntax.Constant):
            return node
        if isinstance(node, syntax.Name):
            return self.name_atom(node)
        if isinstance(node, syntax.BinOp):
            return syntax.BinOp(left=self.operand(node.left), op=node.op,
                                right=self.operand(node.right))
        if isinstance(node, syntax.UnaryOp):
            operand = self.operand(node.operand)
            if syntax.is_const(operand) and isinstance(node.op, syntax.USub) and not isinstance(
                operand.value, (bool, str)
            ):
                return syntax.const(-operand.value)
            return syntax.UnaryOp(op=node.op, operand=operand)
        if isinstance(node, syntax.IfExp):
            return self.conditional(node.test, node.body, node.orelse)
        if isinstance(node, syntax.BoolOp):
            return self.boolean(node)
        if isinstance(node, syntax.Compare) and len(node.ops) > 1:
            return self.chained_comparison(node)
        if isinstance(node, syntax.Compare):
            return syntax.Compare(left=self.atom(node.left), ops=node.ops,
                                  comparators=[self.atom(node.comparators[0])])
        if isinstance(node, syntax.Attribute):
            kind, what = self.resolve_callee(node)
            if kind == "const":
                return syntax.parse_expr(what)
            if kind == "other" and what is None:  # np.newaxis
                return syntax.const(None)
            if kind == "value":
                return syntax.load(self.free_value(("attr", syntax.to_source(node)),
                                                   syntax.to_source(node)))
            if kind == "method" and (isinstance(node.value, syntax.Name) or
                                     node.attr not in VALUE_ATTRIBUTES):
                # a namedtuple's field: s.pos, or State(x, v).pos
                base = (self.versions.get(node.value.id) if isinstance(node.value, syntax.Name)
                        else getattr(self.atom(node.value), "id", None))
                if base in self.dicts and node.attr in self.dicts[base]:
                    return syntax.clone(self.dicts[base][node.attr])
            if kind == "method":
                if node.attr not in VALUE_ATTRIBUTES:
                    hint = "use .T, .shape, .ndim, .size or .dtype, or a NumPy function"
                    if isinstance(node.value, syntax.Name) and \
                            node.value.id in self.params_set:
                        hint = (f"{node.value.id} is an argument: an argument is an array, "
                                "a number or a container of them; pass the values it holds, "
                                "or transform a bound method (nabla.grad(model.loss)), "
                                "whose object is read like a global")
                    self.refuse(NotDifferentiableError, f"attribute .{node.attr} is not "
                                "supported", node, hint)
                base = self.atom(node.value)
                return syntax.Attribute(value=base, attr=node.attr, ctx=syntax.Load())
            self.refuse(NotDifferentiableError, f"{syntax.to_source(node)} cannot be used as "
                        "a value", node, "call it, or use a number or an array")
        if isinstance(node, syntax.Subscript):
            base = self.atom(node.value)
            if isinstance(base, syntax.Name) and base.id in self.tuples and syntax.is_const(
                node.slice
            ) and isinstance(node.slice.value, int) and not isinstance(node.slice.value, bool):
                return syntax.clone(self.tuples[base.id][node.slice.value])
            if isinstance(base, syntax.Name) and base.id in self.tuples and \
                    not syntax.is_const(node.slice):
                self.refuse(NotDifferentiableError, f"{syntax.to_source(node.value)} is a tuple, "
                            f"indexed here by {syntax.to_source(node.slice)}, a value known only "
                            "when the code runs: nabla reads a tuple element by element", node,
                            "index it with a number, or loop over it (`for item in t:` and "
                            "`for i in range(len(t)):` are unrolled)")
            if isinstance(base, syntax.Name) and base.id in self.dicts and \
                    syntax.is_const(node.slice) and isinstance(node.slice.value, str):
                if node.slice.value not in self.dicts[base.id]:
                    self.refuse(NotDifferentiableError, f"the dict has no key "
                                f"{node.slice.value!r}", node, "use one of its keys: "
                                f"{', '.join(map(repr, self.dicts[base.id]))}")
                return syntax.clone(self.dicts[base.id][node.slice.value])
            return syntax.Subscript(value=base, slice=self.index(node.slice), ctx=syntax.Load())
        if isinstance(node, syntax.Call):
            return self.call(node)
        if isinstance(node, (syntax.Tuple, syntax.List)):
            atoms = [self.atom(e) for e in node.elts]
            return syntax.tuple_(atoms)
        if isinstance(node, syntax.Dict):
            return self.dict_literal(node)
        self.refuse(UnsupportedSyntaxError, f"{type(node).__name__} expressions are not "
                    "supported", node, "see the docs for the supported subset")

    @staticmethod
    def is_atom(node) -> bool:
        if isinstance(node, (syntax.Name, syntax.Constant)):
            return True
        # module constants: np.pi, np.float32
        return isinstance(node, syntax.Attribute) and isinstance(node.value, syntax.Name) and (
            node.value.id in ("np", "math")
        ) or (isinstance(node, syntax.Attribute) and isinstance(node.value, syntax.Attribute)
              and syntax.to_source(node).startswith("np."))

    def dict_literal(self, node):
        """``{"a": x, "b": y}``: a tuple of the values in key order, read by key."""
        keys = []
        for k in node.keys:
            if k is None or not syntax.is_const(k) or not isinstance(k.value, str):
                self.refuse(UnsupportedSyntaxError, "dict keys must be constant strings", node,
                            'write the keys out: {"w": w, "b": b}')
            keys.append(k.value)
        values = {k: self.atom(v) for k, v in zip(keys, node.values)}
        order = sorted(values)
        elements = [values[k] for k in order]
        name = self.emit(self.namer.temp(), syntax.tuple_(elements))
        self.tuples[name] = elements
        self.dicts[name] = dict(zip(order, elements))
        self.kinds[name] = ("dict", order)
        return syntax.load(name)

    def index(self, node, part: bool = False):
        """``node`` as an index of atoms (``part``: an element of a tuple index)."""
        if isinstance(node, syntax.Slice):
            parts = {k: (None if getattr(node, k) is None else self.atom(getattr(node, k)))
                     for k in ("lower", "upper", "step")}
            return syntax.Slice(**parts)
        if isinstance(node, syntax.Tuple):
            return syntax.tuple_([self.index(e, part=True) for e in node.elts])
        if syntax.is_const(node) and node.value is Ellipsis and not part:
            # x[...]: the one-element tuple x[..., ] NumPy reads the same (Numba reads no
            # lone Ellipsis)
            return syntax.tuple_([syntax.const(Ellipsis)])
        if isinstance(node, syntax.List):
            # x[[0, 2]]: NumPy's index by a list is an index array (rows 0 and 2), not the
            # tuple x[0, 2] a list elsewhere reads as
            items = [self.atom(e) for e in node.elts]
            if not items or not all(syntax.is_const(i) and type(i.value) in (int, bool)
                                    for i in items):
                self.refuse(UnsupportedSyntaxError, "an index by a list of values that are "
                            "not constant ints", node, "index by an array of ints: "
                            "x[np.array([i, j])]")
            return syntax.load(self.emit(self.namer.temp(), syntax.call(
                syntax.parse_expr("np.array"), [syntax.List(elts=items, ctx=syntax.Load())])))
        return self.atom(node)

    # -- what Python evaluates lazily ----------------------------------------
    def conditional(self, test, body, orelse):
        """``body if test else orelse``, evaluating only the branch taken."""
        t = self.atom(test)
        result = self.namer.temp()
        saved = self.body
        self.body = []
        self.emit(result, self.operation(body))
        then = self.body
        self.body = []
        self.emit(result, self.operation(orelse))
        other = self.body
        self.body = saved
        stmt = syntax.If(test=t, body=then, orelse=other)
        stmt.lineno, stmt.col_offset = self.lineno, self.col
        self.body.append(stmt)
        return syntax.load(result)

    def boolean(self, node):
        """``a and b`` / ``a or b`` with Python's short-circuit and value semantics."""
        is_and = isinstance(node.op, syntax.And)
        result = self.namer.temp()
        self.emit(result, self.operation(node.values[0]))
        for value in node.values[1:]:
            saved = self.body
            self.body = []
            self.emit(result, self.operation(value))
            then = self.body
            self.body = saved
            if is_and:
                test = syntax.load(result)
            else:
                test = syntax.load(self.emit(self.namer.temp(),
                                             syntax.unaryop("not", syntax.load(result))))
            stmt = syntax.If(test=test, body=then, orelse=[])
            stmt.lineno, stmt.col_offset = self.lineno, self.col
            self.body.append(stmt)
        return syntax.load(result)

    def operand(self, node):
        """The atom of an operator's operand: a number or an array, never a tuple (a list
        or tuple argument is a container of leaves, not an array)."""
        atom = self.atom(node)
        if isinstance(atom, syntax.Name) and atom.id in self.tuples:
            n = len(self.tuples[atom.id])
            self.refuse(NotDifferentiableError, f"{syntax.to_source(node)} is a tuple, list "
                        f"or dict of {n} values, used here as an array", node,
                        f"pass an array (np.array({syntax.to_source(node)}) before the call), "
                        "or read its elements")
        return atom

    def chained_comparison(self, node):
        """``a < b <= c`` as Python runs it: ``a < b``, then, only if it holds, ``b <= c``
        (``b`` read once)."""
        result = self.namer.temp()
        left = self.atom(node.left)
        outer = self.body
        for i, (op, comparator) in enumerate(zip(node.ops, node.comparators)):
            right = self.atom(comparator)
            self.emit(result, syntax.Compare(left=left, ops=[op], comparators=[right]))
            left = right
            if i + 1 < len(node.ops):  # the next comparison runs only if this one holds
                then = []
                stmt = syntax.If(test=syntax.load(result), body=then, orelse=[])
                stmt.lineno, stmt.col_offset = self.lineno, self.col
                self.body.append(stmt)
                self.body = then
        self.body = outer
        return syntax.load(result)

    # -- names ---------------------------------------------------------------
    def name_atom(self, node):
        name = node.id
        if name in self.versions:
            return syntax.load(self.versions[name])
        if name in self.free:  # a free value named here already (compiled code called)
            return syntax.load(name)
        kind, what = self.resolver.resolve_name(name)
        if kind == "value":
            return syntax.load(self.free_value(("name", name), name))
        if kind == "const":
            return syntax.parse_expr(what)
        if kind == "other" and what is None:  # newaxis, from numpy
            return syntax.const(None)
        if kind == "missing":
            self.refuse(NotDifferentiableError, f"name {name!r} is not defined", node,
                        "define it before the function is called")
        if kind == "other" and isinstance(what, (str, bytes)):
            self.refuse(NotDifferentiableError, f"{name!r} is a string ({what!r}), which "
                        "generated code does not read", node, "make the flag a boolean or a "
                        "number (FAST = True), which generated code reads at every call, or "
                        "choose between two functions outside the one transformed")
        if kind == "other":
            self.refuse(NotDifferentiableError, f"{name!r} is a {type(what).__name__}, not a "
                        "number or an array, and cannot be used as a value here", node,
                        "pass the numbers or arrays it holds as arguments, or read them into "
                        "module-level names")
        if kind in ("module", "function", "user"):
            what = {"module": "a module", "function": "a function", "user": "a function"}[kind]
            self.refuse(NotDifferentiableError, f"{name!r} is {what} and cannot be used as "
                        "a value here", node, "call it, or pass a number or an array")
        raise AssertionError(kind)

    def free_value(self, key, source_name: str, base: str | None = None) -> str:
        key = (id(self.resolver.globals), tuple(self.path)) + tuple(key)
        if key not in self.free_names:
            name = base or source_name.replace(".", "_")
            if name in self.namer.taken and name not in self.versions:
                # the name already means this free value in the user's code
                name = name if name not in self.free else self.namer.fresh(name)
            else:
                name = self.namer.fresh(name)
            self.namer.take(name)
            self.free_names[key] = name
            self.free.append(name)
            self.free_sources.append("/".join(self.path + [source_name]))
        return self.free_names[key]

    def resolve_callee(self, func):
        """('function', spelling) | ('value-attr', ...) for a callee or attribute chain."""
        if isinstance(func, syntax.Name):
            if func.id in self.versions:
                return ("local", func.id)
            return self.resolver.resolve_name(func.id)
        if isinstance(func, syntax.Attribute):
            base = func.value
            if isinstance(base, (syntax.Name, syntax.Attribute)):
                kind, what = self.resolve_callee(base)
                if kind == "module":
                    module = self.module_object(base)
                    return self.resolver.resolve_attribute(module, func.attr)
                if kind == "other" and not isinstance(what, (str, bytes)):
                    # an attribute of a plain object (cfg.alpha, a dataclass's field): a
                    # number or an array is a free value, read at every call
                    found = getattr(what, func.attr, None)
                    sub_kind, sub = self.resolver.classify(found)
                    if sub_kind in ("value", "other") and found is not None:
                        return sub_kind, sub
                return ("method", func.attr)
            return ("method", func.attr)
        return ("expression", None)

    def module_object(self, node):
        if isinstance(node, syntax.Name):
            return self.resolver.lookup(node.id)
        return getattr(self.module_object(node.value), node.attr)
