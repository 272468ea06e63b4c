"""Read a user's function: its source, its syntax tree, and where it lives.

The tree's line numbers are those of the function's file (here the doctest's), and
``where`` locates a node for an error message:

>>> from nabla import syntax
>>> def f(x, y):
...     z = x * y  # the product
...     return z + 1.0
>>> parsed = parse_function(f)
>>> print(syntax.to_source(parsed.tree))
def f(x, y):
    z = x * y
    return z + 1.0
>>> z = parsed.tree.body[0]
>>> parsed.where(z)["lineno"], parsed.where(z)["line"]
(2, '    z = x * y  # the product')
"""

from __future__ import annotations
import __future__

import dis
import functools
import importlib.machinery
import inspect
import operator
import sys
import textwrap
import types
from dataclasses import dataclass, field

from .. import custom, syntax
from ..errors import NoSourceError, StaleSourceError, UnsupportedSyntaxError


@dataclass
class ParsedFunction:
    """A user's function as nabla sees it, before any rewriting."""

    fn: object
    name: str
    filename: str
    firstlineno: int  # line of the ``def`` in ``filename`` (1-based)
    source: str  # dedented source of the def, decorators stripped
    tree: syntax.FunctionDef  # line numbers are lines of ``filename``
    col_offset: int  # columns removed by dedenting
    lines: dict[int, str] = field(default_factory=dict)  # file line -> text

    def line(self, lineno: int | None) -> str:
        return self.lines.get(lineno, "") if lineno else ""

    def where(self, node) -> dict:
        """Keyword arguments locating ``node`` for a NablaError."""
        lineno = getattr(node, "lineno", None) or self.firstlineno
        col = getattr(node, "col_offset", None)
        if col is not None:
            col += self.col_offset
        return dict(
            filename=self.filename,
            lineno=lineno,
            col=col,
            line=self.lines.get(lineno, "").rstrip() or None,
        )


def unwrap(fn):
    """The plain Python function behind ``fn`` (Numba dispatchers give theirs),
    refusing wrappers that are not the function their source defines."""
    if custom.is_custom(fn):  # custom_jvp, custom_vjp, checkpoint: the function it wraps
        fn = fn.rule_fun
    py_func = getattr(fn, "py_func", None)  # numba.njit / numba.jit dispatchers
    if py_func is not None and type(fn).__module__.startswith("numba"):
        fn = py_func
    if is_bound_method(fn):  # its first parameter is its object (see parse_function)
        return fn
    if not inspect.isfunction(fn):
        what = type(fn).__name__
        raise NoSourceError(
            f"cannot read the source of {fn!r} (a {what}): nabla transforms Python functions "
            "written with `def`",
            hint="wrap the call in a `def` of your own, or use a NumPy function nabla has a rule "
            "for",
        )
    if hasattr(fn, "__wrapped__"):
        raise NoSourceError(
            f"{fn.__qualname__} is a wrapper (it has __wrapped__): nabla differentiates the "
            "function whose source it reads, and a wrapper's behaviour is not in that source",
            filename=fn.__code__.co_filename,
            lineno=fn.__code__.co_firstlineno,
            hint="apply nabla to the undecorated function",
        )
    return fn


def is_bound_method(fn) -> bool:
    """``model.loss``: a function written with ``def`` bound to an object (its first
    parameter), which nabla reads like a closure over that object."""
    return inspect.ismethod(fn) and inspect.isfunction(fn.__func__) and \
        not hasattr(fn.__func__, "__wrapped__")


def bound_object(fn) -> dict:
    """{name of the first parameter: the object} for a bound method, else {}."""
    if not is_bound_method(fn):
        return {}
    return {fn.__code__.co_varnames[0]: fn.__self__}


