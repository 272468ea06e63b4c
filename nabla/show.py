"""``python -m nabla show``: print the derivative nabla generates for a function of a
file or a module, from the shell.

    python -m nabla show examples/quickstart.py:loss --mode grad --argnums 0,1
    python -m nabla show mypackage.model:energy --mode hessian --stage optimized
    python -m nabla show sim.py:step --mode grad --args "np.ones(3), 2.0" --html step.html

``--args`` gives example arguments (a Python expression, NumPy as ``np``): the module
shown is then the one a call with such arguments runs. Colour where the terminal takes
it (``--color never`` or ``NO_COLOR`` for plain text); a bad target exits with status 2,
a function nabla refuses with status 1, each with one clear line on stderr:

>>> main(["show", "no/such/file.py:f"])
2
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import keyword
import os
import sys
import tokenize
from pathlib import Path

import numpy as np

from . import api, html, stages
from .errors import NablaError

MODES = ("grad", "value_and_grad", "jvp", "vjp", "vmap", "jacfwd", "jacrev", "hessian", "jit")


class TargetError(Exception):
    """A target that names no function nabla can find."""


def main(argv=None) -> int:
    """Run the command line; the exit status."""
    args = _parser().parse_args(argv)
    try:
        fun = load(args.target)
        example = _examples(args.args)
        nums = _argnums(args.argnums)
        f = api.as_function(fun, args.mode, argnums=nums, in_axes=nums if args.argnums else 0)
        text = f.source_of(*example, stage=args.stage)
        if args.html:
            Path(args.html).write_text(html.page(f, example), encoding="utf-8")
            print(f"nabla show: wrote {args.html}", file=sys.stderr)
    except TargetError as e:
        print(f"nabla show: {e}", file=sys.stderr)
        return 2
    except NablaError as e:
        print(f"nabla show: nabla cannot differentiate {args.target}:\n{e}", file=sys.stderr)
        return 1
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                        and not os.environ.get("NO_COLOR"))
    try:
        sys.stdout.write(highlight(text) if colour else text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = None
    return 0


def main_exit() -> None:
    """The ``nabla`` command (an entry point): ``main``'s status as the exit status."""
    sys.exit(main())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nabla", description="nabla's command line")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the derivative nabla generates for a function",
                          description="print the derivative nabla generates for a function")
    show.add_argument("target", help="FILE.py:FUNCTION or package.module:FUNCTION")
    show.add_argument("--mode", choices=MODES, default="grad")
    show.add_argument("--argnums", default=None,
                      help="the arguments to differentiate, e.g. 0 or 0,2 (vmap: in_axes)")
    show.add_argument("--args", default=None,
                      help='example arguments, a Python expression: "np.ones(3), 2.0"')
    show.add_argument("--stage", choices=tuple(stages.STAGES), default="module")
    show.add_argument("--html", metavar="OUT.html", default=None,
                      help="also write a page: the primal and the derivative side by side")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    return parser


def load(target: str):
    """The function ``FILE.py:NAME`` or ``module:NAME`` names (``NAME`` may be dotted:
    ``Class.method``)."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise TargetError(f"{target!r}: write FILE.py:FUNCTION or module:FUNCTION")
    if where.endswith(".py") or os.sep in where or "/" in where:
        path = Path(where)
        if not path.is_file():
            raise TargetError(f"no such file: {where}")
        sys.path.insert(0, str(path.resolve().parent))
        spec = importlib.util.spec_from_file_location(f"nabla_show_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:  # what the file prints as it runs goes to stderr: stdout is the module's
            with contextlib.redirect_stdout(sys.stderr):
                spec.loader.exec_module(module)
        except Exception as e:
            raise TargetError(f"{where} failed to import: {type(e).__name__}: {e}") from None
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise TargetError(f"no module {where!r} ({e})") from None
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            have = sorted(k for k, v in vars(module).items()
                          if callable(v) and not k.startswith("_")
                          and getattr(v, "__module__", None) == module.__name__)
            raise TargetError(f"{where} has no function {name!r}"
                              + (f" (it has: {', '.join(have)})" if have else ""))
        obj = getattr(obj, part)
    if not callable(obj):
        raise TargetError(f"{where}:{name} is a {type(obj).__name__}, not a function")
    return obj


def _argnums(text):
    if text is None:
        return 0
    try:
        nums = tuple(int(t) if t.strip().lower() != "none" else None
                     for t in text.split(","))
    except ValueError:
        raise TargetError(f"--argnums {text!r}: write integers separated by commas") from None
    return nums[0] if len(nums) == 1 else nums


def _examples(text) -> tuple:
    if not text:
        return ()
    try:
        value = eval(text, {"np": np, "numpy": np})  # the user's own expression, typed here
    except Exception as e:
        raise TargetError(f"--args {text!r}: {type(e).__name__}: {e}") from None
    return value if isinstance(value, tuple) else (value,)


_STYLE = {"comment": "\x1b[2;32m", "keyword": "\x1b[1;35m", "number": "\x1b[36m",
          "adjoint": "\x1b[33m", "tangent": "\x1b[34m"}
_RESET = "\x1b[0m"


def highlight(text: str) -> str:
    """``text`` with ANSI colours: comments, keywords, numbers, adjoints (``_bar``) and
    tangents (``_dot``)."""
    out, last = [], (1, 0)
    lines = text.splitlines(keepends=True)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    for tok in tokens:
        out.append(_between(lines, last, tok.start))
        kind = _kind(tok)
        out.append(f"{_STYLE[kind]}{tok.string}{_RESET}" if kind else tok.string)
        last = tok.end
    out.append(_between(lines, last, (len(lines) + 1, 0)))
    return "".join(out)


def _kind(tok):
    if tok.type == tokenize.COMMENT:
        return "comment"
    if tok.type == tokenize.NUMBER:
        return "number"
    if tok.type == tokenize.NAME:
        if keyword.iskeyword(tok.string):
            return "keyword"
        if "_bar" in tok.string:
            return "adjoint"
        if "_dot" in tok.string:
            return "tangent"
    return None


def _between(lines, start, end) -> str:
    """The text of ``lines`` from position ``start`` to ``end`` (tokenize's (row, col))."""
    (r0, c0), (r1, c1) = start, end
    if r0 == r1:
        return lines[r0 - 1][c0:c1] if r0 <= len(lines) else ""
    parts = [lines[r0 - 1][c0:]] if r0 <= len(lines) else []
    parts += lines[r0:r1 - 1]
    if r1 <= len(lines):
        parts.append(lines[r1 - 1][:c1])
    return "".join(parts)
