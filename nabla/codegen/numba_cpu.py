"""Compile a generated module's functions with ``numba.njit`` for the CPU.

The module is imported a second time under its own name, and each of its
functions replaced by its njit dispatcher in that copy's namespace, so that
generated functions calling each other call compiled code.
"""

from __future__ import annotations

import types
import warnings
from pathlib import Path

from ..errors import NablaWarning
from .cache import load_module


def compile_module(path: Path, name: str, cache: bool) -> dict:
    """{function name: njit dispatcher} for the generated module at ``path``."""
    import numba

    module = load_module(path, name)
    compiled = getattr(module, "__nabla_compiled__", None)
    if compiled is not None:
        return compiled
    if hasattr(module, "in_python"):
        module.in_python = False  # Numba prunes the branches that give Python unset names
    compiled = {}
    for attr, value in list(vars(module).items()):
        if isinstance(value, types.FunctionType) and value.__module__ == name:
            # a vmap with target="parallel" runs its batch loop with prange
            parallel = "prange" in value.__code__.co_names
            try:
                dispatcher = numba.njit(cache=cache, parallel=parallel, error_model="numpy")(value)
            except RuntimeError as e:  # no cache locator (an unwritable directory)
                warnings.warn(f"nabla cache: Numba cannot cache {attr} ({e}); compiling "
                              "without it", NablaWarning, stacklevel=2)
                dispatcher = numba.njit(cache=False, parallel=parallel, error_model="numpy")(value)
            if cache:
                _guard_cache(dispatcher, attr)
            compiled[attr] = dispatcher
    for attr, dispatcher in compiled.items():
        setattr(module, attr, dispatcher)
    module.__nabla_compiled__ = compiled
    return compiled


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