def source_lines(fn) -> tuple[list[str], int]:
    """``inspect.getsourcelines(fn)`` for a plain function, refusing lambdas and
    functions without readable source with a NoSourceError."""
    code = fn.__code__
    filename = code.co_filename
    if fn.__name__ == "<lambda>":
        raise NoSourceError(
            "lambdas are not transformed: their source cannot be told apart from the line "
            "around them",
            filename=filename,
            lineno=code.co_firstlineno,
            hint="write the function with `def`",
        )
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise NoSourceError(
            f"cannot read the source of {fn.__qualname__} ({e}); nabla needs the source text "
            "(functions typed at an interactive prompt or made by exec have none)",
            filename=filename,
            lineno=code.co_firstlineno,
            hint="define the function in a file, a script or a notebook cell",
        ) from None
    if source_matches(fn, "".join(lines)) is False:
        raise StaleSourceError(
            f"the source of {fn.__qualname__} in {filename} changed since it was imported: "
            "the function runs the code it was imported with, and nabla would differentiate "
            "the new text",
            filename=filename,
            lineno=first,
            hint="reload the module (importlib.reload) or restart the interpreter, then "
            "transform the function again",
        )
    return lines, first


# compile() flags that the __future__ imports of a function's module set in its code
_FUTURE_FLAGS = functools.reduce(
    operator.or_, (getattr(__future__, f).compiler_flag for f in __future__.all_feature_names), 0)


