# reverse mode, with respect to x, m
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, index_add, index_zero, range_len, snapshot, unbroadcast, zero_like


def grid_writes_vjp(x, m):
    h = np.zeros((x.shape[0], m))
    t1 = x.shape[0]
    n = range_len(0, t1, 1)
    for i in range(0, t1, 1):
        for j in range(0, m, 1):
            t2 = np.tanh(x[i] * (j + 1))
            h[i, j] = t2
    t10 = h * h
    out = np.sum(t10)
    return (out, (x, t10, h, n, m))


def grid_writes_vjp_bwd(out_bar, x, t10, h, n, m):
    x_bar = zero_like(x)
    # return np.sum(h * h)
    t1_bar = expand_reduced(out_bar, t10, None)
    h_bar = t1_bar * h + h * t1_bar
    for i in range(n - 1, -1, -1):
        n_1 = range_len(0, m, 1)
        for j in range(n_1 - 1, -1, -1):
            t2 = x[i]
            t3 = j + 1
            t4 = np.tanh(t2 * t3)
            # h[i, j] = np.tanh(x[i] * (j + 1))
            t5_bar = snapshot(unbroadcast(h_bar[i, j], t4))
            h_bar = index_zero(h_bar, (i, j))
            x_bar = index_add(x_bar, i, unbroadcast(t5_bar * (1 - t4 * t4) * t3, t2))
    return (x_bar, zero_like(m))
