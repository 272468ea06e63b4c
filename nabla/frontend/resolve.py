"""Resolve the free names of a user's function as Python would.

Modules and functions are resolved once, when the function is transformed;
numbers and arrays held in globals or closure cells are *values*: they
become parameters of the generated code and are read again at every call.

>>> import numpy as xp
>>> def f(x):
...     return xp.sin(x) * W
>>> W = 2.0
>>> r = Resolver(f)
>>> r.resolve_name("xp")
('module', 'np')
>>> r.resolve_name("W")
('value', 2.0)
"""

from __future__ import annotations

import builtins
import hashlib
import math
import textwrap
import types
from dataclasses import dataclass, field

import numpy as np

from .. import custom, hooks, rules, syntax
from ..errors import NablaError, StaleSourceError
from .parse import bound_object, source_lines

# Modules generated code may name, and how it spells them.
MODULE_SPELLINGS = {id(np): "np", id(math): "math", id(np.linalg): "np.linalg",
                    id(np.random): "np.random"}

_MISSING = object()


def is_value(obj) -> bool:
    """A number or an array: read at every call, passed to generated code."""
    if isinstance(obj, bool):
        return True
    if isinstance(obj, (int, float, complex, np.number, np.bool_, np.ndarray)):
        return True
    return hasattr(obj, "__array__") and not isinstance(obj, type)


class Resolver:
    def __init__(self, fn):
        self.fn = fn
        code = fn.__code__
        self.globals = fn.__globals__
        self.closure = {}
        self.closure.update(bound_object(fn))  # a bound method's object, as a closure's
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                pass

    def lookup(self, name: str):
        """The object ``name`` means in the function, as Python finds it, or _MISSING."""
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name, _MISSING)

    def where(self, name: str) -> str:
        if name in self.closure:
            return "closure"
        if name in self.globals:
            return "global"
        return "builtin"

    def classify(self, obj):
        """('module', spelling) | ('function', spelling) | ('value', obj) | ('const', spelling)
        | ('user', fn) | ('other', obj)."""
        if isinstance(obj, types.ModuleType):
            return ("module", MODULE_SPELLINGS.get(id(obj)))
        if any(obj is t for t in hooks.TRANSFORMS):  # called in the user's code
            return ("transform", obj)
        if hooks.function_type is not None and isinstance(obj, hooks.function_type):
            return ("nfunction", obj)
        spelling = rules.spelling_of(obj)
        if spelling is not None:
            return ("function", spelling)
        if isinstance(obj, type) and issubclass(obj, np.generic):
            return ("const", f"np.{obj.__name__}")
        if is_value(obj):
            return ("value", obj)
        if custom.is_maker(obj):  # nabla.checkpoint(h)(x) in the user's code
            return ("maker", obj)
        if isinstance(obj, types.FunctionType):
            return ("user", obj)
        if custom.is_custom(obj):  # custom_jvp, custom_vjp, checkpoint
            return ("custom", obj)
        if custom.is_opaque(obj):  # compiled code (@njit, ctypes): called, never read
            return ("opaque", obj)
        return ("other", obj)

    def resolve_name(self, name: str):
        obj = self.lookup(name)
        if obj is _MISSING:
            return ("missing", None)
        return self.classify(obj)

    def resolve_attribute(self, module, attr: str):
        """Resolve ``module.attr`` where ``module`` is a module object."""
        obj = getattr(module, attr, _MISSING)
        if obj is _MISSING:
            return ("missing", None)
        kind, what = self.classify(obj)
        if kind == "value" and MODULE_SPELLINGS.get(id(module)) and isinstance(
            obj, (int, float)
        ):
            # np.pi, math.e, np.inf: spelled as written, never passed in
            return ("const", f"{MODULE_SPELLINGS[id(module)]}.{attr}")
        return kind, what


@dataclass(frozen=True, eq=False)
class Binding:
    """A name the transform resolved to a function: where it is looked up (a globals or
    module dict, or a closure cell) and the object it meant then."""

    where: object
    name: str
    obj: object

    def holds(self) -> bool:
        """Whether the name still means the same object."""
        if isinstance(self.where, dict):
            return self.where.get(self.name, _MISSING) is self.obj
        try:
            return self.where.cell_contents is self.obj
        except ValueError:  # the cell was emptied
            return False


