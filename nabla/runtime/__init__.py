"""Runtime helpers called by the code that nabla generates.

Generated derivative code is plain Python that runs either as is on NumPy
values or compiled with ``numba.njit``; it imports its helpers from here
(``from nabla.runtime import unbroadcast, seed, ...``).  Every helper is
therefore an ordinary Python function (correct on NumPy arrays, NumPy scalars
and Python numbers) that Numba can also compile: either its Python body serves
both (``numba.extending.register_jitable``), or it has a Numba implementation
registered with :func:`numba.extending.overload` that makes at typing time the
choices the Python body makes at run time (scalar or array, which dtype).

Conventions shared by all helpers:

* inputs are never mutated, except the arrays generated code owns and updates
  in place through ``index_add``, ``index_zero``, ``jac_column``, ``jac_row``,
  ``batch_set``, ``tape_push`` and the write log;
* floating dtypes are kept (float32 in, float32 out), in Python mode and under
  Numba alike; a cotangent that comes from ``g`` takes ``g``'s dtype (a Python
  float is float64, integers become float64) unless the docstring says
  otherwise;
* ``axis`` is None (all axes), an int (negative allowed) or a tuple of ints;
  a reduction over all axes returns a scalar, as NumPy does;
* under Numba the number of dimensions of every result must be known when
  compiling, so a few forms are Python-only; each docstring says which.

Under Numba, reductions over an axis are computed by compiled kernels that
map every element to its output position (NumPy's ``axis=`` forms are missing
there); float32 sums accumulate in float64 and are rounded back to float32.

The modules, from the ground up (each imports only those above it):

``_types``          dtype and axis rules on values, and on Numba types at typing time
``_kernels``        compiled per-group kernels of reductions, cumulative sums, their vjps
``_compiled``       compiled building blocks: axis masks, shapes, index arrays, views
``reductions``      ``reduce_sum`` ... ``reduce_std``, ``reduced_count``, ``norm``,
                    ``cumsum``, ``rcumsum``
``reduction_vjps``  ``keepdims``, ``expand_reduced``, ``extremum_vjp``, ``prod_vjp``,
                    ``prod_vjp_jvp``
``broadcasting``    ``unbroadcast``, ``broadcast_like``, ``one_like``, ``zero_like``,
                    ``zeros_outside``
``elementwise``     ``log_base``, ``astype``, ``stop_gradient``
``shapes``          ``squeeze``, ``untranspose``, ``reshape_like``, ``array_of``,
                    ``take_axis``, ``slice_axis``, ``rows_of``, ``diag_vjp``
``indexing``        ``unindex``, ``index_add``, ``index_zero``, ``snapshot``, ``alone``
``linalg``          ``matmul_vjp_a``/``_b``, ``dot_vjp_a``/``_b``
``loops``           ``in_python``, ``range_len``, ``range_continues``, ``tape_like``,
                    ``tape_entry``, ``pad_empty``, ``tape_push``, the write log
                    (``write_log`` ... ``pop_writes``)
``jacobians``       ``basis``, ``jac_like``, ``jac_column``/``jac_row`` and their vjps,
                    the vector forms ``basis_block``, ``jac_block``, ``jac_unblock``
``sorting``         ``sort_tangent``, ``sort_cotangent``, ``median_sorted`` and its vjp
``batch``           the helpers of batched (``vmap``) code, ``batch_*`` and ``prange``
``special``         ``expit``, ``logit``, ``erf``, ``erfc``, ``gammaln``, ``digamma``,
                    ``xlogy`` (SciPy's in Python, compiled kernels under Numba)

and ``seed``, grad's check that its output is a scalar float, from
:mod:`nabla.checks`.  Every helper's ``__module__`` is ``nabla.runtime``, the
name generated code imports it by:

>>> import numpy as np
>>> from nabla.runtime import reduce_sum, unbroadcast
>>> unbroadcast(np.ones((2, 3)), np.ones(3)), reduce_sum.__module__
(array([2., 2., 2.]), 'nabla.runtime')
"""

