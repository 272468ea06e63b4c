"""Exercise 1: the gradient of a straight line.

The function is a straight line in ``x`` with slope ``a`` and intercept ``b``:

    def line(x, a, b):
        return a * x + b

Write ``line_grad(x, a, b)`` returning the gradient with respect to all three
arguments, as the tuple ``(d line/dx, d line/da, d line/db)`` — what
``nabla.grad(line, argnums=(0, 1, 2))`` returns.

No chain rule yet: each partial derivative treats the other two arguments as
constants. (Which of the three does not depend on the point at all?)

Check it:

    python docs/exercises/ex1_line.py

then read nabla's own derivative, and find your three answers in it (``x_bar``,
``a_bar`` and, under another name, ``b_bar``):

    python -c "import nabla, ex1_line; print(nabla.grad(ex1_line.line, argnums=(0, 1, 2)).source)"

(run from docs/exercises/).
"""

from nabla.exercises import check


def line(x, a, b):
    return a * x + b


def line_grad(x, a, b):
    raise NotImplementedError("your derivative here")


def check_mine(mine=line_grad):
    """Your line_grad against nabla.grad(line, argnums=(0, 1, 2))."""
    return check(mine, line, argnums=(0, 1, 2))


if __name__ == "__main__":
    verdict = check_mine()
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
