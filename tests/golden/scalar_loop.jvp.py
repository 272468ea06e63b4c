# forward mode, with respect to x, n
# for float64 arguments
import numpy as np


def scalar_loop_jvp(x, n, x_dot, n_dot):
    for i in range(0, n, 1):
        t1 = 0.01 * np.sin(x)
        x_1 = x - t1 * x
        x_1_dot = x_dot - (0.01 * (x_dot * np.cos(x)) * x + t1 * x_dot)
        x = x_1
        x_dot = x_1_dot
    return (x, x_dot)
