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
    compiled = {}
    for attr, value in list(vars(module).items()):
        if isinstance(value, types.FunctionType) and value.__module__ == name:
            try:
                dispatcher = numba.njit(cache=cache)(value)
            except RuntimeError as e:  # no cache locator (an unwritable directory)
                warnings.warn(f"nabla cache: Numba cannot cache {attr} ({e}); compiling "
                              "without it", NablaWarning, stacklevel=2)
                dispatcher = numba.njit(cache=False)(value)
            compiled[attr] = dispatcher
    for attr, dispatcher in compiled.items():
        setattr(module, attr, dispatcher)
    module.__nabla_compiled__ = compiled
    return compiled


def numba_errors():
    """The exception classes that mean Numba could not compile a function."""
    from numba.core import errors

    return (errors.NumbaError,)
