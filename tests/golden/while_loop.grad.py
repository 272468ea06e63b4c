# reverse mode, with respect to x
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import tape_like, tape_push


def while_loop_grad(x):
    y = x
    k = 0
    y_tape = tape_like(y, 16)
    while y < 10.0:
        y_tape = tape_push(y_tape, k, y)
        y = y * 1.5 + np.sin(y)
        k = k + 1
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    # return y * x
    y_bar = out_bar * x
    x_bar = y * out_bar
    for k in range(k - 1, -1, -1):
        y = y_tape[k]
        # y = y * 1.5 + np.sin(y)
        y_bar = y_bar * np.cos(y) + y_bar * 1.5
    x_bar = x_bar + y_bar
    return x_bar
