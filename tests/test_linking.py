"""What Numba compiles for a generated module, kept small: large generated callees are
linked into their callers as they are (noinline optnone, nabla/codegen/linking.py) -- the
derivative is unchanged, in this process and in a new one that reads the machine code
from the cache, and small callees are still inlined -- and a callee called with constant
ints is compiled once for int64, not once per constant (numba_cpu.py)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from fd import numerical_grad

import nabla
from nabla.codegen import linking
from nabla.names import GENERATED_MODULE_PREFIX

ROOT = str(Path(__file__).resolve().parent.parent)

CHAIN = '''
import numpy as np


def inner(x):
    y = np.sin(x) * np.cos(x) + np.exp(-x * x)
    z = np.tanh(y) * y + np.sqrt(1.0 + x * x)
    return np.sum(z * z + y * x)


def middle(x):
    return inner(x) + inner(2.0 * x) * inner(x - 0.5)


def outer(x):
    return middle(x) * middle(x + 1.0)


def square(t):
    return t * t


def looped(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + square(x[i])
    return s
'''


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    here = tmp_path_factory.mktemp("chain")
    (here / "chain.py").write_text(CHAIN)
    sys.path.insert(0, str(here))
    try:
        import chain as module
        yield here, module
    finally:
        sys.path.remove(str(here))
        sys.modules.pop("chain", None)


def _library(entry: str):
    """The LLVM module Numba made for the compiled generated function ``entry``."""
    for name, module in list(sys.modules.items()):
        compiled = getattr(module, "__nabla_compiled__", None) if name.startswith(
            GENERATED_MODULE_PREFIX) else None
        if compiled and entry in compiled and compiled[entry].overloads:
            cres = next(iter(compiled[entry].overloads.values()))
            return cres.library._final_module
    raise AssertionError(f"{entry} was not compiled")


def _held_back(module, name: str) -> bool:
    found = [fn for fn in module.functions if not fn.is_declaration
             and GENERATED_MODULE_PREFIX in fn.name and name in fn.name]
    return bool(found) and all("optnone" in linking._attributes(fn) for fn in found)


def test_held_back_chain_is_right_and_marked(chain, jit_mode):
    _, m = chain
    x = np.linspace(-0.8, 0.9, 5)
    g = nabla.grad(m.outer)(x)
    np.testing.assert_allclose(g, numerical_grad(m.outer, [x]), rtol=1e-6, atol=1e-8)
    if jit_mode:
        assert linking._installed == [True]
        top = _library("outer_grad")
        # the vjp of middle (which calls inner's twice) is large: linked as it is
        assert any(_held_back(top, n) for n in ("middle_vjp", "inner_vjp"))


def test_small_callee_still_inlined(chain):
    _, m = chain
    old = nabla.config.jit
    nabla.config.jit = "strict"
    try:
        x = np.linspace(-1.0, 1.0, 7)
        np.testing.assert_allclose(nabla.grad(m.looped)(x), 2 * x, rtol=1e-12)
        top = _library("looped_grad")
        assert not any(_held_back(top, n) for n in ("square",))
    finally:
        nabla.config.jit = old


def test_held_back_machine_code_reloads_in_a_new_process(chain, tmp_path):
    here, m = chain
    x = np.linspace(-0.8, 0.9, 5)
    script = textwrap.dedent(f'''
        import json, sys
        sys.path.insert(0, {str(here)!r})
        import numpy as np
        import nabla
        import chain
        g = nabla.grad(chain.outer)(np.linspace(-0.8, 0.9, 5))
        print(json.dumps(g.tolist()))
    ''')
    env = dict(os.environ, NABLA_CACHE_DIR=str(tmp_path), NABLA_JIT="strict",
               PYTHONPATH=ROOT, NABLA_VERBOSE="0")
    runs = []
    for _ in range(2):  # the second reads the machine code the first cached
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    expected = numerical_grad(m.outer, [x])
    for g in runs:
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)
    assert runs[0] == runs[1]


LITERALS = '''
import numpy as np


def power(x, k):
    y = x
    for i in range(k - 1):
        y = y * x
    return y


def uses(x):
    return np.sum(power(x, 2) + power(x, 3) + power(x, 4))
'''


def test_constant_ints_do_not_make_new_specialisations(tmp_path):
    (tmp_path / "literals.py").write_text(LITERALS)
    sys.path.insert(0, str(tmp_path))
    old = nabla.config.jit
    nabla.config.jit = "strict"
    try:
        import literals

        x = np.linspace(0.1, 1.0, 4)
        np.testing.assert_allclose(nabla.grad(literals.uses)(x), 2 * x + 3 * x**2 + 4 * x**3,
                                   rtol=1e-12)
        for entry, callee in (("uses_grad", "power_vjp_x"), ("uses_grad", "power_vjp_x_bwd")):
            sigs = _dispatcher(entry, callee).signatures
            assert len(sigs) == 1 and "Literal" not in str(sigs), sigs
    finally:
        nabla.config.jit = old
        sys.path.remove(str(tmp_path))
        sys.modules.pop("literals", None)


def test_a_callee_that_needs_its_literal_keeps_it():
    import numba

    from nabla.codegen.numba_cpu import _one_specialisation_per_type

    @numba.njit
    def pick(t, k):  # a heterogeneous tuple is indexed by a literal only
        return t[k]

    _one_specialisation_per_type(pick)

    @numba.njit
    def both(x):
        t = (x, 2)
        return pick(t, 0) + pick(t, 1)

    assert both(1.5) == 3.5
    assert all("Literal" in str(s) for s in pick.signatures)


def _dispatcher(entry: str, name: str):
    for mod_name, module in list(sys.modules.items()):
        compiled = getattr(module, "__nabla_compiled__", None) if mod_name.startswith(
            GENERATED_MODULE_PREFIX) else None
        if compiled and entry in compiled and name in compiled:
            return compiled[name]
    raise AssertionError(f"{name} was not compiled")


def test_generated_code_module_passes_at_o2(chain):
    """Generated libraries are marked for -O2 module passes (llvm_level.py); a user's own
    jitted function is not, and Numba's level is what it was after the compile."""
    import numba
    from numba.core import config

    from nabla.codegen import llvm_level

    _, m = chain
    before = (int(config.OPT), repr(config.OPT))
    old = nabla.config.jit
    nabla.config.jit = "strict"
    try:
        x = np.linspace(-0.8, 0.9, 5)
        np.testing.assert_allclose(nabla.grad(m.outer)(x), numerical_grad(m.outer, [x]),
                                   rtol=1e-6, atol=1e-8)
    finally:
        nabla.config.jit = old
    assert llvm_level._installed == [True]
    cres = next(iter(_dispatcher("outer_grad", "outer_grad").overloads.values()))
    assert cres.library._nabla_generated is True

    @numba.njit
    def users_own(v):
        return np.sum(v * v)

    assert users_own(x) == pytest.approx(np.sum(x * x))
    users = next(iter(users_own.overloads.values())).library
    assert getattr(users, "_nabla_generated", False) is False
    assert (int(config.OPT), repr(config.OPT)) == before


def test_a_level_the_user_lowered_stays():
    from numba.core import config

    from nabla.codegen import llvm_level

    saved = config.OPT
    try:
        for raw, inside in ((1, 1), (2, 2), (3, 2), ("max", 3)):
            config.OPT = type(saved)(raw)
            with llvm_level.lowered():
                assert int(config.OPT) == inside
            assert config.OPT._raw_value == raw
    finally:
        config.OPT = saved
