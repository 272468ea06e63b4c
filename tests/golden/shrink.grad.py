# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, unbroadcast, zero_like


def shrink_grad(x, r):
    # np.sum(x * x) in one pass: no temporary array
    total = 0.0
    for i in range(x.shape[0]):
        total = total + x[i] * x[i]
    s = np.sqrt(total)
    t1 = s > r
    if t1:
        t2 = r / s
        y = x * t2
    else:
        y = x
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    s_bar = zero_like(s)
    x_bar = zero_like(x)
    # return np.sum(y * y)
    t3_bar = expand_reduced(out_bar, y * y, None)
    y_bar = t3_bar * y + y * t3_bar
    if t1:
        # y = x * (r / s)
        x_bar = x_bar + unbroadcast(y_bar * t2, x)
        s_bar = s_bar - unbroadcast(x * y_bar, t2) * t2 / s
    else:
        x_bar = x_bar + y_bar
    # s = np.sqrt(np.sum(x * x))
    t4_bar = expand_reduced(s_bar * (0.5 / s), x, None)
    x_bar = x_bar + t4_bar * x + x * t4_bar
    return x_bar
