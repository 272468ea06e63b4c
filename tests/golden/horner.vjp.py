# reverse mode, with respect to c, x
# for float64 arguments
import numpy as np

from nabla.runtime import index_add, range_len, tape_like, unbroadcast, zero_like


def horner_vjp(c, x):
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
    return (p, (c, x, n, p_tape))


def horner_vjp_bwd(p_bar, c, x, n, p_tape):
    c_bar = zero_like(c)
    x_bar = zero_like(x)
    for k in range(n - 1, -1, -1):
        p = p_tape[k]
        i = 1 + k
        t3 = p * x
        t4 = c[i]
        t1 = p_bar
        # p = p * x + c[i]
        t2_bar = unbroadcast(t1, t3)
        c_bar = index_add(c_bar, i, unbroadcast(t1, t4))
        p_bar = unbroadcast(t2_bar * x, p)
        x_bar = x_bar + unbroadcast(p * t2_bar, x)
    # p = c[0]
    c_bar = index_add(c_bar, 0, p_bar)
    return (c_bar, x_bar)
