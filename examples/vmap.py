"""Batching with nabla.vmap: per-example gradients of a simulation, a batched
function's Hessian (the original Nabla README's example), and the generated source.

Run: python examples/vmap.py
"""

import numpy as np

import nabla


def oscillator(k, x0, n):
    """Final position of a damped oscillator x'' = -k x - 0.1 x' (explicit Euler)."""
    x = x0
    v = 0.0
    for i in range(n):
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return x


def foo(x):
    return nabla.sum(nabla.sin(x))


def main():
    # d x(T) / d k for a sweep of stiffnesses: a loop over the examples, on all cores
    stiffness = np.linspace(0.5, 3.0, 10_000)
    per_example = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None),
                             target="parallel")
    dk = per_example(stiffness, 1.0, 200)
    print("d x(T)/dk at k = 0.5, 1.75, 3.0:", dk[[0, 5000, -1]])

    # the batched primal has no branch on the batch: the vector form
    positions = nabla.vmap(oscillator, in_axes=(0, None, None))
    print("x(T) at the same k:", positions(stiffness, 1.0, 200)[[0, 5000, -1]])
    print(positions.source)

    foo_hessian = nabla.jacfwd(nabla.jacrev(nabla.vmap(foo)))
    h = foo_hessian(nabla.randn((2, 3), nabla.float32))
    print("Hessian of vmap(foo):", h.shape, h.dtype)  # (2, 2, 3, 2, 3) float32


if __name__ == "__main__":
    main()
