"""Per-call overhead of a ``nabla.Function``: a call minus a direct call of the compiled
function it dispatches to, on each workload's small case (the ``ovh us`` column of
benchmarks/run.py, measured alone: no baselines, no hand-written derivatives).

The calls and the direct calls interleave (``run.per_call``), so a busy machine slows
both alike; the load average is printed with the figures.

Run: python benchmarks/overhead.py [--only=gmm,mlp] [--samples=300]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import _function_of, direct_call, make_workloads, per_call  # noqa: E402


def measure(only: str | None = None, samples: int = 300, log=print) -> list[dict]:
    rows = []
    for w in make_workloads(quick=True):
        if only and not any(w.key.startswith(o) for o in only.split(",")):
            continue
        row = {"name": w.name, "key": w.key}
        for label, make, _ in w.nabla:
            try:
                fn, extra = _function_of(make())
                tail = extra(w.small)
                small = tuple(w.small) + (() if tail is None else (tail,))
                fn(*small)
                direct = direct_call(fn, small)
                direct()
                call = lambda fn=fn, small=small: fn(*small)  # noqa: E731
                t_call, t_direct = per_call([call, direct], calls=100, min_total=1.0,
                                            min_samples=samples)
                row.update(label=label, call_us=t_call * 1e6, direct_us=t_direct * 1e6,
                           overhead_us=(t_call - t_direct) * 1e6)
                break
            except Exception as e:  # noqa: BLE001 - a refusal: try the next form
                row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
        log(f"  {w.key}: done")
        rows.append(row)
    return rows


def print_table(rows) -> None:
    print(f"\n{'workload':40}{'call us':>10}{'direct us':>11}{'overhead us':>13}")
    for r in rows:
        if "overhead_us" not in r:
            print(f"{r['name']:40}  failed: {r.get('error')}")
            continue
        print(f"{r['name']:40}{r['call_us']:>10.2f}{r['direct_us']:>11.2f}"
              f"{r['overhead_us']:>13.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    only = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")), None)
    samples = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--samples=")),
                   300)
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    print_table(measure(only, samples))
