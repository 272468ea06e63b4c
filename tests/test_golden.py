"""Golden tests: the generated source of a few functions is pinned, and the same
text comes out of fresh processes whatever PYTHONHASHSEED is.

Regenerate after a deliberate change with ``NABLA_UPDATE_GOLDEN=1 python -m pytest
tests/test_golden.py`` and read the diff.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from golden_functions import EXAMPLES, GOLDEN

import nabla

HERE = Path(__file__).parent
GOLDEN_DIR = HERE / "golden"


def _source(name: str, mode: str = "grad") -> str:
    fun, argnums = GOLDEN[name]
    if mode == "grad":  # golden gradients are reverse mode, whatever mode="auto" picks, as
        # a call with the examples' arguments runs it (their shapes known)
        text = nabla.source(nabla.grad(fun, argnums=argnums, mode="reverse"),
                            *EXAMPLES[name])
    else:
        text = nabla.source(fun, mode=mode, argnums=argnums)
    return _without_file(text)


def _without_file(text: str) -> str:
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


# nested transforms, each for a call with the examples' arguments: (transform, function)
NESTED_CASES = [("hessian", "scaled_norm"), ("hessian", "scalar_loop"),
                ("jacfwd", "softplus_sum"), ("jacfwd", "horner"),
                ("vmap_grad", "mlp_layer"), ("vmap_grad", "branchy"), ("vmap", "shrink"),
                ("vmap_grad", "shrink")]


@pytest.mark.parametrize("transform,name", NESTED_CASES)
def test_nested_source_matches_golden(transform, name):
    fun, argnums = GOLDEN[name]
    args = EXAMPLES[name]
    if transform in ("vmap_grad", "vmap"):  # a batch of 2 examples of the first argument
        args = (np.stack([np.asarray(args[0]), 0.1 * np.asarray(args[0])]),) + args[1:]
        inner = fun if transform == "vmap" else nabla.grad(fun, argnums=argnums,
                                                              mode="reverse")
        f = nabla.vmap(inner, in_axes=(0,) + (None,) * (len(args) - 1))
    elif transform == "hessian":
        f = nabla.hessian(fun, argnums=argnums)
    else:
        f = nabla.jacfwd(fun, argnums=argnums)
    text = _without_file(nabla.source(f, *args))
    path = GOLDEN_DIR / f"{name}.{transform}.py"
    if os.environ.get("NABLA_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with NABLA_UPDATE_GOLDEN=1"
    assert text == path.read_text()
    # the module shown is the one a call runs: the call gives what the module computes
    f(*args)
    assert f.source == nabla.source(f, *args)


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