import numpy as np  # noqa: F401 - the helpers' doctests run here (see __module__ below)

from ..checks import batch_seed, seed
from .batch import (
    batch_broadcast,
    batch_broadcast_like,
    batch_count,
    batch_expand,
    batch_first,
    batch_fits,
    batch_lift,
    batch_like,
    batch_mean,
    batch_pair,
    batch_row,
    batch_set,
    batch_size,
    batch_sum,
    batch_to,
    prange,
)
from .broadcasting import (
    broadcast_like,
    cotangent_of,
    one_like,
    unbroadcast,
    zero_like,
    zeros_outside,
)
from .elementwise import astype, log_base, stop_gradient
from .indexing import alone, index_add, index_zero, snapshot, unindex
from .jacobians import (
    basis,
    basis_block,
    basis_count,
    column_of,
    jac_block,
    jac_column,
    jac_like,
    jac_row,
    jac_unblock,
    row_of,
)
from .linalg import dot_vjp_a, dot_vjp_b, matmul_vjp_a, matmul_vjp_b
from .loops import (
    checkpoint_span,
    in_python,
    log_size,
    log_write,
    pad_empty,
    pop_writes,
    range_continues,
    range_len,
    tape_entry,
    tape_like,
    tape_push,
    undo_writes,
    write_log,
)
from .opaque import opaque_call
from .reduction_vjps import expand_reduced, extremum_vjp, keepdims, prod_vjp, prod_vjp_jvp
from .reductions import (
    cumsum,
    norm,
    rcumsum,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_var,
    reduced_count,
)
from .shapes import (
    array_of,
    diag_vjp,
    reshape_like,
    rows_of,
    slice_axis,
    squeeze,
    take_axis,
    untranspose,
)
from .sorting import median_sorted, median_sorted_vjp, sort_cotangent, sort_tangent
from .special import digamma, erf, erfc, expit, gammaln, logit, xlogy

__all__ = [
    "alone", "array_of", "astype", "basis", "basis_block", "basis_count", "batch_broadcast",
    "batch_broadcast_like", "batch_count", "batch_expand", "batch_first", "batch_fits",
    "batch_lift", "batch_like", "batch_mean", "batch_pair", "batch_row", "batch_seed",
    "batch_set", "batch_size", "batch_sum", "batch_to", "broadcast_like", "checkpoint_span",
    "column_of", "cotangent_of", "cumsum", "diag_vjp", "digamma", "dot_vjp_a", "dot_vjp_b",
    "erf", "erfc", "expand_reduced", "expit", "extremum_vjp", "gammaln", "in_python",
    "index_add", "index_zero", "jac_block", "jac_column", "jac_like", "jac_row", "jac_unblock",
    "keepdims", "log_base", "log_size", "log_write", "logit", "matmul_vjp_a", "matmul_vjp_b",
    "median_sorted", "median_sorted_vjp", "norm", "one_like", "opaque_call", "pad_empty",
    "pop_writes", "prange", "prod_vjp", "prod_vjp_jvp",
    "range_continues", "range_len", "rcumsum", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_prod", "reduce_std", "reduce_sum", "reduce_var", "reduced_count", "reshape_like",
    "row_of", "rows_of", "seed", "slice_axis", "snapshot", "sort_cotangent", "sort_tangent",
    "squeeze", "stop_gradient", "take_axis",
    "tape_entry", "tape_like", "tape_push", "unbroadcast", "undo_writes", "unindex",
    "untranspose", "write_log", "xlogy", "zero_like", "zeros_outside",
]

# A helper's home is nabla.runtime, whichever module defines it: generated code imports it
# from here, and nabla tells its own helpers from a user's functions by that module name
# (normalize refuses to differentiate one as user code). doctest goes by it too: the helpers'
# examples run in this module's namespace, hence numpy imported as np above.
for _name in __all__:
    _helper = globals()[_name]
    if getattr(_helper, "__module__", "").startswith(__name__ + "."):
        _helper.__module__ = __name__
del _name, _helper
