"""Array functions under nabla's name: ``nabla.sin``, ``nabla.sum``, ``nabla.randn``, ...

Today they take NumPy arrays and return NumPy arrays (most are NumPy's own
functions, so the transforms read ``nabla.sin(x)`` exactly as ``np.sin(x)``);
the imperative ``Array`` of a later issue will accept them too.

>>> import nabla
>>> float(nabla.sum(nabla.relu(np.array([-1.0, 2.0]))))
2.0
>>> nabla.randn((2, 3), nabla.float32).dtype
dtype('float32')
"""

import numpy as np

sin = np.sin
cos = np.cos
exp = np.exp
log = np.log
tanh = np.tanh
sqrt = np.sqrt
sum = np.sum  # noqa: A001 - nabla.sum, as np.sum
mean = np.mean
float32 = np.float32
float64 = np.float64


def relu(x):
    """``max(x, 0)`` elementwise (derivative 0 at 0, as JAX and PyTorch give)."""
    return np.where(x > 0, x, 0 * x)


def randn(shape, dtype=np.float64):
    """Standard normal samples of ``shape`` and ``dtype``, from NumPy's global generator
    (``np.random.seed`` seeds it)."""
    return np.random.standard_normal(shape).astype(dtype)


__all__ = ["sin", "cos", "exp", "log", "tanh", "sqrt", "relu", "sum", "mean", "randn",
           "float32", "float64"]
