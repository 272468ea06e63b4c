# reverse mode, with respect to c, x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import index_add, range_len, seed, tape_like, zero_like


def horner_grad(c, x):
    p = c[0]
    t1 = c.shape[0]
    n = range_len(1, t1, 1)
    k = 0
    p_tape = tape_like(p, n)
    for i in range(1, t1, 1):
        p_tape[k] = p
        p_1 = p * x + c[i]
        p = p_1
        k = k + 1
    # adjoint sweep
    p_bar = seed(p)
    c_bar = zero_like(c)
    x_bar = zero_like(x)
    for k in range(n - 1, -1, -1):
        p = p_tape[k]
        i = 1 + k
        t2 = p_bar
        # p = p * x + c[i]
        c_bar = index_add(c_bar, i, t2)
        p_bar = t2 * x
        x_bar = x_bar + p * t2
    # p = c[0]
    c_bar = index_add(c_bar, 0, p_bar)
    return (c_bar, x_bar)
