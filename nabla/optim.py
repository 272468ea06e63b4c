"""``nabla.optim``: SGD (momentum, weight decay) and Adam, in two styles with one set of
formulas (PyTorch's):

- imperative: ``opt = SGD(model.parameters(), lr=0.1)``, then ``opt.zero_grad()``,
  ``loss.backward()``, ``opt.step()``;
- functional: pure functions over parameter pytrees (tuples, lists, dicts of NumPy
  arrays), for a step made with ``jit(value_and_grad(loss))``:
  ``state = sgd_init(params)``, ``params, state = sgd_update(params, grads, state,
  lr=0.1)`` (``adam_init`` / ``adam_update`` likewise). Nothing is updated in place.

>>> import numpy as np
>>> params = {"w": np.array([1.0, 2.0])}
>>> state = adam_init(params)
>>> params, state = adam_update(params, {"w": np.array([0.5, -0.5])}, state, lr=0.1)
>>> params["w"]  # Adam's first step moves each weight by lr against its gradient's sign
array([0.9, 2.1])
"""

from __future__ import annotations

import numpy as np

from . import pytree
from .lazy import Array
from .nn import set_value

__all__ = ["SGD", "Adam", "sgd_init", "sgd_update", "adam_init", "adam_update"]


# -- the formulas, on one array ---------------------------------------------------------
def _sgd(p, g, buf, lr, momentum, weight_decay, nesterov):
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        buf = g if buf is None else momentum * buf + g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def _adam(p, g, m, v, t, lr, b1, b2, eps, weight_decay):
    if weight_decay:
        g = g + weight_decay * p
    m = b1 * m + (1.0 - b1) * g
    v = b2 * v + (1.0 - b2) * g * g
    m_hat = m / (1.0 - b1 ** t)
    v_hat = v / (1.0 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# -- functional ---------------------------------------------------------------------------
def sgd_init(params) -> dict:
    """SGD's state for ``params``: no momentum buffers yet."""
    leaves, tree = pytree.flatten(params)
    return {"buf": [None] * len(leaves)}


def sgd_update(params, grads, state, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    """``(new params, new state)``: one SGD step."""
    leaves, tree = pytree.flatten(params)
    gleaves, _ = pytree.flatten(grads)
    out, bufs = [], []
    for p, g, buf in zip(leaves, gleaves, state["buf"]):
        p = np.asarray(p)
        new, buf = _sgd(p, np.asarray(g, p.dtype), buf, lr, momentum, weight_decay, nesterov)
        out.append(new.astype(p.dtype, copy=False))
        bufs.append(buf)
    return pytree.unflatten(tree, out), {"buf": bufs}


def adam_init(params) -> dict:
    """Adam's state for ``params``: moments at zero, no step taken."""
    leaves, _ = pytree.flatten(params)
    return {"t": 0, "m": [np.zeros_like(np.asarray(p)) for p in leaves],
            "v": [np.zeros_like(np.asarray(p)) for p in leaves]}


def adam_update(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                weight_decay=0.0):
    """``(new params, new state)``: one Adam step."""
    leaves, tree = pytree.flatten(params)
    gleaves, _ = pytree.flatten(grads)
    t = state["t"] + 1
    out, ms, vs = [], [], []
    for p, g, m, v in zip(leaves, gleaves, state["m"], state["v"]):
        p = np.asarray(p)
        new, m, v = _adam(p, np.asarray(g, p.dtype), m, v, t, lr, betas[0], betas[1], eps,
                          weight_decay)
        out.append(new.astype(p.dtype, copy=False))
        ms.append(m.astype(p.dtype, copy=False))
        vs.append(v.astype(p.dtype, copy=False))
    return pytree.unflatten(tree, out), {"t": t, "m": ms, "v": vs}


# -- imperative ---------------------------------------------------------------------------
class Optimizer:
    """Updates the ``params`` (Arrays that require grad) from their ``.grad``."""

    def __init__(self, params):
        self.params = list(params)
        if not all(isinstance(p, Array) and p.requires_grad for p in self.params):
            raise TypeError("an optimizer takes Arrays that require grad "
                            "(model.parameters())")

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _with_grads(self):
        return [(k, p) for k, p in enumerate(self.params) if p.grad_array() is not None]


class SGD(Optimizer):
    """``p -= lr * g``, with momentum (PyTorch's form), Nesterov and weight decay."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.nesterov = nesterov
        self.state = [None] * len(self.params)

    def step(self) -> None:
        for k, p in self._with_grads():
            value = p.numpy()
            new, self.state[k] = _sgd(value, p.grad_array(), self.state[k], self.lr,
                                      self.momentum, self.weight_decay, self.nesterov)
            set_value(p, new, fresh=True)


class Adam(Optimizer):
    """Adam (Kingma and Ba), with L2 weight decay as PyTorch's ``Adam``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0
        self.m = [np.zeros(p.shape, p.dtype) for p in self.params]
        self.v = [np.zeros(p.shape, p.dtype) for p in self.params]

    def step(self) -> None:
        self.t += 1
        for k, p in self._with_grads():
            new, self.m[k], self.v[k] = _adam(p.numpy(), p.grad_array(), self.m[k],
                                              self.v[k], self.t, self.lr, self.betas[0],
                                              self.betas[1], self.eps, self.weight_decay)
            set_value(p, new, fresh=True)
