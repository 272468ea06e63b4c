"""Golden tests: the generated source of a few functions is pinned, and the same
text comes out of fresh processes whatever PYTHONHASHSEED is.

Regenerate after a deliberate change with ``NABLA_UPDATE_GOLDEN=1 python -m pytest
tests/test_golden.py`` and read the diff.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from golden_functions import GOLDEN

import nabla

HERE = Path(__file__).parent
GOLDEN_DIR = HERE / "golden"


def _source(name: str, mode: str = "grad") -> str:
    fun, argnums = GOLDEN[name]
    if mode == "grad":  # golden gradients are reverse mode, whatever mode="auto" picks
        text = nabla.source(nabla.grad(fun, argnums=argnums, mode="reverse"))
    else:
        text = nabla.source(fun, mode=mode, argnums=argnums)
    # the first line names the file the function lives in: not part of the golden text
    return "\n".join(text.split("\n")[1:])


@pytest.mark.parametrize("name", sorted(GOLDEN))
@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp"])
def test_generated_source_matches_golden(name, mode):
    text = _source(name, mode)
    path = GOLDEN_DIR / f"{name}.{mode}.py"
    if os.environ.get("NABLA_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with NABLA_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_source_is_the_same_in_fresh_processes_with_different_hash_seeds(tmp_path):
    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "import nabla\n"
        "from golden_functions import GOLDEN\n"
        "for name in sorted(GOLDEN):\n"
        "    f, a = GOLDEN[name]\n"
        "    for mode in ('grad', 'jvp', 'vjp'):\n"
        "        print(nabla.source(f, mode=mode, argnums=a))\n"
    ) % str(HERE)
    outs = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, NABLA_CACHE="0")
        r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert "def cube_grad(x):" in outs[0]
