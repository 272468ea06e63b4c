"""Compile a generated module's functions with ``numba.njit`` for the CPU.

The module is imported a second time under its own name, and each of its
functions replaced by its njit dispatcher in that copy's namespace, so that
generated functions calling each other call compiled code.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
import types
import warnings
from pathlib import Path

import numba

from ..config import config
from ..errors import NablaWarning
from . import linking, llvm_level
from .cache import load_module, seal, sealed
from .slice_errors import lean_slice_errors
from .warm import defer_blas_import

# a compile that takes longer than this says, once, what is being compiled
SLOW_COMPILE_S = 2.0


def compile_module(path: Path, name: str, cache: bool, text: str | None = None) -> dict:
    """{function name: njit dispatcher} for the generated module at ``path`` (``text``: its
    source as nabla checked it)."""
    defer_blas_import()  # before Numba's first compile or cache load: see warm.py
    module = load_module(path, name, text)
    compiled = getattr(module, "__nabla_compiled__", None)
    if compiled is not None:
        return compiled
    if hasattr(module, "in_python"):
        module.in_python = False  # Numba prunes the branches that give Python unset names
    linking.install()  # large generated callees are linked as they are, not re-optimised
    llvm_level.install()  # generated code's module passes at -O2: a shorter compile
    compiled = {}
    what = _described(path, text)
    for attr, value in list(vars(module).items()):
        if isinstance(value, types.FunctionType) and value.__module__ == name:
            # a vmap with target="parallel" runs its batch loop with prange
            parallel = "prange" in value.__code__.co_names
            try:
                dispatcher = numba.njit(cache=cache, parallel=parallel, nogil=True,
                                        error_model="numpy")(value)
            except RuntimeError as e:  # no cache locator (an unwritable directory)
                warnings.warn(f"nabla cache: Numba cannot cache {attr} ({e}); compiling "
                              "without it", NablaWarning, stacklevel=2)
                dispatcher = numba.njit(cache=False, parallel=parallel, nogil=True,
                                        error_model="numpy")(value)
            if cache:
                _guard_cache(dispatcher, attr)
            _one_specialisation_per_type(dispatcher)
            # Numba compiles at the first call of each signature
            dispatcher._compile_for_args = announce_slow(keep_interrupts(
                _lean(dispatcher._compile_for_args)), what, cache)
            compiled[attr] = dispatcher
    for attr, dispatcher in compiled.items():
        setattr(module, attr, dispatcher)
    module.__nabla_compiled__ = compiled
    return compiled


def _lean(compile_call):
    """``compile_call`` compiling slice assignments' shape error without string
    formatting (slice_errors.py)."""
    @functools.wraps(compile_call)
    def call(*args, **kwargs):
        with lean_slice_errors():
            return compile_call(*args, **kwargs)
    return call


def _one_specialisation_per_type(dispatcher) -> None:
    """A generated function called from another with a constant int (``f(x, 2)``) is
    compiled for ``int64``, not once per constant: Numba types a constant as a literal
    and compiles a callee for each literal it is called with. Where the callee needs
    the literal (a heterogeneous tuple indexed by it), Numba's own typing is kept."""
    original = getattr(dispatcher, "get_call_template", None)
    if original is None:
        return
    from numba.core import errors, types

    def get_call_template(args, kws):
        plain = tuple(types.unliteral(a) for a in args)
        plain_kws = {k: types.unliteral(v) for k, v in kws.items()}
        if plain != tuple(args) or plain_kws != kws:
            try:
                return original(plain, plain_kws)
            except errors.TypingError:  # it needs the literal: Numba's own typing
                return original(args, kws)
        return original(args, kws)

    dispatcher.get_call_template = get_call_template


def _described(path: Path, text: str | None) -> str:
    """``nabla.grad(f)``: what the generated module is, from its header."""
    try:
        first = (text if text is not None else path.read_text()).split("\n", 1)[0]
    except OSError:
        return path.stem
    return first.split(" — ")[0].lstrip("# ").strip() or path.stem


_compiling = threading.local()


def announce_slow(compile_call, what: str, cached: bool, after: float | None = None):
    """``compile_call`` saying on stderr, once, what Numba is compiling when that takes
    more than ``after`` seconds (``SLOW_COMPILE_S``; ``nabla.config.verbose``; a compile
    inside another, a generated function calling another, is the outer one's).

    >>> import io, sys, time
    >>> slow = announce_slow(lambda: time.sleep(0.2) or "done", "nabla.grad(f)", True, 0.01)
    >>> err, sys.stderr = sys.stderr, io.StringIO()
    >>> result, said = slow(), sys.stderr.getvalue()
    >>> sys.stderr = err
    >>> result, said.startswith("nabla: Numba is compiling nabla.grad(f)")
    ('done', True)
    """
    @functools.wraps(compile_call)
    def call(*args, **kwargs):
        if not config.verbose or getattr(_compiling, "depth", 0):
            return compile_call(*args, **kwargs)
        then = ("the machine code is cached on disk: a new process loads it in well under a "
                "second" if cached else "nabla.config.cache is off: not cached")
        timer = threading.Timer(SLOW_COMPILE_S if after is None else after, _say, (
            f"nabla: Numba is compiling {what} for its first call with these argument "
            f"types; {then} (nabla.config.verbose = False silences this)",))
        timer.daemon = True
        _compiling.depth = 1
        timer.start()
        try:
            return compile_call(*args, **kwargs)
        finally:
            timer.cancel()
            _compiling.depth = 0
    return call


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def keep_interrupts(compile_call):
    """``compile_call`` with Ctrl-C kept: LLVM calls back into Python while it compiles,
    and a KeyboardInterrupt raised inside such a callback is printed and dropped by ctypes
    (the compile then finishes as if nothing happened). An interrupt that arrives during
    the compile is raised once Numba returns, if Numba did not raise it itself.

    >>> import os, signal, time
    >>> def swallowing():  # what an interrupted LLVM callback does
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGINT)
    ...         time.sleep(1)
    ...     except KeyboardInterrupt:
    ...         pass
    ...     return "compiled"
    >>> try:
    ...     keep_interrupts(swallowing)()
    ... except KeyboardInterrupt:
    ...     print("interrupted")
    interrupted
    """
    @functools.wraps(compile_call)
    def guarded(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return compile_call(*args, **kwargs)  # someone else handles Ctrl-C here
        interrupted = []

        def on_interrupt(signum, frame):
            interrupted.append(signum)
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_interrupt)
        try:
            result = compile_call(*args, **kwargs)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if interrupted:
            raise KeyboardInterrupt
        return result
    return guarded


