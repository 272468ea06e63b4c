# forward mode, with respect to x, y
# for float64 arguments
import numpy as np


def branchy_jvp(x, y, x_dot, y_dot):
    t1 = x > y
    if t1:
        t2 = np.sin(x)
        z = t2 * y
        z_dot = x_dot * np.cos(x) * y + t2 * y_dot
    else:
        t3 = x > 0.0
        if t3:
            z_1 = x * x
            z_1_dot = x_dot * x + x * x_dot
        else:
            z_2 = np.exp(y)
            z_2_dot = y_dot * z_2
            z_1 = z_2
            z_1_dot = z_2_dot
        z = z_1
        z_dot = z_1_dot
    return (z * x, z_dot * x + z * x_dot)
