"""Generated code's module passes at LLVM's ``-O2``, not Numba's default ``-O3``.

Numba runs LLVM's function passes on each function it compiles, then its module passes on
the function with all it calls linked in, both at ``NUMBA_OPT`` (3 unless the user sets
it). ``install()`` lowers the module passes to 2 for a library whose own code is
generated; its function passes stay at 3, and so do nabla's runtime helpers, Numba's
own functions and the user's jitted code. A level the user chose below 3, or
``NUMBA_OPT=max``, stays.

On the bundle-adjustment Jacobian the first compile takes 13.3-13.7 s where it took
14.8-15.6 s, its run time the same (3.7-3.9 ms against 3.9 ms); the other workloads'
first compiles and run times do not move beyond noise (docs/performance.md, round two,
seventh part). Both stages at ``-O2`` would save twice as much on the BA, but one of them
must stay at ``-O3``: with neither, Numba's array expressions run 2.5x slower (``h_bar *
(1 - h * h)`` on a 256x200 array: 15 us with either stage at ``-O3``, 38 us with neither;
an explicit loop runs in 15 us at either level).

>>> from numba.core import config
>>> saved = config.OPT
>>> config.OPT = type(saved)(3)
>>> with lowered():
...     int(config.OPT)
2
>>> int(config.OPT)
3
>>> config.OPT = saved
"""

from __future__ import annotations

import contextlib

from ..names import GENERATED_MODULE_PREFIX

LEVEL = 2  # LLVM's optimisation level for generated code's module passes

_installed = []


def install() -> bool:
    """Wrap Numba's ``CPUCodeLibrary`` optimisation steps (once per process); False where
    Numba's internals differ from what this expects (then nothing changes)."""
    if _installed:
        return _installed[0]
    try:
        from numba.core.codegen import CPUCodeLibrary

        functions = CPUCodeLibrary._optimize_functions
        final = CPUCodeLibrary._optimize_final_module
    except (ImportError, AttributeError):
        _installed.append(False)
        return False

    def optimize_functions(self, ll_module):
        # the first module a library gets is its own function's code: is it generated?
        if getattr(self, "_nabla_generated", None) is None:
            self._nabla_generated = _generated(ll_module)
        return functions(self, ll_module)

    def optimize_final_module(self):
        if not getattr(self, "_nabla_generated", False):
            return final(self)
        with lowered():
            return final(self)

    CPUCodeLibrary._optimize_functions = optimize_functions
    CPUCodeLibrary._optimize_final_module = optimize_final_module
    _installed.append(True)
    return True


@contextlib.contextmanager
def lowered():
    """Numba's optimisation level at most ``LEVEL`` inside (Numba reads it as it builds
    its pass managers; it compiles under its own lock, one library at a time)."""
    from numba.core import config

    saved = config.OPT
    if int(saved) > LEVEL and not getattr(saved, "is_opt_max", False):
        config.OPT = type(saved)(LEVEL)
    try:
        yield
    finally:
        config.OPT = saved


def _generated(module) -> bool:
    """Whether an LLVM module defines a function of a generated module."""
    try:
        return any(GENERATED_MODULE_PREFIX in fn.name for fn in module.functions
                   if not fn.is_declaration)
    except Exception:  # noqa: BLE001 - anything unexpected: Numba's own level
        return False
