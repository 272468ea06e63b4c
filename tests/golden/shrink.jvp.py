# forward mode, with respect to x, r
# for float64 arguments
import numpy as np


def shrink_jvp(x, r, x_dot, r_dot):
    s = np.sqrt(np.sum(x * x))
    s_dot = np.sum(x_dot * x + x * x_dot) * (0.5 / s)
    t1 = s > r
    if t1:
        t2 = r / s
        y = x * t2
        y_dot = x_dot * t2 + x * (r_dot / s - t2 / s * s_dot)
    else:
        y = x
        y_dot = x_dot
    return (np.sum(y * y), np.sum(y_dot * y + y * y_dot))
