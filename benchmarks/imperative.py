"""One training step of the examples' MLP (2-64-64-2, ReLU, softmax cross-entropy, SGD)
at batch 32 and 256:

- nabla imperative: ``opt.zero_grad()``, the forward pass on ``nabla.Array``s,
  ``loss.backward()``, ``opt.step()`` (the recording, one compiled program, the update);
- nabla functional: ``nabla.jit(nabla.value_and_grad(loss))`` and ``sgd_update``;
- PyTorch eager on the CPU, when installed (same model, same step).

Ratios are against PyTorch's step time, from the same run. The last line is the cost of
recording one operation on an Array (the forward pass recorded, nothing run).

Run: python benchmarks/imperative.py [--quick]
"""

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import nabla  # noqa: E402

SIZES = [2, 64, 64, 2]


def data(batch: int):
    rng = np.random.default_rng(batch)
    return rng.standard_normal((batch, 2)).astype(np.float32), rng.integers(0, 2, batch)


def imperative_step(batch: int):
    nabla.seed(0)
    model = nabla.nn.MLP(SIZES)
    opt = nabla.optim.SGD(model.parameters(), lr=0.01)
    x, labels = data(batch)
    xa = nabla.array(x)

    def step():
        opt.zero_grad()
        loss = nabla.nn.softmax_cross_entropy(model(xa), labels)
        loss.backward()
        opt.step()
    return step


def loss_fn(params, x, onehot):
    w1, b1, w2, b2, w3, b3 = params
    h = np.maximum(x @ w1 + b1, 0.0)
    h = np.maximum(h @ w2 + b2, 0.0)
    logits = h @ w3 + b3
    return -np.mean(np.sum(onehot * nabla.log_softmax(logits, axis=1), axis=1))


def functional_step(batch: int):
    nabla.seed(0)
    params = tuple(nabla.nn.MLP(SIZES).state_dict().values())
    x, labels = data(batch)
    onehot = np.eye(2, dtype=np.float32)[labels]
    vg = nabla.jit(nabla.value_and_grad(loss_fn))
    state = nabla.optim.sgd_init(params)
    box = [params, state]

    def step():
        value, grads = vg(box[0], x, onehot)
        box[0], box[1] = nabla.optim.sgd_update(box[0], grads, box[1], lr=0.01)
    return step


def torch_step(batch: int):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, labels = data(batch)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = lossf(model(xt), yt)
        loss.backward()
        opt.step()
    return step


def recording_cost() -> float:
    """Seconds to record one operation (the MLP's forward and loss, not run)."""
    nabla.seed(0)
    model = nabla.nn.MLP(SIZES)
    x, labels = data(32)
    xa = nabla.array(x)
    loss = nabla.nn.softmax_cross_entropy(model(xa), labels)
    ops = len(nabla.program.Recorded([loss._node], through_values=False).order)

    def record():
        nabla.nn.softmax_cross_entropy(model(xa), labels)
    return interleaved({"record": record}, 0.5)["record"] / ops, ops


def interleaved(fns: dict, seconds: float, rounds: int = 9) -> dict:
    """Seconds per call of each of ``fns``, the best over ``rounds`` in which each runs in
    turn (so that a noisy moment on a shared machine falls on all of them alike)."""
    counts = {}
    for label, fn in fns.items():  # calls per round: about seconds / rounds of work
        fn()
        n = 1
        while True:
            t = time.perf_counter()
            for _ in range(n):
                fn()
            if time.perf_counter() - t > seconds / rounds / len(fns) or n > 1 << 16:
                break
            n *= 2
        counts[label] = n
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for label, fn in fns.items():
            n = counts[label]
            t = time.perf_counter()
            for _ in range(n):
                fn()
            best[label] = min(best[label], (time.perf_counter() - t) / n)
    return best


def main(quick: bool) -> None:
    seconds = 1.0 if quick else 4.0
    rows = []
    for batch in (32, 256):
        fns = {"nabla imperative": imperative_step(batch),
               "nabla functional": functional_step(batch)}
        tor = torch_step(batch)
        if tor is not None:
            fns["PyTorch eager (CPU)"] = tor
        rows.append((batch, interleaved(fns, seconds)))
    print(f"one SGD training step, MLP {'-'.join(map(str, SIZES))}, softmax cross-entropy")
    print(f"{'':<24}{'batch':>6}{'step':>12}{'vs PyTorch':>12}")
    for batch, times in rows:
        base = times.get("PyTorch eager (CPU)")
        for label, t in times.items():
            ratio = f"{t / base:.2f}x" if base else "-"
            print(f"{label:<24}{batch:>6}{t * 1e6:>10.1f}us{ratio:>12}")
    cost, ops = recording_cost()
    print(f"recording: {cost * 1e6:.2f} us per operation ({ops} operations a step)")


if __name__ == "__main__":
    main("--quick" in sys.argv)
