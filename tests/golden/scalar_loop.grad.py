# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import range_len, tape_like


def scalar_loop_grad(x, n):
    n_1 = range_len(0, n, 1)
    x_tape = tape_like(x, n_1)
    for i in range(0, n, 1):
        x_tape[i] = x
        x = x - 0.01 * np.sin(x) * x
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    x_bar = 1.0
    for i in range(n_1 - 1, -1, -1):
        x = x_tape[i]
        # x = x - 0.01 * np.sin(x) * x
        t1_bar = -x_bar
        x_bar = x_bar + 0.01 * np.sin(x) * t1_bar + 0.01 * (t1_bar * x) * np.cos(x)
    return x_bar
