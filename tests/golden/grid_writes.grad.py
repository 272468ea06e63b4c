# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, index_add, index_zero, range_len, seed, snapshot, zero_like


def grid_writes_grad(x, m):
    h = np.zeros((x.shape[0], m))
    t1 = x.shape[0]
    n = range_len(0, t1, 1)
    for i in range(0, t1, 1):
        for j in range(0, m, 1):
            t2 = x[i]
            t3 = j + 1
            t4 = t2 * t3
            t5 = np.tanh(t4)
            h[i, j] = t5
    t6 = h * h
    out = np.sum(t6)
    # adjoint sweep
    out_bar = seed(out)
    x_bar = zero_like(x)
    # return np.sum(h * h)
    t6_bar = expand_reduced(out_bar, t6, None)
    h_bar = t6_bar * h + h * t6_bar
    for k in range(n - 1, -1, -1):
        i = k
        n_1 = range_len(0, m, 1)
        for k_1 in range(n_1 - 1, -1, -1):
            j = k_1
            t2 = x[i]
            t3 = j + 1
            t4 = t2 * t3
            t5 = np.tanh(t4)
            # h[i, j] = np.tanh(x[i] * (j + 1))
            t5_bar = snapshot(h_bar[i, j])
            h_bar = index_zero(h_bar, (i, j))
            x_bar = index_add(x_bar, i, t5_bar * (1 - t5 * t5) * t3)
    return x_bar
