# reverse mode, with respect to x, W, b
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import matmul_vjp_a, matmul_vjp_b, unbroadcast


def mlp_layer_grad(x, W, b):
    t1 = W @ x
    h = np.tanh(t1 + b)
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    # return np.sum(h ** 2)
    h_bar = out_bar * 2 * h
    # h = np.tanh(W @ x + b)
    t2_bar = h_bar * (1 - h * h)
    t1_bar = unbroadcast(t2_bar, t1)
    b_bar = unbroadcast(t2_bar, b)
    W_bar = matmul_vjp_a(t1_bar, W, x)
    x_bar = matmul_vjp_b(t1_bar, W, x)
    return (x_bar, W_bar, b_bar)
