"""nabla in one page: a function, its gradient, and the derivative's source.

Run: python examples/quickstart.py
"""

import numpy as np

import nabla


def loss(x, W, b):
    h = np.tanh(W @ x + b)
    return np.sum(h ** 2)


rng = np.random.default_rng(0)
x, W, b = rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=4)

# The gradient with respect to all three arguments, compiled by Numba.
grad_loss = nabla.grad(loss, argnums=(0, 1, 2))
dx, dW, db = grad_loss(x, W, b)
print("loss       =", loss(x, W, b))
print("d loss/dx  =", dx)
print("d loss/db  =", db)

# The same derivative checked against central finite differences.
eps = 1e-6
fd = np.array([(loss(x + eps * e, W, b) - loss(x - eps * e, W, b)) / (2 * eps)
               for e in np.eye(3)])
print("finite differences agree:", np.allclose(dx, fd, rtol=1e-6, atol=1e-8))

# Forward mode: a Jacobian-vector product, in one pass.
value, slope = nabla.jvp(loss, (x, W, b), (np.ones(3), np.zeros((4, 3)), np.zeros(4)))
print("directional derivative along (1, 1, 1):", slope)

# The derivative is a program you can read.
print()
print(grad_loss.source)
