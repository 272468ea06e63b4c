"""vmap(..., target="cuda"): kernels run in numba's CUDA simulator (a child process, since
NUMBA_ENABLE_CUDASIM must be set before numba is imported) and on a GPU where one is lent;
every kernel those runs launch is also compiled to PTX here, without a GPU, which rejects
what the simulator would let through (run-time sized local arrays, say)."""

import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import nabla
from nabla import vmapping
from nabla.codegen import numba_cuda

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import cuda_cases  # noqa: E402
from cuda_cases import oscillator, oscillator50  # noqa: E402

K = np.linspace(0.5, 3.0, 64)


def _run_cases(env_extra: dict, size: int):
    env = dict(os.environ, **env_extra)
    proc = subprocess.run([sys.executable, str(HERE / "cuda_cases.py"), str(size)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("ok ") == 11, proc.stdout


def test_kernels_in_the_simulator():
    _run_cases({"NUMBA_ENABLE_CUDASIM": "1"}, 256)


def _gpu() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and \
        numba_cuda.unavailable_reason() is None


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu(), reason="needs a CUDA GPU (the simulator test covers the path)")
def test_kernels_on_the_gpu():
    _run_cases({}, 100_000)


@pytest.mark.parametrize("fn, args, local", [
    (nabla.grad(oscillator, mode="reverse"), (K, 1.0, 50), False),
    (nabla.grad(oscillator50, mode="reverse"), (K, 1.0), True),
    (nabla.value_and_grad(oscillator, mode="reverse"), (K, 1.0, 50), False),
    (nabla.grad(oscillator, mode="forward"), (K, 1.0, 50), None),
    (nabla.jacfwd(oscillator), (K, 1.0, 50), None),
    (nabla.grad(cuda_cases.oscillator_steps, mode="reverse"), (K, 1.0), True),
])
def test_kernels_compile_to_ptx(fn, args, local):
    nabla.config.jit, old = "strict", nabla.config.jit
    try:
        v = nabla.vmap(fn, in_axes=(0,) + (None,) * (len(args) - 1), target="cuda")
        ptx = vmapping.compile_ptx(v, *args)
    finally:
        nabla.config.jit = old
    assert ".visible .entry" in ptx  # a kernel
    if local is True:
        assert "cuda.local.array(50, numba.float64)" in v.source
    elif local is False:
        assert "x_tape = x_tape_scratch" in v.source


def test_without_jit_cuda_is_a_python_loop():
    old, nabla.config.jit = nabla.config.jit, False
    try:
        got = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="cuda")(
            K, 1.0, 50)
    finally:
        nabla.config.jit = old
    want = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))(K, 1.0, 50)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_with_jit_and_no_gpu_the_error_is_clear():
    v = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="cuda")
    if _gpu():  # a GPU is here: the kernel runs instead
        np.testing.assert_allclose(v(K, 1.0, 50), nabla.vmap(
            nabla.grad(oscillator), in_axes=(0, None, None))(K, 1.0, 50), rtol=1e-10)
        return
    with pytest.raises(nabla.NablaError, match="target='cuda'.* of oscillator cannot run") as e:
        v(K, 1.0, 50)
    assert "NUMBA_ENABLE_CUDASIM=1" in e.value.hint and "jit = False" in e.value.hint


def batched_steps(k, n):
    x = 1.0
    for i in range(n):
        x = x - 0.1 * k * x
    return x


def arrays_per_example(x):
    return np.sum(np.sin(x))


@numba.njit
def doubled(x):
    return 2.0 * x


def calls_compiled(k):
    return doubled(k) * k


def test_what_does_not_fit_a_kernel_is_refused():
    with pytest.raises(nabla.NotDifferentiableError, match="compiled code for the CPU"):
        vmapping.compile_ptx(nabla.vmap(calls_compiled, target="cuda"), K)
    with pytest.raises(nabla.NotDifferentiableError, match="depends on 'n', which is batched"):
        vmapping.compile_ptx(nabla.vmap(nabla.grad(batched_steps, mode="reverse"),
                                          target="cuda"), K, np.arange(64))
    with pytest.raises(nabla.NotDifferentiableError, match="dimensions per example"):
        vmapping.compile_ptx(nabla.vmap(nabla.grad(arrays_per_example), target="cuda"),
                               np.ones((4, 3)))


def test_cuda_vmap_only_outermost():
    v = nabla.vmap(oscillator50, target="cuda")
    with pytest.raises(nabla.NotDifferentiableError, match="must be the outermost") as e:
        nabla.grad(v)
    assert e.value.filename.endswith("cuda_cases.py")

    def calls_it(k):
        return np.sum(v(k, 1.0))
    with pytest.raises(nabla.NotDifferentiableError, match="runs as a kernel"):
        nabla.grad(calls_it)(K)
