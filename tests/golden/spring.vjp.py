# reverse mode, with respect to p, k
# for float64 arguments
import math

import numpy as np

from nabla.runtime import array_of, expand_reduced, index_add, unbroadcast, zero_like


def spring_vjp(p, k):
    c = math.cos(k)
    s = math.sin(k)
    t1 = p[0]
    t2 = c * t1
    t3 = p[1]
    t4 = s * t3
    t6 = p[0]
    t7 = s * t6
    t8 = p[1]
    t9 = c * t8
    q = array_of((t2 - t4, t7 + t9))
    d = q - np.array([1.0, 0.5])
    t13 = np.sum(d * d)
    out = t13 * k
    return (out, (p, d, k, q, t7, t9, t8, c, t6, s, t2, t4, t3, t1, t13))


def spring_vjp_bwd(out_bar, p, d, k, q, t7, t9, t8, c, t6, s, t2, t4, t3, t1, t13):
    p_bar = zero_like(p)
    # return np.sum(d * d) * k
    t2_bar = expand_reduced(out_bar * k, d, None)
    d_bar = t2_bar * d + d * t2_bar
    # d = q - np.array([1.0, 0.5])
    q_bar = unbroadcast(d_bar, q)
    # q = np.array([c * p[0] - s * p[1], s * p[0] + c * p[1]])
    t4_bar = q_bar[0]
    t5_bar = q_bar[1]
    t7_bar = unbroadcast(t5_bar, t7)
    t9_bar = unbroadcast(t5_bar, t9)
    p_bar = index_add(p_bar, 1, unbroadcast(c * t9_bar, t8))
    p_bar = index_add(p_bar, 0, unbroadcast(s * t7_bar, t6))
    t10_bar = unbroadcast(t4_bar, t2)
    t11_bar = -unbroadcast(t4_bar, t4)
    s_bar = unbroadcast(t7_bar * t6, s) + unbroadcast(t11_bar * t3, s)
    p_bar = index_add(p_bar, 1, unbroadcast(s * t11_bar, t3))
    c_bar = unbroadcast(t9_bar * t8, c) + unbroadcast(t10_bar * t1, c)
    p_bar = index_add(p_bar, 0, unbroadcast(c * t10_bar, t1))
    # c = math.cos(k)
    k_bar = t13 * out_bar + s_bar * math.cos(k) - c_bar * math.sin(k)
    return (p_bar, k_bar)
