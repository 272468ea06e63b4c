"""nabla's benchmark suite: every workload and every baseline in one process.

For each workload (``benchmarks/workloads.py``): nabla's derivative, the best
hand-written Numba derivative (``benchmarks/hand.py``; where two forms exist both run
and the faster is the reference), the Numba-compiled primal, and JAX ``jit(grad)``,
PyTorch (CPU) and HIPS autograd when installed (``benchmarks/baselines.py``). Before
anything is timed, every result is checked against the hand-written derivative, and
nabla's and the hand-written derivatives against central finite differences on a small
case. Times are the minimum over repeats (at least 5 samples and 0.2 s in all). Then
the per-call overhead of a ``nabla.Function``, and the compile latency: the time to the
first derivative in a fresh process, with an empty nabla cache and with a warm one.

Run: python benchmarks/run.py [--quick] [--json] [--no-latency]
     (or python -m benchmarks ...)

--quick: smaller sizes and fewer latency cases (under 3 minutes once nabla's and
Numba's caches are warm; a first run compiles everything). --json: one JSON document on
stdout instead of the tables.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import nabla  # noqa: E402
from benchmarks import baselines as B  # noqa: E402
from benchmarks import hand as H  # noqa: E402
from benchmarks import latency  # noqa: E402
from benchmarks import workloads as W  # noqa: E402
from nabla import vmapping  # noqa: E402
from nabla.arguments import type_key as _type_key  # noqa: E402

LIBS = ("jax", "torch", "autograd")


# -- timing ------------------------------------------------------------------------------------


def best_time(run, min_total=0.2, min_samples=5):
    """The minimum of repeated timings of ``run()`` (it has been called once already)."""
    times, total = [], 0.0
    while total < min_total or len(times) < min_samples:
        t0 = time.perf_counter()
        run()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return min(times)


def per_call(runs, calls=200, min_total=0.2, min_samples=20):
    """For each of ``runs``, the minimum over samples of the mean time of ``calls`` calls;
    the samples of the runs interleave, so that a busy machine slows them alike."""
    best = [math.inf] * len(runs)
    total, samples = 0.0, 0
    while total < min_total or samples < min_samples:
        for i, run in enumerate(runs):
            t0 = time.perf_counter()
            for _ in range(calls):
                run()
            dt = time.perf_counter() - t0
            best[i] = min(best[i], dt / calls)
            total += dt
        samples += 1
    return best


# -- workloads ---------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    key: str
    args: tuple  # the timed case
    small: tuple  # the finite-difference and per-call-overhead case
    nabla: list  # [(label, make Function, note when it is a fallback)], tried in order
    hand: dict  # label -> njit function of the arguments
    canon: object  # a result (of nabla or hand) -> list of float64 arrays
    fd_fn: object  # Python: arguments -> output (a float or an array)
    diff: tuple  # the argument positions differentiated
    jv: object  # (canonical derivative, directions) -> directional derivative
    primal: object = None  # a Numba-compiled primal, for gradient/primal
    baselines: dict = field(default_factory=dict)  # lib -> [(label, maker, args, scale)]
    scalar_output: bool = True


def _list(r):
    if isinstance(r, tuple | list):
        return [np.asarray(a, dtype=np.float64) for a in r]
    return [np.asarray(r, dtype=np.float64)]


def _grad_jv(g, v):
    return sum(float(np.sum(gi * vi)) for gi, vi in zip(g, v))


def _ba_canon(r):
    if isinstance(r, tuple):  # nabla: (d/dcam (m, 2, 11), d/dpoint (m, 2, 3), d/dw (m, 2))
        jc, jx, jw = r
        return [np.concatenate([jc, jx, np.asarray(jw)[:, :, None]], axis=2)]
    return [np.asarray(r)]


def _ba_fd(cams, points, weights, feats):
    return np.array([W.reproj_error(c, p, w, f)
                     for c, p, w, f in zip(cams, points, weights, feats)])


def _ba_jv(jac, v):
    vv = np.concatenate([v[0], v[1], v[2][:, None]], axis=1)
    return np.einsum("mrq,mq->mr", jac[0], vv)


def _osc_fd(ks, x0, n):
    return np.array([W.oscillator(k, x0, n) for k in ks])


def _ba_vmap_jacfwd(f):
    return lambda: nabla.vmap(nabla.jacfwd(f, argnums=(0, 1, 2)))


def make_workloads(quick: bool) -> list[Workload]:
    ws = []
    gmm_sizes = [1000] if quick else [1000, 10000]
    for n in gmm_sizes:
        args = W.gmm_inputs(10, 25, n)
        small = W.gmm_inputs(3, 4, 6, seed=1)
        ws.append(Workload(
            name=f"GMM d=10 K=25 n={n}", key=f"gmm_n{n}", args=args, small=small,
            nabla=[("grad", lambda: nabla.grad(W.gmm_objective, argnums=(0, 1, 2)), None),
                   ("grad", lambda: _with_const(
                       nabla.grad(W.gmm_objective_lg, argnums=(0, 1, 2))),
                    "gmm_objective_lg: the Wishart constant (math.lgamma) passed in")],
            hand={"reverse": H.gmm_grad}, canon=_list, fd_fn=W.gmm_objective, diff=(0, 1, 2),
            jv=_grad_jv, primal=_with_const(nabla.jit(W.gmm_objective_lg)),
            baselines={"jax": [("vectorized", B.jax_gmm, None, 1)],
                       "torch": [("vectorized", B.torch_gmm, None, 1)],
                       "autograd": [("vectorized", B.autograd_gmm, None, 1)]}))
    steps = 128 if quick else 1024
    ws.append(Workload(
        name=f"LSTM l=2 b=14 c={steps}", key="lstm", args=W.lstm_inputs(2, steps, 14),
        small=W.lstm_inputs(2, 4, 3, seed=1),
        nabla=[("grad", lambda: nabla.grad(W.lstm_objective, argnums=(0, 1)), None)],
        hand={"reverse": H.lstm_grad}, canon=_list, fd_fn=W.lstm_objective, diff=(0, 1),
        jv=_grad_jv, primal=nabla.jit(W.lstm_objective),
        baselines={"jax": [("lax.scan", B.jax_lstm, None, 1)],
                   "torch": [("Python loop", B.torch_lstm, None, 1)],
                   "autograd": [("Python loop", B.autograd_lstm, None, 1)]}))
    n_obs = 1000 if quick else 5000
    ws.append(Workload(
        name=f"BA Jacobian {n_obs} obs (2x15 blocks)", key="ba",
        args=W.ba_inputs(20, n_obs // 2, n_obs), small=W.ba_inputs(2, 3, 4, seed=1),
        nabla=[("vmap(jacfwd)", _ba_vmap_jacfwd(W.reproj_error), None),
               ("vmap(jacfwd)", _ba_vmap_jacfwd(W.reproj_error_x),
                "reproj_error_x: np.cross written out")],
        hand={"forward": H.ba_jacobian}, canon=_ba_canon, fd_fn=_ba_fd, diff=(0, 1, 2),
        jv=_ba_jv, primal=nabla.vmap(W.reproj_error_x), scalar_output=False,
        baselines={"jax": [("vmap(jacfwd)", B.jax_ba, None, 1)],
                   "torch": [("vectorized, 2 backward", B.torch_ba, None, 1)],
                   "autograd": [("vectorized, 2 backward", B.autograd_ba, None, 1)]}))
    n = 10**5 if quick else 10**6
    x = np.random.default_rng(0).uniform(-2, 2, n)
    ws.append(Workload(
        name=f"sum(sin(x)**2) n={n}", key="sum_sin2", args=(x,),
        small=(np.linspace(-1, 1, 7),),
        nabla=[("grad", lambda: nabla.grad(W.sum_sin2), None)],
        hand={"loop": H.sum_sin2_grad}, canon=_list, fd_fn=W.sum_sin2, diff=(0,),
        jv=_grad_jv, primal=nabla.jit(W.sum_sin2),
        baselines={"jax": [("vectorized", B.jax_sum_sin2, None, 1)],
                   "torch": [("vectorized", B.torch_sum_sin2, None, 1)],
                   "autograd": [("vectorized", B.autograd_sum_sin2, None, 1)]}))
    n = 10**5 if quick else 10**6
    base = 10**3 if quick else 10**4  # the Python loops of torch and autograd run this many
    ws.append(Workload(
        name=f"scalar loop n={n}", key="scalar_loop", args=(0.8, n), small=(0.8, 10),
        nabla=[("grad", lambda: nabla.grad(W.scalar_loop), None)],
        hand={"reverse (tape)": H.scalar_loop_grad_reverse,
              "forward (no tape)": H.scalar_loop_grad_forward},
        canon=_list, fd_fn=W.scalar_loop, diff=(0,), jv=_grad_jv,
        primal=nabla.jit(W.scalar_loop),
        baselines={"jax": [("fori_loop", B.jax_scalar_loop, None, 1)],
                   "torch": [("Python loop", B.torch_scalar_loop, (0.8, base), n / base)],
                   "autograd": [("Python loop", B.autograd_scalar_loop, (0.8, base),
                                 n / base)]}))
    n = 10**4 if quick else 10**5
    x = np.random.default_rng(0).uniform(-1, 1, n)
    ws.append(Workload(
        name=f"loop Rosenbrock n={n}", key="rosenbrock", args=(x,),
        small=(np.linspace(-1, 1, 7),),
        nabla=[("grad", lambda: nabla.grad(W.rosenbrock), None)],
        hand={"scatter": H.rosenbrock_grad_scatter, "gather": H.rosenbrock_grad_gather},
        canon=_list, fd_fn=W.rosenbrock, diff=(0,), jv=_grad_jv,
        primal=nabla.jit(W.rosenbrock),
        baselines={"jax": [("fori_loop", B.jax_rosenbrock, None, 1),
                           ("vectorized", B.jax_rosenbrock_vec, None, 1)],
                   "torch": [("vectorized", B.torch_rosenbrock_vec, None, 1)],
                   "autograd": [("vectorized", B.autograd_rosenbrock_vec, None, 1)]}))
    ws.append(Workload(
        name="MLP 100-200-10, batch 256", key="mlp", args=W.mlp_inputs(256, 100, 200, 10),
        small=W.mlp_inputs(3, 4, 5, 2, seed=1),
        nabla=[("grad", lambda: nabla.grad(W.mlp_loss, argnums=(0, 1, 2, 3)), None)],
        hand={"matrix": H.mlp_grad}, canon=_list, fd_fn=W.mlp_loss, diff=(0, 1, 2, 3),
        jv=_grad_jv, primal=nabla.jit(W.mlp_loss),
        baselines={"jax": [("vectorized", B.jax_mlp, None, 1)],
                   "torch": [("vectorized", B.torch_mlp, None, 1)],
                   "autograd": [("vectorized", B.autograd_mlp, None, 1)]}))
    m = 10**4 if quick else 10**5
    ws.append(Workload(
        name=f"per-example grads, oscillator, {m} ex", key="oscillator",
        args=(np.linspace(0.5, 3.0, m), 1.0, 50), small=(np.linspace(0.5, 3.0, 5), 1.0, 50),
        nabla=[("vmap(grad) parallel", lambda: nabla.vmap(
            nabla.grad(W.oscillator), in_axes=(0, None, None), target="parallel"), None)],
        hand={"reverse prange": H.oscillator_grads_reverse,
              "forward prange": H.oscillator_grads_forward},
        canon=_list, fd_fn=_osc_fd, diff=(0,), jv=lambda g, v: g[0] * v[0],
        primal=nabla.vmap(W.oscillator, in_axes=(0, None, None), target="parallel"),
        scalar_output=False,
        baselines={"jax": [("vmap(grad) scan", B.jax_oscillator, None, 1)],
                   "torch": [("vectorized sum", B.torch_oscillator, None, 1)],
                   "autograd": [("vectorized sum", B.autograd_oscillator, None, 1)]}))
    return ws


class _with_const:
    """A GMM function of the ADBench arguments that calls ``fn`` with the Wishart prior's
    constant log Gamma_d((d + m + 1) / 2) appended (computed once per d and m)."""

    def __init__(self, fn):
        self.fn = fn
        self.consts = {}

    def const(self, args):
        d, m = args[3].shape[1], args[5]
        if (d, m) not in self.consts:
            self.consts[d, m] = W.log_gamma_distrib(0.5 * (d + m + 1), d)
        return self.consts[d, m]

    def __call__(self, *args):
        return self.fn(*args, self.const(args))


def _function_of(f):
    """The nabla.Function under a _with_const wrapper, and the trailing arguments it adds."""
    if isinstance(f, _with_const):
        return f.fn, f.const
    return f, lambda args: None


# -- checks ------------------------------------------------------------------------------------


def _close(a, b, rtol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False, f"shapes {a.shape} and {b.shape}"
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    return err <= rtol * scale, f"max abs error {err:.3g} (scale {scale:.3g})"


def agree(got, want, rtol=1e-7):
    """None when the two canonical derivatives agree, else why not."""
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        ok, why = _close(a, b, rtol)
        if not ok:
            return f"output {i}: {why}"
    return None


def fd_check(w: Workload, derivative) -> str | None:
    """None when ``derivative`` (canonical, at w.small) matches central differences."""
    rng = np.random.default_rng(7)
    args = list(w.small)
    v = [rng.normal(size=np.shape(args[i])) for i in w.diff]
    h = 1e-6

    def at(sign):
        shifted = list(args)
        for i, vi in zip(w.diff, v):
            shifted[i] = np.asarray(args[i]) + sign * h * vi
            if np.ndim(args[i]) == 0:
                shifted[i] = float(shifted[i])
        return np.asarray(w.fd_fn(*shifted), dtype=np.float64)

    fd = (at(1) - at(-1)) / (2 * h)
    ad = np.asarray(w.jv(derivative, v), dtype=np.float64)
    ok, why = _close(ad, fd, 1e-5)
    return None if ok else f"against central differences: {why}"


# -- measuring ---------------------------------------------------------------------------------


def direct_call(f, args):
    """A call of the compiled function nabla's call dispatches to, as nabla makes it."""
    fn = target = f
    if fn.mode == "vmap" and fn.axes is None:
        target, args = vmapping.vmap_resolve(fn, args)
        args = tuple(args)
    variant, readers = target._dispatch[tuple(_type_key(a) for a in args)]
    compiled = variant.numba_functions()[variant.meta.entry]
    frees = [r() for r in readers]
    return lambda: compiled(*args, *frees)


