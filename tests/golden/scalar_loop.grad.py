# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import range_len, seed, tape_like


def scalar_loop_grad(x, n):
    n_1 = range_len(0, n, 1)
    k = 0
    x_tape = tape_like(x, n_1)
    for i in range(0, n, 1):
        x_tape[k] = x
        t1 = np.sin(x)
        t2 = 0.01 * t1
        x_1 = x - t2 * x
        x = x_1
        k = k + 1
    # adjoint sweep
    x_bar = seed(x)
    for k in range(n_1 - 1, -1, -1):
        x = x_tape[k]
        t1 = np.sin(x)
        t2 = 0.01 * t1
        t3 = x_bar
        # x = x - 0.01 * np.sin(x) * x
        t4_bar = -t3
        x_bar = t3 + t2 * t4_bar + 0.01 * (t4_bar * x) * np.cos(x)
    return x_bar
