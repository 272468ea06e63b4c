"""A new process's first cached gradient (nabla/codegen/warm.py): Numba learns that BLAS
is there without importing scipy.linalg, and code that uses BLAS still gets it."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from fd import numerical_grad

ROOT = str(Path(__file__).resolve().parent.parent)

MODULE = '''
import numpy as np


def lse(x):
    m = np.max(x)
    return np.log(np.sum(np.exp(x - m))) + m


def layer(W, x):
    return np.sum(np.tanh(W @ x) ** 2)
'''


def _runs(tmp_path, body: str, times: int = 2) -> list:
    (tmp_path / "warm_case.py").write_text(MODULE)
    script = textwrap.dedent(f'''
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import nabla
        import warm_case
    ''') + textwrap.dedent(body)
    env = dict(os.environ, NABLA_CACHE_DIR=str(tmp_path / "cache"), NABLA_JIT="strict",
               PYTHONPATH=ROOT, NABLA_VERBOSE="0")
    out = []
    for _ in range(times):  # the second reads the machine code the first cached
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def test_cached_reduction_without_scipy_linalg(tmp_path):
    runs = _runs(tmp_path, '''
        v, g = nabla.value_and_grad(warm_case.lse)(np.linspace(-1.0, 2.0, 6))
        print(json.dumps([v, g.tolist(), "scipy.linalg" in sys.modules]))
    ''')
    x = np.linspace(-1.0, 2.0, 6)
    for value, grad, _ in runs:
        np.testing.assert_allclose(grad, numerical_grad(
            lambda v: np.log(np.sum(np.exp(v - np.max(v)))) + np.max(v), [x]), rtol=1e-6)
    assert runs[1][2] is False  # the warm process: no scipy.linalg


def test_blas_still_there_when_used(tmp_path):
    runs = _runs(tmp_path, '''
        W = np.arange(6.0).reshape(2, 3) / 10.0
        g = nabla.grad(warm_case.layer, argnums=(0, 1))(W, np.array([0.5, -1.0, 2.0]))
        print(json.dumps([g[0].tolist(), g[1].tolist()]))
    ''')
    W, x = np.arange(6.0).reshape(2, 3) / 10.0, np.array([0.5, -1.0, 2.0])

    def layer(W, x):
        return np.sum(np.tanh(W @ x) ** 2)
    for run in runs:  # compiled, then loaded from the cache: BLAS found both times
        np.testing.assert_allclose(run[0], numerical_grad(layer, [W, x], argnum=0),
                                   rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(run[1], numerical_grad(layer, [W, x], argnum=1),
                                   rtol=1e-6, atol=1e-9)
