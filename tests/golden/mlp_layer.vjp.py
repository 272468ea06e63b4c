# reverse mode, with respect to x, W, b
# for float64 arguments
import numpy as np

from nabla.runtime import matmul_vjp_a, matmul_vjp_b, unbroadcast


def mlp_layer_vjp(x, W, b):
    t1 = W @ x
    h = np.tanh(t1 + b)
    out = np.sum(h ** 2)
    return (out, (h, t1, b, W, x))


def mlp_layer_vjp_bwd(out_bar, h, t1, b, W, x):
    # return np.sum(h ** 2)
    h_bar = out_bar * 2 * h
    # h = np.tanh(W @ x + b)
    t1_bar = h_bar * (1 - h * h)
    t2_bar = unbroadcast(t1_bar, t1)
    b_bar = unbroadcast(t1_bar, b)
    W_bar = matmul_vjp_a(t2_bar, W, x)
    x_bar = matmul_vjp_b(t2_bar, W, x)
    return (x_bar, W_bar, b_bar)
