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
import math
import types

import numpy as np

from .. import rules

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
        from .. import api  # the transforms themselves, called in the user's code

        if any(obj is t for t in api.TRANSFORMS):
            return ("transform", obj)
        if isinstance(obj, api.Function):
            return ("nfunction", obj)
        spelling = rules.spelling_of(obj)
        if spelling is not None:
            return ("function", spelling)
        if isinstance(obj, type) and issubclass(obj, np.generic):
            return ("const", f"np.{obj.__name__}")
        if is_value(obj):
            return ("value", obj)
        if isinstance(obj, types.FunctionType):
            return ("user", obj)
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


def describe_free_names(fn, _seen=None) -> list[tuple[str, str]]:
    """A deterministic summary of what the free names of ``fn`` mean, for cache keys:
    values are summarised by kind only (they are read at every call); the user's own
    functions it calls by their source, recursively."""
    import hashlib
    import inspect

    _seen = set() if _seen is None else _seen
    _seen.add(fn)
    code = fn.__code__
    resolver = Resolver(fn)
    out = []
    for name in sorted(set(code.co_names) | set(code.co_freevars)):
        obj = resolver.lookup(name)
        if obj is _MISSING:
            continue
        kind, what = resolver.classify(obj)
        if kind == "value":
            desc = "value"
        elif kind == "module":
            desc = f"module:{getattr(obj, '__name__', '?')}"
        elif kind in ("function", "const"):
            desc = f"{kind}:{what}"
        else:
            desc = f"{kind}:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        if kind == "nfunction":  # a transformed function: its user function's source
            desc += repr(obj._chain())
            kind, obj = "user", obj._plain()
        if kind == "user" and obj not in _seen:
            try:
                text = inspect.getsource(obj)
            except (OSError, TypeError):
                text = ""
            desc += ":" + hashlib.sha256(text.encode()).hexdigest()[:16]
            desc += repr(describe_free_names(obj, _seen))
        out.append((name, desc))
    # functions of the user's reached as attributes of modules (``mymodule.h``)
    modules = [obj for name in sorted(set(code.co_names) | set(code.co_freevars))
               if inspect.ismodule(obj := resolver.lookup(name))]
    for name in sorted(set(code.co_names)):
        for module in modules:
            obj = getattr(module, name, None)
            if obj is None or inspect.ismodule(obj) or resolver.classify(obj)[0] != "user" \
                    or obj in _seen:
                continue
            try:
                text = inspect.getsource(obj)
            except (OSError, TypeError):
                text = ""
            desc = f"user:{module.__name__}.{name}:" + hashlib.sha256(
                text.encode()).hexdigest()[:16] + repr(describe_free_names(obj, _seen))
            out.append((f"{module.__name__}.{name}", desc))
    return out
