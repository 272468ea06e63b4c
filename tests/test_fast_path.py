"""The fast path of a call (nabla.Function.__call__): a call whose arguments have a signature
a compiled call has seen before skips dispatch and goes straight to the compiled function.
It returns exactly what the slow path returns (values, types, dtypes, shapes), a new
dtype, rank or kind of argument still goes through dispatch, errors are those of the slow
path, and with Numba off every call takes the slow path."""

import numpy as np
import pytest

import nabla
from nabla.api import Function


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")


@pytest.fixture
def slow_calls(monkeypatch):
    """How many calls went through the slow path (dispatch, checks, result casting)."""
    count = {"n": 0}
    slow = Function._call_slow

    def counted(self, args):
        count["n"] += 1
        return slow(self, args)
    monkeypatch.setattr(Function, "_call_slow", counted)
    return count


def sumsq(x):
    return np.sum(np.sin(x) * x)


def scalar_fn(x, n):
    return x * x * n + np.sin(x)


def two(x, w, b):
    return np.sum(np.tanh(x @ w + b) ** 2)


def with_aux(x):
    return np.sum(x * x), np.cos(x)


def pair(x, y):
    return np.sin(x) * y, x * y


def pair_aux(x):
    return np.sin(x), (np.sum(x), x * 2.0)


def as_dict(x):
    return {"s": np.sum(x), "t": (x, 2.0 * x)}


def constant(x):
    return 3.0


def inverse(x):
    return 1.0 / x


def same(a, b):
    """Values, types, dtypes and shapes, through tuples and dicts."""
    if isinstance(a, dict):
        assert type(b) is dict and list(a) == list(b)
        for k in a:
            same(a[k], b[k])
        return
    if isinstance(a, tuple):
        assert type(b) is tuple and len(a) == len(b)
        for u, v in zip(a, b):
            same(u, v)
        return
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


rng = np.random.default_rng(3)
CASES = [
    ("grad 1-d", lambda: nabla.grad(sumsq), (rng.normal(size=5),)),
    ("grad 2-d", lambda: nabla.grad(sumsq), (rng.normal(size=(2, 3)),)),
    ("grad 0-d array", lambda: nabla.grad(sumsq), (np.array(0.7),)),
    ("grad float32", lambda: nabla.grad(sumsq), (rng.normal(size=4).astype(np.float32),)),
    ("grad Python float", lambda: nabla.grad(scalar_fn), (0.7, 3)),
    ("grad np.float64", lambda: nabla.grad(scalar_fn), (np.float64(0.7), np.int64(3))),
    ("grad np.float32", lambda: nabla.grad(scalar_fn), (np.float32(0.7), 3)),
    ("grad reverse mode scalar", lambda: nabla.grad(scalar_fn, mode="reverse"), (0.7, 2)),
    ("grad of a constant", lambda: nabla.grad(constant), (rng.normal(size=3),)),
    ("grad tuple argnums", lambda: nabla.grad(two, argnums=(0, 1, 2)),
     (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2))),
    ("grad tuple argnums float32", lambda: nabla.grad(two, argnums=(1, 2)),
     tuple(a.astype(np.float32) for a in (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)),
                                          rng.normal(size=2)))),
    ("grad has_aux", lambda: nabla.grad(with_aux, has_aux=True), (rng.normal(size=3),)),
    ("value_and_grad", lambda: nabla.value_and_grad(two, argnums=1),
     (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2))),
    ("jit", lambda: nabla.jit(with_aux), (rng.normal(size=3),)),
    ("jit float32", lambda: nabla.jit(scalar_fn), (np.float32(0.5), 2)),
    ("jacfwd", lambda: nabla.jacfwd(np.sin), None),
    ("vmap", lambda: nabla.vmap(sumsq), (rng.normal(size=(4, 3)),)),
    ("vmap(jacfwd) tuple argnums", lambda: nabla.vmap(nabla.jacfwd(pair, argnums=(0, 1))),
     (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))),
    ("jacrev has_aux", lambda: nabla.jacrev(pair_aux, has_aux=True), (rng.normal(size=3),)),
    ("jit of a dict", lambda: nabla.jit(as_dict), (rng.normal(size=3),)),
    ("vmap(grad) parallel", lambda: nabla.vmap(nabla.grad(scalar_fn), in_axes=(0, None),
                                               target="parallel"), (np.linspace(0, 1, 5), 2)),
]


def jac_target(x):
    return np.sin(x) * x


