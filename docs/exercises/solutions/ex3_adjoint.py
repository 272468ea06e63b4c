"""Solution to exercise 3: reverse mode by hand.

The adjoint sweep reads the forward sweep's values (``z``, ``y``, ``out``) and visits
the lines in reverse. ``y`` is read by two lines, so two contributions add up in
``y_bar``: ``-w / y**2`` from the division (written ``-out / y``, as nabla writes it)
and ``x`` from the product.
"""

import numpy as np

from nabla.exercises import check


def f(x, y):
    z = x * y
    w = np.sin(z)
    return w / y


def f_grad(x, y):
    z = x * y
    w = np.sin(z)
    out = w / y
    # adjoint sweep
    out_bar = 1.0
    # out = w / y
    w_bar = out_bar / y
    # w = np.sin(z)
    z_bar = w_bar * np.cos(z)
    # z = x * y
    x_bar = z_bar * y
    y_bar = -out_bar * out / y + z_bar * x
    return x_bar, y_bar


if __name__ == "__main__":
    verdict = check(f_grad, f, argnums=(0, 1))
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
