"""vmap: every in_axes / out_axes form, each rule family, loops and branches in both forms,
the compositions with the derivative transforms, and the targets — each checked against a
Python loop over the batch (and derivatives against finite differences), with Numba on
and off."""

import math

import numpy as np
import pytest
from cuda_cases import oscillator
from fd import numerical_jacobian as _numerical_jacobian

import nabla
from nabla import TransformInputError, TransformOutputError

RNG = np.random.default_rng(7)


def numerical_jacobian(f, x):
    return _numerical_jacobian(f, [x])


def loop_over(f, args, in_axes, size=None):
    """The reference: ``f`` on each example, results stacked on axis 0."""
    if size is None:
        size = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = []
    for b in range(size):
        ex = [np.take(a, b, axis=ax) if ax is not None else a for a, ax in zip(args, in_axes)]
        outs.append(f(*ex))
    if isinstance(outs[0], tuple):
        return tuple(np.stack([o[k] for o in outs]) for k in range(len(outs[0])))
    return np.stack(outs)


def close(a, b, tol=1e-10):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            close(x, y, tol)
        return
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=tol, atol=tol)


# -- rule families ------------------------------------------------------------------------
def elementwise(x, y):
    return np.exp(-x) * np.sin(y) + np.tanh(x * y) - np.sqrt(x * x + 1.0) / (y * y + 2.0)


def math_scalars(x, y):
    return math.sin(x) * math.exp(y) + abs(x) - x ** 2 / (1.0 + y * y)


def comparisons(x, y):
    return np.where(x > y, x, y * 2.0) + np.maximum(x, 0.5) - np.minimum(y, x)


def reductions(x, y):
    return np.sum(x * y) + np.mean(np.sin(x)) + np.sum(x, axis=0)[1] + np.sum(x * x, axis=-1)


def indexing(x, y):
    return x[0] * y[1:4] + x[1:3] - x[..., 2][1] * y[0]


def constructors(x, y):
    z = np.zeros_like(x)
    z[1] = 3.0
    return z * x + np.ones_like(x) * y


def matmul(x, W):
    return np.tanh(W @ x)


def dot(x, y):
    return np.dot(x, y) * x


def writes(x, y):
    out = np.zeros(3)
    for i in range(3):
        out[i] = x[i] * y[i]
    return out


FAMILIES = [
    # function, argument shapes per example, in_axes
    (elementwise, [(3,), (3,)], (0, 0)),
    (elementwise, [(3,), (3,)], (0, None)),
    (elementwise, [(), (4,)], (0, None)),
    (math_scalars, [(), ()], (0, 0)),
    (math_scalars, [(), ()], (None, 0)),
    (comparisons, [(4,), (4,)], (0, None)),
    (reductions, [(3, 4), (3, 4)], (0, None)),
    (reductions, [(3, 4), (3, 4)], (0, 0)),
    (indexing, [(4, 3), (4,)], (0, None)),
    (indexing, [(4, 3), (4,)], (None, 0)),
    (constructors, [(4,), (4,)], (0, None)),
    (matmul, [(3,), (2, 3)], (0, None)),
    (matmul, [(3,), (2, 3)], (None, 0)),
    (dot, [(3,), (3,)], (0, 0)),
    (writes, [(3,), (3,)], (0, None)),
]


def _args(shapes, in_axes, size=5):
    return [RNG.normal(size=((size,) + s) if ax is not None else s) + 0.1
            for s, ax in zip(shapes, in_axes)]


@pytest.mark.parametrize("case", range(len(FAMILIES)))
def test_rule_families_match_a_loop(case, jit_mode):
    f, shapes, in_axes = FAMILIES[case]
    args = _args(shapes, in_axes)
    got = nabla.vmap(f, in_axes=in_axes)(*args)
    close(got, loop_over(f, args, in_axes))


def test_forms_chosen_and_shown():
    v = nabla.vmap(elementwise, in_axes=(0, None))
    v(*_args([(3,), (3,)], (0, None)))
    # the ranks of the arguments tell that the operands line up as they are
    assert "the vector form" in v.source and "batch_lift" not in v.source
    assert "np.exp(-x) * np.sin(y)" in v.source
    # a scalar per example meets a vector: a batch axis of its own, then ones
    v(*_args([(), (3,)], (0, None)))
    assert "np.tanh(batch_lift(x, y) * y)" in v.source
    w = nabla.vmap(writes, in_axes=(0, None))
    w(*_args([(3,), (3,)], (0, None)))
    assert "the loop form (a batched value written into an array at line" in w.source
    assert "def writes(x, y):" in w.source  # the function of one example, called per example


