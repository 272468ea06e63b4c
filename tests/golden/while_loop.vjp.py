# reverse mode, with respect to x
# for float64 arguments
import numpy as np

from nabla.runtime import tape_like, tape_push, unbroadcast


def while_loop_vjp(x):
    y = x
    k = 0
    y_tape = tape_like(y, 16)
    while y < 10.0:
        y_tape = tape_push(y_tape, k, y)
        y = y * 1.5 + np.sin(y)
        k = k + 1
    out = y * x
    return (out, (y, x, k, y_tape))


def while_loop_vjp_bwd(out_bar, y, x, k, y_tape):
    # return y * x
    y_bar = unbroadcast(out_bar * x, y)
    x_bar = unbroadcast(y * out_bar, x)
    for k in range(k - 1, -1, -1):
        y = y_tape[k]
        # y = y * 1.5 + np.sin(y)
        y_bar = y_bar * np.cos(y) + y_bar * 1.5
    x_bar = x_bar + y_bar
    return (x_bar,)
