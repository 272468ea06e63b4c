"""Errors nabla raises: each names the place in the user's source, shows it,
and says what to do instead.

>>> err = UnsupportedSyntaxError("`try` is not supported", filename="f.py",
...     lineno=3, col=4, line="    try:", hint="move the try outside the function")
>>> print(err)
f.py:3:5: `try` is not supported
        try:
        ^
    hint: move the try outside the function
"""

from __future__ import annotations

import linecache


class NablaWarning(UserWarning):
    """Something nabla worked around (a fallback to Python, a cache it skipped)."""


class NablaError(Exception):
    """Base of every error nabla raises about the user's code or arguments.

    Carries ``filename``, ``lineno`` (1-based), ``col`` (0-based, as in ``ast``)
    and ``hint`` when it has a place; the message shows ``file:line:col`` with a
    1-based column, the line itself and the hint.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        lineno: int | None = None,
        col: int | None = None,
        line: str | None = None,
        hint: str | None = None,
    ):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.hint = hint
        if line is None and filename and lineno:
            line = linecache.getline(filename, lineno).rstrip("\n") or None
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.filename is not None:
            where = f"{self.filename}:{self.lineno or '?'}"
            if self.col is not None:
                where += f":{self.col + 1}"
            parts.append(f"{where}: {self.message}")
        else:
            parts.append(self.message)
        if self.line:
            parts.append("    " + self.line)
            if self.col is not None:
                parts.append("    " + " " * self.col + "^")
        if self.hint:
            parts.append(f"    hint: {self.hint}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self._render()


class UnsupportedSyntaxError(NablaError, SyntaxError):
    """Syntax nabla does not transform (``try``, ``with``, ``yield``, ...)."""

    def __init__(self, message: str, **kw):
        NablaError.__init__(self, message, **kw)
        # SyntaxError's own fields would shadow ours in its __str__.
        self.msg = message
        self.offset = None if self.col is None else self.col + 1
        self.text = self.line

    def __str__(self) -> str:
        return self._render()


class NoSourceError(NablaError, TypeError):
    """The function's source cannot be read (a builtin, a lambda at a prompt, exec'd code)."""


class StaleSourceError(NoSourceError):
    """The function's file changed after it was imported: its source is not its code."""


class NotDifferentiableError(NablaError, TypeError):
    """A call with no derivative rule, or an active value where none is allowed."""


class TransformInputError(NablaError, TypeError):
    """An argument of the wrong type or shape for the transform."""


class TransformOutputError(NablaError, TypeError):
    """An output of the wrong type or shape for the transform."""
