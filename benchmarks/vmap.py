"""Per-example gradients with vmap: the gradient of a damped oscillator's final position
with respect to its stiffness (50 explicit Euler steps), for 10^5 stiffness values.

Rows (ratios from the same run):
- nabla ``vmap(grad(f), target="parallel")`` against a hand-written Numba ``prange``
  loop over the same hand-written reverse-mode gradient;
- nabla ``target="cpu"`` against the same loop with ``range``;
- the same loops over a hand-written forward-mode gradient (no tape): the best a
  person would write for one scalar parameter (nabla's mode="auto" picks forward mode
  here too);
- JAX ``jit(vmap(grad(f)))`` when JAX is installed;
- with a GPU (or ``--cuda`` in numba's simulator, tiny sizes only): ``target="cuda"``
  at 10^6 examples, transfers included, against ``"parallel"``.

Run: python benchmarks/vmap.py [--quick] [--cuda]
"""

import sys
import time

import numba
import numpy as np

import nabla

STEPS = 50


def oscillator(k, x0, n):
    x = x0
    v = 0.0
    for i in range(n):
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return x


@numba.njit
def hand_reverse(k, x0, n):
    """Reverse mode by hand: the positions on a tape, then the adjoint sweep."""
    tape = np.empty(n)
    x, v = x0, 0.0
    for i in range(n):
        tape[i] = x
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    x_bar, v_bar, k_bar = 1.0, 0.0, 0.0
    for i in range(n - 1, -1, -1):
        x = tape[i]
        v_bar = v_bar + 0.01 * x_bar
        a_bar = 0.01 * v_bar
        v_bar = v_bar - 0.1 * a_bar
        x_bar = x_bar - k * a_bar
        k_bar = k_bar - a_bar * x
    return k_bar


@numba.njit
def hand_forward(k, x0, n):
    """Forward mode by hand: the tangents of x and v along dk = 1, no tape."""
    x, v, x_dot, v_dot = x0, 0.0, 0.0, 0.0
    for i in range(n):
        a = -k * x - 0.1 * v
        a_dot = -x - k * x_dot - 0.1 * v_dot
        v = v + 0.01 * a
        v_dot = v_dot + 0.01 * a_dot
        x = x + 0.01 * v
        x_dot = x_dot + 0.01 * v_dot
    return x_dot


@numba.njit(parallel=True)
def hand_parallel(ks, x0, n):
    out = np.empty(ks.shape[0])
    for b in numba.prange(ks.shape[0]):
        out[b] = hand_reverse(ks[b], x0, n)
    return out


@numba.njit
def hand_serial(ks, x0, n):
    out = np.empty(ks.shape[0])
    for b in range(ks.shape[0]):
        out[b] = hand_reverse(ks[b], x0, n)
    return out


@numba.njit(parallel=True)
def hand_forward_parallel(ks, x0, n):
    out = np.empty(ks.shape[0])
    for b in numba.prange(ks.shape[0]):
        out[b] = hand_forward(ks[b], x0, n)
    return out


@numba.njit
def hand_forward_serial(ks, x0, n):
    out = np.empty(ks.shape[0])
    for b in range(ks.shape[0]):
        out[b] = hand_forward(ks[b], x0, n)
    return out


def best_time(fn, *args, min_total=0.2, min_samples=5):
    fn(*args)
    times, total = [], 0.0
    while total < min_total or len(times) < min_samples:
        t0 = time.perf_counter()
        fn(*args)
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return min(times)


def main(quick: bool, cuda: bool) -> None:
    size = 10**4 if quick else 10**5
    ks = np.linspace(0.5, 3.0, size)
    par = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="parallel")
    cpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    want = hand_serial(ks, 1.0, STEPS)
    for name, fn in (("parallel", par), ("cpu", cpu)):
        got = fn(ks, 1.0, STEPS)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-15), name
    assert np.allclose(hand_parallel(ks, 1.0, STEPS), want, rtol=1e-12)
    assert np.allclose(hand_forward_serial(ks, 1.0, STEPS), want, rtol=1e-10)
    assert np.allclose(hand_forward_parallel(ks, 1.0, STEPS), want, rtol=1e-10)
    t_par = best_time(par, ks, 1.0, STEPS)
    t_hpar = best_time(hand_parallel, ks, 1.0, STEPS)
    t_fpar = best_time(hand_forward_parallel, ks, 1.0, STEPS)
    t_cpu = best_time(cpu, ks, 1.0, STEPS)
    t_hcpu = best_time(hand_serial, ks, 1.0, STEPS)
    t_fwd = best_time(hand_forward_serial, ks, 1.0, STEPS)
    print(f"per-example gradients of a {STEPS}-step damped oscillator, {size} examples, "
          f"{numba.config.NUMBA_NUM_THREADS} threads; nabla's grad is mode='auto' (forward "
          "mode: one scalar per example)")
    print(f"{'nabla vmap(grad) against':44s} {'nabla':>9s} {'hand':>9s} {'nabla/hand':>11s}")
    for label, t_n, t_h in (
            ("target=parallel vs prange, hand reverse", t_par, t_hpar),
            ("target=parallel vs prange, hand forward", t_par, t_fpar),
            ("target=cpu vs range, hand reverse", t_cpu, t_hcpu),
            ("target=cpu vs range, hand forward", t_cpu, t_fwd)):
        print(f"{label:44s} {t_n * 1e3:7.2f}ms {t_h * 1e3:7.2f}ms {t_n / t_h:11.2f}")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("JAX: not installed (pip install jax) — row skipped")
    else:
        jax.config.update("jax_enable_x64", True)

        def jax_osc(k, x0):
            def step(carry, _):
                x, v = carry
                a = -k * x - 0.1 * v
                v = v + 0.01 * a
                return (x + 0.01 * v, v), None
            return jax.lax.scan(step, (x0, 0.0), None, length=STEPS)[0][0]
        jf = jax.jit(jax.vmap(jax.grad(jax_osc), in_axes=(0, None)))
        kj = jnp.asarray(ks)
        assert np.allclose(np.asarray(jf(kj, 1.0)), want, rtol=1e-10)
        t_jax = best_time(lambda: jf(kj, 1.0).block_until_ready())
        print(f"{'JAX jit(vmap(grad)) (lax.scan)':44s} {t_jax * 1e3:7.2f}ms "
              f"{'':9s} nabla cpu/JAX {t_cpu / t_jax:.2f}")
    if cuda:
        from nabla.codegen import numba_cuda

        reason = numba_cuda.unavailable_reason()
        if reason is not None:
            print(f"cuda: {reason} — row skipped")
            return
        big = np.linspace(0.5, 3.0, 1000 if quick else 10**6)
        gpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="cuda")
        assert np.allclose(gpu(big, 1.0, STEPS), par(big, 1.0, STEPS), rtol=1e-10)
        t_gpu = best_time(gpu, big, 1.0, STEPS)
        t_p = best_time(par, big, 1.0, STEPS)
        print(f"{'vmap(grad, target=cuda) vs parallel, transfers':44s} {t_gpu * 1e3:7.2f}ms "
              f"{t_p * 1e3:7.2f}ms {t_gpu / t_p:11.2f}  ({big.size} examples)")


if __name__ == "__main__":
    main("--quick" in sys.argv, "--cuda" in sys.argv)
