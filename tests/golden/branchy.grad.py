# reverse mode, with respect to x, y
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import zero_like


def branchy_grad(x, y):
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
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    y_bar = zero_like(y)
    # return z * x
    z_bar = out_bar * x
    x_bar = z * out_bar
    if t1:
        # z = np.sin(x) * y
        y_bar = y_bar + t2 * z_bar
        x_bar = x_bar + z_bar * y * np.cos(x)
    elif t3:
        # z = x * x
        x_bar = x_bar + z_bar * x + x * z_bar
    else:
        # z = np.exp(y)
        y_bar = y_bar + z_bar * z_2
    return (x_bar, y_bar)
