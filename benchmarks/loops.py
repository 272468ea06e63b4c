"""nabla's reverse-mode gradient of loop-heavy code against the Numba-compiled primal
and a hand-written reverse-mode Numba gradient of the same shape.

Workloads (the control-flow issue): the scalar loop ``x = x - 0.01 * sin(x) * x``
with n = 10^6, and the Rosenbrock function as an explicit loop over 10^5 elements.
Prints times (minimum over repeats), ratios, and the tape size of the scalar loop.

Run: python benchmarks/loops.py [--quick]
"""

import math
import sys
import time

import numba
import numpy as np

import nabla


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.01 * np.sin(x) * x
    return x


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


primal_scalar = numba.njit(scalar_loop)
primal_rosen = numba.njit(rosenbrock)


@numba.njit
def hand_scalar(x, n):
    tape = np.empty(n)
    for i in range(n):
        tape[i] = x
        x = x - 0.01 * math.sin(x) * x
    x_bar = 1.0
    for i in range(n - 1, -1, -1):
        x = tape[i]
        s = math.sin(x)
        x_bar = x_bar * (1.0 - 0.01 * s - 0.01 * x * math.cos(x))
    return x_bar


@numba.njit
def hand_rosen(x):
    n = x.shape[0]
    g = np.zeros(n)
    for i in range(n - 2, -1, -1):
        d = x[i + 1] - x[i] ** 2
        g[i] += -400.0 * d * x[i] - 2.0 * (1.0 - x[i])
        g[i + 1] += 200.0 * d
    return g


def best_time(fn, *args, min_total=0.2, min_samples=5):
    fn(*args)
    times, total = [], 0.0
    while total < min_total or len(times) < min_samples:
        t0 = time.perf_counter()
        fn(*args)
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return min(times)


def main(quick: bool) -> None:
    n_scalar = 10**5 if quick else 10**6
    n_rosen = 10**4 if quick else 10**5
    grad_scalar = nabla.grad(scalar_loop)
    grad_rosen = nabla.grad(rosenbrock)
    x0 = 0.8
    xr = np.random.default_rng(0).uniform(-1, 1, n_rosen)
    assert np.isclose(grad_scalar(x0, n_scalar), hand_scalar(x0, n_scalar), rtol=1e-9)
    assert np.allclose(grad_rosen(xr), hand_rosen(xr), rtol=1e-9, atol=1e-9)
    rows = []
    for name, nab, hand, prim, args in (
        (f"scalar loop n={n_scalar}", grad_scalar, hand_scalar, primal_scalar, (x0, n_scalar)),
        (f"loop Rosenbrock n={n_rosen}", grad_rosen, hand_rosen, primal_rosen, (xr,)),
    ):
        t_nab, t_hand, t_prim = (best_time(f, *args) for f in (nab, hand, prim))
        rows.append((name, t_prim, t_hand, t_nab))
    print(f"{'workload':28} {'primal':>10} {'hand grad':>10} {'nabla grad':>11} "
          f"{'nabla/primal':>13} {'nabla/hand':>11}")
    for name, tp, th, tn in rows:
        print(f"{name:28} {tp * 1e3:8.2f}ms {th * 1e3:8.2f}ms {tn * 1e3:9.2f}ms "
              f"{tn / tp:13.2f} {tn / th:11.2f}")
    tape_bytes = 8 * n_scalar  # one float64 per iteration: x_tape in the generated source
    assert "x_tape = tape_like(x, " in grad_scalar.source
    print(f"scalar loop tape: {tape_bytes} bytes = {tape_bytes / n_scalar:.0f} n bytes "
          "(the floor is 8n)")


if __name__ == "__main__":
    main("--quick" in sys.argv)
