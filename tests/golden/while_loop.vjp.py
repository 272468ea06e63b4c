# reverse mode, with respect to x
# for float64 arguments
import numpy as np

from nabla.runtime import tape_like, tape_push, unbroadcast


def while_loop_vjp(x):
    y = x
    cond = y < 10.0
    k = 0
    # cond may start as an int and take floats in the loop: its tape holds floats
    y_tape = tape_like(y, 16)
    while cond:
        y_tape = tape_push(y_tape, k, y)
        y_1 = y * 1.5 + np.sin(y)
        y = y_1
        cond = y < 10.0
        k = k + 1
    n = k
    out = y * x
    return (out, (y, x, n, y_tape))


def while_loop_vjp_bwd(out_bar, y, x, n, y_tape):
    # return y * x
    y_bar = unbroadcast(out_bar * x, y)
    x_bar = unbroadcast(y * out_bar, x)
    for k in range(n - 1, -1, -1):
        y = y_tape[k]
        t1 = y_bar
        # y = y * 1.5 + np.sin(y)
        y_bar = t1 * np.cos(y) + t1 * 1.5
    x_bar = x_bar + y_bar
    return (x_bar,)
