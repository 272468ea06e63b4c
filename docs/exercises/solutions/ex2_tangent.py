"""Solution to exercise 2: forward mode by hand.

Each tangent line differentiates the line above it, reading tangents already known:
``d(x * x) = x_dot * x + x * x_dot``, ``d sqrt(s) = s_dot / (2 sqrt(s))``, and the
product rule for ``t * y``.
"""

import numpy as np

from nabla.exercises import check


def f(x, y):
    s = x * x + y
    t = np.sqrt(s)
    return t * y


def f_jvp(x, y, x_dot, y_dot):
    s = x * x + y
    s_dot = 2 * x * x_dot + y_dot
    t = np.sqrt(s)
    t_dot = s_dot / (2 * t)
    out = t * y
    out_dot = t_dot * y + t * y_dot
    return out, out_dot


if __name__ == "__main__":
    verdict = check(f_jvp, f, mode="jvp")
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
