"""Array functions under nabla's name: ``nabla.sin``, ``nabla.sum``, ``nabla.softmax``, ...

They are NumPy's own functions, or written with them, so that they take NumPy arrays
and return NumPy arrays, and the transforms read ``nabla.sin(x)`` exactly as
``np.sin(x)``; given a ``nabla.Array`` they record (NumPy hands Arrays to the Array's
``__array_ufunc__`` and ``__array_function__``). ``nabla.randn`` and the other
constructors make ``nabla.Array``s (``lazy.py``).

>>> import nabla
>>> float(nabla.sum(nabla.relu(np.array([-1.0, 2.0]))))
2.0
>>> nabla.softmax(np.array([0.0, 0.0]))
array([0.5, 0.5])
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


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, computed without overflow."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` along ``axis``, computed without overflow."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


abs = np.abs  # noqa: A001 - nabla.abs, as np.abs
maximum = np.maximum
minimum = np.minimum
where = np.where
concatenate = np.concatenate
stack = np.stack
max = np.max  # noqa: A001

__all__ = ["sin", "cos", "exp", "log", "tanh", "sqrt", "abs", "relu", "sigmoid", "softmax",
           "log_softmax", "sum", "mean", "max", "maximum", "minimum", "where", "concatenate",
           "stack", "float32", "float64"]
