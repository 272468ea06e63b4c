"""Exercise 2: forward mode by hand — the tangent code of a small function.

The function:

    def f(x, y):
        s = x * x + y
        t = np.sqrt(s)
        return t * y

Forward mode carries, next to every value ``v``, its *tangent* ``v_dot``: how fast
``v`` changes when the inputs move in the direction ``(x_dot, y_dot)``. Write

    def f_jvp(x, y, x_dot, y_dot):
        ...
        return out, out_dot

returning the value of ``f`` and its directional derivative
``df/dx * x_dot + df/dy * y_dot`` — what ``nabla.jvp(f, (x, y), (x_dot, y_dot))``
returns. Write it line by line: after each line of ``f`` that computes ``v``, a line
that computes ``v_dot`` from the tangents already known (product rule, chain rule):

    s = x * x + y
    s_dot = ...
    t = np.sqrt(s)
    t_dot = ...
    out = t * y
    out_dot = ...

Check it:

    python docs/exercises/ex2_tangent.py

The checker runs your f_jvp and nabla's generated ``f_jvp`` side by side; if a line of
yours is wrong it names the first one whose ``_dot`` variable differs from nabla's
variable of the same name. nabla's own code:

    python -c "import nabla, ex2_tangent as e; print(nabla.source(e.f, mode='jvp'))"

(from docs/exercises/; it has the same lines as yours, nearly).
"""

import numpy as np

from nabla.exercises import check


def f(x, y):
    s = x * x + y
    t = np.sqrt(s)
    return t * y


def f_jvp(x, y, x_dot, y_dot):
    raise NotImplementedError("your derivative here")


def check_mine(mine=f_jvp):
    """Your f_jvp against nabla.jvp(f, (x, y), (x_dot, y_dot))."""
    return check(mine, f, mode="jvp")


if __name__ == "__main__":
    verdict = check_mine()
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
