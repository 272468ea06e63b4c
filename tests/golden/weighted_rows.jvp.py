# forward mode, with respect to w, x
# for float64 arguments
import numpy as np

from nabla.runtime import broadcast_like, zero_like


def weighted_rows_jvp(w, x, w_dot, x_dot):
    s = 0.0
    s_dot = zero_like(s)
    t1 = x.shape[0]
    # the same in every iteration of the loop below: computed once, before it
    t2 = np.exp(w)
    for i in range(0, t1, 1):
        t3 = x[i]
        s_1 = s + np.sum(t2 * t3)
        s_1_dot = broadcast_like(s_dot, s_1) + np.sum(w_dot * t2 * t3 + t2 * x_dot[i])
        s = s_1
        s_dot = s_1_dot
    return (s, s_dot)
