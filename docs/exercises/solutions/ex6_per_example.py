"""Solution to exercise 6: per-example gradients of a batch.

One example's adjoint code is ``r_bar = r``, ``s_bar = r_bar * (1 - p ** 2)`` (through
the tanh) and ``w_bar = s_bar * x`` (through the dot product). On the batch every line
keeps a leading axis of ``B``: ``X @ w`` makes the ``B`` dot products at once, and
``s_bar[:, None] * X`` scales row ``b`` of ``X`` by ``s_bar[b]``.
"""

import numpy as np

from nabla.exercises import check


def loss(w, x, y):
    p = np.tanh(np.dot(w, x))
    r = p - y
    return 0.5 * r * r


def loss_grads(w, X, Y):
    p = np.tanh(X @ w)                 # (B,)
    r = p - Y
    out_bar = np.ones_like(r)
    r_bar = out_bar * r
    s_bar = r_bar * (1 - p * p)        # the adjoint of np.dot(w, x), per example
    w_bar = s_bar[:, None] * X         # (B, D)
    return w_bar


if __name__ == "__main__":
    verdict = check(loss_grads, loss, mode="vmap_grad", in_axes=(None, 0, 0),
                    examples=(np.ones(3), np.ones((8, 3)), np.ones(8)))
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
