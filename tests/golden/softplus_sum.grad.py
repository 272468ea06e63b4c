# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced


def softplus_sum_grad(x):
    t1 = np.exp(x)
    y = np.log1p(t1)
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    # return np.sum(y * y)
    t2_bar = expand_reduced(out_bar, x, None)
    y_bar = t2_bar * y + y * t2_bar
    # y = np.log1p(np.exp(x))
    x_bar = y_bar / (1 + t1) * t1
    return x_bar
