"""``nabla.nn``: layers, models and losses for ``nabla.Array``, PyTorch's way: a
``Module`` holds its parameters (Arrays that require grad) and sub-modules as
attributes, is called on an input, and lists ``parameters()`` in the order they were
set. ``state_dict()`` / ``load_state_dict()`` give and take NumPy arrays by name;
``save`` and ``load`` keep them in a ``.npz`` file.

>>> import nabla
>>> nabla.seed(0)
>>> model = nabla.nn.MLP([2, 8, 3])
>>> [tuple(p.shape) for p in model.parameters()]
[(2, 8), (8,), (8, 3), (3,)]
>>> logits = model(nabla.ones((4, 2)))
>>> loss = nabla.nn.softmax_cross_entropy(logits, [0, 1, 2, 0])
>>> loss.backward()
>>> model.layers[0].weight.grad.shape
(2, 8)

A ``Linear`` layer computes ``x @ weight + bias`` with ``weight`` of shape
``(in_features, out_features)`` (PyTorch stores its transpose).
"""

from __future__ import annotations

import math

import numpy as np

from . import creation
from . import lazy as _lazy
from .functions import log_softmax
from .lazy import Array

__all__ = ["Module", "Linear", "Sequential", "MLP", "ReLU", "Tanh", "Sigmoid",
           "mse_loss", "softmax_cross_entropy"]


class Module:
    """A layer or a model: parameters and sub-modules as attributes, ``forward(x)``."""

    def __call__(self, *args):
        if type(self).__module__ == __name__:  # one of ours: recorded at the caller's line
            if _lazy._state.where is not None:  # (inside another of ours: already found)
                return self.forward(*args)
            return _lazy.at_users_line(self.forward, *args)
        return _lazy.at_own_lines(self.forward, *args)  # the user's: at its own lines

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} defines no forward(): a Module "
                                  "subclass says what calling it computes there")

    def named_parameters(self, prefix: str = "") -> list:
        """``[(name, Array)]``, in the order the attributes were set."""
        out = []
        for name, value in vars(self).items():
            if isinstance(value, Array) and value.requires_grad:
                out.append((prefix + name, value))
            elif isinstance(value, Module):
                out.extend(value.named_parameters(f"{prefix}{name}."))
            elif isinstance(value, (list, tuple)):
                for i, m in enumerate(value):
                    if isinstance(m, Module):
                        out.extend(m.named_parameters(f"{prefix}{name}.{i}."))
        return out

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def state_dict(self) -> dict:
        """``{name: NumPy array}`` of the parameters (copies)."""
        return {name: np.array(p.numpy()) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Set every parameter from ``state`` (same names and shapes)."""
        params = dict(self.named_parameters())
        if sorted(state) != sorted(params):
            raise KeyError(f"load_state_dict: names differ: missing "
                           f"{sorted(set(params) - set(state))}, unexpected "
                           f"{sorted(set(state) - set(params))}")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"load_state_dict: {name} has shape {p.shape}, the state "
                                 f"{value.shape}")
            set_value(p, value)

    def save(self, path) -> None:
        np.savez(path, **self.state_dict())

    def load(self, path) -> None:
        with np.load(path) as data:
            self.load_state_dict({k: data[k] for k in data.files})


def set_value(p: Array, value, fresh: bool = False) -> None:
    """Give the leaf ``p`` a new value (it stays a leaf that requires grad); ``fresh``: an
    array nobody else holds (an optimizer's result), frozen rather than copied."""
    value = np.asarray(value)
    if value.dtype != p.dtype:
        value, fresh = value.astype(p.dtype), True
    p._node = _lazy._leaf(value, True, p, owned=fresh and value.base is None)


class Linear(Module):
    """``x @ weight + bias``; weights uniform in ±1/sqrt(in_features), as PyTorch's."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float32):
        bound = 1.0 / math.sqrt(in_features)
        self.weight = _uniform((in_features, out_features), bound, dtype)
        self.bias = _uniform((out_features,), bound, dtype) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


def _uniform(shape, bound, dtype) -> Array:
    """A parameter uniform in [-bound, bound), from nabla's generator (``nabla.seed``)."""
    value = (creation.generator().random(shape) * 2.0 - 1.0) * bound
    return Array(value.astype(dtype), requires_grad=True)


class ReLU(Module):
    """``max(x, 0)`` elementwise, as a layer."""

    def forward(self, x):
        return x.relu() if isinstance(x, Array) else np.maximum(x, 0.0)


class Tanh(Module):
    """``tanh(x)`` elementwise, as a layer."""

    def forward(self, x):
        return x.tanh() if isinstance(x, Array) else np.tanh(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise, as a layer."""

    def forward(self, x):
        return x.sigmoid() if isinstance(x, Array) else 1.0 / (1.0 + np.exp(-x))


class Sequential(Module):
    """The modules applied in turn."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Sequential):
    """Linear layers of ``sizes`` (inputs first), ``activation`` between them."""

    def __init__(self, sizes, activation=ReLU, dtype=np.float32):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(a, b, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)


def mse_loss(prediction, target):
    """The mean of the squared differences."""
    return _lazy.at_users_line(_mse, prediction, target)


def _mse(prediction, target):
    return np.mean((prediction - target) ** 2)


def softmax_cross_entropy(logits, labels):
    """The mean over the batch of ``-log softmax(logits)[label]``: ``labels`` are class
    indices (integers, one per row) or probabilities (the shape of ``logits``)."""
    return _lazy.at_users_line(_cross_entropy, logits, labels)


def _cross_entropy(logits, labels):
    labels = labels.numpy() if isinstance(labels, Array) else np.asarray(labels)
    if labels.dtype.kind in "iu":  # one-hot, made here: data, not recorded
        n = logits.shape[-1]
        labels = np.eye(n, dtype=logits.dtype)[labels]
    if not isinstance(logits, Array):
        return -np.mean(np.sum(labels * log_softmax(logits, axis=-1), axis=-1))
    # log_softmax's operations, as Array methods (NumPy's dispatch to them costs more)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - shifted.exp().sum(axis=-1, keepdims=True).log()
    return -(logp * labels).sum(axis=-1).mean()
