"""Sums in one pass (nabla/transforms/fuse.py) and the value grad never returns left
uncomputed (nabla/transforms/floats.py): checked against finite differences with Numba on
and off, and where a proof fails, the code keeps its arrays and its check."""

import numpy as np
import pytest
from fd import numerical_grad

import nabla

FUSED = "in one pass: no temporary array"
UNCOMPUTED = "the value is not computed"


def norm_loss(x, s):
    r = np.sqrt(np.sum(x * x))
    return s * r + 0.5 * s * s


def centred(x, c):
    # a sum over a matrix: a loop nest over both of its dimensions
    d = x - c
    return np.sum(np.tanh(d) * d) / (1.0 + np.sum(d * d))


def rows(x, w):
    # each row against its own square: x[i] and x[i] * x[i] share x.shape[1]
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(x[i] * x[i] * w) + w * np.sum(np.sin(x[i]) * x[i])
    return s


def two_shapes(w, x):
    # w (3,) broadcast against x (4, 3): no proof that the shapes agree
    return np.sum(w * x) + np.sum(np.exp(w) * w)


def counts(x, k):
    # k holds integers: its sum stays NumPy's (an int)
    return np.sum(x * x) * np.sum(k * k)


def product(x, y):
    # v = x @ x is a scalar, though its operands share x's shape (no shape of theirs)
    v = x @ x
    return np.sum(v * x) + np.sum(y * y)


CASES = [
    (norm_loss, (np.array([1.0, -2.0, 0.5]), 0.7), (0, 1), True),
    (centred, (np.linspace(-1.0, 1.0, 6).reshape(2, 3), 0.3), (0, 1), True),
    (rows, (np.linspace(-1.0, 1.0, 6).reshape(2, 3), 0.4), (0, 1), True),
    (two_shapes, (np.array([0.3, -0.2, 0.5]), np.linspace(-1.0, 1.0, 12).reshape(4, 3)),
     (0, 1), True),
    (counts, (np.array([1.0, 2.0]), np.array([1, 2, 3])), 0, True),
    (product, (np.array([0.3, -0.7, 1.1]), np.array([0.5, 0.2, -0.4])), (0, 1), True),
]


@pytest.mark.parametrize("fun,args,argnums,fused", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_fused_gradients_are_right(fun, args, argnums, fused, jit_mode):
    nums = (argnums,) if isinstance(argnums, int) else argnums
    expected = [numerical_grad(fun, list(args), argnum=k) for k in nums]
    for g in (nabla.grad(fun, argnums=argnums), nabla.value_and_grad(fun, argnums=argnums)):
        got = g(*args)
        if isinstance(got, tuple) and len(got) == 2 and g.mode == "value_and_grad":
            np.testing.assert_allclose(got[0], fun(*args), rtol=1e-12)
            got = got[1]
        for a, b in zip((got,) if isinstance(argnums, int) else got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert UNCOMPUTED in nabla.source(nabla.grad(fun, argnums=argnums), *args)


def test_which_sums_are_fused():
    x, c = np.linspace(-1.0, 1.0, 6).reshape(2, 3), 0.3
    text = nabla.source(nabla.grad(centred, argnums=(0, 1)), x, c)
    assert text.count(FUSED) == 2
    assert "for i0 in range(x.shape[0]):\n        for i1 in range(x.shape[1]):" in text
    text = nabla.source(nabla.value_and_grad(rows, argnums=(0, 1)), x, 0.4)
    assert text.count(FUSED) == 2 and "x[i, i_1]" in text
    w, xs = CASES[3][1]
    text = nabla.source(nabla.value_and_grad(two_shapes, argnums=(0, 1)), w, xs)
    assert "np.sum(w * x)" in text  # the broadcast keeps NumPy's sum
    assert text.count(FUSED) == 1  # np.exp(w) * w has w's shape
    text = nabla.source(nabla.value_and_grad(counts), np.ones(2), np.ones(3, int))
    assert text.count(FUSED) == 1 and "np.sum(k * k)" in text


def test_value_and_grad_keeps_numpy_types():
    x, k = np.array([1.0, 2.0]), np.array([1, 2, 3])
    value, g = nabla.value_and_grad(counts)(x, k)
    assert value == counts(x, k) and isinstance(value, float)


def outputs_an_int(x):
    return np.sum(x > 0.0)


def outputs_an_array(x):
    return np.sin(x)


@pytest.mark.parametrize("fun", [outputs_an_int, outputs_an_array])
def test_seed_keeps_its_check_without_a_proof(fun, jit_mode):
    x = np.array([1.0, -2.0])
    assert "seed(out)" in nabla.source(nabla.grad(fun), x)
    with pytest.raises(nabla.TransformOutputError, match="needs a scalar float output"):
        nabla.grad(fun)(x)


def test_float32_seed_stays_float32(jit_mode):
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    g = nabla.grad(norm_loss)(x, np.float32(0.7))
    assert g.dtype == np.float32
    text = nabla.source(nabla.grad(norm_loss), x, np.float32(0.7))
    assert "out_bar = np.float32(1.0)" in text
    np.testing.assert_allclose(g, numerical_grad(norm_loss, [x.astype(float), 0.7], 0),
                               rtol=1e-5)
