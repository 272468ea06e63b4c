"""nabla.saved: what reverse mode keeps, measured on a call: its totals are the real
sizes of the values the forward sweep hands to the adjoint, and checkpoints shrink them."""

import numpy as np

import nabla

X = np.linspace(-1.0, 1.0, 8)


def rollout(x, n):
    for i in range(n):
        x = x + 0.1 * np.sin(x)
    return np.sum(x)


def rollout_checkpointed(x, n):
    for i in nabla.checkpointed_range(n):
        x = x + 0.1 * np.sin(x)
    return np.sum(x)


def layer(h, w):
    a = h * w
    return np.tanh(a) * np.exp(-a * a)


def two_layers(x, w):
    return np.sum(layer(layer(x, w), w))


def two_layers_checkpointed(x, w):
    return np.sum(nabla.checkpoint(layer)(nabla.checkpoint(layer)(x, w), w))


def test_a_loop_tape_is_its_steps_times_its_value():
    report = nabla.saved(rollout, X, 1000)
    tape = next(r for r in report.residuals if r.name == "x_tape")
    assert tape.shape == (1000, 8) and tape.nbytes == 1000 * X.nbytes
    assert report.total == sum(r.nbytes for r in report.residuals)
    assert tape.source == "for i in range(n):"
    text = str(report)
    assert "x_tape" in text and "(1000, 8)" in text and "62.6 kB (64072 bytes)" in text


def test_checkpointed_loops_keep_about_the_square_root():
    full = nabla.saved(rollout, X, 10000).total
    checkpointed = nabla.saved(rollout_checkpointed, X, 10000).total
    assert checkpointed < 0.02 * full
    kept = next(r for r in nabla.saved(rollout_checkpointed, X, 10000).residuals
                if r.name == "x_checkpoints")
    assert kept.shape == (100, 8)


def test_checkpointed_calls_keep_only_their_arguments():
    w = np.full(8, 0.7)
    stored = nabla.saved(two_layers, X, w)
    checkpointed = nabla.saved(two_layers_checkpointed, X, w)
    assert checkpointed.total < stored.total
    assert any(r.name.startswith("layer_") for r in stored.residuals)
    assert not any(r.name.startswith("layer_") for r in checkpointed.residuals)
    # each residual names the user's line it comes from
    lines = {r.source for r in stored.residuals}
    assert "return np.sum(layer(layer(x, w), w))" in lines


def test_argnums_narrow_what_is_kept():
    w = np.full(8, 0.7)
    both = nabla.saved(two_layers, X, w)
    only_w = nabla.saved(two_layers, X, w, argnums=1)
    assert only_w.total <= both.total
    assert [r.name for r in both.residuals if r.source == "(argument)"] == ["w", "x"]


def mlp(params, x):
    w1, w2 = params
    return np.sum(np.tanh(x @ w1) @ w2)


def test_pytree_arguments_are_measured_leaf_by_leaf():
    params = (np.ones((8, 4)), np.ones(4))
    report = nabla.saved(mlp, params, np.ones((3, 8)))
    assert report.total == sum(r.nbytes for r in report.residuals) > 0
    assert any(r.shape == (3, 4) for r in report.residuals)  # tanh's output, kept
