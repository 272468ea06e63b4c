# batches over: x (axis 0); the loop form, target 'cpu'
# for float64 arguments
import numpy as np

from nabla.runtime import batch_like, batch_set, batch_size, seed, zero_like


def branchy_grad_vmap(x, y):
    # the loop form (a branch on a batched value that does more than assign names at `if t1:` of branchy_grad): branchy_grad on each example
    size = batch_size(x)
    first = branchy_grad(x[0], y)
    out_10 = batch_like(first[0], size)
    out_10 = batch_set(out_10, 0, first[0])
    out_11 = batch_like(first[1], size)
    out_11 = batch_set(out_11, 0, first[1])
    for b in range(1, size):
        one = branchy_grad(x[b], y)
        out_10 = batch_set(out_10, b, one[0])
        out_11 = batch_set(out_11, b, one[1])
    return (out_10, out_11)


def branchy_grad(x, y):
    t1 = x > y
    if t1:
        t2 = np.sin(x)
        z = t2 * y
    else:
        t3 = x > 0.0
        if t3:
            z_1 = x * x
        else:
            z_2 = np.exp(y)
            z_1 = z_2
        z = z_1
    out = z * x
    # adjoint sweep
    out_bar = seed(out)
    y_bar = zero_like(y)
    # return z * x
    z_bar = out_bar * x
    x_bar = z * out_bar
    if t1:
        # z = np.sin(x) * y
        y_bar = y_bar + t2 * z_bar
        x_bar = x_bar + z_bar * y * np.cos(x)
    elif t3:
        # z = x * x
        x_bar = x_bar + z_bar * x + x * z_bar
    else:
        # z = np.exp(y)
        y_bar = y_bar + z_bar * z_2
    return (x_bar, y_bar)