def source_matches(fn, text: str) -> bool | None:
    """Whether ``text`` (the source of ``fn``'s ``def``) compiles to the code ``fn`` runs:
    False when a file was edited after the function was imported; None where it cannot be
    told (the text does not compile on its own)."""
    code = fn.__code__
    if not _compiled_from_its_file(fn):
        return None
    src = textwrap.dedent(text)
    if code.co_freevars:
        # a closure: compiled inside a function binding its free names, so that they are
        # read as they are in the original (from cells, not as globals)
        binds = "".join(f"    {n} = None\n" for n in code.co_freevars)
        src = f"def __nabla_outer__():\n{binds}" + textwrap.indent(src, "    ")
    try:
        module = compile(src, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                         dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    found = _find_code(module, code.co_name)
    if found is None:
        return None
    return _same_code(found, code)


def _compiled_from_its_file(fn) -> bool:
    """Whether ``fn``'s module was compiled from its file as written: imported by Python's
    own loader (an import hook such as pytest's rewrites asserts: its code differs from the
    text), from a real file (a notebook cell's text cannot change)."""
    filename = fn.__code__.co_filename
    if filename.startswith("<"):
        return False
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    loader = getattr(module, "__loader__", None)
    return type(loader) is importlib.machinery.SourceFileLoader


def _find_code(code, name: str):
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            if c.co_name == name:
                return c
            inner = _find_code(c, name)
            if inner is not None:
                return inner
    return None


def _same_code(a, b) -> bool:
    """The same instructions, names and constants (line numbers and positions aside; a
    module's attribute called as ``np.sin(x)`` compiles to a method load or an attribute
    load depending on whether the module's own imports are in view: the same here)."""
    # a method of a class compiled on its own does not mangle its private names (__x, which
    # the class's body makes _Class__x); a plain name like _h2__h1_t1 is no mangled one
    parts = getattr(b, "co_qualname", b.co_name).split(".")
    classes = [p for i, p in enumerate(parts[:-1]) if parts[i + 1] != "<locals>"]
    prefixes = ["_" + c.lstrip("_") + "__" for c in classes if c.strip("_")]
    mangled = {n: "__" + n[len(pre):] for n in b.co_names + b.co_varnames
               for pre in prefixes if n.startswith(pre)}
    if tuple(mangled.get(n, n) for n in b.co_names) != a.co_names or (
            a.co_varnames, a.co_freevars, a.co_cellvars, a.co_argcount,
            a.co_kwonlyargcount, a.co_posonlyargcount) != (
            tuple(mangled.get(n, n) for n in b.co_varnames), b.co_freevars, b.co_cellvars,
            b.co_argcount, b.co_kwonlyargcount, b.co_posonlyargcount):
        return False
    if a.co_code != b.co_code and _instructions(a, {}) != _instructions(b, mangled):
        return False
    consts_a = [c for c in a.co_consts if isinstance(c, types.CodeType)]
    consts_b = [c for c in b.co_consts if isinstance(c, types.CodeType)]
    return len(consts_a) == len(consts_b) and all(
        _same_code(x, y) for x, y in zip(consts_a, consts_b))


_SAME_OP = {"LOAD_METHOD": "LOAD_ATTR"}
# (the NULL an attribute call pushes where a method call does not)
_DROPPED_OPS = {"PUSH_NULL", "EXTENDED_ARG"}


def _instructions(code, mangled: dict) -> list:
    """(operation, argument) of each instruction; a jump's argument is the index of the
    instruction it goes to, a constant's its type and repr (nan equals nan); ``mangled``:
    private names as a class body mangles them (``_C__x``) -> as written (``__x``)."""
    ins = [i for i in dis.get_instructions(code) if i.opname not in _DROPPED_OPS]
    index = {i.offset: k for k, i in enumerate(ins)}
    out = []
    for i in ins:
        if i.opcode in dis.hasjrel or i.opcode in dis.hasjabs:
            target = min((o for o in index if o >= i.argval), default=None)
            arg = ("jump", index.get(target))
        elif isinstance(i.argval, types.CodeType):
            arg = ("code", i.argval.co_name)
        elif isinstance(i.argval, frozenset):  # its repr's order changes with the hash seed
            arg = ("frozenset", sorted(repr(v) for v in i.argval))
        elif isinstance(i.argval, str) and i.argval in mangled:
            arg = ("str", repr(mangled[i.argval]))
        else:
            arg = (type(i.argval).__name__, repr(i.argval))
        out.append((_SAME_OP.get(i.opname, i.opname), arg))
    return out


def check_signature(parsed: ParsedFunction) -> None:
    """Refuse ``*args``, ``**kwargs``, keyword-only and positional-only parameters, at the
    parameter that uses them (default values are bound where the function is called)."""
    args = parsed.tree.args
    odd = args.vararg or args.kwarg or (args.kwonlyargs or [None])[0] or (
        args.posonlyargs or [None])[0]
    if odd is not None:
        node = odd if getattr(odd, "lineno", None) else parsed.tree
        raise UnsupportedSyntaxError(
            "`*args`, `**kwargs`, keyword-only and positional-only parameters are not "
            "supported", **parsed.where(node), hint="list the parameters one by one")


def parse_function(fn) -> ParsedFunction:
    fn = unwrap(fn)
    code = fn.__code__
    filename = code.co_filename
    raw_lines, firstlineno = source_lines(fn)
    raw = "".join(raw_lines)
    source = textwrap.dedent(raw)
    first = raw_lines[0]
    col_offset = len(first) - len(first.lstrip()) if source != raw else 0
    try:
        module = syntax.parse_module(source)
    except SyntaxError as e:
        raise NoSourceError(
            f"the source of {fn.__qualname__} does not parse on its own: {e.msg}",
            filename=filename,
            lineno=firstlineno,
            hint="define the function with a plain `def` statement",
        ) from None
    defs = [n for n in module.body if isinstance(n, (syntax.FunctionDef, syntax.AsyncFunctionDef))]
    if len(defs) != 1 or len(module.body) != 1:
        raise NoSourceError(
            f"the source of {fn.__qualname__} is not a single `def`",
            filename=filename,
            lineno=firstlineno,
            hint="define the function with a plain `def` statement",
        )
    tree = defs[0]
    syntax.increment_lineno(module, firstlineno - 1)
    lines = {firstlineno + i: text.rstrip("\n") for i, text in enumerate(raw_lines)}
    parsed = ParsedFunction(
        fn=fn,
        name=fn.__name__,
        filename=filename,
        firstlineno=firstlineno,
        source=source,
        tree=tree,
        col_offset=col_offset,
        lines=lines,
    )
    if isinstance(tree, syntax.AsyncFunctionDef):
        raise UnsupportedSyntaxError(
            "async functions are not differentiable",
            **parsed.where(tree),
            hint="write a plain `def`",
        )
    if tree.name != code.co_name:
        raise NoSourceError(
            f"the source found for {fn.__qualname__} defines {tree.name!r}: the function is "
            "a wrapper or was renamed",
            **parsed.where(tree),
            hint="apply nabla to the function its source defines",
        )
    tree.decorator_list = []
    if is_bound_method(fn):  # the object is bound: the parameters are the others
        tree.args.args = tree.args.args[1:]
    return parsed
