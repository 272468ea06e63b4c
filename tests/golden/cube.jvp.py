# forward mode, with respect to x
# for float64 arguments
import numpy as np


def cube_jvp(x, x_dot):
    t1 = x * x
    return (t1 * x, (x_dot * x + x * x_dot) * x + t1 * x_dot)
