"""Exercise 6: per-example gradients of a batch — a vmap of a gradient.

The loss of one example ``(x, y)`` of a one-neuron model with weights ``w``:

    def loss(w, x, y):
        p = np.tanh(np.dot(w, x))
        r = p - y
        return 0.5 * r * r

For a batch ``X`` (shape ``(B, D)``, an example per row) and ``Y`` (shape ``(B,)``),
write ``loss_grads(w, X, Y)`` returning the ``(B, D)`` array whose row ``b`` is the
gradient of ``loss`` with respect to ``w`` at example ``b`` — what
``nabla.vmap(nabla.grad(loss), in_axes=(None, 0, 0))(w, X, Y)`` returns — with array
operations on the whole batch, and no Python loop over the examples.

Do it in two steps:

1. The adjoint code of one example (as in exercise 3): ``out_bar = 1``, then
   ``r_bar``, the adjoint of ``np.dot(w, x)`` (call it ``s_bar``), and ``w_bar``.
2. The batch: each line of it, on arrays with a leading batch axis — ``X @ w`` for the
   ``B`` dot products, and ``s_bar[:, None] * X`` for ``B`` outer products with
   one-element ``s_bar``.

Keep nabla's names (``r_bar``, ``w_bar``): the checker stacks nabla's values of
them over the examples and compares them with yours, line by line.

Check it:

    python docs/exercises/ex6_per_example.py

and read nabla's version (the function of one example, and the loop over the batch
that calls it):

    import nabla, numpy as np, ex6_per_example as e
    grads = nabla.vmap(nabla.grad(e.loss), in_axes=(None, 0, 0))
    grads(np.ones(3), np.ones((4, 3)), np.ones(4))
    print(grads.source)

(in Python, from docs/exercises/).
"""

import numpy as np

from nabla.exercises import check


def loss(w, x, y):
    p = np.tanh(np.dot(w, x))
    r = p - y
    return 0.5 * r * r


def loss_grads(w, X, Y):
    raise NotImplementedError("your derivative here")


def check_mine(mine=loss_grads):
    """Your loss_grads against nabla.vmap(nabla.grad(loss), in_axes=(None, 0, 0))."""
    return check(mine, loss, mode="vmap_grad", in_axes=(None, 0, 0),
                 examples=(np.ones(3), np.ones((8, 3)), np.ones(8)))


if __name__ == "__main__":
    verdict = check_mine()
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
