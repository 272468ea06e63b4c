# reverse mode, with respect to c, x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import index_add, range_len, tape_like, zero_like


def horner_grad(c, x):
    p = c[0]
    t1 = c.shape[0]
    n = range_len(1, t1, 1)
    p_tape = tape_like(p, n)
    for i in range(1, t1, 1):
        p_tape[i - 1] = p
        p = p * x + c[i]
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    p_bar = 1.0
    c_bar = zero_like(c)
    x_bar = zero_like(x)
    for i in range(n, 0, -1):
        p = p_tape[i - 1]
        # p = p * x + c[i]
        c_bar = index_add(c_bar, i, p_bar)
        x_bar = x_bar + p * p_bar
        p_bar = p_bar * x
    # p = c[0]
    c_bar = index_add(c_bar, 0, p_bar)
    return (c_bar, x_bar)