@dataclass
class Reach:
    """Everything a function's code can reach by name: ``described`` for cache keys
    (values by kind only, since they are read at every call; the user's functions by
    their source, recursively), ``bindings`` for telling, later in the same process,
    whether a name now means another function (a helper defined again in a notebook)."""

    described: list = field(default_factory=list)
    bindings: list = field(default_factory=list)


def reach(fn) -> Reach:
    """What the free names of ``fn`` and of the user's functions it calls mean, at any
    depth of module attributes (``pkg.mod.h``)."""
    out = Reach()
    _reach(fn, out, set())
    return out


def describe_free_names(fn) -> list:
    """A deterministic summary of what the free names of ``fn`` mean, for cache keys."""
    return reach(fn).described


def _describe(resolver, obj, kind, what) -> str:
    if kind == "value":
        return "value"
    if kind == "module":
        return f"module:{getattr(obj, '__name__', '?')}"
    if kind in ("function", "const"):
        return f"{kind}:{what}"
    return f"{kind}:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


def _source_text(fn) -> str:
    """The source of ``fn`` (checked against its code: a stale file is refused), or ""
    where it has none (nabla refuses such a function where it is called)."""
    try:
        return "".join(source_lines(fn)[0])
    except StaleSourceError:
        raise
    except NablaError:
        return ""


def _free_names(fn, text: str) -> tuple[set, list]:
    """(free names, attribute chains rooted at one) that ``fn``'s source reads."""
    code = fn.__code__
    local = set(code.co_varnames) | set(code.co_cellvars)
    names = (set(code.co_names) | set(code.co_freevars)) - local
    chains: list = []
    try:
        tree = syntax.parse_module(textwrap.dedent(text)) if text else None
    except SyntaxError:
        tree = None
    if tree is None:
        return names, chains
    for node in syntax.walk(tree):
        if not isinstance(node, syntax.Attribute):
            continue
        parts = []
        while isinstance(node, syntax.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, syntax.Name) and node.id in names:
            chains.append((node.id, *reversed(parts)))
    return names, sorted(set(chains))


def _reach(fn, out: Reach, seen: set) -> None:
    seen.add(fn)
    resolver = Resolver(fn)
    names, chains = _free_names(fn, _source_text(fn))

    def user_function(obj, kind):
        """The user's function behind ``obj`` (a transformed one's too), or None."""
        if kind == "nfunction":
            return obj._plain()
        return obj if kind == "user" else None

    def visit(dotted, obj, bindings):
        kind, what = resolver.classify(obj)
        desc = _describe(resolver, obj, kind, what)
        if kind == "nfunction":  # a transformed function: its chain and its user function
            desc += repr(obj._chain())
        if kind == "custom":  # its functions, each by its source; rebinding a rule
            for role, rule_fn in custom.rule_functions(obj).items():  # is watched too
                visit(f"{dotted}.{role}", rule_fn, [Binding(vars(obj), role, rule_fn)])
            desc += repr(obj.nondiff_argnums)
        inner = user_function(obj, kind)
        # watched: the user's functions, and functions bound to a plain name of the user's
        # (``sin = np.sin``); not modules' own attributes (``np.sin``), nor values (read at
        # every call anyway)
        if inner is not None or (kind in ("function", "const") and "." not in dotted):
            out.bindings.extend(bindings)
        if inner is not None and inner not in seen:
            desc += ":" + hashlib.sha256(_source_text(inner).encode()).hexdigest()[:16]
            sub = Reach()
            _reach(inner, sub, seen)
            desc += repr(sub.described)
            out.bindings.extend(sub.bindings)
        out.described.append((dotted, desc))

    for name in sorted(names):
        obj = resolver.lookup(name)
        if obj is _MISSING:
            continue
        where = {"closure": None, "global": fn.__globals__, "builtin": None}[resolver.where(name)]
        if name in resolver.closure:
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            where = cells.get(name)
        own = [Binding(where, name, obj)] if where is not None else []
        visit(name, obj, own)
    for chain in chains:
        obj = resolver.lookup(chain[0])
        path = [chain[0]]
        for attr in chain[1:]:
            if not isinstance(obj, types.ModuleType):
                break
            sub = getattr(obj, attr, _MISSING)
            if sub is _MISSING:
                break
            path.append(attr)
            # a module attribute that is a function of the user's: through every module on
            # the way (pkg.mod.h), rebinding any of them changes what the code calls
            steps = [Binding(vars(obj), attr, sub)]
            visit(".".join(path), sub, steps)
            obj = sub
