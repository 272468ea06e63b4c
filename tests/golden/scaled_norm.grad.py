# reverse mode, with respect to x, s
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced


def scaled_norm_grad(x, s):
    # np.sum(x * x) in one pass: no temporary array
    total = 0.0
    for i in range(x.shape[0]):
        total = total + x[i] * x[i]
    r = np.sqrt(total)
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    # return s * r + 0.5 * s * s
    s_bar = 0.5 * s * out_bar + 0.5 * (out_bar * s) + out_bar * r
    r_bar = s * out_bar
    # r = np.sqrt(np.sum(x * x))
    t1_bar = expand_reduced(r_bar * (0.5 / r), x, None)
    x_bar = t1_bar * x + x * t1_bar
    return (x_bar, s_bar)
