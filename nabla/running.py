"""Running generated code: a ``Variant`` (one generated module) compiled by Numba or run
as Python, the free values read at every call, the fallback to Python where Numba
cannot compile, CUDA launches, and notes that tie an error to the user's line.

>>> sorted(Variant.__dataclass_fields__)[:4]
['_numba', '_numba_failed', '_python', 'extra']
"""

from __future__ import annotations

import functools
import inspect
import linecache
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from .arguments import type_key
from .checks import SEED_MESSAGE
from .codegen import cache as disk
from .codegen import numba_cuda
from .codegen.numba_cpu import compile_module, numba_errors
from .config import config
from .errors import (
    NablaError,
    NablaWarning,
    NotDifferentiableError,
    TransformInputError,
    TransformOutputError,
)
from .frontend.parse import bound_object, unwrap
from .runtime.batch import AXIS_MESSAGE
from .runtime.indexing import ALONE_MESSAGE
from .transforms.generated import Meta


def free_readers(f, meta):
    """Functions reading each free value at call time. A source is a dotted name in
    the function's scope, or ``g/W``: the free value ``W`` of the function ``g``
    that the function calls (read in place), found through ``g``'s own scope."""
    top = f._plain()

    def lookup(fn, dotted):
        parts = dotted.split(".")
        code = fn.__code__
        cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
        bound = bound_object(fn)
        if parts[0] in bound:  # self.w of a bound method
            obj = bound[parts[0]]
        elif parts[0] in cells:
            obj = cells[parts[0]].cell_contents
        else:
            obj = fn.__globals__[parts[0]]
        for p in parts[1:]:
            obj = getattr(obj, p)
        return obj

    def reader(source: str):
        *callees, last = source.split("/")
        owner = top
        for c in callees:  # functions are resolved once, as at transform time
            found = lookup(owner, c)
            owner = found._plain() if isinstance(found, type(f)) else unwrap(found)

        def read(owner=owner, last=last):
            return lookup(owner, last)
        return read

    return [reader(s) for s in meta.free_sources]


def runner(f, variant: Variant, name: str):
    jit = config.jit
    if jit and not variant._numba_failed:
        try:
            return variant.numba_functions()[name], True
        except numba_errors() as e:  # pragma: no cover - compile errors happen at call
            return fallback(f, variant, e), False
    return variant.python_functions()[name], False


def fallback(f, variant: Variant, error):
    if config.jit == "strict":
        raise NablaError(
            f"Numba could not compile the code generated for {f.__name__} "
            f"({type(error).__name__}): {str(error).splitlines()[0] if str(error) else ''}",
            **f._where(),
            hint="run with nabla.config.jit = False to use Python, or change the call "
            "that Numba cannot compile",
        ) from error
    variant._numba_failed = True
    f._fast.clear()  # calls go through _call again, which runs the Python version
    if not variant.warned:
        variant.warned = True
        first = str(error).strip().splitlines()
        warnings.warn(
            f"nabla: Numba cannot compile the code generated for {f.__name__} "
            f"({first[0] if first else type(error).__name__}); running it as Python",
            NablaWarning, stacklevel=4)
    return variant.python_functions()


def call(f, variant, readers, name, args):
    frees = [r() for r in readers]
    if variant.meta.target == "cuda" and config.jit:
        return call_cuda(f, variant, list(args) + frees)
    fn, compiled = runner(f, variant, name)
    try:
        return fn(*args, *frees)
    except Exception as e:  # noqa: BLE001 - see _call_failed
        return call_failed(f, variant, name, args, frees, e, compiled)


def call_failed(f, variant: Variant, name: str, args, frees, e: Exception,
                 compiled: bool):
    """A call of generated code raised ``e``: Numba could not compile it (run it as
    Python, or refuse in strict mode), or it failed (the error names the user's line)."""
    if isinstance(e, numba_errors()):
        if not compiled:
            raise
        fns = fallback(f, variant, e)
        return run_python(f, variant, fns[name], args, frees)
    if not isinstance(e, NablaError):
        if compiled:
            annotate_compiled(f, variant, name, args, frees, e)
        else:
            annotate(f, variant, e)
    raise


def annotate_compiled(f, variant: Variant, name: str, args, frees, e: Exception):
    """Compiled code names no line: the same call, run as Python, tells which line
    raises (or that none does there)."""
    if str(e).startswith(SEED_MESSAGE):
        annotate(f, variant, e)
    try:
        variant.python_functions()[name](*args, *frees)
    except Exception as again:  # noqa: BLE001 - its location is all that is wanted
        if str(again).startswith((ALONE_MESSAGE, AXIS_MESSAGE)):
            annotate(f, variant, again)
        line = user_line(f, variant, again)
        if line is not None:
            e.add_note(f"nabla: raised in compiled code generated for {f.__name__}; "
                       f"run as Python, the same call raises {type(again).__name__} at "
                       f"{line}")
            return
        annotate(f, variant, e)
        return
    fn = f._plain()
    e.add_note(f"nabla: raised in compiled code generated for {f.__name__} (defined at "
               f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}; generated code in "
               f"{variant.path}); run as Python, the same call raises nothing: Numba "
               "computes this differently from Python here")


