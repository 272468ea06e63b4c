# forward mode, with respect to x, y
# for float64 arguments
import numpy as np

from nabla.runtime import broadcast_like


def shared_calls_jvp(x, y, x_dot, y_dot):
    u_jvp = _smooth_jvp(x, y, x_dot, y_dot)
    u = u_jvp[0]
    u_dot = u_jvp[1]
    for i in range(0, 3, 1):
        t1_jvp = _smooth_jvp(u, y, u_dot, y_dot)
        u_1 = u + 0.5 * t1_jvp[0]
        u_1_dot = broadcast_like(u_dot, u_1) + 0.5 * t1_jvp[1]
        u = u_1
        u_dot = u_1_dot
    return (u, u_dot)


def _smooth_jvp(a, b, a_dot, b_dot):
    t1 = a > b
    if t1:
        t2 = np.tanh(b)
        result = a * t2
        result_dot = a_dot * t2 + a * (b_dot * (1 - t2 * t2))
    else:
        result_1 = a * a
        result_1_dot = a_dot * a + a * a_dot
        result = result_1
        result_dot = result_1_dot
    return (result, result_dot)
