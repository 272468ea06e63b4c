# reverse mode, with respect to x, y
# for float64 arguments
import numpy as np

from nabla.runtime import in_python, unbroadcast, zero_like


def branchy_vjp(x, y):
    if in_python:
        # set on some paths only: Python needs a value to copy
        t3 = None
        t2 = None
        z_2 = None
    t1 = x > y
    if t1:
        t2 = np.sin(x)
        z = t2 * y
    else:
        t3 = x > 0.0
        if t3:
            z_1 = x * x
        else:
            z_2 = np.exp(y)
            z_1 = z_2
        z = z_1
    out = z * x
    return (out, (y, z, x, t1, t3, t2, z_2))


def branchy_vjp_bwd(out_bar, y, z, x, t1, t3, t2, z_2):
    y_bar = zero_like(y)
    # return z * x
    z_bar = unbroadcast(out_bar * x, z)
    x_bar = unbroadcast(z * out_bar, x)
    if t1:
        # z = np.sin(x) * y
        y_bar = y_bar + unbroadcast(t2 * z_bar, y)
        x_bar = x_bar + unbroadcast(z_bar * y, x) * np.cos(x)
    elif t3:
        # z = x * x
        x_bar = x_bar + unbroadcast(z_bar * x, x) + unbroadcast(x * z_bar, x)
    else:
        # z = np.exp(y)
        y_bar = y_bar + z_bar * z_2
    return (x_bar, y_bar)
