"""Exercise 4: the adjoint of a loop, with a tape.

A spring of stiffness ``k``, started at ``x`` at rest, stepped ``n`` times (a
semi-implicit Euler step of size 0.1):

    def position(k, x, n):
        v = 0.0
        for _ in range(n):
            a = -k * x
            v = v + 0.1 * a
            x = x + 0.1 * v
        return x

Write ``position_grad(k, x, n)`` returning ``d position / d k`` by reverse mode:

1. The forward sweep: the loop as it is, but first, in each iteration, push onto a
   *tape* (a list) what the adjoint sweep will need of that iteration. Which values
   are those? (Look at the local derivatives of the three lines: only one of the
   loop's values appears in them.)
2. The adjoint sweep: ``x_bar = 1.0`` (the output is the last ``x``), ``v_bar = 0.0``
   and ``k_bar = 0.0``, then the iterations in reverse order (``for i in
   reversed(range(n))``), each one the three lines in reverse, reading the tape:

       x = x_tape[i]              # this iteration's x, as it was
       v_bar = ...                # from  x = x + 0.1 * v  (x_bar itself is unchanged)
       a_bar = ...                # from  v = v + 0.1 * a
       k_bar = ...                # from  a = -k * x: k is used in every iteration,
       x_bar = ...                #   so k_bar adds up over the iterations

Check it:

    python docs/exercises/ex4_loop.py

The checker compares every value your ``v_bar``, ``a_bar``, ``x_bar`` and ``k_bar``
take with nabla's, iteration by iteration, and names the first line that differs.
nabla's own code (its tape is ``x_tape``, its counter ``k_1``; ``v_1_bar`` is its name
for the adjoint of the ``v`` the iteration computed):

    python -c "import nabla, ex4_loop as e; print(nabla.grad(e.position, mode='reverse').source)"

(from docs/exercises/).
"""

from nabla.exercises import check


def position(k, x, n):
    v = 0.0
    for _ in range(n):
        a = -k * x
        v = v + 0.1 * a
        x = x + 0.1 * v
    return x


def position_grad(k, x, n):
    raise NotImplementedError("your derivative here")


def check_mine(mine=position_grad):
    """Your position_grad against nabla.grad(position) (with respect to k), 6 steps."""
    return check(mine, position, examples=(2.0, 1.0, 6))


if __name__ == "__main__":
    verdict = check_mine()
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
