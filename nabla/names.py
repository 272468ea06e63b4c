"""Deterministic, collision-free names for generated code.

Generated names come from the user's names (``x_bar``, ``x_dot``) or are
numbered temporaries (``t1``); a name already taken gets the next free
suffix, so the same function gives the same names in every process:

>>> n = Namer({"x", "x_bar", "t1"})
>>> n.fresh("x_bar"), n.temp(), n.fresh("x_bar")
('x_bar_1', 't2', 'x_bar_2')
"""

from __future__ import annotations

import functools
import re

from . import runtime

# The tables transforms/tables.py makes before a loop (exp_q_table = np.exp(q[:k, :d])):
# codegen/numba_cuda.py turns their reads back into the calls
TABLE = re.compile(r"_table(_\d+)?$")

# Helpers generated code imports from nabla.runtime (kept in sync with its __all__).
RUNTIME_NAMES = (
    "unbroadcast", "broadcast_like", "one_like", "zero_like", "reduce_sum", "reduce_mean",
    "reduce_prod", "reduce_max", "reduce_min", "reduce_var", "reduce_std", "keepdims",
    "expand_reduced", "squeeze", "log_base", "norm", "array_of", "unindex", "cumsum", "rcumsum",
    "matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b", "extremum_vjp", "prod_vjp",
    "prod_vjp_jvp",
    "reduced_count", "untranspose", "reshape_like", "take_axis", "slice_axis", "astype",
    "tape_like", "seed", "range_len", "range_continues", "tape_push", "tape_entry",
    "index_add", "index_zero", "snapshot", "in_python",
    "write_log", "log_write", "log_size", "undo_writes", "pop_writes",
    "basis", "basis_count", "jac_like", "jac_column", "jac_row", "column_of", "row_of",
)


# generated modules are imported under names that start so (codegen.cache.module_name)
GENERATED_MODULE_PREFIX = "nabla_generated_"


@functools.cache
def reserved_names() -> frozenset:
    """Names generated code uses for modules and helpers; user names must avoid them."""
    names = {"np", "math", "numba", "nabla", "__nabla_comment__"}
    names.update(RUNTIME_NAMES)
    names.update(runtime.__all__)
    return frozenset(names)


class Namer:
    def __init__(self, taken=()):
        self.taken = set(taken)
        self._avoid: set[str] = set()
        self._temps = 0
        self.temps: set[str] = set()  # the temporaries handed out

    def avoid(self, names) -> None:
        """Names temporaries must not take (a function about to be read in place), though
        ``fresh`` may still hand them out as themselves."""
        self._avoid |= set(names)

    def take(self, name: str) -> str:
        self.taken.add(name)
        return name

    def fresh(self, base: str) -> str:
        if base not in self.taken:
            return self.take(base)
        i = 1
        while f"{base}_{i}" in self.taken:
            i += 1
        return self.take(f"{base}_{i}")

    def temp(self) -> str:
        while True:
            self._temps += 1
            name = f"t{self._temps}"
            if name not in self.taken and name not in self._avoid:
                self.temps.add(name)
                return self.take(name)
