"""nabla: automatic differentiation for numerical Python by source transformation.

``nabla.grad(f)`` rewrites ``f``'s source into a derivative that is itself
readable Python (``nabla.grad(f).source``), compiled by Numba.
"""

# nabla.dask.vmap (Dask itself is imported when it is used), nabla.nn, nabla.optim; program
# computes what Arrays record (it sets lazy.engine)
from . import dask, nn, optim, program  # noqa: F401
from .api import (
    Function,
    clear_cache,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jit,
    jvp,
    source,
    value_and_grad,
    vjp,
    vmap,
)
from .config import config
from .counters import stats
from .creation import (
    arange,
    array,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    randn,
    randn_like,
    seed,
    zeros,
    zeros_like,
)
from .custom import checkpoint, checkpointed_range, custom_jvp, custom_vjp, remat
from .errors import (
    NablaError,
    NablaWarning,
    NoSourceError,
    NotDifferentiableError,
    StaleSourceError,
    TransformInputError,
    TransformOutputError,
    UnsupportedSyntaxError,
)
from .functions import (
    abs,
    concatenate,
    cos,
    exp,
    float32,
    float64,
    log,
    log_softmax,
    max,
    maximum,
    mean,
    minimum,
    relu,
    sigmoid,
    sin,
    softmax,
    sqrt,
    stack,
    sum,
    tanh,
    where,
)
from .lazy import Array, no_grad
from .runtime import stop_gradient
from .saved import saved

__version__ = "0.1.0"

__all__ = [
    "Function", "NablaError", "NablaWarning", "NoSourceError", "NotDifferentiableError",
    "StaleSourceError", "TransformInputError", "TransformOutputError", "UnsupportedSyntaxError",
    "clear_cache",
    "config", "grad", "hessian", "jacfwd", "jacrev", "jit", "jvp", "source", "value_and_grad",
    "vjp", "vmap", "stop_gradient", "custom_jvp", "custom_vjp", "checkpoint", "remat",
    "checkpointed_range", "saved", "stats",
    "sin", "cos", "exp", "log", "tanh", "sqrt", "abs", "relu", "sigmoid", "softmax",
    "log_softmax", "sum", "mean", "max", "maximum", "minimum", "where", "concatenate", "stack",
    "float32", "float64",
    "Array", "array", "randn", "rand", "zeros", "ones", "arange", "full", "zeros_like",
    "ones_like", "full_like", "randn_like", "seed", "no_grad",
]
