"""Solution to exercise 4: the adjoint of a loop, with a tape.

Only ``x`` appears in the local derivatives (``d a / d k = -x``), so the tape keeps
one number per iteration: the ``x`` the iteration started from. ``x_bar`` carries the
adjoint of the loop's ``x`` backwards through the iterations, ``v_bar`` that of ``v``,
and ``k_bar`` collects one contribution per iteration.
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
    # forward sweep, taping each iteration's x
    v = 0.0
    x_tape = []
    for _ in range(n):
        x_tape.append(x)
        a = -k * x
        v = v + 0.1 * a
        x = x + 0.1 * v
    # adjoint sweep
    x_bar = 1.0
    v_bar = 0.0
    k_bar = 0.0
    for i in reversed(range(n)):
        x = x_tape[i]
        # x = x + 0.1 * v
        v_bar = v_bar + 0.1 * x_bar
        # v = v + 0.1 * a
        a_bar = 0.1 * v_bar
        # a = -k * x
        k_bar = k_bar - a_bar * x
        x_bar = x_bar - k * a_bar
    return k_bar


if __name__ == "__main__":
    verdict = check(position_grad, position, examples=(2.0, 1.0, 6))
    print(verdict)
    raise SystemExit(0 if verdict.ok else 1)
