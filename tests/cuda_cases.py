"""The vmap(..., target="cuda") checks that run kernels: in a child process with
NUMBA_ENABLE_CUDASIM=1 (numba's simulator, which must be set before numba is imported),
and on a real GPU where one is lent (tests/test_vmap_cuda.py runs this file both ways).
Each check compares the kernel's per-example gradients with nabla's CPU ones and exits
non-zero on the first mismatch."""

import math
import sys

import numpy as np

import nabla

STEPS = 50


def oscillator(k, x0, n):
    """A damped oscillator x'' = -k x - 0.1 x', explicit Euler, n steps: the final x."""
    x = x0
    v = 0.0
    for i in range(n):
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return x


def oscillator50(k, x0):
    x = x0
    v = 0.0
    for i in range(50):
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return x


def oscillator_steps(k, x0):
    x = x0
    v = 0.0
    for i in range(STEPS):
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return x


def scaled_sum(k, q):
    """Loops over an unbatched array inside a loop: on the CPU a table of math.exp(q)
    before the outer loop (tables.py), in a kernel the calls where they were."""
    s = 0.0
    for t in range(3):
        for i in range(q.shape[0]):
            for j in range(q.shape[1]):
                s = s + k * math.exp(q[i, j]) * (t + 1.0)
        s = s * 0.5
    return s


def check(name, got, want, tol=1e-12):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        print(f"FAIL {name}: shape {got.shape}, expected {want.shape}")
        sys.exit(1)
    if not np.allclose(got, want, rtol=tol, atol=tol):
        print(f"FAIL {name}: max error {np.max(np.abs(got - want))}")
        sys.exit(1)
    print(f"ok {name}")


def main(size: int) -> None:
    from numba import cuda

    nabla.config.jit = "strict"
    k = np.linspace(0.5, 3.0, size)
    cpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))(k, 1.0, 50)

    # mode="auto" differentiates one scalar in forward mode: no tape
    fwd = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="cuda")
    check("forward mode", fwd(k, 1.0, 50), cpu)
    assert "x_tape" not in fwd.source and "oscillator_jvp(" in fwd.source, fwd.source
    # reverse mode, the trip count an unbatched argument: the tape in a global scratch array
    g = nabla.vmap(nabla.grad(oscillator, mode="reverse"), in_axes=(0, None, None),
                   target="cuda")
    check("scratch tape", g(k, 1.0, 50), cpu)
    assert "x_tape = x_tape_scratch" in g.source, g.source
    # a literal trip count: the tape in local memory
    g50 = nabla.vmap(nabla.grad(oscillator50, mode="reverse"), in_axes=(0, None),
                     target="cuda")
    check("local tape", g50(k, 1.0), cpu)
    assert "cuda.local.array(50, numba.float64)" in g50.source, g50.source
    # a module constant: baked into the kernel, which is rebuilt when it changes
    global STEPS
    gs = nabla.vmap(nabla.grad(oscillator_steps, mode="reverse"), in_axes=(0, None),
                    target="cuda")
    check("module constant", gs(k, 1.0), cpu)
    assert "cuda.local.array(50, numba.float64)" in gs.source
    STEPS = 20
    cpu20 = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))(k, 1.0, 20)
    check("module constant changed", gs(k, 1.0), cpu20)
    assert "cuda.local.array(20, numba.float64)" in gs.source
    STEPS = 50
    # tuples of scalars out; device arrays in, device arrays out
    vg = nabla.vmap(nabla.value_and_grad(oscillator, mode="reverse"), in_axes=(0, None, None),
                    target="cuda")
    value, grad = vg(cuda.to_device(k), 1.0, 50)
    assert hasattr(value, "copy_to_host"), type(value)
    check("value", value.copy_to_host(),
          nabla.vmap(oscillator, in_axes=(0, None, None))(k, 1.0, 50))
    check("value_and_grad", grad.copy_to_host(), cpu)
    # forward mode: jacfwd of a scalar function
    jf = nabla.vmap(nabla.jacfwd(oscillator), in_axes=(0, None, None), target="cuda")
    check("jacfwd", jf(k, 1.0, 50), cpu, tol=1e-10)
    # a table on the CPU, calls in the kernel
    q = np.linspace(-0.5, 0.5, 6).reshape(2, 3)
    for made in (scaled_sum, nabla.grad(scaled_sum, mode="forward")):
        assert "exp_q_table = np.exp(q[:" in nabla.source(nabla.jit(made), 1.0, q)
        sg = nabla.vmap(made, in_axes=(0, None), target="cuda")
        check("tables as calls", sg(k, q), nabla.vmap(made, in_axes=(0, None))(k, q))
        assert "_table" not in sg.source and "math.exp(q[i, j])" in sg.source, sg.source
    # float32 stays float32
    k32 = k.astype(np.float32)
    g32 = g(k32, np.float32(1.0), 50)
    assert g32.dtype == np.float32, g32.dtype
    check("float32", g32, cpu, tol=1e-3)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)
