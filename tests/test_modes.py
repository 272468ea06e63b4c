"""grad's mode: "auto" (the default) differentiates a single scalar argument in forward
mode (a jvp, no tape) and everything else in reverse mode; "forward" and "reverse" ask
for one. Both give the same derivatives, checked against each other and finite
differences; .source says which ran and why."""

import numpy as np
import pytest
from fd import numerical_grad

import nabla

pytestmark = pytest.mark.auto_mode


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.01 * np.sin(x) * x
    return x


def branchy(x, y):
    if x > y:
        z = np.sin(x) * y
    else:
        z = x * x
    return z * x


def helper(a):
    return a * np.exp(-a)


def calls(x):
    s = 0.0
    for i in range(3):
        s = s + helper(x + i)
    return s


def with_aux(x):
    return x ** 3, x + 1.0


def arrays(x, w):
    return np.sum(np.tanh(w * x) ** 2)


def test_auto_is_forward_for_one_scalar(jit_mode):
    g = nabla.grad(scalar_loop)
    assert g(0.8, 200) == pytest.approx(numerical_grad(scalar_loop, (0.8, 200)), rel=1e-6)
    assert "# forward mode, with respect to x" in g.source
    assert 'mode="auto" picks it: x is one scalar' in g.source
    assert "tape_like" not in g.source
    reverse = nabla.grad(scalar_loop, mode="reverse")
    assert reverse(0.8, 200) == pytest.approx(g(0.8, 200), rel=1e-13)
    assert "adjoint sweep" in reverse.source


def test_auto_is_reverse_for_arrays_and_several_scalars(jit_mode):
    x, w = np.linspace(-1, 1, 5), np.linspace(0.5, 1.5, 5)
    g = nabla.grad(arrays)
    g(x, w)
    assert 'reverse mode, with respect to x\n# mode="auto" picks it: x is an array' in g.source
    b = nabla.grad(branchy, argnums=(0, 1))
    b(0.3, 0.2)
    assert "# reverse mode, with respect to" in b.source


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_modes_agree(mode, jit_mode):
    for x, y in ((0.7, 0.2), (0.1, 0.5)):  # both branches
        got = nabla.grad(branchy, mode=mode)(x, y)
        assert got == pytest.approx(numerical_grad(branchy, (x, y)), rel=1e-6)
        both = nabla.grad(branchy, argnums=(0, 1), mode=mode)(x, y)
        assert both[0] == pytest.approx(got, rel=1e-12)
        assert both[1] == pytest.approx(numerical_grad(branchy, (x, y), argnum=1), rel=1e-6)
    assert nabla.grad(calls, mode=mode)(0.4) == pytest.approx(
        numerical_grad(calls, (0.4,)), rel=1e-6)
    value, g = nabla.value_and_grad(scalar_loop, mode=mode)(0.8, 50)
    assert value == pytest.approx(scalar_loop(0.8, 50), rel=1e-14)
    assert g == pytest.approx(numerical_grad(scalar_loop, (0.8, 50)), rel=1e-6)
    g, aux = nabla.grad(with_aux, has_aux=True, mode=mode)(2.0)
    assert (g, aux) == pytest.approx((12.0, 3.0))
    (v, aux), g = nabla.value_and_grad(with_aux, has_aux=True, mode=mode)(2.0)
    assert (v, aux, g) == pytest.approx((8.0, 3.0, 12.0))
    x, w = np.linspace(-1, 1, 4), np.linspace(0.5, 1.5, 4)
    gx, gw = nabla.grad(arrays, argnums=(0, 1), mode=mode)(x, w)
    np.testing.assert_allclose(gx, numerical_grad(arrays, (x, w)), rtol=1e-6)
    np.testing.assert_allclose(gw, numerical_grad(arrays, (x, w), argnum=1), rtol=1e-6)


def test_forward_mode_keeps_float32(jit_mode):
    g = nabla.grad(scalar_loop)(np.float32(0.8), 20)
    assert isinstance(g, np.float32)
    assert g == pytest.approx(nabla.grad(scalar_loop, mode="reverse")(0.8, 20), rel=1e-4)


def test_forward_mode_refuses_a_non_scalar_output():
    def vec(x):
        return np.sin(x) * 2.0
    with pytest.raises(nabla.TransformOutputError, match="needs a scalar float output"):
        nabla.grad(vec, mode="forward")(np.ones(3))


def test_mode_is_checked():
    with pytest.raises(nabla.TransformInputError, match="mode must be one of"):
        nabla.grad(branchy, mode="sideways")


def test_compositions_over_auto(jit_mode):
    def f(x):
        return np.sin(x) * x
    want = 2 * np.cos(1.0) - np.sin(1.0)
    assert nabla.grad(nabla.grad(f))(1.0) == pytest.approx(want, rel=1e-12)
    assert nabla.grad(nabla.grad(f, mode="forward"), mode="forward")(1.0) == pytest.approx(
        want, rel=1e-12)
    per_example = nabla.vmap(nabla.grad(scalar_loop), in_axes=(0, None))
    xs = np.array([0.3, 0.8])
    np.testing.assert_allclose(per_example(xs, 30), [nabla.grad(scalar_loop)(x, 30)
                                                      for x in xs], rtol=1e-13)
