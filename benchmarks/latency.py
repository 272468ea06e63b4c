"""Compile latency: the time to the first derivative in a fresh process.

Each case runs in a child process, timed from after ``import nabla`` (or ``import jax``)
and creating the inputs to the first result:

- nabla with an empty cache (``NABLA_CACHE_DIR`` a new temporary directory): nabla's
  transform (the time spent making generated modules, measured apart) plus Numba's
  compile plus one run;
- nabla with that cache warm, in a second (and third, fourth: the minimum is kept)
  process: generated source and machine code read from disk;
- JAX's first ``jit(grad)`` call (trace, XLA compile, one run), in its own process.

Numba's compile time is the cold first call less nabla's transform time less the time
of a second call. The cases run at the --quick sizes (the run itself is subtracted or
small). As in benchmarks/first_call.py and benchmarks/higher_order.py.

Run: python benchmarks/latency.py [--quick] [--only=sum_sin2,mlp] [--no-jax]
(benchmarks/run.py runs it too)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

QUICK_CASES = ("sum_sin2", "scalar_loop", "rosenbrock")
CASES = ("gmm_n1000", "lstm", "ba", "sum_sin2", "scalar_loop", "rosenbrock", "mlp",
         "oscillator")
NAMES = {"gmm_n1000": "GMM d=10 K=25 n=1000", "lstm": "LSTM l=2 b=14 c=128",
         "ba": "BA Jacobian 1000 obs", "sum_sin2": "sum(sin(x)**2) n=10^5",
         "scalar_loop": "scalar loop n=10^5", "rosenbrock": "loop Rosenbrock n=10^4",
         "mlp": "MLP 100-200-10, batch 256", "oscillator": "per-example grads, 10^4 ex"}


def case(key):
    """(nabla arguments, make the nabla Function, JAX maker, JAX arguments)."""
    import numpy as np

    import nabla
    from benchmarks import baselines as B
    from benchmarks import workloads as W

    if key == "gmm_n1000":
        a = W.gmm_inputs(10, 25, 1000)
        lg = W.log_gamma_distrib(0.5 * (10 + a[5] + 1), 10)
        return (a + (lg,), lambda: nabla.grad(W.gmm_objective_lg, argnums=(0, 1, 2)),
                B.jax_gmm, a)
    if key == "lstm":
        a = W.lstm_inputs(2, 128, 14)
        return a, lambda: nabla.grad(W.lstm_objective, argnums=(0, 1)), B.jax_lstm, a
    if key == "ba":
        a = W.ba_inputs(20, 500, 1000)
        return (a, lambda: nabla.vmap(nabla.jacfwd(W.reproj_error_x, argnums=(0, 1, 2))),
                B.jax_ba, a)
    if key == "sum_sin2":
        a = (np.random.default_rng(0).uniform(-2, 2, 10**5),)
        return a, lambda: nabla.grad(W.sum_sin2), B.jax_sum_sin2, a
    if key == "scalar_loop":
        a = (0.8, 10**5)
        return a, lambda: nabla.grad(W.scalar_loop), B.jax_scalar_loop, a
    if key == "rosenbrock":
        a = (np.random.default_rng(0).uniform(-1, 1, 10**4),)
        return a, lambda: nabla.grad(W.rosenbrock), B.jax_rosenbrock, a
    if key == "mlp":
        a = W.mlp_inputs(256, 100, 200, 10)
        return a, lambda: nabla.grad(W.mlp_loss, argnums=(0, 1, 2, 3)), B.jax_mlp, a
    if key == "oscillator":
        a = (np.linspace(0.5, 3.0, 10**4), 1.0, 50)
        return (a, lambda: nabla.vmap(nabla.grad(W.oscillator), in_axes=(0, None, None),
                                      target="parallel"), B.jax_oscillator, a)
    raise KeyError(key)


HAND = {"gmm_n1000": "gmm_grad", "lstm": "lstm_grad", "ba": "ba_jacobian",
        "sum_sin2": "sum_sin2_grad", "scalar_loop": "scalar_loop_grad_forward",
        "rosenbrock": "rosenbrock_grad_gather", "mlp": "mlp_grad",
        "oscillator": "oscillator_grads_forward"}


def child(which: str, key: str) -> dict:
    """In the child process: the first result's time, and its parts."""
    if which == "hand":  # the hand-written Numba derivative, its cache a new directory
        from benchmarks import hand as H

        args = case(key)[0]
        if key == "gmm_n1000":
            args = args[:6]  # the hand-written GMM computes the lgamma constant itself
        fn = getattr(H, HAND[key])
        start = time.perf_counter()
        fn(*args)
        first = time.perf_counter() - start
        t0 = time.perf_counter()
        fn(*args)
        return {"first": first, "second": time.perf_counter() - t0}
    if which == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        _, _, maker, jargs = case(key)
        start = time.perf_counter()
        run, _ = maker(*jargs)
        run()
        first = time.perf_counter() - start
        t0 = time.perf_counter()
        run()
        return {"first": first, "second": time.perf_counter() - t0}
    t0 = time.perf_counter()
    import nabla
    from nabla.api import Function

    imported = time.perf_counter() - t0

    spent = {"transform": 0.0, "depth": 0}
    variant = Function._variant

    def timed_variant(self, *a, **k):  # nabla's own work: making the generated modules
        spent["depth"] += 1
        t0 = time.perf_counter()
        try:
            return variant(self, *a, **k)
        finally:
            spent["depth"] -= 1
            if spent["depth"] == 0:
                spent["transform"] += time.perf_counter() - t0

    Function._variant = timed_variant
    args, make, _, _ = case(key)
    start = time.perf_counter()
    f = make()
    f(*args)
    first = time.perf_counter() - start
    t0 = time.perf_counter()
    f(*args)
    second = time.perf_counter() - t0
    del nabla
    return {"first": first, "second": second, "transform": spent["transform"],
            "import": imported}