def numba_errors():
    """The exception classes that mean Numba could not compile a function."""
    from numba.core import errors

    return (errors.NumbaError,)


_LIGHT = {}


def _light_ready(target_context) -> bool:
    """Prepare ``target_context`` to rebuild machine code read from Numba's cache without
    its registries: the symbols cached code links against are the ones Numba's contexts
    install when made (C helpers, math), the runtime's (NRT) and the hash secret's (added
    when numba.cpython.hashing is imported); parallel code starts its threads itself
    (the cached entry's reload hooks). False when that cannot be done here."""
    ready = _LIGHT.get(id(target_context))
    if ready is None:
        try:
            import numba.cpython.hashing  # noqa: F401 - registers the hash secret's symbols
            from numba.core.runtime import rtsys

            rtsys.initialize(target_context)
            ready = True
        except Exception:  # noqa: BLE001 - Numba's internals moved: the full path
            ready = False
        _LIGHT[id(target_context)] = ready
    return ready


def _guard_cache(dispatcher, attr: str) -> None:
    """Make a damaged Numba cache (a garbled index or data file) a warning: the entry is
    dropped and the function compiled again, instead of the call failing."""
    numba_cache = getattr(dispatcher, "_cache", None)
    load, save = getattr(numba_cache, "load_overload", None), getattr(numba_cache,
                                                                      "save_overload", None)
    if load is None or save is None:
        return

    def drop_index():
        path = getattr(getattr(numba_cache, "_cache_file", None), "_index_path", None)
        if path:
            try:
                Path(path).unlink()
            except OSError:
                pass

    light = getattr(numba_cache, "_load_overload", None)

    def guarded_load(sig, target_context):
        if light is not None and _light_ready(target_context):
            try:
                # machine code from disk needs no typing or lowering registries: skip
                # Numba's refresh of them (0.3-0.7 s in a fresh process, most of the
                # time to a warm first call); a miss or a failure takes the full path
                found = light(sig, target_context)
                if found is not None:
                    return found
            except Exception:  # noqa: BLE001 - the full path below decides
                pass
        try:
            return load(sig, target_context)
        except Exception as e:  # noqa: BLE001 - whatever unpickling a damaged file raises
            warnings.warn(f"nabla cache: skipped Numba's damaged cache entry for {attr} "
                          f"({type(e).__name__}: {e}); compiling again", NablaWarning,
                          stacklevel=2)
            drop_index()
            return None

    def guarded_save(sig, data):
        try:
            save(sig, data)
        except Exception as e:  # noqa: BLE001
            warnings.warn(f"nabla cache: cannot save Numba's machine code for {attr} "
                          f"({type(e).__name__}: {e}); continuing without it", NablaWarning,
                          stacklevel=2)
            drop_index()

    numba_cache.load_overload = guarded_load
    numba_cache.save_overload = guarded_save
    _seal_files(getattr(numba_cache, "_cache_file", None), attr)


def _seal_files(cache_file, attr: str) -> None:
    """Numba's index and data files are pickles, which run code when read: in nabla's
    cache, each is signed when Numba writes it and read only with a valid signature (a
    file nabla did not write is compiled again, never unpickled)."""
    needed = ("_load_index", "_load_data", "_save_index", "_save_data", "_index_path",
              "_data_path")
    if cache_file is None or not all(hasattr(cache_file, n) for n in needed):
        return
    load_index, load_data = cache_file._load_index, cache_file._load_data
    save_index, save_data = cache_file._save_index, cache_file._save_data

    def refuse(path):
        warnings.warn(f"nabla cache: Numba's cache file {path} for {attr} is not signed with "
                      "your key (or changed since), so it is not read; compiling again",
                      NablaWarning, stacklevel=2)

    def checked_load_index():
        path = cache_file._index_path
        if Path(path).exists() and not sealed(path):
            refuse(path)
            return {}
        return load_index()

    def checked_load_data(name):
        path = cache_file._data_path(name)
        if not sealed(path):
            refuse(path)
            raise OSError(f"unsigned cache file {path}")  # Numba: as if the file were gone
        return load_data(name)

    def signed_save_index(overloads):
        save_index(overloads)
        seal(cache_file._index_path)

    def signed_save_data(name, data):
        save_data(name, data)
        seal(cache_file._data_path(name))

    cache_file._load_index = checked_load_index
    cache_file._load_data = checked_load_data
    cache_file._save_index = signed_save_index
    cache_file._save_data = signed_save_data
