# reverse mode, with respect to c, x
# for float64 arguments
import numpy as np

from nabla.runtime import index_add, range_len, tape_entry, tape_like, unbroadcast, zero_like


def horner_vjp(c, x):
    p = c[0]
    t1 = c.shape[0]
    n = range_len(1, t1, 1)
    p_tape = tape_like(p, n)
    for i in range(1, t1, 1):
        p_tape[i - 1] = tape_entry(p, p_tape)
        p = p * x + c[i]
    return (p, (c, x, n, p_tape))


def horner_vjp_bwd(p_bar, c, x, n, p_tape):
    c_bar = zero_like(c)
    x_bar = zero_like(x)
    for i in range(n, 0, -1):
        p = p_tape[i - 1]
        # p = p * x + c[i]
        t1_bar = unbroadcast(p_bar, p * x)
        c_bar = index_add(c_bar, i, unbroadcast(p_bar, c[i]))
        p_bar = unbroadcast(t1_bar * x, p)
        x_bar = x_bar + unbroadcast(p * t1_bar, x)
    # p = c[0]
    c_bar = index_add(c_bar, 0, p_bar)
    return (c_bar, x_bar)
