# forward mode, with respect to x, W, b
# for float64 arguments
import numpy as np

from nabla.runtime import broadcast_like


def mlp_layer_jvp(x, W, b, x_dot, W_dot, b_dot):
    t1 = W @ x + b
    h = np.tanh(t1)
    h_dot = (broadcast_like(W_dot @ x + W @ x_dot, t1) + b_dot) * (1 - h * h)
    return (np.sum(h ** 2), np.sum(2 * h * h_dot))
