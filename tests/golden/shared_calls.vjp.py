# reverse mode, with respect to x, y
# for float64 arguments
import numpy as np

from nabla.runtime import in_python, range_len, tape_entry, tape_like, unbroadcast, zero_like


def shared_calls_vjp(x, y):
    # _smooth(x, y), keeping what _smooth_vjp_bwd reads
    u_vjp = _smooth_vjp(x, y)
    u = u_vjp[0]
    _smooth_t1 = u_vjp[1]
    _smooth_t2 = u_vjp[2]
    n = range_len(0, 3, 1)
    u_tape = tape_like(u, n)
    for i in range(0, 3, 1):
        u_tape[i] = tape_entry(u, u_tape)
        u = u + 0.5 * _smooth(u, y)
    return (u, (y, n, u_tape, x, _smooth_t1, _smooth_t2))


def shared_calls_vjp_bwd(u_bar, y, n, u_tape, x, _smooth_t1, _smooth_t2):
    y_bar = zero_like(y)
    for i in range(n - 1, -1, -1):
        u = u_tape[i]
        # _smooth(u, y), keeping what _smooth_vjp_bwd reads
        t1_vjp = _smooth_vjp(u, y)
        _smooth_t1_1 = t1_vjp[1]
        _smooth_t2_1 = t1_vjp[2]
        # u = u + 0.5 * _smooth(u, y)
        _smooth_bars_1 = _smooth_vjp_bwd(0.5 * unbroadcast(u_bar, 0.5 * t1_vjp[0]), u, y, _smooth_t1_1, _smooth_t2_1)
        u_bar = unbroadcast(u_bar, u) + _smooth_bars_1[0]
        y_bar = y_bar + _smooth_bars_1[1]
    # u = _smooth(x, y)
    _smooth_bars = _smooth_vjp_bwd(u_bar, x, y, _smooth_t1, _smooth_t2)
    x_bar = _smooth_bars[0]
    y_bar = y_bar + _smooth_bars[1]
    return (x_bar, y_bar)


def _smooth_vjp(a, b):
    if in_python:
        # set on some paths only: Python needs a value to copy
        t2 = None
    t1 = a > b
    if t1:
        t2 = np.tanh(b)
        result = a * t2
    else:
        result = a * a
    return (result, t1, t2)


def _smooth_vjp_bwd(result_bar, a, b, t1, t2):
    a_bar = zero_like(a)
    b_bar = zero_like(b)
    if t1:
        # return a * np.tanh(b)
        a_bar = a_bar + unbroadcast(result_bar * t2, a)
        b_bar = b_bar + unbroadcast(a * result_bar, b) * (1 - t2 * t2)
    else:
        # return a * a
        a_bar = a_bar + result_bar * a + a * result_bar
    return (a_bar, b_bar)


def _smooth(a, b):
    t1 = a > b
    if t1:
        result = a * np.tanh(b)
    else:
        result = a * a
    return result
