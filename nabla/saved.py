"""``nabla.saved``: what reverse mode keeps for the adjoint sweep of one call — each
residual with the line of the user's code it comes from, its shape, dtype and bytes,
and the total (JAX's ``print_saved_residuals``, with lines and totals).

>>> import numpy as np
>>> def f(x, w):
...     h = np.tanh(x * w)
...     return np.sum(np.exp(h))
>>> print(saved(f, np.ones(3), np.ones(3)))  # doctest: +ELLIPSIS
what reverse mode keeps for f (x, w): 4 values, 96 bytes
line  kept  shape  dtype    bytes  from
   2  h     (3,)   float64     24  h = np.tanh(x * w)
   3  t2    (3,)   float64     24  return np.sum(np.exp(h))
   1  w     (3,)   float64     24  (argument)
   1  x     (3,)   float64     24  (argument)
(lines of <doctest ...>)

A loop's tape is one residual (its steps times its value), so ``checkpoint`` and
``nabla.checkpointed_range`` show here as smaller totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import arguments, pytree, running, syntax
from .errors import TransformInputError
from .frontend.parse import source_lines
from .function import Function

__all__ = ["saved", "Saved", "Residual"]


@dataclass
class Residual:
    """One value reverse mode keeps: its name in the generated code, the user's line it
    comes from and that line's text (the ``def`` line and ``(argument)`` for an
    argument), and its size."""

    name: str
    line: int
    source: str
    shape: tuple
    dtype: str
    nbytes: int


@dataclass
class Saved:
    """The residuals of one call, in the order of the user's lines; ``total`` bytes."""

    function: str
    params: list
    filename: str
    residuals: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.nbytes for r in self.residuals)

    def __str__(self) -> str:
        rows = [("line", "kept", "shape", "dtype", "bytes", "from")]
        for r in self.residuals:
            rows.append((str(r.line), r.name, str(r.shape), r.dtype, str(r.nbytes), r.source))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        right = (True, False, False, False, True)
        lines = [f"what reverse mode keeps for {self.function} ({', '.join(self.params)}): "
                 f"{len(self.residuals)} values, {_bytes(self.total)}"]
        for row in rows:
            cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)]
            lines.append("  ".join(cells + [row[5]]).rstrip())
        lines.append(f"(lines of {self.filename})")
        return "\n".join(lines)

    __repr__ = __str__


def saved(fun, *args, argnums=None) -> Saved:
    """What reverse mode keeps for the adjoint sweep of ``fun(*args)``, differentiating the
    arguments ``argnums`` (an int or a tuple; all float arguments by default, and every
    leaf where an argument is a tuple, a list or a dict): the residuals of
    ``nabla.vjp(fun, *args)``'s forward sweep, measured on this call."""
    f = Function(fun, "vjp")
    if any(pytree.is_container(a) for a in args):  # one argument per leaf, as nabla.vjp
        parts = [pytree.flatten(a) for a in args]
        f = f._flat_version(tuple(t for _, t in parts))
        args = tuple(leaf for part, _ in parts for leaf in part)
        argnums = None
    float32, active, _, _, _ = arguments.check(f, args)
    if argnums is not None:
        wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        for i in wanted:
            if i not in active:
                raise TransformInputError(
                    f"saved: argument {i} of {f.__name__} is not a float argument",
                    **f._where(), hint="name float arguments in argnums")
        active = tuple(sorted(wanted))
    variant = f._variant(float32, active)
    readers = running.free_readers(f, variant.meta)
    result = running.call(f, variant, readers, variant.meta.entry, tuple(args))
    values = result[-1]
    names = variant.meta.residuals
    lines = _assigned_lines(variant)
    fn = f._plain()
    code = fn.__code__
    params = list(code.co_varnames[:code.co_argcount])
    lines_of_fn, first = source_lines(fn)  # read when transformed: the same text
    source = {first + i: text for i, text in enumerate(lines_of_fn)}
    out = Saved(function=f.__name__, params=params, filename=code.co_filename)
    for name, value in zip(names, values):
        if name in variant.meta.params or name in variant.meta.free:
            line = first
            text = "(argument)" if name in variant.meta.params else "(free value)"
        else:
            line = lines.get(name, 0)
            text = source.get(line, "").strip() or "(generated)"
        array = np.asarray(value) if value is not None else np.zeros(0)
        out.residuals.append(Residual(
            name=name, line=line, source=text, shape=tuple(np.shape(value)),
            dtype=str(array.dtype), nbytes=int(array.nbytes) if array.dtype != object else 0))
    out.residuals.sort(key=lambda r: (r.source in ("(argument)", "(free value)"), r.line,
                                      r.name))
    return out


def _assigned_lines(variant) -> dict:
    """name -> the user's line of the first statement of the forward function assigning it."""
    tree = syntax.parse_module(variant.text)
    entry = next(n for n in tree.body if isinstance(n, syntax.FunctionDef)
                 and n.name == variant.meta.entry)
    out = {}
    for stmt in syntax.walk_statements(entry.body):
        for target in syntax.names_stored(stmt.targets[0]) if isinstance(
                stmt, syntax.Assign) else []:
            if target not in out and stmt.lineno in variant.line_map:
                out[target] = variant.line_map[stmt.lineno]
    return out


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"