# -- loops and branches -----------------------------------------------------------------------
def branchy(x, y):
    if x > y:
        z = np.sin(x) * y
    else:
        z = x * x
    return z * x


def unbatched_branch(x, flag):
    if flag > 0:
        y = x * 2.0
    else:
        y = -x
    while flag < 3:
        flag = flag + 1
        y = y + 1.0
    return y


def batched_range(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * i
    return s


def test_loop_with_unbatched_range_is_vectorized(jit_mode):
    k = np.linspace(0.5, 2.0, 7)
    v = nabla.vmap(oscillator, in_axes=(0, None, None))
    close(v(k, 1.0, 50), loop_over(oscillator, (k, 1.0, 50), (0, None, None)))
    assert "the vector form" in v.source
    # the loop-carried x and v start unbatched and become batched: broadcast on entry
    assert "x = batch_broadcast(x0, size)" in v.source


def test_branch_on_batched_value_takes_the_loop_form(jit_mode):
    x, y = RNG.normal(size=6), RNG.normal(size=6)
    v = nabla.vmap(branchy)
    close(v(x, y), loop_over(branchy, (x, y), (0, 0)))
    assert "the loop form (a branch on a batched value" in v.source


def test_branch_on_unbatched_value_stays_vectorized(jit_mode):
    x = RNG.normal(size=(4, 3))
    v = nabla.vmap(unbatched_branch, in_axes=(0, None))
    for flag in (-1, 1):
        close(v(x, flag), loop_over(unbatched_branch, (x, flag), (0, None)))
    assert "the vector form" in v.source


def test_batched_trip_count_takes_the_loop_form(jit_mode):
    x = RNG.normal(size=4)
    n = np.array([0, 1, 3, 5])
    v = nabla.vmap(batched_range)
    close(v(x, n), loop_over(batched_range, (x, n), (0, 0)))
    assert "the loop form (a loop over a batched range" in v.source


# -- in_axes and out_axes ---------------------------------------------------------------------
def two(x, y):
    return x * y, np.sum(x) + y[0]


def test_in_axes_list_at_top_level_and_negative_axes(jit_mode):
    x, y = RNG.normal(size=(3, 5)), RNG.normal(size=(5, 3))
    got = nabla.vmap(two, in_axes=[1, -2])(x, y)
    close(got, loop_over(two, (x, y), (1, 0)))


def test_out_axes_per_output_and_negative(jit_mode):
    x, y = RNG.normal(size=(5, 3)), RNG.normal(size=3)
    prod, s = nabla.vmap(two, in_axes=(0, None), out_axes=(-1, 0))(x, y)
    ref = loop_over(two, (x, y), (0, None))
    close(prod, ref[0].T)
    close(s, ref[1])
    prod1, _ = nabla.vmap(two, in_axes=(0, None), out_axes=[1, 0])(x, y)
    close(prod1, ref[0].T)


def test_out_axes_none_for_an_unbatched_output(jit_mode):
    def f(x, y):
        return x * 2.0, y + 1.0
    x, y = RNG.normal(size=(4, 2)), RNG.normal(size=2)
    a, b = nabla.vmap(f, in_axes=(0, None), out_axes=(0, None))(x, y)
    close(a, 2.0 * x)
    close(b, y + 1.0)
    # an unbatched output with an axis is repeated over the batch
    a, b = nabla.vmap(f, in_axes=(0, None))(x, y)
    close(b, np.broadcast_to(y + 1.0, (4, 2)))


def test_out_axes_none_for_a_batched_output_is_refused():
    def f(x):
        return x * 2.0
    with pytest.raises(TransformOutputError, match="out_axes=None"):
        nabla.vmap(f, out_axes=None)(np.ones(3))


def dict_arg(p, x):
    return np.tanh(p["w"] * x + p["b"])


def test_dict_argument_with_a_dict_of_axes(jit_mode):
    p = {"w": RNG.normal(size=(4, 3)), "b": RNG.normal(size=3)}
    x = RNG.normal(size=3)
    got = nabla.vmap(dict_arg, in_axes=({"w": 0, "b": None}, None))(p, x)
    ref = np.stack([dict_arg({"w": p["w"][i], "b": p["b"]}, x) for i in range(4)])
    close(got, ref)


def tuple_arg(pair, z):
    a, b = pair
    return a * b + z


def test_bare_zero_for_a_tuple_argument(jit_mode):
    a, b = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))
    got = nabla.vmap(tuple_arg, in_axes=(0, None))((a, b), 1.5)
    close(got, a * b + 1.5)


