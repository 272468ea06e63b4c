"""Solution to exercise 5: a Hessian-vector product.

The gradient is ``g = x ** 3 + c`` with ``c[i] = x[i-1] + x[i+1]`` (the neighbours that
exist). Along ``v``, ``x ** 3`` changes by ``3 x ** 2 v`` and the coupling by the same
sums of ``v``'s neighbours: the Hessian is diagonal plus the two off-diagonals of ones,
applied in ``O(n)`` without making it.
"""

import numpy as np

from nabla.exercises import check


def energy(x):
    return 0.25 * np.sum(x ** 4) + np.sum(x[:-1] * x[1:])


def energy_hvp(x, v):
    hv = 3 * x ** 2 * v
    hv[:-1] += v[1:]
    hv[1:] += v[:-1]
    return hv


if __name__ == "__main__":
    verdict = check(energy_hvp, energy, mode="hvp", examples=(np.ones(6),))
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
