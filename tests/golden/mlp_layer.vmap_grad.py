# batches over: x (axis 0); the loop form, target 'cpu'
# for float64 arguments
import numpy as np

from nabla.runtime import batch_like, batch_set, batch_size, matmul_vjp_a, matmul_vjp_b, seed, unbroadcast


def mlp_layer_grad_vmap(x, W, b):
    # the loop form (unbroadcast() of a batched value at `b_bar = unbroadcast(t2_bar, b)` of mlp_layer_grad): mlp_layer_grad on each example
    size = batch_size(x)
    first = mlp_layer_grad(x[0], W, b)
    out_10 = batch_like(first[0], size)
    out_10 = batch_set(out_10, 0, first[0])
    out_11 = batch_like(first[1], size)
    out_11 = batch_set(out_11, 0, first[1])
    out_12 = batch_like(first[2], size)
    out_12 = batch_set(out_12, 0, first[2])
    for b_1 in range(1, size):
        one = mlp_layer_grad(x[b_1], W, b)
        out_10 = batch_set(out_10, b_1, one[0])
        out_11 = batch_set(out_11, b_1, one[1])
        out_12 = batch_set(out_12, b_1, one[2])
    return (out_10, out_11, out_12)


def mlp_layer_grad(x, W, b):
    t1 = W @ x
    h = np.tanh(t1 + b)
    out = np.sum(h ** 2)
    # adjoint sweep
    out_bar = seed(out)
    # return np.sum(h ** 2)
    h_bar = out_bar * 2 * h
    # h = np.tanh(W @ x + b)
    t2_bar = h_bar * (1 - h * h)
    t1_bar = unbroadcast(t2_bar, t1)
    b_bar = unbroadcast(t2_bar, b)
    W_bar = matmul_vjp_a(t1_bar, W, x)
    x_bar = matmul_vjp_b(t1_bar, W, x)
    return (x_bar, W_bar, b_bar)
