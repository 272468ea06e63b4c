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
            t2 = np.tanh(x[i] * (j + 1))
            h[i, j] = t2
    t3 = h * h
    out = np.sum(t3)
    # adjoint sweep
    out_bar = seed(out)
    x_bar = zero_like(x)
    # return np.sum(h * h)
    t3_bar = expand_reduced(out_bar, t3, None)
    h_bar = t3_bar * h + h * t3_bar
    for i in range(n - 1, -1, -1):
        n_1 = range_len(0, m, 1)
        for j in range(n_1 - 1, -1, -1):
            t4 = j + 1
            t5 = np.tanh(x[i] * t4)
            # h[i, j] = np.tanh(x[i] * (j + 1))
            t2_bar = snapshot(h_bar[i, j])
            h_bar = index_zero(h_bar, (i, j))
            x_bar = index_add(x_bar, i, t2_bar * (1 - t5 * t5) * t4)
    return x_bar