def dict_out(x):
    return {"double": 2.0 * x, "sum": np.sum(x)}


def test_dict_output_with_a_dict_of_out_axes(jit_mode):
    x = RNG.normal(size=(3, 4))
    got = nabla.vmap(dict_out, out_axes={"double": 1, "sum": 0})(x)
    assert sorted(got) == ["double", "sum"]
    close(got["double"], 2.0 * x.T)
    close(got["sum"], x.sum(axis=1))


def test_axis_size_when_nothing_is_batched(jit_mode):
    def f(y):
        return y * 3.0
    got = nabla.vmap(f, in_axes=None, axis_size=4)(np.arange(2.0))
    close(got, np.tile(np.arange(2.0) * 3.0, (4, 1)))


@pytest.mark.parametrize("call, match", [
    (lambda: nabla.vmap(two)(np.ones((3, 2)), np.ones((4, 2))),
     "mismatched batch sizes: argument 0 .* has 3 .* argument 1 has 4"),
    (lambda: nabla.vmap(two, in_axes=(0,))(np.ones(3), np.ones(3)), "has 1 entries"),
    (lambda: nabla.vmap(two, in_axes=(2, 0))(np.ones((3, 2)), np.ones(3)),
     "in_axes 2 for argument 0 .* which has 2 dimensions"),
    (lambda: nabla.vmap(two, in_axes=(0, 0))(np.ones(3), 2.0), "argument 1 .* is a scalar"),
    (lambda: nabla.vmap(two, in_axes=None)(np.ones(3), np.ones(3)), "no argument is batched"),
    (lambda: nabla.vmap(tuple_arg, in_axes=((0, 0, 0), None))((np.ones(3), np.ones(3)), 1.0),
     "does not fit argument 0"),
    (lambda: nabla.vmap(dict_arg, in_axes=({"w": 0}, None))({"w": np.ones(3), "b": 1.0}, 1.0),
     "does not fit argument 0"),
    (lambda: nabla.vmap(two, in_axes="x")(np.ones(3), np.ones(3)), "in_axes must be"),
    (lambda: nabla.vmap(two, axis_size=4)(np.ones(3), np.ones(3)), "axis_size=4"),
    (lambda: nabla.vmap(two, target="gpu"), "target must be"),
])
def test_malformed_axes_and_sizes_are_refused(call, match):
    with pytest.raises(TransformInputError, match=match):
        call()


# -- composition ------------------------------------------------------------------------------
def test_per_example_gradients(jit_mode):
    k = np.linspace(0.5, 2.0, 6)
    g = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    got = g(k, 1.0, 50)
    ref = [numerical_jacobian(lambda kk: oscillator(kk, 1.0, 50), ki) for ki in k]
    close(got, np.array(ref).reshape(-1), tol=1e-6)
    close(got, loop_over(nabla.grad(oscillator), (k, 1.0, 50), (0, None, None)))


def test_grad_of_a_vmapped_function(jit_mode):
    def loss(x, y):
        return np.sum(nabla.vmap(branchy, in_axes=(0, None))(x, y) ** 2)
    x = RNG.normal(size=5)
    g = nabla.grad(loss)(x, 0.3)
    close(g, numerical_jacobian(lambda x: loss(x, 0.3), x), tol=1e-6)
    def total(x):
        return np.sum(nabla.vmap(elementwise)(x, x))
    x2 = RNG.normal(size=(3, 2))
    close(nabla.grad(total)(x2), numerical_jacobian(
        lambda x: np.sum(loop_over(elementwise, (x, x), (0, 0))), x2), tol=1e-6)


def test_vmap_of_vmap(jit_mode):
    x = RNG.normal(size=(3, 4, 2))
    y = RNG.normal(size=2)
    vv = nabla.vmap(nabla.vmap(elementwise, in_axes=(0, None)), in_axes=(0, None))
    close(vv(x, y), elementwise(x, y))
    inner_axis = nabla.vmap(nabla.vmap(two, in_axes=(0, None)), in_axes=(1, None))
    got = inner_axis(x, y)
    ref = loop_over(lambda xb, y: loop_over(two, (xb, y), (0, None)), (x, y), (1, None))
    close(got, ref)


@pytest.mark.parametrize("transform", [nabla.jacfwd, nabla.jacrev])
def test_jacobians_of_vmapped_functions(transform, jit_mode):
    x = RNG.normal(size=(3, 2))
    f = nabla.vmap(elementwise, in_axes=(0, None))
    y = RNG.normal(size=2)
    got = transform(f)(x, y)
    ref = numerical_jacobian(lambda x: loop_over(elementwise, (x, y), (0, None)), x)
    close(got, ref.reshape(got.shape), tol=1e-6)
    gb = transform(nabla.vmap(branchy))(RNG.normal(size=4), RNG.normal(size=4))
    assert gb.shape == (4, 4)


