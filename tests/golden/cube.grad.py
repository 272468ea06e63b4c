# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np


def cube_grad(x):
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    # return x * x * x
    t1_bar = out_bar * x
    x_bar = x * x * out_bar + t1_bar * x + x * t1_bar
    return x_bar