def user_line(f, variant: Variant, e: Exception) -> str | None:
    """``file:line: text`` of the user's line that generated code raising ``e`` comes
    from, or None."""
    place = user_place(f, variant, e)
    return None if place is None else f"{place[0]}:{place[1]}: {place[2].strip()}"


def user_place(f, variant: Variant, e: Exception) -> tuple | None:
    """(file, line number, line) of the user's line that generated code raising ``e``
    comes from, or None."""
    path = str(variant.path)
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
    if not frames:
        return None
    lineno = variant.line_map.get(frames[-1].lineno)
    if lineno is None:
        return None
    filename = f._plain().__code__.co_filename
    return filename, lineno, linecache.getline(filename, lineno).rstrip("\n")


def call_cuda(f, variant: Variant, args: list):
    """A cuda vmap: its kernel (planned and compiled at the first call for these argument
    types, again when a module constant baked into it changes), one example a thread."""
    numba_cuda.check_supported(f.__name__)
    if any(a is None for a in variant.meta.out_axes):
        raise TransformOutputError(
            f"vmap(..., target='cuda') of {f.__name__}: out_axes None is not "
            "supported on the GPU", **f._where(), hint="give every output axis 0")
    return cuda_runner(f, variant, args)(args)


def cuda_runner(f, variant: Variant, args: list):
    runners = variant.extra.setdefault("cuda", {})
    tkey = tuple(type_key(a) for a in args)
    runner = runners.get(tkey)
    if runner is None or runner.plan.stale(args):
        plan = numba_cuda.plan(variant, args, f.__name__, f._described())
        key = disk.make_key(variant.key, "cuda", plan.text)
        path = disk.write(key, plan.text, {})
        runner = numba_cuda.Runner(plan, path, disk.module_name(key, "_cuda"))
        runners[tkey] = runner
        variant.extra["cuda_text"] = plan.text
    return runner


def run_python(f, variant, fn, args, frees):
    try:
        return fn(*args, *frees)
    except NablaError:
        raise
    except Exception as e:
        annotate(f, variant, e)
        raise


def annotate(f, variant: Variant, e: Exception):
    if str(e).startswith(SEED_MESSAGE):
        raise TransformOutputError(
            f"{f.mode} of {f.__name__} needs a scalar float output "
            f"({str(e)[len(SEED_MESSAGE):].strip(' ;:') or 'got something else'})",
            **f._where(),
            hint="reduce the output to a scalar (e.g. np.sum), use nabla.vjp or jacrev "
            "for non-scalar outputs, or return a float",
        ) from None
    if str(e).startswith(AXIS_MESSAGE):
        raise TransformInputError(str(e), **f._where(),
                                  hint="an axis counts the dimensions of one example's "
                                  "argument, or of the output with the batch axis in it; "
                                  "negative axes count from the end") from None
    if str(e).startswith(ALONE_MESSAGE):
        place = user_place(f, variant, e)
        where = dict(zip(("filename", "lineno", "line"), place)) if place else f._where()
        raise NotDifferentiableError(
            "this augmented assignment would change in place an array that another variable, "
            "read later, also holds (an alias or a view of it, the array it is a view of, or "
            "the caller's array passed to a function of yours); nabla computes it as a new "
            "array, so that variable would keep its old values where NumPy changes them",
            **where,
            hint="write x = x + ... (the other variable keeps its values), update the other "
            "variable itself, or make a copy first (x = x.copy())",
        ) from None
    line = user_line(f, variant, e)
    if line is not None:
        e.add_note(f"nabla: raised in code generated for {f.__name__} from {line}")
        return
    fn = f._plain()
    e.add_note(f"nabla: raised in code generated for {f.__name__} (defined at "
               f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}; generated code "
               f"in {variant.path})")


def _quiet(fn):
    """``fn`` with NumPy's floating-point warnings off, as compiled code runs."""
    @functools.wraps(fn)
    def quiet(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return quiet


@dataclass
class Variant:
    """One generated module: for one flavor of dtypes and one set of active arguments."""

    text: str
    path: object
    meta: Meta  # what calling it needs to know
    line_map: dict
    name: str
    key: str
    _python: object = None
    _numba: dict | None = None
    _numba_failed: bool = False
    warned: bool = False
    extra: dict = field(default_factory=dict)
    # what ``pipeline.variant`` made it for: (float32, active, ranks, forward, arg_ranks),
    # and a weak reference to the Function that made it (the stage views make it again)
    made: tuple = ()
    maker: object = None

    def python_functions(self) -> dict:
        if self._python is None:
            module = disk.load_module(self.path, disk.module_name(self.key), self.text)
            self._python = {k: _quiet(v) if self.meta.quiet else v
                            for k, v in vars(module).items()
                            if inspect.isfunction(v) and v.__module__ == module.__name__}
        return self._python

    def numba_functions(self) -> dict:
        if self._numba is None:
            self._numba = compile_module(self.path, disk.module_name(self.key, "_numba"),
                                         cache=config.cache and disk.in_store(self.path),
                                         text=self.text)
        return self._numba
