# forward mode, with respect to x
# for float64 arguments
import numpy as np


def while_loop_jvp(x, x_dot):
    y = x
    y_dot = x_dot
    while y < 10.0:
        y_1 = y * 1.5 + np.sin(y)
        y_1_dot = y_dot * 1.5 + y_dot * np.cos(y)
        y = y_1
        y_dot = y_1_dot
    return (y * x, y_dot * x + y * x_dot)
