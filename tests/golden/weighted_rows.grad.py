# reverse mode, with respect to w, x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, index_add, range_len, seed, unbroadcast, zero_like


def weighted_rows_grad(w, x):
    s = 0.0
    t1 = x.shape[0]
    n = range_len(0, t1, 1)
    # the same in every iteration of the loop below: computed once, before it
    t2 = np.exp(w)
    for i in range(0, t1, 1):
        s = s + np.sum(t2 * x[i])
    # adjoint sweep
    s_bar = seed(s)
    w_bar = zero_like(w)
    x_bar = zero_like(x)
    for i in range(n - 1, -1, -1):
        t3 = x[i]
        # s = s + np.sum(np.exp(w) * x[i])
        t4_bar = expand_reduced(s_bar, t2 * t3, None)
        x_bar = index_add(x_bar, i, unbroadcast(t2 * t4_bar, t3))
        w_bar = w_bar + unbroadcast(t4_bar * t3, w) * t2
    return (w_bar, x_bar)