def _spawn(which, key, cache):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if cache is not None:
        env["NABLA_CACHE_DIR"] = str(cache)
        if which == "hand":  # the hand-written functions say cache=True: compile them cold
            env["NUMBA_CACHE_DIR"] = str(cache)
    out = subprocess.run([sys.executable, "-m", "benchmarks.latency", "--child", which, key],
                         env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip()
                           else f"exit {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_all(quick: bool, log=print, only=None, warm_runs=3, jax=True) -> list[dict]:
    from benchmarks import baselines as B

    keys = QUICK_CASES if quick else CASES
    if only:
        keys = [k for k in keys if any(k.startswith(o) for o in only.split(","))]
    rows = []
    have_jax = jax and B.available("jax") is None
    for key in keys:
        log(f"  latency: {key}")
        row = {"key": key, "name": NAMES[key]}
        try:
            with tempfile.TemporaryDirectory(prefix="nabla-latency-") as tmp:
                cold = _spawn("nabla", key, tmp)
                warm = [_spawn("nabla", key, tmp) for _ in range(warm_runs)]
            row["cold"] = cold["first"]
            row["transform"] = cold["transform"]
            row["numba"] = cold["first"] - cold["transform"] - cold["second"]
            row["warm"] = min(w["first"] for w in warm)
            row["import"] = min(w["import"] for w in warm)
            with tempfile.TemporaryDirectory(prefix="nabla-latency-hand-") as tmp:
                hand = _spawn("hand", key, tmp)
            row["hand_cold"] = hand["first"]
        except Exception as e:  # noqa: BLE001 - a refusal or crash is shown in the row
            row["error"] = f"{type(e).__name__}: {e}"
        if have_jax:
            try:
                row["jax_first"] = _spawn("jax", key, None)["first"]
            except Exception as e:  # noqa: BLE001
                row["jax_error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows


def print_table(rows) -> None:
    print("\ncompile latency: time to the first derivative in a fresh process "
          "(from after import and inputs)")
    head = (f"{'workload':30}{'cold':>9}{'transform':>11}{'Numba':>9}{'hand cold':>11}"
            f"{'cold/hand':>11}{'warm':>8}{'import':>8}{'JAX first':>11}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['name']:30}  failed: {r['error']}")
            continue
        jf = r.get("jax_first")
        imp = r.get("import")
        hc = r.get("hand_cold")
        ratio = "-" if hc is None else f"{r['cold'] / hc:.2f}"
        print(f"{r['name']:30}{r['cold']:>8.2f}s{r['transform']:>10.3f}s{r['numba']:>8.2f}s"
              f"{'-' if hc is None else f'{hc:.2f}s':>11}"
              f"{ratio:>11}{r['warm']:>7.3f}s"
              f"{'-' if imp is None else f'{imp:.2f}s':>8}"
              f"{'-' if jf is None else f'{jf:.2f}s':>11}")
    print("cold: empty nabla cache (transform + Numba compile + one run); transform: nabla's "
          "own\ntime making the generated modules; Numba: cold - transform - a second "
          "call; hand cold: the\nhand-written Numba derivative's first call in a fresh "
          "process, its Numba cache empty\n(compile + one run); warm: a new process reusing "
          "the cache (min of 3); import: its\n`import nabla` (not in warm); JAX first: "
          "trace + XLA compile + one run.")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
    else:
        only = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")), None)
        print_table(measure_all("--quick" in sys.argv, only=only,
                                jax="--no-jax" not in sys.argv))
