"""Making ``nabla.Array``s: ``nabla.array``, ``randn``, ``rand``, ``zeros``, ``ones``,
``arange``, ``full`` and their ``*_like``, each with ``dtype`` and ``requires_grad``; random
numbers from one generator that ``nabla.seed`` resets.

>>> import nabla
>>> nabla.seed(0)
>>> a = nabla.randn((2, 3), nabla.float32, requires_grad=True)
>>> a.dtype, a.shape, a.requires_grad, a.is_leaf
(dtype('float32'), (2, 3), True, True)
>>> nabla.zeros_like(a).numpy().sum()
np.float32(0.0)
"""

from __future__ import annotations

import numpy as np

from .lazy import Array

_rng = np.random.default_rng()


def seed(n: int) -> None:
    """Seed the generator of ``randn`` and ``rand`` (``np.random.seed`` seeds it too)."""
    global _rng
    _rng = np.random.default_rng(n)
    np.random.seed(n)


def generator() -> np.random.Generator:
    """The generator ``randn``, ``rand`` and ``nabla.nn``'s initializations draw from."""
    return _rng


def array(value, dtype=None, requires_grad: bool = False) -> Array:
    """An ``Array`` holding ``value`` (an array, a number, nested lists, or an Array's value)."""
    return Array(value.numpy() if isinstance(value, Array) else value, dtype, requires_grad)


def _made(value, dtype, requires_grad) -> Array:
    return Array(np.asarray(value, dtype=dtype or np.float64), requires_grad=requires_grad)


def _shape(shape):
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)


def randn(shape, dtype=np.float64, requires_grad: bool = False) -> Array:
    """Standard normal samples (``nabla.seed`` makes them reproducible)."""
    return _made(_rng.standard_normal(_shape(shape)), dtype, requires_grad)


def rand(shape, dtype=np.float64, requires_grad: bool = False) -> Array:
    """Uniform samples in [0, 1)."""
    return _made(_rng.random(_shape(shape)), dtype, requires_grad)


def zeros(shape, dtype=np.float64, requires_grad: bool = False) -> Array:
    """An ``Array`` of zeros of ``shape``."""
    return _made(np.zeros(_shape(shape)), dtype, requires_grad)


def ones(shape, dtype=np.float64, requires_grad: bool = False) -> Array:
    """An ``Array`` of ones of ``shape``."""
    return _made(np.ones(_shape(shape)), dtype, requires_grad)


def full(shape, fill_value, dtype=np.float64, requires_grad: bool = False) -> Array:
    """An ``Array`` of ``shape`` filled with ``fill_value``."""
    return _made(np.full(_shape(shape), fill_value), dtype, requires_grad)


def arange(*args, dtype=None, requires_grad: bool = False) -> Array:
    """``np.arange(*args)`` as an ``Array``: evenly spaced values in ``[start, stop)``."""
    return Array(np.arange(*args), dtype=dtype, requires_grad=requires_grad)


def zeros_like(a, dtype=None, requires_grad: bool = False) -> Array:
    """Zeros of ``a``'s shape (and dtype, unless ``dtype`` is given)."""
    return zeros(np.shape(a), dtype or a.dtype, requires_grad)


def ones_like(a, dtype=None, requires_grad: bool = False) -> Array:
    """Ones of ``a``'s shape (and dtype, unless ``dtype`` is given)."""
    return ones(np.shape(a), dtype or a.dtype, requires_grad)


def full_like(a, fill_value, dtype=None, requires_grad: bool = False) -> Array:
    """``fill_value`` in ``a``'s shape (and dtype, unless ``dtype`` is given)."""
    return full(np.shape(a), fill_value, dtype or a.dtype, requires_grad)


def randn_like(a, dtype=None, requires_grad: bool = False) -> Array:
    """Standard normal samples of ``a``'s shape (and dtype, unless ``dtype`` is given)."""
    return randn(np.shape(a), dtype or a.dtype, requires_grad)
