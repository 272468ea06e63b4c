"""The figure of docs/tutorial.md, section 5: what reverse mode keeps for a loop, with
``range`` and with ``nabla.checkpointed_range``, against the loop's length, and what
the gradient costs in time.

    python docs/plots.py        # writes docs/img/tape_memory.png (needs matplotlib:
                                # pip install -e ".[docs]")

The loop is the tutorial's logistic map over 100 parameters. Three measures:

- ``kept_bytes``: the bytes that the forward sweep keeps for the adjoint sweep, as
  ``nabla.saved`` measures them on a call (the tape, or the checkpoints, and the
  arguments);
- ``peak_bytes``: the peak of the memory allocated during one whole gradient call,
  with Numba off (``nabla.config.jit = False``: the generated code runs as Python,
  and NumPy reports its arrays to ``tracemalloc``), so it includes the adjoint's own
  segment tape and every temporary;
- ``seconds``: the time of one call of the compiled gradient (and of the loop alone,
  ``nabla.jit``), the best of many calls.

The first two are exact and repeatable; the measuring functions need only NumPy and
nabla (tests/test_docs.py calls them), and matplotlib is imported only to draw.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

import nabla

HERE = Path(__file__).resolve().parent
FIGURE = HERE / "img" / "tape_memory.png"
SIZE = 100  # parameters, as in the tutorial
LENGTHS = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000)


def logistic(r, x, n):
    for i in range(n):
        x = r * x * (1.0 - x)
    return np.sum(x)


def logistic_checkpointed(r, x, n):
    for i in nabla.checkpointed_range(n):
        x = r * x * (1.0 - x)
    return np.sum(x)


LOOPS = {"range": logistic, "checkpointed_range": logistic_checkpointed}


def arguments(size: int = SIZE):
    """``r`` and the starting ``x`` of the tutorial's logistic map."""
    return np.linspace(2.5, 3.0, size), np.full(size, 0.5)


def kept_bytes(fn, n: int, size: int = SIZE) -> int:
    """Bytes reverse mode keeps from the forward sweep for the adjoint (``nabla.saved``)."""
    r, x = arguments(size)
    return nabla.saved(fn, r, x, n, argnums=0).total


def peak_bytes(fn, n: int, size: int = SIZE) -> int:
    """Peak bytes allocated during one gradient call, Numba off (``tracemalloc``)."""
    old = nabla.config.jit
    nabla.config.jit = False
    try:
        grad = nabla.grad(fn, mode="reverse")
        r, x = arguments(size)
        grad(r, x, n)  # the transform's own allocations happen here, not below
        tracemalloc.start()
        try:
            grad(r, x, n)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        nabla.config.jit = old
    return peak


def seconds(fn, n: int, size: int = SIZE, repeat: int = 7, least: float = 0.2) -> float:
    """The best time of one call of ``fn`` (a nabla.Function), after a first call that
    compiles: the minimum over at least ``repeat`` calls and ``least`` seconds."""
    r, x = arguments(size)
    fn(r, x, n)
    best, spent, calls = float("inf"), 0.0, 0
    while calls < repeat or spent < least:
        start = time.perf_counter()
        fn(r, x, n)
        took = time.perf_counter() - start
        best, spent, calls = min(best, took), spent + took, calls + 1
    return best


def measure(lengths=LENGTHS, size: int = SIZE) -> dict:
    """{measure: {label: [value per length]}} for every loop and length."""
    out = {"lengths": list(lengths), "kept": {}, "peak": {}, "seconds": {}}
    for label, fn in LOOPS.items():
        out["kept"][label] = [kept_bytes(fn, n, size) for n in lengths]
        out["peak"][label] = [peak_bytes(fn, n, size) for n in lengths]
        grad = nabla.grad(fn, mode="reverse")
        out["seconds"][f"gradient, {label}"] = [seconds(grad, n, size) for n in lengths]
    primal = nabla.jit(logistic)
    out["seconds"]["the loop alone (nabla.jit)"] = [seconds(primal, n, size) for n in lengths]
    return out


def plot(results: dict, path: Path = FIGURE) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = results["lengths"]
    colors = {"range": "tab:red", "checkpointed_range": "tab:blue"}
    fig, (memory, timing) = plt.subplots(1, 2, figsize=(11, 4.4))
    for label, color in colors.items():
        memory.loglog(n, results["kept"][label], "o-", color=color,
                      label=f"{label}: kept for the adjoint (nabla.saved)")
        memory.loglog(n, results["peak"][label], "s--", color=color, alpha=0.6,
                      label=f"{label}: peak during the call (tracemalloc)")
    memory.set_xlabel("loop length n (iterations)")
    memory.set_ylabel("bytes")
    memory.set_title(f"reverse-mode memory, state of {SIZE} float64")
    memory.grid(True, which="both", alpha=0.3)
    memory.legend(fontsize=8)
    styles = {"gradient, range": ("o-", "tab:red"),
              "gradient, checkpointed_range": ("o-", "tab:blue"),
              "the loop alone (nabla.jit)": ("^:", "tab:gray")}
    for label, values in results["seconds"].items():
        marker, color = styles[label]
        timing.loglog(n, [1e3 * v for v in values], marker, color=color, label=label)
    timing.set_xlabel("loop length n (iterations)")
    timing.set_ylabel("milliseconds (the best of many calls, Numba)")
    timing.set_title("time of one call")
    timing.grid(True, which="both", alpha=0.3)
    timing.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    results = measure()
    print(f"{'n':>6} " + " ".join(f"{k:>28}" for k in
                                  ["kept, range", "kept, checkpointed", "peak, range",
                                   "peak, checkpointed"]))
    for i, n in enumerate(results["lengths"]):
        row = [results["kept"]["range"][i], results["kept"]["checkpointed_range"][i],
               results["peak"]["range"][i], results["peak"]["checkpointed_range"][i]]
        print(f"{n:>6} " + " ".join(f"{v:>28d}" for v in row))
    for label, values in results["seconds"].items():
        print(f"{label}: " + ", ".join(f"{1e3 * v:.3g} ms" for v in values))
    plot(results)
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
