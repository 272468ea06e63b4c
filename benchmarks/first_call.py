"""Time to the first gradient in a fresh process: cold (empty nabla cache), and warm
(a second process reusing the on-disk cache of generated source and machine code).

Timed from after ``import nabla`` and creating the inputs to the first result. The
warm figure is also shown with Numba's one-time start-up (its CPU target, which a
process pays at its first compiled call, cached or not) done before the timer starts,
which is nabla's own share.

Run: python benchmarks/first_call.py
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

USER = '''
import numpy as np


def loss(x, W, b):
    return np.sum(np.tanh(W @ x + b) ** 2)
'''

DRIVER = '''
import json, os, sys, time
sys.path.insert(0, {here!r})
import numpy as np
import nabla
import userfn
x, W, b = np.ones(3), np.ones((4, 3)) * 0.1, np.ones(4) * 0.2
if os.environ.get("WARM_NUMBA"):
    from numba.core.registry import cpu_target
    cpu_target.target_context.refresh()
start = time.perf_counter()
nabla.grad(userfn.loss)(x, W, b)
print(json.dumps({{"seconds": time.perf_counter() - start}}))
'''


def run(here, cache, **env):
    full = dict(os.environ, NABLA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), **env)
    out = subprocess.run([sys.executable, str(here / "driver.py")], env=full,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp)
        (here / "userfn.py").write_text(USER)
        (here / "driver.py").write_text(DRIVER.format(here=str(here)))
        cache = here / "cache"
        cold = run(here, cache)
        warm = min(run(here, cache) for _ in range(3))
        own = min(run(here, cache, WARM_NUMBA="1") for _ in range(3))
    print(f"first gradient, cold cache (transform + Numba compile): {cold:6.3f} s")
    print(f"first gradient, warm cache (second process):             {warm:6.3f} s "
          "(aim: < 0.5 s)")
    print(f"  of which after Numba's own start-up:                   {own:6.3f} s")


if __name__ == "__main__":
    main()
