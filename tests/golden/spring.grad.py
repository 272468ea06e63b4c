# reverse mode, with respect to p, k
# as mode="reverse" asks
# for float64 arguments
import math

import numpy as np

from nabla.runtime import index_add, zero_like


def spring_grad(p, k):
    # q, d, t5_bar, d_bar, q_bar: arrays of 2 elements, as scalars
    c = math.cos(k)
    s = math.sin(k)
    t1 = p[0]
    t2 = p[1]
    t3 = p[0]
    t4 = p[1]
    q_0 = c * t1 - s * t2
    q_1 = s * t3 + c * t4
    d_0 = q_0 - 1.0
    d_1 = q_1 - 0.5
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    p_bar = zero_like(p)
    # return np.sum(d * d) * k
    t5_bar_0 = out_bar * k
    t5_bar_1 = out_bar * k
    d_bar_0 = t5_bar_0 * d_0 + d_0 * t5_bar_0
    d_bar_1 = t5_bar_1 * d_1 + d_1 * t5_bar_1
    # d = q - np.array([1.0, 0.5])
    q_bar_0 = d_bar_0
    q_bar_1 = d_bar_1
    # q = np.array([c * p[0] - s * p[1], s * p[0] + c * p[1]])
    t6_bar = q_bar_0
    t7_bar = q_bar_1
    p_bar = index_add(p_bar, 1, c * t7_bar)
    p_bar = index_add(p_bar, 0, s * t7_bar)
    t8_bar = -t6_bar
    s_bar = t7_bar * t3 + t8_bar * t2
    p_bar = index_add(p_bar, 1, s * t8_bar)
    c_bar = t7_bar * t4 + t6_bar * t1
    p_bar = index_add(p_bar, 0, c * t6_bar)
    # c = math.cos(k)
    k_bar = (d_0 * d_0 + d_1 * d_1) * out_bar + s_bar * math.cos(k) - c_bar * math.sin(k)
    return (p_bar, k_bar)
