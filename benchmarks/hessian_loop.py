"""The Hessian of a loop that writes an array, as its length grows: its cost should grow as
n**2 (n columns, each a pass over n elements), not n**3.

Run: python benchmarks/hessian_loop.py [--sizes 100,200,400,800]

Before ownership.py followed liveness (docs/performance.md, ninth part) every iteration of
the second derivative's loop copied the whole cotangent arrays.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nabla  # noqa: E402


def shifted_products(x):
    n = x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        y[i] = np.sin(x[i]) * x[i - 1]
    return np.sum(y * y)


def best(fn, *args, repeats=5):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,200,400,800")
    args = parser.parse_args(argv)
    nabla.config.verbose = False
    grad, hessian = nabla.grad(shifted_products), nabla.hessian(shifted_products)
    print(f"{'n':>6} {'grad':>10} {'hessian':>10} {'hessian / (n grad)':>20}")
    for n in (int(s) for s in args.sizes.split(",")):
        x = np.random.default_rng(0).normal(size=n)
        grad(x)
        hessian(x)
        tg, th = best(grad, x), best(hessian, x, repeats=3)
        print(f"{n:>6} {tg * 1e3:>8.3f}ms {th * 1e3:>8.1f}ms {th / (n * tg):>20.1f}")


if __name__ == "__main__":
    main()
