# reverse mode, with respect to x, s
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, unbroadcast


def scaled_norm_vjp(x, s):
    r = np.sqrt(np.sum(x * x))
    t3 = s * r
    t4 = 0.5 * s
    out = t3 + t4 * s
    return (out, (t3, s, t4, r, x))


def scaled_norm_vjp_bwd(out_bar, t3, s, t4, r, x):
    # return s * r + 0.5 * s * s
    t1_bar = unbroadcast(out_bar, t3)
    t2_bar = unbroadcast(out_bar, s)
    s_bar = t4 * t2_bar + 0.5 * (t2_bar * s) + unbroadcast(t1_bar * r, s)
    r_bar = unbroadcast(s * t1_bar, r)
    # r = np.sqrt(np.sum(x * x))
    t3_bar = expand_reduced(r_bar * (0.5 / r), x, None)
    x_bar = t3_bar * x + x * t3_bar
    return (x_bar, s_bar)
