# forward mode, with respect to x
# for float64 arguments
import numpy as np

from nabla.runtime import basis, basis_count, broadcast_like, jac_column, jac_like, jac_row, range_len, tape_entry, tape_like, zero_like


def scalar_loop_jacrev_jacfwd(x, n):
    # column j of a Jacobian: the jvp along basis direction j (not the vector forward mode: jac_row() of a batched value at `x_jac_1_dot = jac_row(x_jac_dot, i_1, t10_jvp...` of scalar_loop_jacrev_jvp)
    x_first = scalar_loop_jacrev_jvp(x, n, basis(x, 0))
    x_jac = jac_column(jac_like(x_first[1], x), 0, x_first[1])
    for j in range(1, basis_count(x)):
        x_col = scalar_loop_jacrev_jvp(x, n, basis(x, j))[1]
        x_jac = jac_column(x_jac, j, x_col)
    return x_jac


def scalar_loop_jacrev_jvp(x, n, x_dot):
    n_1 = range_len(0, n, 1)
    x_tape = tape_like(x, n_1)
    x_tape_dot = zero_like(x_tape)
    for i in range(0, n, 1):
        t1 = tape_entry(x, x_tape)
        t1_dot = x_dot
        x_tape_dot[i] = t1_dot
        x_tape[i] = t1
        t2 = 0.01 * np.sin(x)
        x_1 = x - t2 * x
        x_1_dot = x_dot - (0.01 * (x_dot * np.cos(x)) * x + t2 * x_dot)
        x = x_1
        x_dot = x_1_dot
    out = x
    x_jac = jac_like(out, x)
    x_jac_dot = zero_like(x_jac)
    t3 = basis_count(out)
    for i_1 in range(0, t3, 1):
        t10_jvp = scalar_loop_vjp_bwd_jvp_x_tape(basis(out, i_1), n_1, x_tape, x_tape_dot)
        x_jac_1 = jac_row(x_jac, i_1, t10_jvp[0][0])
        x_jac_1_dot = jac_row(x_jac_dot, i_1, t10_jvp[1][0])
        x_jac = x_jac_1
        x_jac_dot = x_jac_1_dot
    return (x_jac, x_jac_dot)


def scalar_loop_vjp_bwd_jvp_x_tape(x_bar, n_1, x_tape, x_tape_dot):
    x_bar_dot = zero_like(x_bar)
    t1 = n_1 - 1
    for i in range(t1, -1, -1):
        x = x_tape[i]
        x_dot = x_tape_dot[i]
        t1_bar = -x_bar
        t1_bar_dot = -x_bar_dot
        t2 = 0.01 * np.sin(x)
        t3 = x_bar + t2 * t1_bar
        t4 = 0.01 * (t1_bar * x)
        t5 = np.cos(x)
        x_bar_1 = t3 + t4 * t5
        x_bar_1_dot = broadcast_like(broadcast_like(x_bar_dot, t3) + (0.01 * (x_dot * np.cos(x)) * t1_bar + t2 * t1_bar_dot), x_bar_1) + (0.01 * (t1_bar_dot * x + t1_bar * x_dot) * t5 - t4 * (x_dot * np.sin(x)))
        x_bar = x_bar_1
        x_bar_dot = x_bar_1_dot
    return ((x_bar,), (x_bar_dot,))
