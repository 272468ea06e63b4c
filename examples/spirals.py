"""Two interleaved spirals: the data both training examples learn (made here, no
downloads), their accuracy, and the progress line they print."""

import time

import numpy as np


def spirals(n_per_class: int = 500, noise: float = 0.15, seed: int = 0):
    """(x, labels): points of two spirals, float32 of shape (2 n, 2), and 0 or 1 each."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n_per_class)) * 3.0 * np.pi  # denser near the centre
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.0 * np.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n_per_class, 2)) / 3.0
    labels = np.repeat([0, 1], n_per_class)
    order = rng.permutation(2 * n_per_class)
    return x[order].astype(np.float32), labels[order]


def accuracy(logits, labels) -> float:
    return float(np.mean(np.argmax(np.asarray(logits), axis=1) == labels))


def progress(epoch: int, epochs: int, loss: float, acc: float, start: float) -> None:
    """A line every 5 epochs (and the first), then the final accuracy."""
    if epoch % 5 == 0 or epoch == 1:
        print(f"epoch {epoch:3d}  loss {loss:.4f}  accuracy {acc:.3f}  "
              f"({time.perf_counter() - start:.1f} s)")
    if epoch == epochs:
        print(f"final training accuracy {acc:.3f} in {time.perf_counter() - start:.1f} s")
