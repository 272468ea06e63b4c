# reverse mode, with respect to x, s
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, seed


def scaled_norm_grad(x, s):
    t1 = x * x
    r = np.sqrt(np.sum(t1))
    t2 = 0.5 * s
    out = s * r + t2 * s
    # adjoint sweep
    out_bar = seed(out)
    # return s * r + 0.5 * s * s
    s_bar = t2 * out_bar + 0.5 * (out_bar * s) + out_bar * r
    r_bar = s * out_bar
    # r = np.sqrt(np.sum(x * x))
    t1_bar = expand_reduced(r_bar * (0.5 / r), t1, None)
    x_bar = t1_bar * x + x * t1_bar
    return (x_bar, s_bar)
