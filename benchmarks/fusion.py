"""What elementwise fusion would give: one LSTM cell (the LSTM workload's, b = 14), its
primal and its gradient, as nabla generates them against the same written by hand as one
scalar loop over the cell's elements (what issue 20's fusion pass is to produce).

Each side runs the cell ``reps`` times inside one compiled loop (nabla: ``nabla.jit`` of a
driver that calls ``nabla.grad`` of the cell, read in place; by hand: ``numba.njit``), so
no per-call dispatch is timed: 2 layers x 1023 steps = 2046 cells, as in one gradient of
the LSTM workload. Checks that the two gradients agree before timing.

Run: python benchmarks/fusion.py
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nabla  # noqa: E402
from benchmarks import workloads as W  # noqa: E402

REPS = 2046


def cell_loss(weight, bias, hidden, cell, inp, h_bar, c_bar):
    h, c = W.lstm_model(weight, bias, hidden, cell, inp)
    return np.sum(h * h_bar) + np.sum(c * c_bar)


def grad_loop(weight, bias, hidden, cell, inp, h_bar, c_bar, reps):
    acc = 0.0
    for r in range(reps):
        g = nabla.grad(cell_loss, argnums=(0, 1, 2, 3, 4))(weight, bias, hidden, cell, inp,
                                                          h_bar, c_bar)
        acc = acc + g[0][0] + g[2][0]
    return acc


def primal_loop(weight, bias, hidden, cell, inp, h_bar, c_bar, reps):
    acc = 0.0
    for r in range(reps):
        h, c = W.lstm_model(weight, bias, hidden, cell, inp)
        acc = acc + h[0] + c[0]
    return acc


@numba.njit(inline="always")
def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


@numba.njit
def cell_fused(weight, bias, hidden, cell, inp):
    b = hidden.shape[0]
    h1 = np.empty(b)
    c1 = np.empty(b)
    for j in range(b):
        f = _sigmoid(inp[j] * weight[j] + bias[j])
        ig = _sigmoid(hidden[j] * weight[b + j] + bias[b + j])
        o = _sigmoid(inp[j] * weight[2 * b + j] + bias[2 * b + j])
        ch = math.tanh(hidden[j] * weight[3 * b + j] + bias[3 * b + j])
        c = cell[j] * f + ig * ch
        c1[j] = c
        h1[j] = o * math.tanh(c)
    return h1, c1


# (the gates are written out again below, not shared with cell_fused through a helper:
# an inlined helper returning them made the fused primal 1.4x slower, 1.37 -> 1.89 ms)
@numba.njit
def cell_grad_fused(weight, bias, hidden, cell, inp, h_bar, c_bar):
    b = hidden.shape[0]
    w_bar = np.zeros(weight.shape[0])
    b_bar = np.zeros(bias.shape[0])
    hidden_bar = np.empty(b)
    cell_bar = np.empty(b)
    inp_bar = np.empty(b)
    for j in range(b):
        f = _sigmoid(inp[j] * weight[j] + bias[j])
        ig = _sigmoid(hidden[j] * weight[b + j] + bias[b + j])
        o = _sigmoid(inp[j] * weight[2 * b + j] + bias[2 * b + j])
        ch = math.tanh(hidden[j] * weight[3 * b + j] + bias[3 * b + j])
        c = cell[j] * f + ig * ch
        tc = math.tanh(c)
        # the adjoint
        c1_bar = c_bar[j] + h_bar[j] * o * (1.0 - tc * tc)
        o_z = h_bar[j] * tc * o * (1.0 - o)
        f_z = c1_bar * cell[j] * f * (1.0 - f)
        i_z = c1_bar * ch * ig * (1.0 - ig)
        ch_z = c1_bar * ig * (1.0 - ch * ch)
        cell_bar[j] = c1_bar * f
        b_bar[j] += f_z
        b_bar[b + j] += i_z
        b_bar[2 * b + j] += o_z
        b_bar[3 * b + j] += ch_z
        w_bar[j] += f_z * inp[j]
        w_bar[b + j] += i_z * hidden[j]
        w_bar[2 * b + j] += o_z * inp[j]
        w_bar[3 * b + j] += ch_z * hidden[j]
        inp_bar[j] = f_z * weight[j] + o_z * weight[2 * b + j]
        hidden_bar[j] = i_z * weight[b + j] + ch_z * weight[3 * b + j]
    return w_bar, b_bar, hidden_bar, cell_bar, inp_bar


@numba.njit
def grad_loop_fused(weight, bias, hidden, cell, inp, h_bar, c_bar, reps):
    acc = 0.0
    for r in range(reps):
        g = cell_grad_fused(weight, bias, hidden, cell, inp, h_bar, c_bar)
        acc = acc + g[0][0] + g[2][0]
    return acc


@numba.njit
def primal_loop_fused(weight, bias, hidden, cell, inp, h_bar, c_bar, reps):
    acc = 0.0
    for r in range(reps):
        h, c = cell_fused(weight, bias, hidden, cell, inp)
        acc = acc + h[0] + c[0]
    return acc


def best(fn, args, samples=30):
    fn(*args, 2)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        fn(*args, REPS)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    nabla.config.verbose = False
    main_params, _, state, sequence = W.lstm_inputs(2, 8, 14)
    args = (main_params[0], main_params[1], state[0], state[1], sequence[0], sequence[1],
            sequence[2])
    ours = nabla.grad(cell_loss, argnums=(0, 1, 2, 3, 4))(*args)
    hand = cell_grad_fused(*args)
    for a, b in zip(ours, hand):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14), "the two gradients disagree"
    rows = [("primal", best(nabla.jit(primal_loop), args), best(primal_loop_fused, args)),
            ("gradient", best(nabla.jit(grad_loop), args), best(grad_loop_fused, args))]
    print(f"one LSTM cell (b = 14), {REPS} times in one compiled loop")
    print(f"{'':10}{'nabla':>12}{'fused by hand':>16}{'nabla / fused':>16}")
    for name, t_nabla, t_hand in rows:
        print(f"{name:10}{t_nabla * 1e3:>9.2f} ms{t_hand * 1e3:>13.2f} ms"
              f"{t_nabla / t_hand:>16.2f}")
    print(f"gradient / primal: nabla {rows[1][1] / rows[0][1]:.2f}, "
          f"fused {rows[1][2] / rows[0][2]:.2f}")


if __name__ == "__main__":
    main()
