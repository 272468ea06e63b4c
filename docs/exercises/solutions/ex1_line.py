"""Solution to exercise 1: the gradient of a straight line.

``a * x + b`` changes by ``a`` per unit of ``x``, by ``x`` per unit of ``a``, and by
exactly one per unit of ``b``, wherever the point is.
"""

from nabla.exercises import check


def line(x, a, b):
    return a * x + b


def line_grad(x, a, b):
    return (a, x, 1.0)


if __name__ == "__main__":
    verdict = check(line_grad, line, argnums=(0, 1, 2))
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
