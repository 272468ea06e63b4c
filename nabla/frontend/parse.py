"""Read a user's function: its source, its syntax tree, and where it lives.

>>> def f(x):
...     return x * x
>>> parsed = parse_function(f)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field

import gast

from ..errors import NoSourceError, UnsupportedSyntaxError


@dataclass
class ParsedFunction:
    """A user's function as nabla sees it, before any rewriting."""

    fn: object
    name: str
    filename: str
    firstlineno: int  # line of the ``def`` in ``filename`` (1-based)
    source: str  # dedented source of the def, decorators stripped
    tree: gast.FunctionDef  # line numbers are lines of ``filename``
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
    py_func = getattr(fn, "py_func", None)  # numba.njit / numba.jit dispatchers
    if py_func is not None and type(fn).__module__.startswith("numba"):
        fn = py_func
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
        return inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise NoSourceError(
            f"cannot read the source of {fn.__qualname__} ({e}); nabla needs the source text "
            "(functions typed at an interactive prompt or made by exec have none)",
            filename=filename,
            lineno=code.co_firstlineno,
            hint="define the function in a file, a script or a notebook cell",
        ) from None


def check_signature(parsed: ParsedFunction) -> None:
    """Refuse ``*args``, ``**kwargs``, keyword-only and positional-only parameters and
    defaults, at the parameter that uses them."""
    args = parsed.tree.args
    odd = args.vararg or args.kwarg or (args.kwonlyargs or [None])[0] or (
        args.posonlyargs or [None])[0]
    if odd is not None:
        node = odd if getattr(odd, "lineno", None) else parsed.tree
        raise UnsupportedSyntaxError(
            "`*args`, `**kwargs`, keyword-only and positional-only parameters are not "
            "supported", **parsed.where(node), hint="list the parameters one by one")
    if args.defaults:
        raise UnsupportedSyntaxError(
            "default parameter values are not supported", **parsed.where(args.defaults[0]),
            hint="pass every argument explicitly")


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
        module = gast.parse(source)
    except SyntaxError as e:
        raise NoSourceError(
            f"the source of {fn.__qualname__} does not parse on its own: {e.msg}",
            filename=filename,
            lineno=firstlineno,
            hint="define the function with a plain `def` statement",
        ) from None
    defs = [n for n in module.body if isinstance(n, (gast.FunctionDef, gast.AsyncFunctionDef))]
    if len(defs) != 1 or len(module.body) != 1:
        raise NoSourceError(
            f"the source of {fn.__qualname__} is not a single `def`",
            filename=filename,
            lineno=firstlineno,
            hint="define the function with a plain `def` statement",
        )
    tree = defs[0]
    gast.increment_lineno(module, firstlineno - 1)
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
    if isinstance(tree, gast.AsyncFunctionDef):
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
    return parsed
