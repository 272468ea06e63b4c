"""Exercise 3: reverse mode by hand — the adjoint code of a three-line function.

The function:

    def f(x, y):
        z = x * y
        w = np.sin(z)
        return w / y

Reverse mode runs the function forward (the *forward sweep*), then walks its lines
backwards (the *adjoint sweep*), computing for each value ``v`` its *adjoint*
``v_bar``: the derivative of the output with respect to ``v``. Write ``f_grad(x, y)``
returning ``(df/dx, df/dy)`` that way, one adjoint per line:

    z = x * y
    w = np.sin(z)
    out = w / y
    out_bar = 1.0           # d out / d out
    w_bar = ...             # from  out = w / y
    z_bar = ...             # from  w = np.sin(z)
    x_bar = ...             # from  z = x * y
    y_bar = ...             # y is used twice (z = x * y and out = w / y):
                            # its adjoint is the sum of both contributions
    return x_bar, y_bar

Each line reads the adjoint of the value the line it comes from *computed*, times the
local derivative: from ``w = np.sin(z)``, ``z_bar = w_bar * np.cos(z)``.

Check it:

    python docs/exercises/ex3_adjoint.py

If a line is wrong, the checker names the first one whose value differs from nabla's
variable of the same name ("line 40 of ex3_adjoint.py: y_bar = ...: your y_bar is
-0.3, nabla's y_bar is 0.3"). Then read nabla's own adjoint code, which has the same
names (the comments quote the line each block comes from):

    import nabla, ex3_adjoint
    print(nabla.grad(ex3_adjoint.f, argnums=(0, 1), mode="reverse").source)

(in Python, from docs/exercises/).
"""

import numpy as np

from nabla.exercises import check


def f(x, y):
    z = x * y
    w = np.sin(z)
    return w / y


def f_grad(x, y):
    raise NotImplementedError("your derivative here")


def check_mine(mine=f_grad):
    """Your f_grad against nabla.grad(f, argnums=(0, 1))."""
    return check(mine, f, argnums=(0, 1))


if __name__ == "__main__":
    verdict = check_mine()
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
