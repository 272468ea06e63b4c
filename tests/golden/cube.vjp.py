# reverse mode, with respect to x
# for float64 arguments
import numpy as np


def cube_vjp(x):
    t1 = x * x
    out = t1 * x
    return (out, (x, t1))


def cube_vjp_bwd(out_bar, x, t1):
    # return x * x * x
    t1_bar = out_bar * x
    x_bar = t1 * out_bar + t1_bar * x + x * t1_bar
    return (x_bar,)
