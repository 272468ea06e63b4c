"""The functions whose generated source is pinned by golden tests."""

import math

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


def shrink(x, r):
    # back into the ball of radius r
    s = np.sqrt(np.sum(x * x))
    if s > r:
        y = x * (r / s)
    else:
        y = x
    return np.sum(y * y)


def spring(p, k):
    # a 2-D offset rotated by k: small arrays of two elements
    c = math.cos(k)
    s = math.sin(k)
    q = np.array([c * p[0] - s * p[1], s * p[0] + c * p[1]])
    d = q - np.array([1.0, 0.5])
    return np.sum(d * d) * k


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


def while_loop(x):
    y = x
    while y < 10.0:
        y = y * 1.5 + np.sin(y)
    return y * x


def horner(c, x):
    p = c[0]
    for i in range(1, c.shape[0]):
        p = p * x + c[i]
    return p


def weighted_rows(w, x):
    # np.exp(w) is the same in every iteration: computed once, before the loop
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(np.exp(w) * x[i])
    return s


GOLDEN = {
    "cube": (cube, 0),
    "shared_calls": (shared_calls, (0, 1)),
    "logistic_loss": (logistic_loss, 0),
    "mlp_layer": (mlp_layer, (0, 1, 2)),
    "softplus_sum": (softplus_sum, 0),
    "scaled_norm": (scaled_norm, (0, 1)),
    "scalar_loop": (scalar_loop, 0),
    "branchy": (branchy, (0, 1)),
    "shrink": (shrink, 0),
    "spring": (spring, (0, 1)),
    "grid_writes": (grid_writes, 0),
    "while_loop": (while_loop, 0),
    "horner": (horner, (0, 1)),
    "weighted_rows": (weighted_rows, (0, 1)),
}

# arguments like those a call passes: the golden gradients and benchmarks/source_size.py
# show the module such a call runs (its shapes known: which values are scalars)
_x3 = np.array([0.3, -0.2, 0.5])
EXAMPLES = {
    "cube": (1.5,),
    "shared_calls": (0.7, 0.4),
    "logistic_loss": (_x3, np.ones((4, 3)), np.array([0.0, 1.0, 1.0, 0.0])),
    "mlp_layer": (_x3, np.ones((2, 3)), np.zeros(2)),
    "softplus_sum": (_x3,),
    "scaled_norm": (_x3, 2.0),
    "scalar_loop": (0.5, 4),
    "branchy": (0.5, 0.2),
    "shrink": (np.array([3.0, 4.0, 0.0]), 2.0),
    "spring": (np.array([0.3, -0.7]), 0.4),
    "grid_writes": (_x3, 4),
    "while_loop": (1.2,),
    "horner": (np.array([1.0, -2.0, 0.5]), 0.7),
    "weighted_rows": (_x3, np.ones((2, 3))),
}
