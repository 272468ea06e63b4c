"""The public transforms and their return conventions (JAX's), checked against
finite differences with Numba off and in strict mode."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jvp

import nabla


def f2(x, y):
    return np.sum(np.sin(x) * y) + np.sum(x * x)


def with_aux(x, y):
    s = np.sum(np.tanh(x) * y)
    return s, x * 2.0


def vec(x, y):
    return np.sin(x) * y + x


@pytest.fixture
def xy(rng):
    return rng.normal(size=3), rng.normal(size=3)


def test_grad_argnums_int(jit_mode, xy):
    x, y = xy
    before = (x.copy(), y.copy())
    assert_close(nabla.grad(f2)(x, y), numerical_grad(f2, [x, y], 0))
    assert_close(nabla.grad(f2, argnums=1)(x, y), numerical_grad(f2, [x, y], 1))
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(y, before[1])


def test_grad_argnums_tuple(jit_mode, xy):
    x, y = xy
    g = nabla.grad(f2, argnums=(0, 1))(x, y)
    assert isinstance(g, tuple) and len(g) == 2
    assert_close(g[0], numerical_grad(f2, [x, y], 0))
    assert_close(g[1], numerical_grad(f2, [x, y], 1))
    (g1,) = nabla.grad(f2, argnums=(1,))(x, y)
    assert_close(g1, g[1])


def test_grad_has_aux(jit_mode, xy):
    x, y = xy
    g, aux = nabla.grad(with_aux, has_aux=True)(x, y)
    assert_close(g, numerical_grad(lambda a, b: with_aux(a, b)[0], [x, y], 0))
    assert_close(aux, 2 * x)


def test_value_and_grad(jit_mode, xy):
    x, y = xy
    value, g = nabla.value_and_grad(f2)(x, y)
    assert_close(value, f2(x, y))
    assert_close(g, numerical_grad(f2, [x, y], 0))
    value, (gx, gy) = nabla.value_and_grad(f2, argnums=(0, 1))(x, y)
    assert_close(value, f2(x, y))
    assert_close(gx, numerical_grad(f2, [x, y], 0))
    assert_close(gy, numerical_grad(f2, [x, y], 1))
    (value, aux), g = nabla.value_and_grad(with_aux, has_aux=True)(x, y)
    assert_close(value, with_aux(x, y)[0])
    assert_close(aux, 2 * x)
    assert_close(g, numerical_grad(lambda a, b: with_aux(a, b)[0], [x, y], 0))


def test_jvp(jit_mode, xy, rng):
    x, y = xy
    tx, ty = rng.normal(size=3), rng.normal(size=3)
    out, tangent = nabla.jvp(vec, (x, y), (tx, ty))
    assert_close(out, vec(x, y))
    assert_close(tangent, numerical_jvp(vec, [x, y], [tx, ty]))
    out, tangent, aux = nabla.jvp(with_aux, (x, y), (tx, ty), has_aux=True)
    assert_close(out, with_aux(x, y)[0])
    assert_close(aux, 2 * x)
    assert_close(tangent, numerical_jvp(lambda a, b: with_aux(a, b)[0], [x, y], [tx, ty]))


def test_vjp_called_many_times(jit_mode, xy, rng):
    x, y = xy
    out, vjp_fun = nabla.vjp(vec, x, y)
    assert_close(out, vec(x, y))
    for _ in range(3):
        ct = rng.normal(size=3)
        cts = vjp_fun(ct)
        assert isinstance(cts, tuple) and len(cts) == 2
        assert_close(cts[0], numerical_grad(lambda a, b, c=ct: np.dot(vec(a, b), c), [x, y], 0))
        assert_close(cts[1], numerical_grad(lambda a, b, c=ct: np.dot(vec(a, b), c), [x, y], 1))
    out, vjp_fun, aux = nabla.vjp(with_aux, x, y, has_aux=True)
    assert_close(out, with_aux(x, y)[0])
    assert_close(aux, 2 * x)
    (gx, gy) = vjp_fun(2.0)
    assert_close(gx, 2.0 * numerical_grad(lambda a, b: with_aux(a, b)[0], [x, y], 0))


@nabla.grad
def decorated(x):
    return np.sum(x ** 3)


def test_decorator(jit_mode):
    x = np.array([1.0, -2.0, 0.5])
    assert isinstance(decorated, nabla.Function)
    assert_close(decorated(x), 3 * x ** 2)


def test_jit(jit_mode, xy):
    x, y = xy
    fast = nabla.jit(f2)
    assert isinstance(fast, nabla.Function)
    assert nabla.jit(fast) is fast
    assert_close(fast(x, y), f2(x, y))


@pytest.mark.parametrize("mode, entry", [("grad", "f2_grad"),
                                         ("value_and_grad", "f2_value_and_grad"),
                                         ("jvp", "f2_jvp"), ("vjp", "f2_vjp"), ("jit", "f2")])
def test_source_for_every_mode(mode, entry):
    text = nabla.source(f2, mode=mode)
    assert f"def {entry}(" in text
    assert "import numpy as np" in text
    for line in text.splitlines():
        if line.startswith(("import ", "from ")):
            assert line.split()[1].split(".")[0] in ("numpy", "math", "nabla"), line
    namespace = {"__name__": "probe"}
    exec(text, namespace)
    assert callable(namespace[entry])


def test_source_path_and_namespace(xy):
    f = nabla.grad(f2, argnums=1)
    assert "def f2_grad(" in f.source
    path = Path(f.source_path)
    assert path.exists() and f.source in path.read_text()
    namespace = f.namespace
    exec(f.source, namespace)
    x, y = xy
    assert_close(namespace["f2_grad"](x, y), numerical_grad(f2, [x, y], 1))


def test_vjp_fun_source():
    _, vjp_fun = nabla.vjp(vec, np.ones(2), np.ones(2))
    assert "def vec_vjp(" in vjp_fun.source and Path(vjp_fun.source_path).exists()


def numba_lacks(x):
    # math.factorial has a rule (derivative zero) but no Numba implementation
    return x * x * math.factorial(3)


def test_jit_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", True)
    f = nabla.grad(numba_lacks)
    with pytest.warns(nabla.NablaWarning, match="Numba") as record:
        assert f(2.0) == pytest.approx(24.0)
        assert f(3.0) == pytest.approx(36.0)
        assert f(np.float64(1.0)) == pytest.approx(12.0)
    assert len([w for w in record if issubclass(w.category, nabla.NablaWarning)]) == 1


def test_strict_raises(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    with pytest.raises(nabla.NablaError) as e:
        nabla.grad(numba_lacks)(2.0)
    assert e.value.hint and e.value.filename == __file__


def test_jit_false_does_not_warn(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nabla.grad(numba_lacks)(2.0) == pytest.approx(24.0)


def test_float32_stays_float32(jit_mode):
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    y = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    g = nabla.grad(f2, argnums=(0, 1))(x, y)
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32
    assert_close(g[0], numerical_grad(f2, [x.astype(float), y.astype(float)], 0), rtol=1e-5)
    s = nabla.grad(scalar_fn)(np.float32(0.7))
    assert isinstance(s, np.float32)
    assert_close(s, numerical_grad(scalar_fn, [0.7]), rtol=1e-5)


def scalar_fn(x):
    return x * x * 3.0 + np.sin(x)


def test_python_float_gives_float(jit_mode):
    g = nabla.grad(scalar_fn)(0.7)
    assert type(g) is float
    assert_close(g, numerical_grad(scalar_fn, [0.7]))
    value, g = nabla.value_and_grad(scalar_fn)(0.7)
    assert type(g) is float and value == pytest.approx(scalar_fn(0.7))


def test_transform_is_lazy():
    def never_called(x):
        try:
            return x
        finally:
            pass
    f = nabla.grad(never_called)  # nothing is read yet
    assert repr(f) == "<nabla.Function grad(test_transform_is_lazy.<locals>.never_called)>"
    with pytest.raises(nabla.UnsupportedSyntaxError):
        _ = f.source


import math  # noqa: E402  (used by numba_lacks; imported late on purpose: free names are
#                          resolved when the function is transformed, not when defined)
