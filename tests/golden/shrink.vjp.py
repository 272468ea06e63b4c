# reverse mode, with respect to x, r
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, in_python, unbroadcast, zero_like


def shrink_vjp(x, r):
    if in_python:
        # set on some paths only: Python needs a value to copy
        t4 = None
    s = np.sqrt(np.sum(x * x))
    t3 = s > r
    if t3:
        t4 = r / s
        y = x * t4
    else:
        y = x
    t5 = y * y
    out = np.sum(t5)
    return (out, (s, x, r, t5, y, t3, t4))


def shrink_vjp_bwd(out_bar, s, x, r, t5, y, t3, t4):
    s_bar = zero_like(s)
    x_bar = zero_like(x)
    r_bar = zero_like(r)
    # return np.sum(y * y)
    t1_bar = expand_reduced(out_bar, t5, None)
    y_bar = t1_bar * y + y * t1_bar
    if t3:
        # y = x * (r / s)
        x_bar = x_bar + unbroadcast(y_bar * t4, x)
        t2_bar = unbroadcast(x * y_bar, t4)
        r_bar = r_bar + unbroadcast(t2_bar / s, r)
        s_bar = s_bar - unbroadcast(t2_bar * t4 / s, s)
    else:
        x_bar = x_bar + y_bar
    # s = np.sqrt(np.sum(x * x))
    t4_bar = expand_reduced(s_bar * (0.5 / s), x, None)
    x_bar = x_bar + t4_bar * x + x * t4_bar
    return (x_bar, r_bar)
