"""What the hunt with tests/test_random_programs.py met, pinned with Numba off and on (the
``jit_mode`` fixture); every derivative against central finite differences.

The hunt after the audit's fixes (some 21,000 programs under Python, 1,400 compiled, with
the augmented, tuple, int-start, array and return-in-loop shapes) found no wrong result.
What it did meet, and the generator or the check now depends on:

- reverse mode refused, before running, a loop that writes into an array and reads all of
  it; it differentiates it now (each write undone right after its own adjoint), and the
  check accepts no refusal;
- at a point where a branch flips there and nowhere around it (``x > 0.0 or x < 0.0`` at
  x = 0.0), the derivative is the one of the branch taken at the point, which no difference
  quotient sees: the generator draws its inputs off such simple values.
"""

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jvp

import nabla

V = np.array([0.2, -0.4, 0.9, 0.33])
V_TANGENT = np.array([0.3, -0.7, 0.5, 0.2])


# -- a loop that writes into an array and reads all of it --------------------------------
def reads_all_while_writing(x, y, v, n):
    w0 = x - v
    for i0 in range(n):
        w0[i0 % 4] = np.tanh(np.mean(w0) * y)
    return np.sum(np.sin(w0)) * x


def test_reverse_mode_of_a_loop_reading_all_of_what_it_writes(jit_mode):
    # refused until each write in a loop was undone right after its own adjoint
    args = [0.31, 0.72, V.copy(), 3]
    for mode in ("reverse", "forward"):
        grads = nabla.grad(reads_all_while_writing, argnums=(0, 1, 2), mode=mode)(*args)
        for k, g in enumerate(grads):
            assert_close(g, numerical_grad(reads_all_while_writing, args, argnum=k))
    np.testing.assert_array_equal(args[2], V)


def test_jit_and_jvp_of_a_loop_reading_all_of_what_it_writes(jit_mode):
    v = V.copy()
    args = [0.31, 0.72, v, 3]
    value = reads_all_while_writing(*args)
    assert nabla.jit(reads_all_while_writing)(*args) == pytest.approx(value, rel=1e-12)
    out, out_dot = nabla.jvp(reads_all_while_writing, tuple(args), (1.0, 0.5, V_TANGENT, 0))
    assert out == pytest.approx(value, rel=1e-12)
    assert_close(out_dot, numerical_jvp(reads_all_while_writing, args,
                                        [1.0, 0.5, V_TANGENT, None]))
    np.testing.assert_array_equal(v, V)


# -- a branch that flips at one point alone ----------------------------------------------
def flips_at_zero_alone(x, y, v, n):
    if x > 0.0 or x < 0.0:
        y -= 0.5 * np.sin(y / (1.0 + y * y) - np.mean(v))
        y, x = x, y
    else:
        y /= (1.0 + y * y)
    x = np.tanh((y + x) + (x - x))
    x -= 0.5 * np.tanh((x / (1.0 + y * y)) ** 2)
    x += 0.5 * np.tanh(np.sin(-0.3) - np.cos(y))
    return (x + x) ** 2


def the_branch_taken_at_zero(x, y, v, n):
    """flips_at_zero_alone with the else branch taken everywhere."""
    y /= (1.0 + y * y)
    x = np.tanh((y + x) + (x - x))
    x -= 0.5 * np.tanh((x / (1.0 + y * y)) ** 2)
    x += 0.5 * np.tanh(np.sin(-0.3) - np.cos(y))
    return (x + x) ** 2


def test_derivative_at_a_point_where_a_branch_flips_alone(jit_mode):
    """At x == 0.0 the else branch runs, and every point around takes the other: nabla
    differentiates the branch taken (as any AD does), which differs from what central
    differences around the point measure."""
    args = [0.0, 0.0, np.zeros(4), 1]
    assert flips_at_zero_alone(*args) == the_branch_taken_at_zero(*args)
    grads = nabla.grad(flips_at_zero_alone, argnums=(0, 1, 2))(*args)
    for i, g in enumerate(grads):
        assert_close(g, numerical_grad(the_branch_taken_at_zero, args, i))
    _, out_dot = nabla.jvp(flips_at_zero_alone, tuple(args), (1.0, 0.5, V_TANGENT, 0))
    taken = numerical_jvp(the_branch_taken_at_zero, args, [1.0, 0.5, V_TANGENT, None])
    around = numerical_jvp(flips_at_zero_alone, args, [1.0, 0.5, V_TANGENT, None])
    assert_close(out_dot, taken)
    assert abs(float(around) - float(taken)) > 0.5  # what the random test must not compare
