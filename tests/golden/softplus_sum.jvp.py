# forward mode, with respect to x
# for float64 arguments
import numpy as np


def softplus_sum_jvp(x, x_dot):
    t1 = np.exp(x)
    y = np.log1p(t1)
    y_dot = x_dot * t1 / (1 + t1)
    return (np.sum(y * y), np.sum(y_dot * y + y * y_dot))
