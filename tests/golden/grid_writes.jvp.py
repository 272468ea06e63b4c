# forward mode, with respect to x, m
# for float64 arguments
import numpy as np

from nabla.runtime import zero_like


def grid_writes_jvp(x, m, x_dot, m_dot):
    h = np.zeros((x.shape[0], m))
    h_dot = zero_like(h)
    t1 = x.shape[0]
    for i in range(0, t1, 1):
        for j in range(0, m, 1):
            t2 = j + 1
            t3 = np.tanh(x[i] * t2)
            t3_dot = x_dot[i] * t2 * (1 - t3 * t3)
            h_dot[i, j] = t3_dot
            h[i, j] = t3
    return (np.sum(h * h), np.sum(h_dot * h + h * h_dot))