@pytest.mark.parametrize("name,make,args", CASES, ids=[c[0] for c in CASES])
def test_fast_path_returns_what_the_slow_path_returns(strict, slow_calls, name, make, args):
    if args is None:  # jacfwd of a user function (np.sin has no source)
        make, args = (lambda: nabla.jacfwd(jac_target)), (rng.normal(size=3),)
    f = make()
    first = f(*args)  # the slow path (a vmap's own, then its version's), which sets up
    slow = slow_calls["n"]  # the fast one
    assert slow >= 1
    for _ in range(2):
        same(f(*args), first)
    assert slow_calls["n"] == slow, "a call with arguments seen before took the slow path"
    same(make()(*args), first)  # and a new Function (the slow path again) agrees


def test_new_signatures_go_through_dispatch(strict, slow_calls):
    g = nabla.grad(sumsq)
    x = np.linspace(0.1, 1.0, 4)
    variants = [x, x.astype(np.float32), x.reshape(2, 2), np.float64(0.3), 0.3,
                np.asfortranarray(x.reshape(2, 2)), x[::2]]
    for i, v in enumerate(variants):
        got = g(v)
        want = np.sin(v) + v * np.cos(v)
        assert np.asarray(got).dtype == np.asarray(v).dtype
        assert np.shape(got) == np.shape(v) and type(got) is type(v)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # the Fortran-ordered and strided arrays share a signature with the others (Numba
    # compiles its own specializations): new dtypes, ranks and kinds were dispatched
    assert slow_calls["n"] == 5
    for v in variants:
        g(v)
    assert slow_calls["n"] == 5


def test_containers_and_lists_always_take_the_slow_path(strict, slow_calls):
    g = nabla.grad(tree_fn)
    params = (np.ones(3), {"b": 2.0})
    for _ in range(3):
        gx, gd = g(params)
        np.testing.assert_allclose(gx, 2 * np.ones(3))
        assert gd == {"b": 1.0}
    assert slow_calls["n"] >= 3


def tree_fn(p):
    return np.sum(p[0] * p[0]) + p[1]["b"]


def test_source_shows_what_the_last_fast_call_ran(strict):
    g = nabla.grad(sumsq)
    x = np.linspace(0.1, 1.0, 4)
    g(x), g(x.astype(np.float32))
    g(x)  # fast
    assert "for float64 arguments" in g.source
    g(x.astype(np.float32))  # fast
    assert "for float32 arguments" in g.source


def product(x, y):
    return np.sum(x * y)


def test_errors_on_the_fast_path_are_the_slow_paths(strict):
    g = nabla.grad(product)
    ones = np.ones(2)
    np.testing.assert_allclose(g(ones, ones), ones)
    np.testing.assert_allclose(g(ones, ones), ones)  # fast from here on
    with pytest.raises(ValueError) as fast:
        g(ones, np.ones(3))  # the same (dtype, ndim): the fast path's call fails
    with pytest.raises(ValueError) as slow:
        nabla.grad(product)(ones, np.ones(3))
    assert fast.value.__notes__ == slow.value.__notes__
    assert "product" in fast.value.__notes__[0]


def test_division_by_zero_on_the_fast_path_is_numpys(strict):
    g = nabla.grad(inverse)
    assert g(2.0) == -0.25
    assert g(2.0) == -0.25  # fast from here on
    assert g(0.0) == -np.inf  # NumPy's error model, as the slow path's


def test_vmap_fast_path_checks_batch_sizes(strict):
    v = nabla.vmap(scalar_fn, in_axes=(0, 0))
    x, n = np.linspace(0, 1, 4), np.arange(4)
    want = v(x, n)
    np.testing.assert_allclose(v(x, n), want)
    with pytest.raises(nabla.TransformInputError, match="mismatched batch sizes"):
        v(x, np.arange(3))
    np.testing.assert_allclose(v(x, n), want)


def test_numba_off_takes_the_slow_path(strict, slow_calls, monkeypatch):
    g = nabla.grad(sumsq)
    x = np.linspace(0.1, 1.0, 4)
    want = g(x)
    g(x)
    assert slow_calls["n"] == 1
    monkeypatch.setattr(nabla.config, "jit", False)
    np.testing.assert_allclose(g(x), want)
    assert slow_calls["n"] == 2


def test_free_values_are_read_at_every_fast_call(strict):
    global SCALE
    g = nabla.grad(scaled)
    x = np.linspace(0.1, 1.0, 3)
    SCALE = 2.0
    np.testing.assert_allclose(g(x), 2.0 * np.cos(x))
    np.testing.assert_allclose(g(x), 2.0 * np.cos(x))
    SCALE = -1.5
    np.testing.assert_allclose(g(x), -1.5 * np.cos(x))


SCALE = 1.0


def scaled(x):
    return SCALE * np.sum(np.sin(x))
