# forward mode, with respect to p, k
# for float64 arguments
import math

import numpy as np

from nabla.runtime import array_of, broadcast_like


def spring_jvp(p, k, p_dot, k_dot):
    c = math.cos(k)
    c_dot = -(k_dot * math.sin(k))
    s = math.sin(k)
    s_dot = k_dot * math.cos(k)
    t1 = p[0]
    t2 = p[1]
    t3 = c * t1 - s * t2
    t4 = p[0]
    t5 = p[1]
    t6 = s * t4 + c * t5
    q = array_of((t3, t6))
    q_dot = array_of((broadcast_like(c_dot * t1 + c * p_dot[0], t3) - (s_dot * t2 + s * p_dot[1]), broadcast_like(s_dot * t4 + s * p_dot[0], t6) + (c_dot * t5 + c * p_dot[1])))
    d = q - np.array([1.0, 0.5])
    d_dot = broadcast_like(q_dot, d)
    t7 = np.sum(d * d)
    return (t7 * k, np.sum(d_dot * d + d * d_dot) * k + t7 * k_dot)