def measure(w: Workload, log) -> dict:
    row = {"name": w.name, "key": w.key, "notes": [], "times": {}, "labels": {}}
    clock = [time.perf_counter()]

    def phase(what):
        now = time.perf_counter()
        log(f"      {what}: {now - clock[0]:.1f} s")
        clock[0] = now
    # the hand-written derivatives: the reference
    hand = {label: f(*w.args) for label, f in w.hand.items()}
    ref_label = next(iter(hand))
    ref = w.canon(hand[ref_label])
    for label, r in hand.items():
        why = agree(w.canon(r), ref)
        if why:
            raise AssertionError(f"{w.name}: hand-written {label} disagrees with "
                                 f"{ref_label}: {why}")
        why = fd_check(w, w.canon(w.hand[label](*w.small)))
        if why:
            raise AssertionError(f"{w.name}: hand-written {label}: {why}")
    phase("hand-written: compiled and checked")
    # nabla, the first form it takes
    nab = None
    for label, make, note in w.nabla:
        try:
            f = make()
            got = w.canon(f(*w.args))
        except nabla.errors.NablaError as e:
            first = str(e).strip().splitlines()[0]
            row["notes"].append(f"nabla refused {label} of the workload as written: {first}")
            continue
        except Exception as e:  # noqa: BLE001 - a crash inside nabla is reported, not fatal
            row["notes"].append(f"nabla crashed on {label}: {type(e).__name__}: {e}")
            log(traceback.format_exc())
            continue
        why = agree(got, ref) or fd_check(w, w.canon(f(*w.small)))
        if why:
            row["notes"].append(f"nabla {label} gives a wrong derivative: {why}")
            continue
        if note:
            row["notes"].append(f"timed: {note}")
        nab = f
        row["labels"]["nabla"] = label
        break
    if nab is None:
        row["refused"] = "; ".join(row["notes"]) or "refused"
    phase("nabla: transformed, compiled and checked")
    # the baselines, checked before anything is timed
    runs = {}
    for lib in LIBS:
        why_not = B.available(lib)
        if why_not:
            row["notes"].append(f"{lib}: {why_not} - skipped")
            continue
        for label, maker, small_args, scale in w.baselines.get(lib, []):
            name = lib if lib not in runs else f"{lib}-vec"
            a = small_args if small_args is not None else w.args
            try:
                run, convert = maker(*a)
                got = convert(run())
            except Exception as e:  # noqa: BLE001 - a baseline that fails is reported
                row["notes"].append(f"{lib} {label}: failed: {type(e).__name__}: {e}")
                continue
            want = ref if small_args is None else w.canon(
                next(iter(w.hand.values()))(*small_args))
            why = agree(got, want, rtol=1e-6)
            if why:
                row["notes"].append(f"{lib} {label} disagrees with the hand-written "
                                    f"derivative: {why}; not timed")
                continue
            runs[name] = (run, scale)
            row["labels"][name] = label + (f" (n={a[1]}, time x {scale:g}: extrapolated)"
                                           if scale != 1 else "")
            phase(f"{lib} {label}: compiled and checked")
    # timing
    for label, f in w.hand.items():
        row["times"][f"hand:{label}"] = best_time(lambda f=f: f(*w.args))
    best = min(w.hand, key=lambda k: row["times"][f"hand:{k}"])
    row["times"]["hand"] = row["times"][f"hand:{best}"]
    row["labels"]["hand"] = best
    if w.primal is not None:
        w.primal(*w.args)
        row["times"]["primal"] = best_time(lambda: w.primal(*w.args))
    if nab is not None:
        row["times"]["nabla"] = best_time(lambda: nab(*w.args))
        try:
            fn, extra = _function_of(nab)  # the nabla.Function itself, not a wrapper
            tail = extra(w.small)
            small = tuple(w.small) + (() if tail is None else (tail,))
            fn(*small)
            direct = direct_call(fn, small)
            direct()
            t_call, t_direct = per_call([lambda: fn(*small), direct])
            row["overhead_us"] = (t_call - t_direct) * 1e6
            row["small_call_us"] = t_call * 1e6
        except Exception as e:  # noqa: BLE001
            row["notes"].append(f"per-call overhead not measured: {type(e).__name__}: {e}")
    phase("nabla, hand-written and primal timed")
    for name, (run, scale) in runs.items():
        row["times"][name] = best_time(run) * scale
        phase(f"{name} timed")
    return row


