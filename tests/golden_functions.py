"""The functions whose generated source is pinned by golden tests."""

import numpy as np


def cube(x):
    return x * x * x


def logistic_loss(w, X, y):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def mlp_layer(x, W, b):
    h = np.tanh(W @ x + b)
    return np.sum(h ** 2)


def softplus_sum(x):
    y = np.log1p(np.exp(x))
    return np.sum(y * y)


def scaled_norm(x, s):
    r = np.sqrt(np.sum(x * x))
    return s * r + 0.5 * s * s


GOLDEN = {
    "cube": (cube, 0),
    "logistic_loss": (logistic_loss, 0),
    "mlp_layer": (mlp_layer, (0, 1, 2)),
    "softplus_sum": (softplus_sum, 0),
    "scaled_norm": (scaled_norm, (0, 1)),
}
