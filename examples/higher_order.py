"""Hessians, Hessian-vector products, Jacobians and pytrees with nabla.

Run: python examples/higher_order.py
"""

import numpy as np

import nabla


def loss(params, x, y):
    """A two-layer network's squared error: params is a tuple of four arrays."""
    W1, b1, W2, b2 = params
    h = np.tanh(W1 @ x + b1)
    return np.sum((W2 @ h + b2 - y) ** 2)


def energy(x):
    """A chain of springs with a loop: the kind of code nabla is for."""
    e = 0.0
    for i in range(x.shape[0] - 1):
        d = x[i + 1] - x[i]
        e = e + (d * d - 1.0) ** 2
    return e


def main():
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)),
              rng.normal(size=2))
    x, y = rng.normal(size=3), rng.normal(size=2)

    grads = nabla.grad(loss)(params, x, y)  # a 4-tuple, like params
    print("gradient shapes:", [g.shape for g in grads])

    q = np.linspace(0.0, 3.0, 6)
    H = nabla.hessian(energy)(q)  # jacfwd(jacrev(energy)): forward over reverse
    print("Hessian of the chain:", H.shape, "symmetric:", np.allclose(H, H.T))

    v = np.ones_like(q)
    g, Hv = nabla.jvp(nabla.grad(energy), (q,), (v,))  # a Hessian-vector product
    print("H @ v matches:", np.allclose(Hv, H @ v))

    J = nabla.jacrev(lambda_free_model)(x)
    print("Jacobian:", J.shape)

    print(nabla.hessian(energy).source)  # the derivative program, readable


def lambda_free_model(x):
    return np.sin(x) * x[0]


if __name__ == "__main__":
    main()
