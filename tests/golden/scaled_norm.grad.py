# reverse mode, with respect to x, s
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, seed


def scaled_norm_grad(x, s):
    r = np.sqrt(np.sum(x * x))
    t1 = 0.5 * s
    out = s * r + t1 * s
    # adjoint sweep
    out_bar = seed(out)
    # return s * r + 0.5 * s * s
    s_bar = t1 * out_bar + 0.5 * (out_bar * s) + out_bar * r
    r_bar = s * out_bar
    # r = np.sqrt(np.sum(x * x))
    t2_bar = expand_reduced(r_bar * (0.5 / r), x, None)
    x_bar = t2_bar * x + x * t2_bar
    return (x_bar, s_bar)
