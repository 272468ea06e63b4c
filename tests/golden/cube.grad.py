# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import seed


def cube_grad(x):
    t1 = x * x
    out = t1 * x
    # adjoint sweep
    out_bar = seed(out)
    # return x * x * x
    t1_bar = out_bar * x
    x_bar = t1 * out_bar + t1_bar * x + x * t1_bar
    return x_bar
