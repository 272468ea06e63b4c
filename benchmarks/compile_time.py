"""Where a first compile's time goes: Numba's compile of one workload's derivative in this
fresh process (an empty nabla cache), per function compiled, each function's own time
(its callees' compiles, which Numba runs inside its type inference, subtracted).

Functions are grouped by what they are: nabla's generated functions, ``nabla.runtime``'s
helpers (one compile per specialisation), and Numba's own implementations of NumPy and
Python (``np.empty``, ``np.cross``, error messages' string formatting ...). From Numba's
``numba:compile`` events, as ``nabla.stats`` counts compiles.

Run: python benchmarks/compile_time.py lstm [--top=20]  (the workloads of
benchmarks/latency.py: gmm_n1000, lstm, ba, sum_sin2, scalar_loop, rosenbrock, mlp,
oscillator)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ["NABLA_CACHE_DIR"] = tempfile.mkdtemp(prefix="nabla-compile-time-")
    from numba.core import event

    own: dict[str, list] = {}  # function -> [seconds, compiles]
    stack: list[list] = []

    class Listener(event.Listener):
        def on_start(self, ev):
            stack.append([ev.data.get("dispatcher"), time.perf_counter(), 0.0])

        def on_end(self, ev):
            dispatcher, start, inner = stack.pop()
            spent = time.perf_counter() - start
            if stack:
                stack[-1][2] += spent
            fn = getattr(dispatcher, "py_func", dispatcher)
            name = f"{getattr(fn, '__module__', None) or '?'}:{getattr(fn, '__qualname__', '?')}"
            entry = own.setdefault(name, [0.0, 0])
            entry[0] += spent - inner
            entry[1] += 1

    event.register("numba:compile", Listener())
    import nabla  # noqa: F401
    from benchmarks.latency import case
    from nabla.names import GENERATED_MODULE_PREFIX

    inputs, make, _, _ = case(args.workload)
    start = time.perf_counter()
    make()(*inputs)
    total = time.perf_counter() - start

    def group(name):
        if name.startswith(GENERATED_MODULE_PREFIX):
            return "generated"
        return "nabla.runtime" if name.startswith("nabla.") else "Numba's own"

    groups: dict[str, float] = {}
    for name, (seconds, _) in own.items():
        groups[group(name)] = groups.get(group(name), 0.0) + seconds
    print(f"{args.workload}: first call {total:.2f} s, of which Numba compiling "
          f"{sum(groups.values()):.2f} s")
    for g, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {g:14s} {seconds:6.2f} s")
    print(f"\nthe {args.top} costliest (own seconds, compiles, function):")
    for name, (seconds, n) in sorted(own.items(), key=lambda kv: -kv[1][0])[:args.top]:
        short = name.split(":", 1)[1] if name.startswith(GENERATED_MODULE_PREFIX) else name
        print(f"  {seconds:6.2f} s {n:3d}x  {short}")


if __name__ == "__main__":
    main()
