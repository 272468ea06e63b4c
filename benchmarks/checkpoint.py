"""Loop checkpointing: the gradient of an n-step loop carrying a small state, with the full
tape (``range``) and with ``nabla.checkpointed_range``: tape bytes (``nabla.saved``), the
peak resident memory the gradient adds in a fresh child process, and time, in one run.

    python benchmarks/checkpoint.py            # n = 10**7
    python benchmarks/checkpoint.py --steps 100000

Target (issue 16): the checkpointed tape <= 1% of the full one, at <= 2.5x its time.
"""

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
import nabla
from benchmarks.checkpoint import pendulum, pendulum_checkpointed

fun = {{"range": pendulum, "checkpointed_range": pendulum_checkpointed}}[{which!r}]
n = {steps}
g = nabla.grad(fun, argnums=(0, 1, 2))
g(1.0, 0.5, 0.0, 1e-4, 10)  # compiled on a short loop

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

with open("/proc/self/clear_refs", "w") as f:  # the high-water mark starts again here
    f.write("5")
before = status("VmRSS:")
best = float("inf")
for _ in range({repeats}):
    t0 = time.perf_counter()
    grads = g(1.0, 0.5, 0.0, 1e-4, n)
    best = min(best, time.perf_counter() - t0)
peak = status("VmHWM:")
primal_fn = nabla.jit(fun)
primal_fn(1.0, 0.5, 0.0, 1e-4, 10)
primal = float("inf")
for _ in range({repeats}):
    t0 = time.perf_counter()
    primal_fn(1.0, 0.5, 0.0, 1e-4, n)
    primal = min(primal, time.perf_counter() - t0)
print(json.dumps({{"time": best, "primal": primal, "added": peak - before,
                  "grads": [float(v) for v in grads]}}))
"""


def pendulum(q, p, s, dt, n):
    """A lightly damped pendulum integrated with symplectic Euler, and the running integral
    of q^2: three scalars carried n steps."""
    for i in range(n):
        p = p - dt * (np.sin(q) + 0.001 * p)
        q = q + dt * p
        s = s + dt * q * q
    return q + p + s


def pendulum_checkpointed(q, p, s, dt, n):
    for i in nabla.checkpointed_range(n):
        p = p - dt * (np.sin(q) + 0.001 * p)
        q = q + dt * p
        s = s + dt * q * q
    return q + p + s


import numpy as np  # noqa: E402  (the functions above read them when transformed)

import nabla  # noqa: E402


def _child(which: str, steps: int, repeats: int) -> dict:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = CHILD.format(root=root, which=which, steps=steps, repeats=repeats)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10 ** 7)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    n = args.steps
    started = time.perf_counter()
    tapes = {name: nabla.saved(fun, 1.0, 0.5, 0.0, 1e-4, n, argnums=(0, 1, 2)).total
             for name, fun in (("range", pendulum),
                               ("checkpointed_range", pendulum_checkpointed))}
    runs = {name: _child(name, n, args.repeats) for name in tapes}
    full, ck = runs["range"], runs["checkpointed_range"]
    same = max(abs(a - b) / max(abs(a), 1e-300) for a, b in zip(full["grads"], ck["grads"]))
    print(f"loop checkpointing: a damped pendulum, {n:,} symplectic Euler steps, 3 scalars "
          "carried; the gradient with respect to the initial state")
    print(f"{'loop':<20}{'tape (nabla.saved)':>22}{'peak RSS added':>18}{'time':>10}"
          f"{'grad/primal':>13}")
    for name in tapes:
        r = runs[name]
        print(f"{name:<20}{tapes[name]:>16,} bytes{r['added'] / 2 ** 20:>14.1f} MiB"
              f"{r['time']:>9.2f}s{r['time'] / r['primal']:>13.2f}")
    print(f"checkpointed / full: tape {tapes['checkpointed_range'] / tapes['range']:.4%} "
          f"(target <= 1%), peak RSS added {ck['added'] / max(full['added'], 1):.2%}, "
          f"time {ck['time'] / full['time']:.2f}x (target <= 2.5x); the gradients agree to "
          f"{same:.1e}")
    print(f"(run took {time.perf_counter() - started:.0f} s; times: the best of "
          f"{args.repeats}, each in a fresh process after compiling)")


if __name__ == "__main__":
    main()