def ratios(row: dict) -> dict:
    t = row["times"]
    out = {}
    if "nabla" in t:
        out["nabla/hand"] = t["nabla"] / t["hand"]
        for lib in LIBS:
            if lib in t:
                out[f"nabla/{lib}"] = t["nabla"] / t[lib]
        if "jax-vec" in t:
            out["nabla/jax-vec"] = t["nabla"] / t["jax-vec"]
        if "primal" in t:
            out["nabla grad/primal"] = t["nabla"] / t["primal"]
    if "primal" in t:
        out["hand grad/primal"] = t["hand"] / t["primal"]
    return out


# -- output ------------------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import scipy

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "numba": numba.__version__, "scipy": scipy.__version__}
    for lib in LIBS:
        if B.available(lib) is None:
            versions[lib] = __import__(lib).__version__ if lib != "autograd" else _ag_version()
    return {"cpu": model, "cores": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "platform": platform.platform(), "versions": versions, "load_at_start": _load()}


def _load():
    """The 1-minute load average (other processes compete for the cores when it is high)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _ag_version():
    from importlib.metadata import version

    return version("autograd")


def fmt_time(t):
    if t is None:
        return "-"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.1f} us"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}"


def geomean(xs):
    xs = [x for x in xs if x is not None]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def print_tables(rows, lat, info, args):
    print(f"nabla benchmark suite ({'quick' if args.quick else 'full'}): "
          f"{info['cpu']}, {info['cores']} cores, Numba {info['versions']['numba']}, "
          f"{info['numba_threads']} Numba threads")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print("times: the minimum over repeats (>= 5 samples, >= 0.2 s); '~': extrapolated\n")
    cols = ["primal", "hand", "nabla", "jax", "jax-vec", "torch", "autograd"]
    head = f"{'workload':38}" + "".join(f"{c:>11}" for c in cols)
    print(head)
    print("-" * len(head))
    for r in rows:
        t = r["times"]
        cells = []
        for c in cols:
            v = t.get(c)
            s = fmt_time(v)
            if v is not None and "extrapolated" in r["labels"].get(c, ""):
                s = "~" + s
            if c == "nabla" and "refused" in r:
                s = "refused"
            cells.append(f"{s:>11}")
        print(f"{r['name']:38}" + "".join(cells))
    print()
    rcols = ["nabla/hand", "nabla/jax", "nabla/jax-vec", "nabla/torch", "nabla/autograd",
             "nabla grad/primal", "hand grad/primal"]
    short = ["/hand", "/jax", "/jax-vec", "/torch", "/autograd", "grad/prim", "hand/prim",
             "ovh us"]
    head = f"{'workload (nabla / ...)':38}" + "".join(f"{c:>10}" for c in short)
    print(head)
    print("-" * len(head))
    for r in rows:
        q = r["ratios"]
        cells = [f"{fmt_ratio(q.get(c)):>10}" for c in rcols]
        ov = r.get("overhead_us")
        cells.append(f"{'-' if ov is None else f'{ov:.1f}':>10}")
        print(f"{r['name']:38}" + "".join(cells))
    gm = geomean([r["ratios"].get("nabla/hand") for r in rows])
    print(f"\ngeometric mean nabla/hand: {fmt_ratio(gm)} over "
          f"{sum('nabla/hand' in r['ratios'] for r in rows)} workloads")
    print("\nwhat each column ran (hand: the faster hand-written form):")
    for r in rows:
        labels = ", ".join(f"{k}: {v}" for k, v in r["labels"].items())
        print(f"  {r['name']}: {labels}")
        for k, v in r["times"].items():
            if k.startswith("hand:"):
                print(f"      hand-written {k[5:]}: {fmt_time(v)}")
        if "small_call_us" in r:
            print(f"      small case: nabla call {r['small_call_us']:.1f} us, overhead "
                  f"{r['overhead_us']:.2f} us")
        for n in r["notes"]:
            print(f"      note: {n}")
    if lat:
        latency.print_table(lat)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (under 3 minutes)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--no-latency", action="store_true", help="skip the compile latency")
    p.add_argument("--only", default=None, help="comma-separated workload keys")
    args = p.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    start = time.perf_counter()
    info = machine()
    rows = []
    for w in make_workloads(args.quick):
        if args.only and not any(w.key.startswith(k) for k in args.only.split(",")):
            continue
        log(f"[{time.perf_counter() - start:6.1f} s] {w.name}")
        row = measure(w, log)
        row["ratios"] = ratios(row)
        rows.append(row)
    lat = None
    if not args.no_latency:
        log(f"[{time.perf_counter() - start:6.1f} s] compile latency")
        lat = latency.measure_all(args.quick, log, only=args.only)
    elapsed = time.perf_counter() - start
    info["load_at_end"] = _load()
    if args.json:
        json.dump({"machine": info, "quick": args.quick, "rows": rows, "latency": lat,
                   "geomean_nabla_over_hand": geomean(
                       [r["ratios"].get("nabla/hand") for r in rows]),
                   "seconds": elapsed}, sys.stdout, indent=1)
        print()
    else:
        print_tables(rows, lat, info, args)
        print(f"\n(run took {elapsed:.0f} s; load average {info['load_at_start']} at the start, "
              f"{info['load_at_end']} at the end, on {info['cores']} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
