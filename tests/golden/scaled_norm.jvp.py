# forward mode, with respect to x, s
# for float64 arguments
import numpy as np

from nabla.runtime import broadcast_like


def scaled_norm_jvp(x, s, x_dot, s_dot):
    r = np.sqrt(np.sum(x * x))
    r_dot = np.sum(x_dot * x + x * x_dot) * (0.5 / r)
    t1 = 0.5 * s
    t2 = s * r + t1 * s
    return (t2, broadcast_like(s_dot * r + s * r_dot, t2) + (0.5 * s_dot * s + t1 * s_dot))
