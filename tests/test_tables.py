"""Tables before a loop (nabla/transforms/tables.py): ``math.f(a[i, j])`` of the counters
of inner loops is read from ``np.f(a[:n, :m])``, made once before the loop whose
iterations all compute it alike, in the primal and the adjoint sweep. Checked against
central differences and the user's function (Numba on and off), and never where it could
change a value: an array changed in the loop, a counter assigned in it, a function with a
domain (math.log), a range that does not count from 0."""

import math

import numpy as np
import pytest
from fd import numerical_grad

import nabla

TABLE = "exp_q_table = np.exp(q[:k, :d])"


def quad_form(q, mu, x):
    """The GMM's shape: per point, per component, a scale exp(q) of each coordinate."""
    n, d = x.shape
    k = q.shape[0]
    s = 0.0
    for ix in range(n):
        for ik in range(k):
            for j in range(d):
                v = math.exp(q[ik, j]) * (x[ix, j] - mu[ik, j])
                s = s + v * v
    return s


def one_counter(w, x):
    # the inner counter alone: a table of one dimension
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + math.tanh(w[j]) * x[i, j]
    return s


def branch_inside(w, x):
    # read on one path only: the table (which cannot raise) is made all the same
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] > 0.0:
                s = s + math.sin(w[j]) * x[i, j]
            else:
                s = s - x[i, j]
    return s


def written_in_loop(w, x):
    # w changes inside the loop: no table
    w = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + math.exp(w[j]) * x[i, j]
        w[0] = w[0] + 0.5 * x[i, 0]
    return s


def counter_assigned(w, x):
    # j is assigned besides the loop header (w[j] reads past the range): no table
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1] - 1):
            j = j + 1
            s = s + math.exp(w[j]) * x[i, j]
    return s


def has_domain(w, x):
    # math.log raises for w <= 0 in Python: computed where the loop computes it
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + math.log(w[j]) * x[i, j]
    return s


def offset_range(w, x):
    # the counter starts at 1: no table (its indices would not be the table's)
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(1, x.shape[1]):
            s = s + math.exp(w[j]) * x[i, j]
    return s


def _args(rng, name):
    if name == "quad_form":
        return (rng.normal(size=(3, 4)) * 0.3, rng.normal(size=(3, 4)), rng.normal(size=(5, 4)))
    w = rng.uniform(0.5, 1.5, size=4)
    return (w, rng.normal(size=(3, 4)))


CASES = [(quad_form, True), (one_counter, True), (branch_inside, True),
         (written_in_loop, False), (counter_assigned, False), (has_domain, False),
         (offset_range, False)]


@pytest.mark.parametrize("fun,tabulated", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_and_values_are_right(fun, tabulated, jit_mode, rng):
    args = _args(rng, fun.__name__)
    argnums = tuple(range(len(args) - 1))
    got = nabla.grad(fun, argnums=argnums)(*args)
    for k, g in zip(argnums, got):
        np.testing.assert_allclose(g, numerical_grad(fun, list(args), argnum=k),
                                   rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(nabla.jit(fun)(*args), fun(*args), rtol=1e-12)
    _, dot = nabla.jvp(fun, args, tuple(np.ones_like(a) for a in args))
    eps = 1e-6
    fd = (fun(*(a + eps for a in args)) - fun(*(a - eps for a in args))) / (2 * eps)
    np.testing.assert_allclose(dot, fd, rtol=1e-6)
    for made in (nabla.jit(fun), nabla.grad(fun, argnums=argnums)):
        assert ("_table = np." in nabla.source(made, *args)) is tabulated


def test_the_primal_and_the_adjoint_each_read_a_table(rng):
    args = _args(rng, "quad_form")
    text = nabla.source(nabla.value_and_grad(quad_form, argnums=(0, 1)), *args)
    primal, adjoint = text.split("# adjoint sweep")
    # made before the loop over points, read in the innermost loop
    assert "computed once, before it\n    " + TABLE + "\n    for ix in range" in primal
    assert "v = exp_q_table[ik, j] * (x[ix, j] - mu[ik, j])" in primal
    # the adjoint reads the primal's table (q and k, d are assigned once, q never changed)
    assert "t2 = exp_q_table[ik, j]" in adjoint and "math.exp" not in _code(adjoint)
    assert "np.exp" not in adjoint


def test_the_gradient_alone_makes_its_table_in_the_adjoint(rng):
    text = nabla.source(nabla.grad(quad_form, argnums=(0, 1)), *_args(rng, "quad_form"))
    assert text.count(TABLE) == 1 and "math.exp" not in _code(text)


def _code(text):
    """``text`` without its comments (which quote the user's lines)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_a_loop_that_never_runs(jit_mode, rng):
    # no points: the tables are made and never read; q's rows may be fewer than k says
    q, mu = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x = np.empty((0, 4))
    assert nabla.jit(quad_form)(q, mu, x) == 0.0
    gq, gmu = nabla.grad(quad_form, argnums=(0, 1))(q, mu, x)
    assert not gq.any() and not gmu.any()


def test_float32_keeps_its_dtype():
    # np.exp of a float32 slice is float32, as Numba's math.exp of one element is
    args = tuple(a.astype(np.float32) for a in _args(np.random.default_rng(1), "quad_form"))
    old = nabla.config.jit
    nabla.config.jit = "strict"
    try:
        g = nabla.grad(quad_form, argnums=(0, 1))(*args)
    finally:
        nabla.config.jit = old
    assert all(x.dtype == np.float32 for x in g)
    g64 = nabla.grad(quad_form, argnums=(0, 1))(*(a.astype(np.float64) for a in args))
    for a, b in zip(g, g64):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)


def test_vmap_of_the_gradient(jit_mode, rng):
    # batched over points: the vector form or the loop form reads the tables as they are
    q, mu = rng.normal(size=(2, 3)) * 0.3, rng.normal(size=(2, 3))
    xs = rng.normal(size=(4, 5, 3))
    got = nabla.vmap(nabla.grad(quad_form, argnums=0), in_axes=(None, None, 0))(q, mu, xs)
    for b in range(xs.shape[0]):
        np.testing.assert_allclose(got[b], numerical_grad(quad_form, [q, mu, xs[b]]),
                                   rtol=1e-6, atol=1e-8)


def test_the_hessian(rng):
    w, x = rng.uniform(0.5, 1.5, size=3), rng.normal(size=(2, 3))
    h = nabla.hessian(one_counter)(w, x)
    want = np.array([numerical_grad(lambda v, i=i: nabla.grad(one_counter)(v, x)[i], [w])
                     for i in range(3)])
    np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-7)


def user_named_like_a_table(w, x):
    lookup_table_2 = w * 2.0
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + math.exp(w[j]) * x[i, j] + lookup_table_2[j]
    return s


def test_a_users_name_spelled_like_a_table_keeps_its_spelling(rng):
    args = _args(rng, "x")
    text = nabla.source(nabla.jit(user_named_like_a_table), *args)
    assert "lookup_table_2[j]" in text and "exp_w_table = np.exp(w[:" in text
    assert nabla.jit(user_named_like_a_table)(*args) == pytest.approx(
        user_named_like_a_table(*args), rel=1e-12)
