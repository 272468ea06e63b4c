"""Per-example gradients over Dask: the gradient of the suite's damped oscillator (50
Euler steps) with respect to its stiffness, for 10^6 stiffness values, as
``vmap(grad(oscillator), in_axes=(0, None, None))``:

- ``target="cpu"`` and ``target="parallel"`` in this process (NumPy in, NumPy out);
- the same vmap (``target="cpu"`` inside each chunk) over a Dask array, with Dask's
  threads in this process (no client), and on a ``LocalCluster`` of 1 and of 2 worker
  processes (one thread each), the stiffness values made on the workers
  (``da.linspace``) and the gradients brought back to this process.

Times are the best of a few runs after one that compiles (the workers' first call,
transform and compilation included, is shown apart, as is the cluster's start-up).
Throughput ratios are against ``"cpu"`` in one process, from the same run. The last
lines measure what a larger cluster would pay: the scheduler's cost per task (a map
over many tiny chunks) and the bytes each example moves.

Run: python benchmarks/dask_vmap.py [--quick] [--size N]
"""

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import nabla  # noqa: E402
from benchmarks.workloads import oscillator  # noqa: E402

STEPS = 50


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(quick: bool, size: int | None = None) -> None:
    size = size or (10**5 if quick else 10**6)
    repeat = 3 if quick or size > 10**6 else 5
    ks = np.linspace(0.5, 3.0, size)
    cpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    par = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="parallel")
    want = cpu(ks, 1.0, STEPS)
    assert np.allclose(par(ks, 1.0, STEPS), want, rtol=1e-12, atol=1e-15)
    rows = [("target='cpu', one process", best(lambda: cpu(ks, 1.0, STEPS), repeat)),
            ("target='parallel', one process", best(lambda: par(ks, 1.0, STEPS), repeat))]

    def on_dask(chunks):
        out = cpu(da.linspace(0.5, 3.0, size, chunks=chunks), 1.0, STEPS)
        return out.compute()

    chunks = -(-size // 4)
    assert np.allclose(on_dask(chunks), want, rtol=1e-12, atol=1e-15)
    with dask.config.set(scheduler="threads"):
        rows.append(("Dask, threads of this process (4 chunks)",
                     best(lambda: on_dask(chunks), repeat)))
    starts, firsts = {}, {}
    for workers in (1, 2):
        t = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
        client = Client(cluster)
        starts[workers] = time.perf_counter() - t
        t = time.perf_counter()
        got = on_dask(chunks)
        firsts[workers] = time.perf_counter() - t
        assert np.allclose(got, want, rtol=1e-12, atol=1e-15)
        rows.append((f"Dask, LocalCluster of {workers} worker process{'es' * (workers > 1)} "
                     f"(4 chunks)", best(lambda: on_dask(chunks), repeat)))
        if workers == 2:
            overhead = per_task_overhead(size)
        client.close()
        cluster.close()

    base = rows[0][1]
    print(f"per-example gradients of the oscillator ({STEPS} steps), {size:,} examples")
    print(f"{'':<52}{'time':>9}{'examples/s':>14}{'vs cpu':>9}")
    for label, t in rows:
        print(f"{label:<52}{t * 1e3:>7.1f}ms{size / t:>14.3g}{base / t:>8.2f}x")
    par_t = rows[1][1]
    two = rows[-1][1]
    print(f"Dask with 2 workers against 'parallel': {two / par_t:.2f}x its time")
    for workers in (1, 2):
        print(f"LocalCluster of {workers}: start-up {starts[workers]:.2f} s; first call "
              f"(the workers transform and compile, or read the disk cache) "
              f"{firsts[workers]:.2f} s")
    print(f"scheduler cost per task (a map over tiny chunks, 2 workers): "
          f"{overhead * 1e3:.2f} ms")
    print(f"bytes an example moves: 8 in (made on the workers here) + 8 out = 16; "
          f"{size:,} examples: {16 * size / 1e6:.0f} MB")


def per_task_overhead(size: int) -> float:
    """Seconds per task of a map over 400 chunks of 10 examples (the work itself is ~µs)."""
    cpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    n = 400

    def run():
        return cpu(da.linspace(0.5, 3.0, 10 * n, chunks=10), 1.0, STEPS).compute()

    run()
    return best(run, 3) / n


if __name__ == "__main__":
    given = sys.argv.index("--size") + 1 if "--size" in sys.argv else None
    main("--quick" in sys.argv, int(float(sys.argv[given])) if given else None)
