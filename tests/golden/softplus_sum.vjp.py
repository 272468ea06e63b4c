# reverse mode, with respect to x
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced


def softplus_sum_vjp(x):
    t1 = np.exp(x)
    y = np.log1p(t1)
    out = np.sum(y * y)
    return (out, (x, y, t1))


def softplus_sum_vjp_bwd(out_bar, x, y, t1):
    # return np.sum(y * y)
    t2_bar = expand_reduced(out_bar, x, None)
    y_bar = t2_bar * y + y * t2_bar
    # y = np.log1p(np.exp(x))
    x_bar = y_bar / (1 + t1) * t1
    return (x_bar,)
