"""float32 in, float32 out: values, gradients and tangents keep the arguments' dtype
(constants in generated code are float32 too), in both execution modes."""

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jacobian, numerical_jvp

import nabla


def chain(x):
    y = 0.01 * x + np.tanh(x) * 2.0 - x / 3.0
    return np.sum(np.exp(-y * y) + 1.5 ** 2)


def elementwise(x):
    return 0.01 * x + np.sin(x) * 0.5 - 1.0 / (1.0 + x * x)


def reduction(x):
    return np.mean(x * x, axis=0) + np.max(x, axis=1).sum() + np.std(x)


def matmul(a, b):
    return np.sum(np.tanh(a @ b) * 0.5)


def snapshot(args):
    return [a.copy() for a in args]


def unchanged(args, before):
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


X = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])
B = np.array([[0.2, -0.4], [0.9, 0.1], [-0.3, 0.6]])
CASES = [(chain, (X,)), (elementwise, (X,)), (reduction, (X,)), (matmul, (X, B))]


@pytest.mark.parametrize("f, args64", CASES, ids=[c[0].__name__ for c in CASES])
def test_float32(jit_mode, f, args64):
    args = [a.astype(np.float32) for a in args64]
    before = snapshot(args)
    out = nabla.jit(f)(*args)
    unchanged(args, before)
    if np.ndim(out):  # scalars: see test_float32_scalar_outputs
        assert np.asarray(out).dtype == np.float32, np.asarray(out).dtype
    assert_close(out, f(*args64), rtol=1e-4, atol=1e-5)

    tangents = [np.full_like(a, 0.5) for a in args]
    out2, out_dot = nabla.jvp(f, tuple(args), tuple(tangents))
    unchanged(args, before)
    if np.ndim(out):
        assert np.asarray(out2).dtype == np.float32
        assert np.asarray(out_dot).dtype == np.float32, np.asarray(out_dot).dtype
    # The references are float64 finite differences of f: independent of nabla, and
    # nothing to compile (a float64 jvp and vjp of each case, compiled, were 40% of the
    # time of the Numba runs of these tests).
    ref_dot = numerical_jvp(f, args64, [t.astype(np.float64) for t in tangents])
    assert_close(out_dot, ref_dot, rtol=1e-3, atol=1e-4)

    if np.ndim(out) == 0:
        argnums = tuple(range(len(args)))
        grads = nabla.grad(f, argnums=argnums)(*args)
        refs = [numerical_grad(f, args64, i) for i in argnums]
    else:
        ct = np.full_like(out, 0.25)
        value, pullback = nabla.vjp(f, *args)
        assert value.dtype == np.float32
        grads = pullback(ct)
        refs = [np.tensordot(ct.astype(np.float64), numerical_jacobian(f, args64, i),
                             axes=ct.ndim) for i in range(len(args))]
    unchanged(args, before)
    for g, r, a in zip(grads, refs, args):
        assert g.dtype == np.float32 and g.shape == a.shape
        assert_close(g, r, rtol=1e-3, atol=1e-4)


def scalar_chain(x):
    return 0.01 * x + x * x / 3.0


@pytest.mark.parametrize("x", [np.float32(0.7)], ids=["np.float32"])
def test_float32_scalar(jit_mode, x):
    g = nabla.grad(scalar_chain)(x)
    assert isinstance(g, np.float32)
    assert_close(g, 0.01 + 2 * 0.7 / 3.0, rtol=1e-5)


@pytest.mark.parametrize("mode", [False, "strict"], ids=["python", "numba"])
@pytest.mark.parametrize("f, args64", [CASES[0], CASES[3]], ids=["chain", "matmul"])
def test_float32_scalar_outputs(mode, f, args64):
    old = nabla.config.jit
    nabla.config.jit = mode
    try:
        args = [a.astype(np.float32) for a in args64]
        out = nabla.jit(f)(*args)
        _, out_dot = nabla.jvp(f, tuple(args), tuple(np.ones_like(a) for a in args))
        x = np.float32(0.7)
        s, s_dot = nabla.jvp(scalar_chain, (x,), (np.float32(1.0),))
        for v in (out, out_dot, s, s_dot):
            assert isinstance(v, np.float32), type(v)
    finally:
        nabla.config.jit = old


def _through_float64(x):
    y = np.zeros(x.shape[0] + 1)  # float64, whatever x is
    y[1:] = x * 2.0
    y[0] = np.sum(x ** 2)
    return np.sum(y ** 2)


@pytest.mark.parametrize("make", [
    lambda: nabla.vmap(nabla.grad(_through_float64)),
    lambda: nabla.vmap(nabla.grad(_through_float64), target="parallel"),
    lambda: nabla.jacrev(_through_float64), lambda: nabla.hessian(_through_float64),
    lambda: nabla.vmap(nabla.hessian(_through_float64))], ids=[
    "vmap_grad", "vmap_grad_parallel", "jacrev", "hessian", "vmap_hessian"])
def test_derivatives_through_float64_values_stay_float32(make, jit_mode):
    """grad cast its float32 argument's derivative back to float32; Jacobians and batches
    of gradients came back float64 (zoo audit)."""
    b32 = np.array([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]], dtype=np.float32)
    f = make()
    batched = f.mode == "vmap"
    x = b32 if batched else b32[0]
    for _ in range(2):  # the fast path too
        assert f(x).dtype == np.float32
    g64 = nabla.grad(_through_float64)(b32[0].astype(np.float64))
    if f.mode == "jacrev":
        np.testing.assert_allclose(f(x), g64.astype(np.float32), rtol=1e-5)
