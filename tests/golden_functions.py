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


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.01 * np.sin(x) * x
    return x


def branchy(x, y):
    if x > y:
        z = np.sin(x) * y
    elif x > 0.0:
        z = x * x
    else:
        z = np.exp(y)
    return z * x


def grid_writes(x, m):
    h = np.zeros((x.shape[0], m))
    for i in range(x.shape[0]):
        for j in range(m):
            h[i, j] = np.tanh(x[i] * (j + 1))
    return np.sum(h * h)


def _smooth(a, b):
    if a > b:
        return a * np.tanh(b)
    return a * a


def shared_calls(x, y):
    u = _smooth(x, y)
    for i in range(3):
        u = u + 0.5 * _smooth(u, y)
    return u


GOLDEN = {
    "cube": (cube, 0),
    "shared_calls": (shared_calls, (0, 1)),
    "logistic_loss": (logistic_loss, 0),
    "mlp_layer": (mlp_layer, (0, 1, 2)),
    "softplus_sum": (softplus_sum, 0),
    "scaled_norm": (scaled_norm, (0, 1)),
    "scalar_loop": (scalar_loop, 0),
    "branchy": (branchy, (0, 1)),
    "grid_writes": (grid_writes, 0),
}
