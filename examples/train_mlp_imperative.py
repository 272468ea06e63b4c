"""Train an MLP on two interleaved spirals, PyTorch's way: nabla.Array, nabla.nn,
loss.backward(), an optimizer's step(). Each step records its operations and runs one
compiled program (the forward pass and its gradient), the same program every step.

Run: python examples/train_mlp_imperative.py
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spirals import accuracy, progress, spirals  # noqa: E402

import nabla  # noqa: E402

EPOCHS, BATCH = 40, 32


def main():
    nabla.seed(0)
    x, labels = spirals()
    model = nabla.nn.MLP([2, 64, 64, 2])
    opt = nabla.optim.Adam(model.parameters(), lr=0.01)
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        order = np.random.default_rng(epoch).permutation(len(x))
        total = 0.0
        for i in range(0, len(x) - BATCH + 1, BATCH):  # whole batches: one program shape
            batch = order[i:i + BATCH]
            opt.zero_grad()
            loss = nabla.nn.softmax_cross_entropy(model(nabla.array(x[batch])), labels[batch])
            loss.backward()
            opt.step()
            total += float(loss) * BATCH
        with nabla.no_grad():
            acc = accuracy(model(nabla.array(x)), labels)
        progress(epoch, EPOCHS, total / len(x), acc, start)
    return acc


if __name__ == "__main__":
    main()
