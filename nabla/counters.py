"""What nabla did in this process, counted: ``transforms`` (a module generated, not
read from the disk cache) and ``compiles`` (a function of a generated module compiled by
Numba, not loaded from Numba's cache). A worker that runs the same derivative for many
tasks, or a training loop's second step, should add nothing to either.

>>> import numpy as np, nabla
>>> def cube(x):
...     return x * x * x
>>> g = nabla.grad(cube)
>>> before = nabla.stats()
>>> _ = g(2.0), g(3.0)
>>> nabla.stats()["transforms"] - before["transforms"] <= 1  # once, or read from the cache
True
"""

from __future__ import annotations

from numba.core import event

from .names import GENERATED_MODULE_PREFIX

_counts = {"transforms": 0, "compiles": 0}


def stats() -> dict:
    """``{"transforms": n, "compiles": m}`` since this process imported nabla."""
    return dict(_counts)


def count(what: str) -> None:
    _counts[what] += 1


class _Compiles(event.Listener):
    """Counts Numba's compilations of generated functions (helpers are not counted)."""

    def on_start(self, ev):
        # never raises: it runs inside every Numba compilation, the user's own included
        fn = getattr(ev.data.get("dispatcher"), "py_func", None)
        module = getattr(fn, "__module__", None)
        if isinstance(module, str) and module.startswith(GENERATED_MODULE_PREFIX):
            count("compiles")

    def on_end(self, ev):
        """Nothing to count when a compilation ends (Numba's listeners must say so)."""


event.register("numba:compile", _Compiles())
