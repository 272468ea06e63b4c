# forward mode, with respect to c, x
# for float64 arguments
import numpy as np

from nabla.runtime import broadcast_like


def horner_jvp(c, x, c_dot, x_dot):
    p = c[0]
    p_dot = c_dot[0]
    t1 = c.shape[0]
    for i in range(1, t1, 1):
        p_1 = p * x + c[i]
        p_1_dot = broadcast_like(p_dot * x + p * x_dot, p_1) + c_dot[i]
        p = p_1
        p_dot = p_1_dot
    return (p, p_dot)
