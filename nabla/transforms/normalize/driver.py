"""The driver: ``normalize()``, and the ``Normalizer`` that holds one normalization's
state and reads a function: its parameters, its statements in order, its result.

Before anything is rewritten, the syntax fence refuses what nabla never
differentiates, the signature is checked, and ``control.desugar`` leaves structured
control flow only. A parameter named like something generated code imports gets a
fresh name, a docstring goes, and the result becomes an atom:

>>> from nabla.transforms.normalize import normalize
>>> def f(np, x):
...     "Scaled."
...     return np * x
>>> print(normalize(f).to_source())
def f(np_1, x):
    t1 = np_1 * x
    return t1
"""

from __future__ import annotations

from ... import syntax
from ...errors import UnsupportedSyntaxError
from ...frontend.fence import fence
from ...frontend.parse import ParsedFunction, check_signature, parse_function
from ...frontend.resolve import Resolver
from ...names import Namer, reserved_names
from ..control import desugar
from .callees import Callees
from .calls import Calls
from .expressions import Expressions
from .flow import Flow
from .nested import Nested
from .records import Canonical
from .statements import Statements
from .trees import Trees


def normalize(fn, trees: tuple | None = None) -> Canonical:
    """``trees``: the pytree structure of each argument (see ``nabla.pytree``); a container
    argument becomes one parameter per leaf, its elements read statically."""
    parsed = parse_function(fn)
    return Normalizer(parsed, trees=trees).run()


class Normalizer(Statements, Flow, Expressions, Calls, Callees, Nested, Trees):
    """The state of one normalization (the fields ``__init__`` sets, and those ``run``
    sets: ``namer``, ``rest``, ``loops``, ``params_set``), and the driver; its other
    methods come from the mixins it is made of, one module each. A function of the
    user's that is called is read by a Normalizer of its own (``Callees.callee``),
    which shares ``shared`` and ``stack`` with this one."""

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
        # spelling of a custom function's callee -> {role: its rule function's free values}
        self.rule_free: dict = {}
        # ids of the custom functions whose rules are being read (shared, as ``shared`` is)
        self.reading_rules: set = self.shared.setdefault("reading rules", set())
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
        # canonical names whose values may share memory (an alias, a view, a call's result
        # that may be its argument): a union-find forest, each name's parent
        self.aliases: dict[str, str] = {}
        # a function of the user's called by the one transformed (its caller may read the
        # arrays it was given), and the canonical values of its parameters on entry
        self.is_callee = stack is not None
        self.param_values: list[str] = []
        # a generated module's names unset until assigned (``if in_python: t2 = None``)
        self.unset_names: set[str] = set()
        self.path: list[str] = []  # how the function being read is reached from the top one
        # functions being read, for refusing recursion
        self.stack: list = [parsed.fn] if stack is None else stack + [parsed.fn]
        self.block_tuples: dict = {}
        self.result_tree = None
        self.leaf_names: dict[str, list] = {}  # pytree argument -> its leaf parameters
        self.argument_tuples: set[str] = set()  # the containers the caller passed

    def refuse(self, cls, message, node, hint):
        raise cls(message, **self.parsed.where(node), hint=hint)

    def run(self) -> Canonical:
        """The function in canonical form: fenced, desugared, then read parameter by
        parameter and statement by statement up to its ``return``."""
        tree = self.parsed.tree
        fence(tree, self.parsed.where)
        taken = set(reserved_names())
        all_names = {n.id for n in syntax.walk(tree) if isinstance(n, syntax.Name)}
        self.namer = Namer(taken | all_names)
        check_signature(self.parsed)
        tree = desugar(tree, self.namer, self.parsed.where)
        self.rest: list = []  # the statements still to come, per enclosing block
        self.loops: list = []
        self.params_set = {p.id for p in tree.args.args}
        params = self.parameters(tree)
        self.param_values = list(params)
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
        # a function named like a helper generated code imports (log_base) gets a name of
        # its own there
        name = self.parsed.name
        if name in reserved_names():
            name = self.namer.fresh(name)
        return Canonical(
            name=name, params=params, free=self.free,
            free_sources=self.free_sources, body=self.body, result=result,
            result_lineno=result_lineno, parsed=self.parsed, namer=self.namer,
            user_names=self.user_names, callees=self.callees, call_tuples=self.call_tuples,
            result_tree=self.result_tree, rule_free=self.rule_free,
        )

    def parameters(self, tree) -> list[str]:
        """The canonical names of the parameters of ``tree`` (a FunctionDef): the user's
        names (made fresh where generated code imports the name), a container argument's
        leaves one parameter each, and the container defined over them."""
        args = tree.args
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
        return params