def test_vmap_of_jacfwd_and_jvp_like(jit_mode):
    def f(x):
        return np.sin(x) * x[0]
    x = RNG.normal(size=(4, 3))
    got = nabla.vmap(nabla.jacfwd(f))(x)
    ref = np.stack([numerical_jacobian(f, xi) for xi in x])
    close(got, ref, tol=1e-6)


def foo(x):
    return nabla.sum(nabla.sin(x))


def test_readme_example_shape_dtype_and_values():
    foo_hessian = nabla.jacfwd(nabla.jacrev(nabla.vmap(foo)))
    x = nabla.randn((2, 3), nabla.float32)
    h = foo_hessian(x)
    assert h.shape == (2, 2, 3, 2, 3)
    assert h.dtype == np.float32
    x64 = x.astype(np.float64)
    h64 = foo_hessian(x64)
    jac = nabla.jacrev(nabla.vmap(foo))
    ref = numerical_jacobian(jac, x64)
    np.testing.assert_allclose(h64, ref.reshape(h64.shape), atol=1e-6)
    np.testing.assert_allclose(h, h64, rtol=1e-5, atol=1e-6)


# -- targets ----------------------------------------------------------------------------------
def test_parallel_target_matches_cpu_exactly(jit_mode):
    k = np.linspace(0.5, 2.0, 64)
    cpu = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))(k, 1.0, 40)
    par = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="parallel")
    got = par(k, 1.0, 40)
    np.testing.assert_array_equal(got, cpu)
    assert "prange(1, size)" in par.source
    x = RNG.normal(size=(5, 3))
    p2 = nabla.vmap(two, in_axes=(0, None), out_axes=(1, None), target="parallel")
    with pytest.raises(TransformOutputError):
        p2(x, np.ones(3))
    p3 = nabla.vmap(two, in_axes=(0, None), target="parallel")(x, np.ones(3))
    close(p3, nabla.vmap(two, in_axes=(0, None))(x, np.ones(3)), tol=0)


def test_grad_of_a_parallel_vmap_differentiates_its_cpu_form(jit_mode):
    v = nabla.vmap(branchy, in_axes=(0, None), target="parallel")

    def total(x):
        return np.sum(v(x, 0.2))
    x = RNG.normal(size=5)
    ref = numerical_jacobian(lambda x: np.sum(loop_over(branchy, (x, 0.2), (0, None))), x)
    close(nabla.grad(total)(x), ref, tol=1e-6)


def test_float32_stays_float32(jit_mode):
    x = RNG.normal(size=(4, 3)).astype(np.float32)
    out = nabla.vmap(elementwise, in_axes=(0, None))(x, np.ones(3, np.float32))
    assert out.dtype == np.float32


def mlp(params, x, y):
    W1, b1, W2 = params
    h = np.tanh(W1 @ x + b1)
    return (np.dot(W2, h) - y) ** 2


def test_per_example_gradients_of_a_pytree(jit_mode):
    params = (RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=4))
    X, Y = RNG.normal(size=(6, 3)), RNG.normal(size=6)
    got = nabla.vmap(nabla.grad(mlp), in_axes=(None, 0, 0))(params, X, Y)
    assert isinstance(got, tuple) and [g.shape for g in got] == [(6, 4, 3), (6, 4), (6, 4)]
    for b in range(6):
        want = nabla.grad(mlp)(params, X[b], Y[b])
        for g, w in zip(got, want):
            close(g[b], w)
    # the loss itself: the matrix products line up in the vector form
    v = nabla.vmap(mlp, in_axes=(None, 0, 0))
    close(v(params, X, Y), loop_over(lambda x, y: mlp(params, x, y), (X, Y), (0, 0)))
    W1 = params[0]
    g_w1 = numerical_jacobian(lambda w: mlp((w, params[1], params[2]), X[2], Y[2]), W1)
    close(got[0][2], g_w1, tol=1e-6)


def _softplus_norm(x, s):
    y = np.log1p(np.exp(x * s))
    return np.sum(y * y) + 0.5 * s * s


def _mean_square(x):
    return np.mean(x * x)


