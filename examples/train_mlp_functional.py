"""Train the MLP of train_mlp_imperative.py on the same spirals, JAX's way: a pure loss
of a parameter tuple, its gradient compiled once with ``nabla.jit(nabla.value_and_grad)``,
and Adam as a pure update (``nabla.optim.adam_update``).

Run: python examples/train_mlp_functional.py
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spirals import accuracy, progress, spirals  # noqa: E402

import nabla  # noqa: E402

EPOCHS, BATCH = 40, 32


def predict(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = np.maximum(x @ w1 + b1, 0.0)
    h = np.maximum(h @ w2 + b2, 0.0)
    return h @ w3 + b3


def loss(params, x, onehot):
    logits = predict(params, x)
    return -np.mean(np.sum(onehot * nabla.log_softmax(logits, axis=1), axis=1))


def main():
    nabla.seed(0)
    x, labels = spirals()
    onehot = np.eye(2, dtype=np.float32)[labels]
    # the same initial weights as the imperative example's model
    params = tuple(nabla.nn.MLP([2, 64, 64, 2]).state_dict().values())
    step = nabla.jit(nabla.value_and_grad(loss))
    forward = nabla.jit(predict)
    state = nabla.optim.adam_init(params)
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        order = np.random.default_rng(epoch).permutation(len(x))
        total = 0.0
        for i in range(0, len(x) - BATCH + 1, BATCH):
            batch = order[i:i + BATCH]
            value, grads = step(params, x[batch], onehot[batch])
            params, state = nabla.optim.adam_update(params, grads, state, lr=0.01)
            total += float(value) * BATCH
        acc = accuracy(forward(params, x), labels)
        progress(epoch, EPOCHS, total / len(x), acc, start)
    return acc


if __name__ == "__main__":
    main()
