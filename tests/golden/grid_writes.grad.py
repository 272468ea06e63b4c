# differentiates with respect to: x (reverse mode)
# mode="reverse" asked for it
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, index_add, index_zero, log_size, log_write, pop_writes, range_len, seed, snapshot, tape_like, unbroadcast, undo_writes, write_log, zero_like


def grid_writes_grad(x, m):
    h = np.zeros((x.shape[0], m))
    t1 = x.shape[0]
    k = 0
    h_log = write_log(h)
    h_log_marks = tape_like(0, range_len(0, t1, 1))
    for i in range(0, t1, 1):
        h_log_marks[k] = log_size(h_log)
        for j in range(0, m, 1):
            t2 = x[i]
            t3 = j + 1
            t4 = t2 * t3
            t5 = np.tanh(t4)
            h_log = log_write(h_log, h, (i, j))
            h[i, j] = t5
        k = k + 1
    n = k
    t6 = h * h
    out = np.sum(t6)
    # adjoint sweep
    out_bar = seed(out)
    x_bar = zero_like(x)
    # return np.sum(h * h)
    t6_bar = expand_reduced(out_bar, t6, None)
    h_bar = t6_bar * h + h * t6_bar
    for k in range(n - 1, -1, -1):
        i = k
        h = undo_writes(h, h_log, h_log_marks[k])
        k_1 = 0
        h_old_tape = tape_like(snapshot(h[0, 0]), range_len(0, m, 1))
        i_tape = tape_like(0, range_len(0, m, 1))
        j_tape = tape_like(0, range_len(0, m, 1))
        for j in range(0, m, 1):
            t2 = x[i]
            t3 = j + 1
            t4 = t2 * t3
            t5 = np.tanh(t4)
            h_old_tape[k_1] = snapshot(h[i, j])
            i_tape[k_1] = i
            j_tape[k_1] = j
            h[i, j] = t5
            k_1 = k_1 + 1
        n_1 = k_1
        for k_1 in range(n_1 - 1, -1, -1):
            j = k_1
            h[i_tape[k_1], j_tape[k_1]] = h_old_tape[k_1]
            t2 = x[i]
            t3 = j + 1
            t4 = t2 * t3
            t5 = np.tanh(t4)
            h[i, j] = t5
            # h[i, j] = np.tanh(x[i] * (j + 1))
            t5_bar = snapshot(h_bar[i, j])
            h_bar = index_zero(h_bar, (i, j))
            x_bar = index_add(x_bar, i, unbroadcast(t5_bar * (1 - t5 * t5) * t3, t2))
            h[i_tape[k_1], j_tape[k_1]] = h_old_tape[k_1]
        h_log = pop_writes(h, h_log, h_log_marks[k])
    return x_bar