def _per_example_vector(x):
    return np.sin(x) * 2.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_per_example_gradients_of_whole_reductions_run_in_the_vector_form(jit_mode, dtype):
    # seed() of a batch of outputs, the spread back of a whole sum or mean: every example
    # at once, no loop over examples
    x = RNG.normal(size=(5, 3)).astype(dtype)
    g = nabla.vmap(nabla.grad(_softplus_norm, argnums=(0, 1), mode="reverse"),
                   in_axes=(0, None))
    got = g(x, dtype(0.7))
    assert g._last.meta.form == "vector" and "batch_seed(" in g.source
    want = loop_over(nabla.grad(_softplus_norm, argnums=(0, 1), mode="reverse"),
                     (x, dtype(0.7)), (0, None))
    tol = 1e-10 if dtype == np.float64 else 1e-5
    close(got, want, tol)
    assert got[0].dtype == dtype
    assert np.allclose(got[0][2], numerical_jacobian(
        lambda v: _softplus_norm(v, 0.7), x[2].astype(np.float64)), rtol=1e-3 if tol > 1e-6
        else 1e-6)
    m = nabla.vmap(nabla.grad(_mean_square, mode="reverse"))  # (the loop form: the count)
    close(m(x), loop_over(nabla.grad(_mean_square, mode="reverse"), (x,), (0,)), tol)


def test_per_example_gradients_of_a_non_scalar_output_are_refused(jit_mode):
    g = nabla.vmap(nabla.grad(_per_example_vector, mode="reverse"))
    with pytest.raises(TransformOutputError, match="scalar float output"):
        g(np.ones((4, 3)))


def _linear_loss(w, x, y):
    prediction = np.tanh(np.dot(w, x))
    return (prediction - y) ** 2


def _matmul_loss(w, x, y):
    return (np.tanh(w @ x) - y) ** 2


@pytest.mark.parametrize("loss", [_linear_loss, _matmul_loss])
def test_per_example_gradients_of_a_dot_product_run_in_the_vector_form(jit_mode, loss):
    # the cotangent of w . x for each example: g times x, lined up (no loop over examples)
    w, X, Y = RNG.normal(size=3), RNG.normal(size=(6, 3)), RNG.normal(size=6)
    g = nabla.vmap(nabla.grad(loss, argnums=(0, 1), mode="reverse"), in_axes=(None, 0, 0))
    got = g(w, X, Y)
    assert g._last.meta.form == "vector"
    close(got, loop_over(nabla.grad(loss, argnums=(0, 1), mode="reverse"), (w, X, Y),
                         (None, 0, 0)))
    assert np.allclose(got[0][4], numerical_jacobian(lambda v: loss(v, X[4], Y[4]), w),
                       rtol=1e-6)


def positives(x):
    return np.sum(x) * x[x > 0]


@pytest.mark.parametrize("target", ["cpu", "parallel"])
def test_examples_whose_values_differ_in_shape_raise(jit_mode, target):
    """The first example's value shapes the batch; a later (1,) would be broadcast into its
    (2,) row (Python), or dropped with its exception inside a parallel loop (Numba): each
    example's shape is checked, and the error says which example."""
    xs = np.array([[1.0, 2.0, -1.0], [-1.0, 3.0, -2.0]])
    with pytest.raises(ValueError, match="another shape than the first example's") as caught:
        nabla.vmap(positives, target=target)(xs)
    assert caught.value.args[1] == 1


@pytest.mark.parametrize("target", ["cpu", "parallel"])
def test_examples_of_one_shape_are_batched(jit_mode, target):
    xs = np.array([[1.0, 2.0, -1.0], [-1.0, 3.0, 2.0]])
    np.testing.assert_allclose(nabla.vmap(positives, target=target)(xs),
                               np.stack([positives(x) for x in xs]))


def squeezed(x, n):
    for i in range(n):
        x = np.sum(x * x, keepdims=True) * x[:1]
    return np.sum(x)


def test_an_error_in_a_later_example_of_a_parallel_loop_is_raised(jit_mode):
    """Example 2's gradient raises (its loop's x changes shape); in a prange loop Numba
    drops an exception raised on a worker thread and leaves the row unwritten: the
    examples not done run again after the loop, where the error is raised."""
    xs = np.array([[0.5, -0.3, 0.8], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]])
    with pytest.raises(ValueError, match="changed shape between iterations"):
        nabla.vmap(nabla.grad(squeezed), target="parallel")(xs, np.array([1, 1, 2]))
    ns = np.array([1, 1, 1])
    expected = np.stack([nabla.grad(squeezed)(x, 1) for x in xs])
    np.testing.assert_allclose(nabla.vmap(nabla.grad(squeezed), target="parallel")(xs, ns),
                               expected)
