# batches over: x (axis 0); the vector form, target 'cpu'
# for float64 arguments
import numpy as np

from nabla.runtime import batch_expand, batch_pair, batch_seed, batch_sum, unbroadcast, zero_like


def shrink_grad_vmap(x, r):
    # the vector form: each batched value carries the batch on its axis 0
    s = np.sqrt(batch_sum(x * x))
    t1 = s > r
    # `if t1:` on every example for y: both sides computed, np.where keeps each example's own
    t2 = r / s
    y_if = x * batch_pair(t2, x)
    y_1 = x
    y = np.where(batch_pair(t1, y_if), y_if, y_1)
    t3 = y * y
    out = batch_sum(t3)
    out_bar = batch_seed(out)
    s_bar = zero_like(s)
    x_bar = zero_like(x)
    t3_bar = batch_expand(out_bar, t3)
    y_bar = t3_bar * y + y * t3_bar
    # `if t1:` on every example for x_bar_1, s_bar_1: both sides computed, np.where keeps each example's own
    x_bar_1_if = x_bar + unbroadcast(y_bar * batch_pair(t2, y_bar), x)
    s_bar_1_if = s_bar - unbroadcast(batch_sum(x * y_bar) * t2 / s, s)
    x_bar_2 = x_bar + y_bar
    x_bar_1 = np.where(batch_pair(t1, x_bar_1_if), x_bar_1_if, x_bar_2)
    s_bar_1 = np.where(t1, s_bar_1_if, s_bar)
    t4_bar = batch_expand(s_bar_1 * (0.5 / s), x)
    x_bar_3 = x_bar_1 + t4_bar * x + x * t4_bar
    return x_bar_3
