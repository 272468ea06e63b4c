"""Exercise 5: a Hessian-vector product.

A chain of particles with a quartic potential each and a coupling between neighbours:

    def energy(x):
        return 0.25 * np.sum(x ** 4) + np.sum(x[:-1] * x[1:])

Write ``energy_hvp(x, v)`` returning ``H(x) @ v``, the Hessian of ``energy`` at ``x``
times the vector ``v``, *without* making the n-by-n Hessian: ``O(n)`` work and memory.

How: ``H v`` is the directional derivative of the gradient along ``v``
(``d/de grad(x + e v)`` at ``e = 0``): forward mode over reverse mode. nabla computes
it as ``nabla.jvp(nabla.grad(energy), (x,), (v,))[1]``.

1. Work out the gradient ``g(x)`` by hand (component ``i`` of the coupling term's
   gradient is ``x[i-1] + x[i+1]``, where those exist).
2. Differentiate ``g`` along ``v``: every ``x`` in it becomes ``v``, with the chain
   rule for ``x ** 3``.

Check it:

    python docs/exercises/ex5_hvp.py

(Inputs: random ``x`` and ``v`` of length 6.) Then compare with the whole Hessian:
``nabla.hessian(energy)(x) @ v``; and read the code nabla writes for the gradient you
differentiated, ``print(nabla.grad(energy, mode='reverse').source)``.
"""

import numpy as np

from nabla.exercises import check


def energy(x):
    return 0.25 * np.sum(x ** 4) + np.sum(x[:-1] * x[1:])


def energy_hvp(x, v):
    raise NotImplementedError("your derivative here")


def check_mine(mine=energy_hvp):
    """Your energy_hvp against nabla.jvp(nabla.grad(energy), (x,), (v,))[1]."""
    return check(mine, energy, mode="hvp", examples=(np.ones(6),))


if __name__ == "__main__":
    verdict = check_mine()
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
