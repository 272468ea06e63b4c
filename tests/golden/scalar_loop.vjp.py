# reverse mode, with respect to x, n
# for float64 arguments
import numpy as np

from nabla.runtime import range_len, tape_entry, tape_like, zero_like


def scalar_loop_vjp(x, n):
    n_1 = range_len(0, n, 1)
    x_tape = tape_like(x, n_1)
    for i in range(0, n, 1):
        x_tape[i] = tape_entry(x, x_tape)
        x = x - 0.01 * np.sin(x) * x
    return (x, (n_1, x_tape, n))


def scalar_loop_vjp_bwd(x_bar, n_1, x_tape, n):
    for i in range(n_1 - 1, -1, -1):
        x = x_tape[i]
        # x = x - 0.01 * np.sin(x) * x
        t1_bar = -x_bar
        x_bar = x_bar + 0.01 * np.sin(x) * t1_bar + 0.01 * (t1_bar * x) * np.cos(x)
    return (x_bar, zero_like(n))
