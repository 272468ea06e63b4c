# reverse mode, with respect to w, x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, index_add, range_len, unbroadcast, zero_like


def weighted_rows_grad(w, x):
    n = range_len(0, x.shape[0], 1)
    t1 = np.exp(w)
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    s_bar = 1.0
    w_bar = zero_like(w)
    x_bar = zero_like(x)
    for i in range(n - 1, -1, -1):
        t2 = x[i]
        # s = s + np.sum(np.exp(w) * x[i])
        t3_bar = expand_reduced(s_bar, t1 * t2, None)
        x_bar = index_add(x_bar, i, unbroadcast(t1 * t3_bar, t2))
        w_bar = w_bar + unbroadcast(t3_bar * t2, w) * t1
    return (w_bar, x_bar)
