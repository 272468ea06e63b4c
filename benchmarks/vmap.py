"""Per-example gradients with vmap: the gradient of a damped oscillator's final position
with respect to its stiffness (50 explicit Euler steps), for 10^5 stiffness values.

Rows (ratios from the same run):
- nabla ``vmap(grad(f), target="parallel")`` against a hand-written Numba ``prange``
  loop, and nabla ``target="cpu"`` against the same loop with ``range``, each over the
  hand-written reverse-mode gradient and over the hand-written forward-mode one (no
  tape: the best a person would write for one scalar parameter; nabla's mode="auto"
  picks forward mode here too);
- JAX ``jit(vmap(grad(f)))`` when JAX is installed;
- with a GPU (``--cuda``): ``target="cuda"`` at 10^6 examples, transfers included,
  against ``"parallel"``.

The workload, the hand-written gradients, the JAX baseline and the timing are those of
the benchmark suite (``benchmarks/run.py``).

Run: python benchmarks/vmap.py [--quick] [--cuda]
"""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import nabla  # noqa: E402
from benchmarks import baselines as B  # noqa: E402
from benchmarks import hand as H  # noqa: E402
from benchmarks.run import best_time  # noqa: E402
from benchmarks.workloads import oscillator  # noqa: E402

STEPS = 50


def _serial(per_example):
    """The hand-written loop over the batch with ``range`` (hand.py has the prange ones)."""
    @numba.njit
    def loop(ks, x0, n):
        out = np.empty(ks.shape[0])
        for b in range(ks.shape[0]):
            out[b] = per_example(ks[b], x0, n)
        return out
    return loop


def main(quick: bool, cuda: bool) -> None:
    size = 10**4 if quick else 10**5
    ks = np.linspace(0.5, 3.0, size)
    par = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="parallel")
    cpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    rows = [("target=parallel vs prange, hand reverse", par, H.oscillator_grads_reverse),
            ("target=parallel vs prange, hand forward", par, H.oscillator_grads_forward),
            ("target=cpu vs range, hand reverse", cpu, _serial(H.oscillator_reverse)),
            ("target=cpu vs range, hand forward", cpu, _serial(H.oscillator_forward))]
    want = rows[2][2](ks, 1.0, STEPS)
    for label, nab, hand in rows:  # every result agrees before anything is timed
        assert np.allclose(nab(ks, 1.0, STEPS), want, rtol=1e-12, atol=1e-15), label
        assert np.allclose(hand(ks, 1.0, STEPS), want, rtol=1e-10), label
    print(f"per-example gradients of a {STEPS}-step damped oscillator, {size} examples, "
          f"{numba.config.NUMBA_NUM_THREADS} threads; nabla's grad is mode='auto' (forward "
          "mode: one scalar per example)")
    print(f"{'nabla vmap(grad) against':44s} {'nabla':>9s} {'hand':>9s} {'nabla/hand':>11s}")
    t_cpu = None
    for label, nab, hand in rows:
        t_n = best_time(lambda nab=nab: nab(ks, 1.0, STEPS))
        t_h = best_time(lambda hand=hand: hand(ks, 1.0, STEPS))
        t_cpu = t_n if nab is cpu else t_cpu
        print(f"{label:44s} {t_n * 1e3:7.2f}ms {t_h * 1e3:7.2f}ms {t_n / t_h:11.2f}")
    why_not = B.available("jax")
    if why_not is not None:
        print(f"JAX: {why_not} — row skipped")
    else:
        run, values = B.jax_oscillator(ks, 1.0, STEPS)
        assert np.allclose(values(run())[0], want, rtol=1e-10)
        t_jax = best_time(run)
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
        t_gpu = best_time(lambda: gpu(big, 1.0, STEPS))
        t_p = best_time(lambda: par(big, 1.0, STEPS))
        print(f"{'vmap(grad, target=cuda) vs parallel, transfers':44s} {t_gpu * 1e3:7.2f}ms "
              f"{t_p * 1e3:7.2f}ms {t_gpu / t_p:11.2f}  ({big.size} examples)")


if __name__ == "__main__":
    main("--quick" in sys.argv, "--cuda" in sys.argv)
