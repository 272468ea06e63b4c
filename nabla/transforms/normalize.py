"""Canonical form: one operation per statement, every value named once.

The user's function is rewritten so that each statement applies one
operation to *atoms* (names and constants), callees are spelled the way
generated code imports them (``xp.sin`` → ``np.sin``), NumPy forms Numba
lacks are lowered to ``nabla.runtime`` helpers, and a name assigned twice
gets a fresh version, so reverse mode can refer to every intermediate value:

>>> import numpy as xp
>>> def f(x, y):
...     z = xp.tanh(x * y + 1.0)
...     z = z * x
...     return z.sum(axis=0)
>>> print(normalize(f).to_source())
def f(x, y):
    t1 = x * y
    t2 = t1 + 1.0
    z = np.tanh(t2)
    z_1 = z * x
    t3 = reduce_sum(z_1, 0)
    return t3
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .. import hooks, pytree, rules, syntax
from ..errors import NotDifferentiableError, UnsupportedSyntaxError
from ..frontend.parse import ParsedFunction, check_signature, parse_function
from ..frontend.resolve import Resolver
from ..names import GENERATED_MODULE_PREFIX, Namer, reserved_names
from .activity import ShapeClasses, analyse
from .control import desugar
from .optimize import read_before_written

# x.method(...) -> the NumPy function it means (x becomes the first argument)
METHODS = {
    "sum": "np.sum", "mean": "np.mean", "prod": "np.prod", "max": "np.max", "min": "np.min",
    "var": "np.var", "std": "np.std", "cumsum": "np.cumsum", "dot": "np.dot",
    "reshape": "np.reshape", "ravel": "np.ravel", "flatten": "np.ravel", "squeeze": "np.squeeze",
    "copy": "np.copy", "astype": "astype", "transpose": "np.transpose", "clip": "np.clip",
    "round": "np.round", "argmax": "np.argmax", "argmin": "np.argmin", "trace": "np.trace",
}
VALUE_ATTRIBUTES = {"T", "shape", "ndim", "size", "dtype"}

_NOT_YET: dict = {}
# constructors whose result is a fresh array the function may write into
FRESH_ARRAYS = {
    "np.zeros", "np.ones", "np.empty", "np.full", "np.zeros_like", "np.ones_like",
    "np.empty_like", "np.full_like", "np.copy", "np.array", "array_of", "np.arange",
    "np.linspace", "np.eye", "np.identity", "tape_like", "snapshot", "zero_like", "one_like",
    "jac_like", "basis", "basis_block", "batch_broadcast", "batch_like",
}
_UNSUPPORTED = {
    "Try": ("`try` blocks", "handle errors outside the differentiated function"),
    "TryStar": ("`try` blocks", "handle errors outside the differentiated function"),
    "With": ("`with` blocks", "enter the context outside the differentiated function"),
    "AsyncWith": ("`async with`", "write a plain function"),
    "AsyncFor": ("`async for`", "write a plain function"),
    "Await": ("`await`", "write a plain function"),
    "Yield": ("generators (`yield`)", "return an array or a tuple instead"),
    "YieldFrom": ("generators (`yield from`)", "return an array or a tuple instead"),
    "Global": ("`global`", "pass the value in and return the new one"),
    "Nonlocal": ("`nonlocal`", "pass the value in and return the new one"),
    "ClassDef": ("class definitions", "define the class outside the function"),
    "FunctionDef": ("nested function definitions", "define the function at module level"),
    "Lambda": ("lambdas", "define a function at module level with `def`"),
    "ListComp": ("list comprehensions", "use NumPy array operations"),
    "SetComp": ("set comprehensions", "use NumPy array operations"),
    "DictComp": ("dict comprehensions", "use NumPy array operations"),
    "GeneratorExp": ("generator expressions", "use NumPy array operations"),
    "Delete": ("`del`", "let the name go out of scope"),
    "Starred": ("star-arguments", "pass the arguments one by one"),
    "Import": ("imports inside the function", "import at module level"),
    "ImportFrom": ("imports inside the function", "import at module level"),
    "NamedExpr": ("the walrus operator", "assign on a line of its own"),
    "Raise": ("`raise`", "check arguments before calling the transformed function"),
    "Assert": ("`assert`", "check arguments before calling the transformed function"),
    "JoinedStr": ("f-strings", "format strings outside the differentiated function"),
    "Match": ("`match` statements", "use `if`/`elif`"),
    "Set": ("sets", "use a tuple"),
}


@dataclass
class Callee:
    """A function of the user's that the function calls, normalized once and shared by
    every call site: generated code calls it as ``spelling(args..., free...)`` and
    calls its derivatives ``spelling_jvp`` / ``spelling_vjp``."""

    fn: object
    spelling: str  # its name in the generated module
    canon: "Canonical"
    outputs: int | None  # the length of the tuple it returns; None for one value
    fresh_result: bool  # it returns an array it created (the caller may write into it)

    @functools.cached_property
    def shapes(self):
        """Which of its names provably share a shape (ShapeClasses)."""
        return ShapeClasses(self.canon)

    @functools.cached_property
    def rule(self):
        """A rule whose differentiable parameters are those the result depends on
        differentiably (a parameter read for its shape only is not one)."""
        params = tuple(self.canon.params + self.canon.free)
        result = self.canon.result
        outs = result.elts if isinstance(result, syntax.Tuple) else [result]
        activity = analyse(self.canon, list(params),
                           [o.id for o in outs if isinstance(o, syntax.Name)], check=False)
        diff = [p for p in params if activity.active(p)
                or any(isinstance(o, syntax.Name) and o.id == p for o in outs)]
        return rules.Rule(spelling=self.spelling, params=params, kind="diff",
                          jvp={p: "" for p in diff}, vjp={p: "" for p in diff},
                          nondiff=tuple(p for p in params if p not in diff),
                          doc=f"{self.fn.__name__}(), a function of the user's")


@dataclass
class Canonical:
    """A function in canonical form, and what the transforms need to know of it."""

    name: str
    params: list[str]  # the user's parameters (as named in generated code)
    free: list[str]  # free numbers and arrays, extra parameters of generated code
    free_sources: list[str]  # how each free value is found: the user's name for it
    body: list  # Assign statements; ``lineno`` is the user's line
    result: object  # an atom, or a Tuple of atoms
    result_lineno: int
    parsed: ParsedFunction
    namer: Namer
    user_names: dict[str, str] = field(default_factory=dict)  # canonical name -> user's name
    # spelling -> Callee, for the user's functions this one calls
    callees: dict = field(default_factory=dict)
    # canonical name -> length, for the tuples those functions return (read element-wise)
    call_tuples: dict = field(default_factory=dict)
    # the structure of the result when it holds dicts, lists or namedtuples (JSON: nested
    # lists, see ``result_tree``); generated code returns them as nested tuples
    result_tree: object = None

    def to_source(self) -> str:
        fdef = syntax.function_def(
            self.name, self.params + self.free, self.body + [syntax.ret(self.result)]
        )
        return syntax.to_source(fdef)

    def line_text(self, lineno: int | None) -> str:
        return self.parsed.line(lineno).strip()


def normalize(fn, trees: tuple | None = None) -> Canonical:
    """``trees``: the pytree structure of each argument (see ``nabla.pytree``); a container
    argument becomes one parameter per leaf, its elements read statically."""
    parsed = parse_function(fn)
    return Normalizer(parsed, trees=trees).run()


class Normalizer:
    def __init__(self, parsed: ParsedFunction, shared: dict | None = None,
                 stack: list | None = None, trees: tuple | None = None):
        self.parsed = parsed
        self.trees = trees
        self.dicts: dict[str, dict] = {}  # canonical name -> {key: atom}: dicts, namedtuples
        # canonical name -> ("dict", keys) | ("list",) | ("namedtuple", module, qualname)
        self.kinds: dict[str, tuple] = {}
        # name standing for the function nabla.vjp returns -> (backward function, residuals)
        self.vjp_closures: dict[str, tuple] = {}
        # id(function) -> Callee, for every function of the user's read so far (shared by
        # the normalizers of one transform, so a function is read once)
        self.shared: dict = {} if shared is None else shared
        self.callees: dict = {}
        self.call_tuples: dict = {}
        self.resolver = Resolver(parsed.fn)
        self.body: list = []
        self.lineno: int | None = None
        self.col: int | None = None
        self.versions: dict[str, str] = {}  # user name -> current canonical name
        self.tuples: dict[str, list] = {}  # canonical name -> atoms of a literal tuple
        self.free: list[str] = []
        self.free_sources: list[str] = []
        self.free_names: dict[tuple, str] = {}
        self.user_names: dict[str, str] = {}
        self.fresh_arrays: set[str] = set()  # canonical names of arrays the function created
        self.path: list[str] = []  # how the function being read is reached from the top one
        # functions being read, for refusing recursion
        self.stack: list = [parsed.fn] if stack is None else stack + [parsed.fn]
        self.block_tuples: dict = {}
        self.result_tree = None
        self.leaf_names: dict[str, list] = {}  # pytree argument -> its leaf parameters

    # -- errors -------------------------------------------------------------------
    def refuse(self, cls, message, node, hint):
        raise cls(message, **self.parsed.where(node), hint=hint)

    # -- driver -------------------------------------------------------------------
    def run(self) -> Canonical:
        tree = self.parsed.tree
        self.fence(tree)
        taken = set(reserved_names())
        all_names = {n.id for n in syntax.walk(tree) if isinstance(n, syntax.Name)}
        self.namer = Namer(taken | all_names)
        check_signature(self.parsed)
        tree = desugar(tree, self.namer, self.parsed.where)
        self.rest: list = []  # the statements still to come, per enclosing block
        self.loops: list = []
        args = tree.args
        self.params_set = {p.id for p in args.args}
        params = []
        containers = []
        for i, p in enumerate(args.args):
            ptree = self.trees[i] if self.trees is not None else ("leaf",)
            if ptree[0] != "leaf":
                name = p.id if p.id not in reserved_names() else self.namer.fresh(p.id)
                self.versions[p.id] = name
                self.user_names[name] = p.id
                containers.append((name, ptree))
                params.extend(self.tree_leaves(name, ptree))
                continue
            name = p.id
            if name in reserved_names():
                name = self.namer.fresh(name)
            self.versions[p.id] = name
            self.user_names[name] = p.id
            params.append(name)
        self.lineno = getattr(tree, "lineno", None)
        for name, ptree in containers:
            self.tree_value(name, ptree)
        stmts = list(tree.body)
        if stmts and isinstance(stmts[0], syntax.Expr) and syntax.is_const(stmts[0].value):
            stmts = stmts[1:]  # docstring
        result = None
        for i, stmt in enumerate(stmts):
            self.lineno = stmt.lineno
            self.col = getattr(stmt, "col_offset", None)
            self.rest.append(stmts[i + 1:])
            if isinstance(stmt, syntax.Return):
                if i != len(stmts) - 1:
                    self.refuse(UnsupportedSyntaxError, "a `return` before the end of the "
                                "function is not supported yet", stmt,
                                "compute the value and return it at the end")
                if stmt.value is None:
                    self.refuse(UnsupportedSyntaxError, "the function returns nothing", stmt,
                                "return the value to differentiate")
                result = self.result(stmt.value)
                result_lineno = stmt.lineno
            else:
                self.statement(stmt)
            self.rest.pop()
        if result is None:
            self.refuse(UnsupportedSyntaxError, "the function has no `return`", tree,
                        "return the value to differentiate")
        return Canonical(
            name=self.parsed.name, params=params, free=self.free,
            free_sources=self.free_sources, body=self.body, result=result,
            result_lineno=result_lineno, parsed=self.parsed, namer=self.namer,
            user_names=self.user_names, callees=self.callees, call_tuples=self.call_tuples,
            result_tree=self.result_tree,
        )

    # -- pytree arguments -------------------------------------------------------------------
    def tree_leaves(self, base: str, tree) -> list[str]:
        """Parameter names for the leaves of an argument of structure ``tree``."""
        if tree[0] == "leaf":
            name = self.namer.fresh(base)
            self.namer.take(name)
            return [name]
        out = []
        fields = tree[1]._fields if tree[0] == "namedtuple" else None
        for key, sub in pytree.children(tree):
            key = fields[key] if fields else key
            part = str(key) if str(key).isidentifier() or isinstance(key, int) else "k"
            out.extend(self.tree_leaves(f"{base}_{part}", sub))
        self.leaf_names[base] = out
        return out

    def tree_value(self, name: str, tree, leaves=None) -> list:
        """Define ``name`` as the container ``tree`` over its leaf parameters (a tuple of the
        elements, read statically: t[0], d["key"], nt.field)."""
        leaves = list(self.leaf_names[name]) if leaves is None else leaves
        elements = []
        for key, sub in pytree.children(tree):
            if sub[0] == "leaf":
                elements.append(syntax.load(leaves.pop(0)))
            else:
                inner = self.namer.fresh(f"{name}_{key}" if str(key).isidentifier()
                                         or isinstance(key, int) else f"{name}_k")
                n = pytree.num_leaves(sub)
                self.tree_value(inner, sub, leaves[:n])
                del leaves[:n]
                elements.append(syntax.load(inner))
        self.emit(name, syntax.tuple_(elements))
        self.tuples[name] = elements
        if tree[0] == "dict":
            self.dicts[name] = dict(zip(tree[1], elements))
            self.kinds[name] = ("dict", list(tree[1]))
        elif tree[0] == "namedtuple":
            self.dicts[name] = dict(zip(tree[1]._fields, elements))
            self.kinds[name] = ("namedtuple", tree[1].__module__, tree[1].__qualname__)
        elif tree[0] == "list":
            self.kinds[name] = ("list",)
        return elements

    def fence(self, tree):
        for node in syntax.walk(tree):
            kind = type(node).__name__
            if node is tree:
                continue
            if kind in _UNSUPPORTED:
                what, hint = _UNSUPPORTED[kind]
                self.refuse(UnsupportedSyntaxError, f"{what} cannot be differentiated by "
                            "nabla", node, hint)
            if kind in _NOT_YET:
                self.refuse(UnsupportedSyntaxError, f"{_NOT_YET[kind]} are not supported yet "
                            "(control flow is on its way)", node,
                            "write the computation without control flow, e.g. with np.where")

    # -- statements ---------------------------------------------------------------
    def emit(self, target: str, op) -> str:
        stmt = syntax.assign(target, op, lineno=self.lineno)
        # the column of the user's call this statement computes (or of its statement), so
        # that later passes refusing it point at the call
        col = getattr(op, "col_offset", None)
        stmt.col_offset = self.col if col is None else col
        self.body.append(stmt)
        return target

    def define(self, user_name: str) -> str:
        """The canonical name for a new value of the user's variable ``user_name``."""
        if (user_name in self.versions or user_name in reserved_names()
                or user_name in self.user_names):  # already a name (of another inlined call)
            name = self.namer.fresh(user_name)
        else:
            name = user_name
            self.namer.take(name)
        self.versions[user_name] = name
        self.user_names[name] = user_name
        return name

    def statement(self, stmt):
        if isinstance(stmt, syntax.Assign):
            value = stmt.value
            targets = stmt.targets
            if len(targets) > 1:
                atom = self.atom(value)
                for t in targets:
                    self.assign_to(t, atom)
                return
            self.assign_to(targets[0], value)
        elif type(stmt).__name__ == "AnnAssign":
            if stmt.value is None:
                return
            self.assign_to(stmt.target, stmt.value)
        elif type(stmt).__name__ == "AugAssign":
            if isinstance(stmt.target, syntax.Subscript):
                self.augmented_subscript(stmt)
                return
            if not isinstance(stmt.target, syntax.Name):
                self.refuse(UnsupportedSyntaxError, "this augmented assignment is not "
                            "supported", stmt, "write it as `a = a + b`")
            value = syntax.BinOp(left=syntax.load(stmt.target.id), op=stmt.op, right=stmt.value)
            self.assign_to(syntax.store(stmt.target.id), value)
        elif isinstance(stmt, syntax.Expr):
            if syntax.is_const(stmt.value):
                return  # a string or a bare constant
            self.refuse(UnsupportedSyntaxError, "a statement whose value is thrown away has "
                        "no derivative", stmt, "assign its value or remove it")
        elif type(stmt).__name__ == "Pass":
            return
        elif isinstance(stmt, syntax.If) and self.python_only(stmt.test):
            # generated code's `if in_python: name = None` (see runtime.in_python) gives names
            # some paths leave unset a value under Python only: they are names of the
            # function from its start, unset until assigned (the guard is made again)
            for s in stmt.body:
                if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name):
                    name = s.targets[0].id
                    self.versions.setdefault(name, name)
                    self.user_names.setdefault(name, name)
            return
        elif isinstance(stmt, syntax.If):
            self.if_statement(stmt)
        elif isinstance(stmt, syntax.For):
            self.for_statement(stmt)
        elif isinstance(stmt, syntax.While):
            self.while_statement(stmt)
        elif isinstance(stmt, syntax.Return):
            self.refuse(UnsupportedSyntaxError, "this `return` is not supported here", stmt,
                        "return at the end of the function")
        else:
            self.refuse(UnsupportedSyntaxError, f"`{type(stmt).__name__}` statements are not "
                        "supported", stmt, "see the docs for the supported subset")

    def python_only(self, test) -> bool:
        """``if in_python:`` in a generated module (a user's own global of that name is a
        value like any other)."""
        return isinstance(test, syntax.Name) and test.id == "in_python" and \
            test.id not in self.versions and \
            self.parsed.fn.__module__.startswith(GENERATED_MODULE_PREFIX)

    def assign_to(self, target, value):
        if isinstance(target, syntax.Name):
            if isinstance(value, (syntax.Tuple, syntax.List)):
                atoms = [self.atom(e) for e in value.elts]
                name = self.define(target.id)
                self.emit(name, syntax.tuple_(atoms))
                self.tuples[name] = atoms
                return
            op = self.operation(value)
            if isinstance(op, syntax.Name) and op.id in self.call_tuples:
                # the tuple a function returned: its elements are read where it returned
                self.versions[target.id] = op.id
                return
            name = self.define(target.id)
            self.emit(name, op)
            if (isinstance(op, syntax.Call) and syntax.to_source(op.func) in FRESH_ARRAYS) or (
                isinstance(op, (syntax.BinOp, syntax.UnaryOp))
            ) or (isinstance(op, syntax.Call) and isinstance(op.func, syntax.Name)
                  and op.func.id in self.callees and self.callees[op.func.id].fresh_result):
                self.fresh_arrays.add(name)
            if isinstance(op, syntax.Name) and op.id in self.tuples:
                self.tuples[name] = self.tuples[op.id]
                for table in (self.dicts, self.kinds):
                    if op.id in table:
                        table[name] = table[op.id]
            return
        if isinstance(target, (syntax.Tuple, syntax.List)):
            names = target.elts
            if not all(isinstance(n, syntax.Name) for n in names):
                self.refuse(UnsupportedSyntaxError, "only names can be unpacked into", target,
                            "unpack into plain names")
            if isinstance(value, (syntax.Tuple, syntax.List)):
                if len(value.elts) != len(names):
                    self.refuse(UnsupportedSyntaxError, "unpacking needs as many values as "
                                "names", target, "match the number of names and values")
                atoms = [self.atom(e) for e in value.elts]
            else:
                whole = self.atom(value)
                if isinstance(whole, syntax.Name) and whole.id in self.tuples:
                    atoms = self.tuples[whole.id]
                    if len(atoms) != len(names):
                        self.refuse(UnsupportedSyntaxError, "unpacking needs as many values "
                                    "as names", target, "match the number of names and values")
                else:
                    atoms = []
                    for i in range(len(names)):
                        sub = syntax.Subscript(value=syntax.clone(whole), slice=syntax.const(i),
                                               ctx=syntax.Load())
                        atoms.append(syntax.load(self.emit(self.namer.temp(), sub)))
            for n, a in zip(names, atoms):
                if isinstance(a, syntax.Name) and a.id in self.vjp_closures:
                    self.versions[n.id] = a.id  # a vjp function: called, never a value
                    continue
                name = self.emit(self.define(n.id), a)
                if isinstance(a, syntax.Name) and a.id in self.tuples:
                    self.tuples[name] = self.tuples[a.id]
            return
        if isinstance(target, syntax.Subscript):
            array = self.writable_array(target)
            index = self.index(target.slice)
            atom = self.atom(value)
            self.emit_store(array, index, atom)
            return
        self.refuse(UnsupportedSyntaxError, "this assignment target is not supported", target,
                    "assign to a plain name")

    # -- writes into arrays -------------------------------------------------------------
    def writable_array(self, target):
        """The canonical name of the array ``target`` writes into; refuses writes into
        arguments, globals and views (they would change the caller's data)."""
        base = target.value
        if not isinstance(base, syntax.Name):
            self.refuse(UnsupportedSyntaxError, "only a name can be indexed on the left of "
                        "`=`", target, "index the array by its own name: a[i] = ...")
        name = self.versions.get(base.id)
        if name is None or name not in self.fresh_arrays:
            what = ("an argument" if name in self.params_set else
                    "a global or closure value" if name is None else
                    "an array that may share memory with an argument (a view, an alias)")
            self.refuse(UnsupportedSyntaxError, f"writing into {base.id!r}, {what}, is not "
                        "supported: it would change the caller's data", target,
                        f"write into a copy made in the function: {base.id} = "
                        f"np.copy({base.id}), or build the array with np.zeros")
        return name

    def emit_store(self, array: str, index, atom):
        sub = syntax.Subscript(value=syntax.load(array), slice=index, ctx=syntax.Store())
        stmt = syntax.assign(sub, atom, lineno=self.lineno)
        stmt.col_offset = self.col
        self.body.append(stmt)

    def augmented_subscript(self, stmt):
        target = stmt.target
        array = self.writable_array(target)
        index = self.index(target.slice)
        old = syntax.Subscript(value=syntax.load(array), slice=syntax.clone(index),
                               ctx=syntax.Load())
        current = syntax.load(self.emit(self.namer.temp(), old))
        new = syntax.BinOp(left=current, op=stmt.op, right=self.atom(stmt.value))
        self.emit_store(array, index, syntax.load(self.emit(self.namer.temp(), new)))

    # -- control flow -------------------------------------------------------------------
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
        return stmt

    def test_atom(self, test):
        atom = self.atom(test)
        return atom

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
            if a == b:
                merged[var] = a
                continue
            if a is None or b is None:  # defined on one path only
                merged[var] = a if a is not None else b
                continue
            if a in tuples1 or b in tuples2:
                # a tuple: join it element by element, and read it so after the branch
                if a not in tuples1 or b not in tuples2 or len(tuples1[a]) != len(tuples2[b]):
                    self.refuse(UnsupportedSyntaxError, f"{var!r} is a tuple on one path "
                                "through this branch and something else (or a tuple of "
                                "another length) on the other", node,
                                "give the tuple the same length on every path, or use "
                                "variables of their own for its elements")
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
        for outer in self.loops:
            later |= set(syntax.names_loaded(outer))
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
        # read later: in the statements that follow, in this block and every enclosing one
        # (the structure decides, not line numbers: desugared loops have none of their own)
        later = {n for rest in self.rest for s in rest for n in syntax.names_loaded(s)}
        for outer in self.loops:
            later |= set(syntax.names_loaded(outer))
        return sorted(v for v in assigned if v in self.versions and (v in before or v in later))

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
        iterator = syntax.call(syntax.load("range"), args)
        assigned = self._assigned_in(node.body)
        carried = self._carried(node, assigned)
        target = self.define(node.target.id)
        self._forget_carried(carried)
        self.loops.append(node)
        body, after = self.block(node.body)
        self.loops.pop()
        self._no_carried_tuples(node, carried, after)
        self._carry_back(body, carried, after)
        for var, name in after.items():
            if var not in carried and var in assigned:
                self.versions[var] = name
        self.tuples = self._still_known(self.tuples, body)
        stmt = syntax.For(target=syntax.store(target), iter=iterator, body=body or
                          [syntax.Pass()], orelse=[], type_comment=None)
        stmt.lineno, stmt.col_offset = node.lineno, node.col_offset
        self.body.append(stmt)

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

    def result(self, value):
        atom = self.atom(value)
        tree = self.tree_of(atom)
        if tree != ["leaf"] and not self.plain_tuples(tree):
            self.result_tree = tree
        if isinstance(atom, syntax.Name) and atom.id in self.tuples:
            return syntax.tuple_(self.tuples[atom.id])
        return atom

    def tree_of(self, atom) -> list:
        """The structure of a value, in the JSON form of ``Canonical.result_tree``."""
        if not isinstance(atom, syntax.Name) or atom.id not in self.tuples:
            return ["leaf"]
        children = [self.tree_of(e) for e in self.tuples[atom.id]]
        kind = self.kinds.get(atom.id, ("tuple",))
        return [kind[0], list(kind[1:]), children]

    @staticmethod
    def plain_tuples(tree) -> bool:
        return tree[0] == "leaf" or (tree[0] == "tuple" and all(
            Normalizer.plain_tuples(t) for t in tree[2]))

    # -- expressions --------------------------------------------------------------
    def atom(self, node):
        """Normalize ``node`` to an atom, emitting statements for its operations."""
        if type(node).__name__ == "Dict":
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

    @staticmethod
    def is_atom(node) -> bool:
        if isinstance(node, (syntax.Name, syntax.Constant)):
            return True
        # module constants: np.pi, np.float32
        return isinstance(node, syntax.Attribute) and isinstance(node.value, syntax.Name) and (
            node.value.id in ("np", "math")
        ) or (isinstance(node, syntax.Attribute) and isinstance(node.value, syntax.Attribute)
              and syntax.to_source(node).startswith("np."))

    def name_atom(self, node):
        name = node.id
        if name in self.versions:
            return syntax.load(self.versions[name])
        kind, what = self.resolver.resolve_name(name)
        if kind == "value":
            return syntax.load(self.free_value(("name", name), name))
        if kind == "const":
            return syntax.parse_expr(what)
        if kind == "missing":
            self.refuse(NotDifferentiableError, f"name {name!r} is not defined", node,
                        "define it before the function is called")
        if kind in ("module", "function", "user", "other"):
            self.refuse(NotDifferentiableError, f"{name!r} is a {kind} and cannot be used as "
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
                return ("method", func.attr)
            return ("method", func.attr)
        return ("expression", None)

    def module_object(self, node):
        if isinstance(node, syntax.Name):
            return self.resolver.lookup(node.id)
        return getattr(self.module_object(node.value), node.attr)

    def operation(self, node):
        """Normalize ``node`` to one operation whose operands are atoms."""
        if isinstance(node, syntax.Constant):
            return node
        if isinstance(node, syntax.Name):
            return self.name_atom(node)
        if isinstance(node, syntax.BinOp):
            return syntax.BinOp(left=self.atom(node.left), op=node.op,
                                right=self.atom(node.right))
        if isinstance(node, syntax.UnaryOp):
            operand = self.atom(node.operand)
            kind = type(node.op).__name__
            if syntax.is_const(operand) and kind == "USub" and not isinstance(
                operand.value, (bool, str)
            ):
                return syntax.const(-operand.value)
            return syntax.UnaryOp(op=node.op, operand=operand)
        if isinstance(node, syntax.IfExp):
            return self.conditional(node.test, node.body, node.orelse)
        if isinstance(node, syntax.BoolOp):
            return self.boolean(node)
        if isinstance(node, syntax.Compare) and len(node.ops) > 1:
            left = self.atom(node.left)
            parts = []
            for op, right in zip(node.ops, node.comparators):
                right = self.atom(right)
                parts.append(syntax.Compare(left=left, ops=[op], comparators=[right]))
                left = right
            return self.boolean(syntax.BoolOp(op=syntax.parse_expr("a and b").op,
                                              values=parts))
        if isinstance(node, syntax.Compare):
            return syntax.Compare(left=self.atom(node.left), ops=node.ops,
                                  comparators=[self.atom(node.comparators[0])])
        if isinstance(node, syntax.Attribute):
            kind, what = self.resolve_callee(node)
            if kind == "const":
                return syntax.parse_expr(what)
            if kind == "value":
                return syntax.load(self.free_value(("attr", syntax.to_source(node)),
                                                   syntax.to_source(node)))
            if kind == "method" and isinstance(node.value, syntax.Name):
                base = self.versions.get(node.value.id)
                if base in self.dicts and node.attr in self.dicts[base]:  # a namedtuple field
                    return syntax.clone(self.dicts[base][node.attr])
            if kind == "method":
                if node.attr not in VALUE_ATTRIBUTES:
                    self.refuse(NotDifferentiableError, f"attribute .{node.attr} is not "
                                "supported", node, "use .T, .shape, .ndim, .size or .dtype, or "
                                "a NumPy function")
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
        if type(node).__name__ == "Dict":
            return self.dict_literal(node)
        self.refuse(UnsupportedSyntaxError, f"{type(node).__name__} expressions are not "
                    "supported", node, "see the docs for the supported subset")

    # -- transforms called in the user's code ---------------------------------------------
    def transform_made(self, node):
        """The nabla.Function ``nabla.grad(f, argnums=1)`` (an expression) makes: ``f`` a
        function of the user's (or a nabla.Function), the options constants."""
        kind, what = self.resolve_callee(node.func)
        if kind != "transform" or what in (hooks.jvp, hooks.vjp):
            self.refuse(NotDifferentiableError, f"{syntax.to_source(node.func)}(...) called "
                        "here has no derivative rule and no source nabla can read", node,
                        "call a function by its name, or a transform applied to one: "
                        "nabla.grad(f)(x)")
        if len(node.args) != 1 or not isinstance(node.args[0], (syntax.Name,
                                                                 syntax.Attribute)):
            self.refuse(UnsupportedSyntaxError, f"nabla.{what.__name__}() here needs the "
                        "function to transform as its one positional argument", node,
                        f"write nabla.{what.__name__}(f, argnums=...)")
        fkind, fn = self.resolve_callee(node.args[0])
        if fkind not in ("user", "nfunction"):
            self.refuse(NotDifferentiableError, f"nabla.{what.__name__}() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        options = {}
        for k in node.keywords:
            try:
                options[k.arg] = syntax.literal(k.value)
            except ValueError:
                self.refuse(UnsupportedSyntaxError, f"the option {k.arg}= of nabla."
                            f"{what.__name__}() here must be a constant", k.value,
                            "write the value out: argnums=(0, 1)")
        try:
            made = what(fn, **options)
        except TypeError as e:
            self.refuse(UnsupportedSyntaxError, str(e), node, "see the options in the docs")
        made._spelled = syntax.to_source(node.args[0])
        return made

    def transformed_call(self, made, node):
        """A call of a nabla.Function: a call of its generated entry function (float64
        flavour), transformed like a function of the user's and shared by every call."""
        if node.keywords:
            self.refuse(UnsupportedSyntaxError, "keyword arguments in calls to transformed "
                        "functions are not supported", node, "pass them by position")
        if made.batching is not None and made.batching["target"] == "cuda":
            self.refuse(NotDifferentiableError, "a vmap with target='cuda' runs as a kernel: "
                        "it cannot be called inside a function being transformed", node,
                        "call it outside, or use target='cpu' or 'parallel' here")
        variant = made._readable_variant(False)
        spelled = getattr(made, "_spelled", None) or syntax.to_source(node.func)
        return self.generated_call(variant, list(node.args), [], spelled, node)

    def jvp_call(self, node):
        """``nabla.jvp(f, (x, n), (v, 0))``: the tangent of a literal ``0`` marks an argument
        not differentiated (an integer); the others are differentiated."""
        if len(node.args) != 3 or not all(isinstance(a, (syntax.Tuple, syntax.List))
                                          for a in node.args[1:]):
            self.refuse(UnsupportedSyntaxError, "nabla.jvp() here needs a function and two "
                        "literal tuples: nabla.jvp(f, (x, y), (v, 0))", node,
                        "write the primals and tangents out as tuples")
        primals, tangents = node.args[1].elts, node.args[2].elts
        if len(primals) != len(tangents):
            self.refuse(UnsupportedSyntaxError, "nabla.jvp() here gets as many tangents as "
                        "primals", node, "pass one tangent per primal (0 for an integer)")
        has_aux = False
        for k in node.keywords:
            if k.arg != "has_aux":
                self.refuse(UnsupportedSyntaxError, f"nabla.jvp() has no option {k.arg}=",
                            node, "use has_aux=True or nothing")
            has_aux = bool(syntax.literal(k.value))
        fkind, fn = self.resolve_callee(node.args[0])
        if fkind not in ("user", "nfunction"):
            self.refuse(NotDifferentiableError, f"nabla.jvp() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        made = hooks.jvp_function(fn, has_aux)
        active = tuple(i for i, t in enumerate(tangents)
                       if not (syntax.is_const(t) and isinstance(t.value, int)))
        variant = made._variant(False, active)
        return self.generated_call(variant, list(primals), [tangents[i] for i in active],
                                   syntax.to_source(node.args[0]), node)

    def vjp_call(self, node):
        """``out, back = nabla.vjp(g, x, y)``: the forward sweep of g's vjp read in place;
        ``back`` stands for its backward function, called as ``back(ct)``."""
        if node.keywords or len(node.args) < 2 or any(
                type(a).__name__ == "Starred" for a in node.args):
            self.refuse(UnsupportedSyntaxError, "nabla.vjp() here needs a function and its "
                        "arguments, with no options: out, back = nabla.vjp(g, x, y)", node,
                        "pass the arguments one by one; has_aux is not supported here")
        fkind, fn = self.resolve_callee(node.args[0])
        if fkind not in ("user", "nfunction"):
            self.refuse(NotDifferentiableError, f"nabla.vjp() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        primals = node.args[1:]
        made = hooks.vjp_function(fn, False)
        variant = made._variant(False, tuple(range(len(primals))))
        functions = variant.python_functions()
        spelled = syntax.to_source(node.args[0])
        atoms = [self.atom(a) for a in primals]
        free = self.generated_free(variant, functions[variant.meta["entry"]], spelled)
        forward = self.inline(functions[variant.meta["entry"]], node, atoms + free)
        out, residuals = self.tuples[forward.id]
        closure = self.namer.fresh(f"{spelled.replace('.', '_')}_vjp_fun")
        self.vjp_closures[closure] = (functions[variant.meta["bwd"]], residuals)
        pair = self.namer.temp()
        self.tuples[pair] = [out, syntax.load(closure)]
        return syntax.load(pair)

    def vjp_fun_call(self, closure, node):
        bwd, residuals = closure
        if len(node.args) != 1 or node.keywords:
            self.refuse(UnsupportedSyntaxError, "a vjp function takes one cotangent", node,
                        "call it as back(ct)")
        elements = self.tuples[residuals.id] if isinstance(residuals, syntax.Name) else []
        callee = self.callee(bwd, node)
        self.callees[callee.spelling] = callee
        self.namer.take(callee.spelling)
        call = syntax.call(syntax.load(callee.spelling),
                           [self.atom(node.args[0])] + [syntax.clone(e) for e in elements])
        return self.shared_result(callee, call)

    def generated_free(self, variant, fn, spelled) -> list:
        """The free values a generated function takes, read as its user function reads
        them (``spelled`` is how this code names that function)."""
        return [syntax.load(self.free_value(("callee", id(fn), name), f"{spelled}/{source}",
                                            base=name))
                for name, source in zip(variant.meta["free"], variant.meta["free_sources"])]

    def generated_call(self, variant, args, tangents, spelled, node):
        fn = variant.python_functions()[variant.meta["entry"]]
        callee = self.callee(fn, node)
        n = len(variant.meta["params"])
        if len(args) != n:
            self.refuse(NotDifferentiableError, f"{spelled} takes {n} arguments, got "
                        f"{len(args)}", node, "pass every argument")
        atoms = [self.atom(a) for a in args + tangents]
        free = self.generated_free(variant, fn, spelled)
        self.callees[callee.spelling] = callee
        self.namer.take(callee.spelling)
        return self.shared_result(callee, syntax.call(syntax.load(callee.spelling),
                                                      atoms + free))

    # -- calls to the user's own functions ------------------------------------------------
    def user_call(self, fn, node):
        """A call to a function of the user's: a call of its generated function, shared by
        every call site (read in place instead when it is passed a tuple or returns nested
        tuples, which generated functions do not pass)."""
        if getattr(fn, "__module__", None) in ("nabla.runtime", "nabla.checks"):
            self.refuse(NotDifferentiableError, f"the generated code being differentiated "
                        f"calls {fn.__name__}(), which has no derivative rule yet", node,
                        "differentiate the function in one transform (e.g. hessian, or jvp "
                        "of grad instead of grad of grad)")
        self.refuse_call_form(fn, node)
        if any(isinstance(a, (syntax.Tuple, syntax.List)) or (
                isinstance(a, syntax.Name) and self.versions.get(a.id) in self.tuples)
                for a in node.args):
            return self.inline(fn, node)
        callee = self.callee(fn, node)
        if callee is None:
            return self.inline(fn, node)
        nparams = len(callee.canon.params)
        if len(node.args) != nparams:
            self.refuse(NotDifferentiableError, f"{fn.__name__}() takes {nparams} "
                        f"arguments, got {len(node.args)}", node, "pass every argument")
        args = [self.atom(a) for a in node.args]
        where = syntax.to_source(node.func)
        free = []
        for name, source in zip(callee.canon.free, callee.canon.free_sources):
            free.append(syntax.load(self.free_value(
                ("callee", id(fn), name), f"{where}/{source}", base=name)))
        self.callees[callee.spelling] = callee
        self.namer.take(callee.spelling)
        return self.shared_result(callee, syntax.call(syntax.load(callee.spelling),
                                                      args + free))

    def shared_result(self, callee, call):
        """The value of a call of a shared function: the call itself, or for a tuple, a name
        whose elements are read right there."""
        if callee.outputs is None:
            return call
        # a returned tuple is read element by element, right where it is returned
        whole = self.emit(self.namer.temp(), call)
        self.call_tuples[whole] = callee.outputs
        tree = callee.canon.result_tree
        if tree is not None and tree[0] != "tuple":  # a dict, a list, a namedtuple
            self.kinds[whole] = (tree[0],) + tuple(tree[1])
        elements = []
        for i in range(callee.outputs):
            sub = syntax.Subscript(value=syntax.load(whole), slice=syntax.const(i),
                                   ctx=syntax.Load())
            elements.append(syntax.load(self.emit(self.namer.temp(), sub)))
        self.tuples[whole] = elements
        if tree is not None and tree[0] == "dict":
            self.dicts[whole] = dict(zip(tree[1][0], elements))
        return syntax.load(whole)

    def refuse_call_form(self, fn, node):
        """What no call of a function of the user's may be: recursive, or with keywords."""
        if fn in self.stack:
            self.refuse(NotDifferentiableError, f"{fn.__name__}() calls itself (recursion), "
                        "which nabla cannot differentiate", node,
                        "write the recursion as a loop")
        if node.keywords:
            self.refuse(UnsupportedSyntaxError, f"keyword arguments in calls to "
                        f"{fn.__name__}() are not supported", node, "pass them by position")

    def callee(self, fn, node):
        """The shared Callee of ``fn`` (normalized on first use); None when its result is
        a nested tuple."""
        known = self.shared.get(id(fn))
        if known is not None:
            return known if known != "inline" else None
        parsed = parse_function(fn)
        check_signature(parsed)
        reader = Normalizer(parsed, self.shared, self.stack)
        canon = reader.run()
        result = canon.result
        if isinstance(result, syntax.Tuple) and any(
                isinstance(e, syntax.Tuple) or (isinstance(e, syntax.Name)
                                                and e.id in reader.tuples)
                for e in result.elts):
            self.shared[id(fn)] = "inline"
            return None
        taken = {c.spelling for c in self.shared.values() if isinstance(c, Callee)}
        spelling = fn.__name__
        k = 1
        while spelling in taken or spelling in reserved_names():
            k += 1
            spelling = f"{fn.__name__}_{k}"
        canon.name = spelling
        outputs = len(result.elts) if isinstance(result, syntax.Tuple) else None
        fresh = isinstance(result, syntax.Name) and result.id in reader.fresh_arrays
        callee = Callee(fn=fn, spelling=spelling, canon=canon, outputs=outputs,
                        fresh_result=fresh)
        self.shared[id(fn)] = callee
        return callee

    def inline(self, fn, node, atoms=None):
        """Normalize a call to a function of the user's by reading its source in place: its
        statements join the caller's, its names made fresh, its parameters bound to the
        call's arguments (or to ``atoms``), its free values read at every call like the
        caller's."""
        self.refuse_call_form(fn, node)
        args = list(atoms) if atoms is not None else []
        for a in node.args if atoms is None else []:
            if isinstance(a, (syntax.Tuple, syntax.List)):  # read element-wise in the callee
                elements = [self.atom(e) for e in a.elts]
                name = self.emit(self.namer.temp(), syntax.tuple_(elements))
                self.tuples[name] = elements
                args.append(syntax.load(name))
            else:
                args.append(self.atom(a))
        passed = {a.id: self.tuples[a.id] for a in args
                  if isinstance(a, syntax.Name) and a.id in self.tuples}
        callee = parse_function(fn)
        check_signature(callee)
        params = [p.id for p in callee.tree.args.args]
        if len(params) != len(args):
            self.refuse(NotDifferentiableError, f"{fn.__name__}() takes {len(params)} "
                        f"arguments, got {len(args)}", node, "pass every argument")
        self.fence(callee.tree)
        self.namer.avoid({n.id for n in syntax.walk(callee.tree) if isinstance(n, syntax.Name)})
        tree = desugar(callee.tree, self.namer, callee.where)
        saved = (self.parsed, self.resolver, self.versions, self.tuples, self.path, self.rest,
                 self.loops, self.params_set, self.lineno, self.col, len(self.body))
        call_line, call_col = self.lineno, self.col
        self.path = self.path + [syntax.to_source(node.func)]
        self.parsed, self.resolver = callee, Resolver(fn)
        self.versions, self.tuples, self.loops = {}, passed, []
        self.params_set = set(params)
        self.rest = []
        self.stack.append(fn)
        try:
            for p, a in zip(params, args):
                if isinstance(a, syntax.Name):
                    self.versions[p] = a.id
                else:
                    self.emit(self.define(p), a)
            stmts = list(tree.body)
            if stmts and isinstance(stmts[0], syntax.Expr) and syntax.is_const(stmts[0].value):
                stmts = stmts[1:]
            if not stmts or not isinstance(stmts[-1], syntax.Return) or stmts[-1].value is None:
                self.refuse(UnsupportedSyntaxError, f"{fn.__name__}() must end with a "
                            "`return` of a value", tree, "return the value")
            for i, stmt in enumerate(stmts[:-1]):
                self.lineno, self.col = stmt.lineno, getattr(stmt, "col_offset", None)
                self.rest.append(stmts[i + 1:])
                self.statement(stmt)
                self.rest.pop()
            self.lineno = stmts[-1].lineno
            value = self.result(stmts[-1].value)
        finally:
            self.stack.pop()
            inner_tuples = self.tuples
            (self.parsed, self.resolver, self.versions, self.tuples, self.path, self.rest,
             self.loops, self.params_set, self.lineno, self.col, start) = saved
        # the inlined statements speak for the call's line in comments and errors
        for stmt in self.body[start:]:
            for n in syntax.walk(stmt):
                if isinstance(n, syntax.AST) and hasattr(n, "lineno") and isinstance(
                        n, (syntax.Assign, syntax.If, syntax.For, syntax.While)):
                    n.lineno, n.col_offset = call_line, call_col
        for name, elements in inner_tuples.items():  # canonical names are unique
            self.tuples.setdefault(name, elements)
        if isinstance(value, syntax.Tuple):
            name = self.emit(self.namer.temp(), value)
            self.tuples[name] = list(value.elts)
            return syntax.load(name)
        return value

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
        is_and = type(node.op).__name__ == "And"
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
                test = syntax.load(self.emit(self.namer.temp(), syntax.UnaryOp(
                    op=syntax.parse_expr("not a").op, operand=syntax.load(result))))
            stmt = syntax.If(test=test, body=then, orelse=[])
            stmt.lineno, stmt.col_offset = self.lineno, self.col
            self.body.append(stmt)
        return syntax.load(result)

    def index(self, node):
        if isinstance(node, syntax.Slice):
            parts = {k: (None if getattr(node, k) is None else self.atom(getattr(node, k)))
                     for k in ("lower", "upper", "step")}
            return syntax.Slice(**parts)
        if isinstance(node, syntax.Tuple):
            return syntax.tuple_([self.index(e) for e in node.elts])
        return self.atom(node)

    def call(self, node):
        op = self._call(node)
        if isinstance(op, syntax.Call) and op is not node and getattr(node, "col_offset",
                                                                        None) is not None:
            op.col_offset = node.col_offset
        return op

    def _call(self, node):
        func = node.func
        for a in node.args:
            if type(a).__name__ == "Starred":
                self.refuse(UnsupportedSyntaxError, "star-arguments are not supported", a,
                            "pass the arguments one by one")
        for k in node.keywords:
            if k.arg is None:
                self.refuse(UnsupportedSyntaxError, "`**kwargs` in calls are not supported",
                            node, "pass the keyword arguments one by one")
        if isinstance(func, syntax.Call) and self.resolve_callee(func.func)[0] == "transform":
            # nabla.grad(f)(x): a transform made in place
            return self.transformed_call(self.transform_made(func), node)
        kind, what = self.resolve_callee(func)
        args = list(node.args)
        if kind == "nfunction":  # a nabla.Function of the user's module
            return self.transformed_call(what, node)
        if kind == "transform":
            if what is hooks.jvp:
                return self.jvp_call(node)
            if what is hooks.vjp:
                return self.vjp_call(node)
            self.refuse(NotDifferentiableError, f"nabla.{what.__name__}() called here "
                        "is not supported inside a function being transformed", node,
                        "call nabla.jvp(f, primals, tangents), or a transform applied to a "
                        "function: nabla.grad(f)(x)")
        if kind == "method":
            if what not in METHODS:
                self.refuse(NotDifferentiableError, f"method .{what}() has no derivative rule",
                            node, f"use one of {', '.join(sorted(METHODS))}, or a NumPy "
                            "function")
            spelling = METHODS[what]
            args = [func.value] + args
            if what == "reshape" and len(args) > 2:
                args = [args[0], syntax.tuple_(args[1:])]
            if what == "transpose" and len(args) > 2:
                args = [args[0], syntax.tuple_(args[1:])]
        elif kind == "function":
            spelling = what
        elif kind == "const" and what in rules.RULES:  # a cast: np.float32(x)
            spelling = what
        elif kind == "user":
            return self.user_call(what, node)
        elif kind == "local" and self.versions.get(what) in self.vjp_closures:
            return self.vjp_fun_call(self.vjp_closures[self.versions[what]], node)
        elif kind == "local":
            param = what in [a.id for a in self.parsed.tree.args.args]
            self.refuse(NotDifferentiableError, f"{what}() calls "
                        f"{'an argument' if param else 'a local value'}: nabla cannot see "
                        "which function that is, so it has no derivative rule and no source "
                        "to read", node,
                        "call the function directly by its module-level name (a `def` nabla "
                        "can read, or a NumPy function), or pass its result instead")
        else:
            name = syntax.to_source(func)
            hint = ("use a NumPy or math function nabla has a rule for (see the docs), or "
                    "write the computation in Python in a function of your own")
            if name in ("eval", "exec"):
                hint = "write the expression out in the function"
            elif "vectorize" in name:
                hint = "write the elementwise function with NumPy operations on arrays"
            elif "reduce" in name:
                hint = "use np.sum, np.prod or a NumPy reduction"
            self.refuse(NotDifferentiableError, f"{name}() has no derivative rule and no "
                        "source nabla can read", node, hint)
        # np.array / np.asarray get their own meaning
        if spelling in ("np.array", "np.asarray"):
            if not args:
                self.refuse(NotDifferentiableError, f"{spelling}() needs an argument", node,
                            "pass the values")
            first = args[0]
            if isinstance(first, (syntax.List, syntax.Tuple)):
                items = [self.atom(e) for e in first.elts]
                if all(syntax.is_const(i) for i in items):
                    return syntax.call(syntax.parse_expr("np.array"),
                                       [syntax.List(elts=items, ctx=syntax.Load())])
                return syntax.call(syntax.load("array_of"), [syntax.tuple_(items)])
            inner = self.atom(first)
            if spelling == "np.asarray":
                return inner
            return syntax.call(syntax.parse_expr("np.copy"), [inner])
        rule = rules.lookup(spelling)
        atoms_args = []
        for i, a in enumerate(args):
            if rule.seq is not None and i == rule.params.index(rule.seq):
                if not isinstance(a, (syntax.Tuple, syntax.List)):
                    atom = self.atom(a)
                    if isinstance(atom, syntax.Name) and atom.id in self.tuples:
                        atoms_args.append(syntax.tuple_(self.tuples[atom.id]))
                        continue
                    self.refuse(NotDifferentiableError, f"{spelling}() needs a literal tuple "
                                "or list of arrays here", a, "write the sequence out: "
                                f"{spelling}((a, b), ...)")
                atoms_args.append(syntax.tuple_([self.atom(e) for e in a.elts]))
            else:
                atoms_args.append(self.atom(a))
        kwargs = {k.arg: self.atom(k.value) for k in node.keywords}
        try:
            bound = rule.bind(atoms_args, kwargs)
        except TypeError as e:
            self.refuse(NotDifferentiableError, str(e), node,
                        f"call {spelling} with the arguments nabla supports: "
                        f"{', '.join(rule.params)}")
        lower = rules.LOWERINGS.get(spelling)
        if lower is not None:
            full = {p: bound.get(p, syntax.const(rule.defaults.get(p))) for p in rule.params}
            template = lower(full)
            if template is not None:
                expr = syntax.substitute(syntax.parse_expr(template), full)
                if syntax.to_source(expr.func if isinstance(expr, syntax.Call) else expr) \
                        == spelling:
                    self.refuse(NotDifferentiableError, f"this form of {spelling}() is not "
                                "supported", node, "see the docs for the supported arguments")
                return self.operation_of_template(expr, node)
        return self.make_call(spelling, rule, bound)

    def operation_of_template(self, expr, node):
        """Normalize an expression produced by a lowering (its names are atoms already)."""
        if isinstance(expr, syntax.Call):
            spelling = syntax.to_source(expr.func)
            rule = rules.lookup(spelling)
            if rule is None:
                raise AssertionError(f"lowering produced {spelling}, which has no rule")
            args = [a if Normalizer.is_atom(a) or isinstance(a, syntax.Tuple)
                    else self.template_atom(a, node) for a in expr.args]
            kwargs = {k.arg: (k.value if Normalizer.is_atom(k.value)
                              else self.template_atom(k.value, node)) for k in expr.keywords}
            return self.make_call(spelling, rule, rule.bind(args, kwargs))
        if isinstance(expr, syntax.Attribute):
            return syntax.Attribute(value=self.template_atom(expr.value, node), attr=expr.attr,
                                    ctx=syntax.Load())
        return expr

    def template_atom(self, expr, node):
        if Normalizer.is_atom(expr):
            return expr
        return syntax.load(self.emit(self.namer.temp(), self.operation_of_template(expr, node)))

    @staticmethod
    def make_call(spelling, rule, bound):
        # positional for the leading parameters given, keywords never needed after binding
        args = []
        for p in rule.params:
            if p in bound:
                args.append(bound[p])
            else:
                break
        rest = [(p, bound[p]) for p in rule.params[len(args):] if p in bound]
        return syntax.call(syntax.parse_expr(spelling), args, rest)

