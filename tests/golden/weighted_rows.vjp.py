# reverse mode, with respect to w, x
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, index_add, range_len, tape_entry, tape_like, unbroadcast, zero_like


def weighted_rows_vjp(w, x):
    s = 0.0
    t1 = x.shape[0]
    n = range_len(0, t1, 1)
    s_tape = tape_like(s, n)
    # the same in every iteration of the loop below: computed once, before it
    t2 = np.exp(w)
    for i in range(0, t1, 1):
        s_tape[i] = tape_entry(s, s_tape)
        s = s + np.sum(t2 * x[i])
    return (s, (w, x, n, s_tape))


def weighted_rows_vjp_bwd(s_bar, w, x, n, s_tape):
    w_bar = zero_like(w)
    x_bar = zero_like(x)
    # the same in every iteration of the loop below: computed once, before it
    t1 = np.exp(w)
    for i in range(n - 1, -1, -1):
        s = s_tape[i]
        t2 = x[i]
        t3 = t1 * t2
        # s = s + np.sum(np.exp(w) * x[i])
        t4_bar = unbroadcast(s_bar, np.sum(t3))
        s_bar = unbroadcast(s_bar, s)
        t5_bar = expand_reduced(t4_bar, t3, None)
        x_bar = index_add(x_bar, i, unbroadcast(t1 * t5_bar, t2))
        w_bar = w_bar + unbroadcast(t5_bar * t2, w) * t1
    return (w_bar, x_bar)
