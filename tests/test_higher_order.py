"""Higher-order and composed transforms: jacfwd, jacrev, hessian, and every
transform applied to the generated source of another (grad(grad(f)),
jvp(grad(f)), jacfwd(jacrev(f)), ...), on functions with loops, branches and
calls, checked against central differences of the analytic lower-order
derivative, with Numba off and on. Shapes are JAX's, written out."""

import numpy as np
import pytest
from fd import assert_close, numerical_jacobian

import nabla

X3 = np.array([0.3, -0.5, 1.2])
Y3 = np.array([0.7, 0.1, -0.4])


# -- functions ------------------------------------------------------------------------------
def scalar_fn(x):
    return x * x * np.sin(x)


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.1 * np.sin(x) * x
    return x


def branchy_sum(x):
    if x[0] > 0.0:
        y = np.sin(x) * x[1]
    else:
        y = np.cos(x) * x[2]
    return np.sum(y * y)


def _helper(a, b):
    return np.tanh(a * b) + a


def loop_with_call(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sum(_helper(x, x[i % 3]) ** 2) * 0.5
    return s


def vector_fn(x, y):
    return np.sin(x) * y + x[0]


def two_outputs(x):
    return np.sum(x * x), np.cos(x) * x[1]


def with_aux(x):
    return np.sum(np.exp(x)), x * 2.0


# -- Jacobians and their shapes ---------------------------------------------------------------
@pytest.mark.parametrize("jac", [nabla.jacfwd, nabla.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobians_match_finite_differences_with_jax_shapes(jac, jit_mode):
    J = jac(vector_fn)(X3, Y3)
    assert J.shape == (3, 3)
    assert_close(J, numerical_jacobian(vector_fn, [X3, Y3], 0))
    J0, J1 = jac(vector_fn, argnums=(0, 1))(X3, Y3)
    assert J0.shape == J1.shape == (3, 3)
    assert_close(J1, numerical_jacobian(vector_fn, [X3, Y3], 1))
    g = jac(branchy_sum)(X3)
    assert g.shape == (3,)
    assert_close(g, numerical_jacobian(branchy_sum, [X3], 0))
    if jit_mode:  # the rest compiles no differently; in Python only, for time
        return
    d = jac(scalar_fn)(0.7)
    assert np.shape(d) == ()
    assert_close(d, numerical_jacobian(scalar_fn, [0.7], 0))
    M = np.arange(6.0).reshape(2, 3) / 7.0
    JM = jac(lambda_free_matrix)(M)
    assert JM.shape == (2, 2, 3)
    assert_close(JM, numerical_jacobian(lambda_free_matrix, [M], 0))


def lambda_free_matrix(m):
    return np.sin(m) @ np.ones(3)


@pytest.mark.parametrize("jac", [nabla.jacfwd, nabla.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobians_of_tuple_outputs_nest_outputs_outside_arguments(jac, jit_mode):
    (a,), (b,) = jac(two_outputs, argnums=(0,))(X3)
    assert a.shape == (3,) and b.shape == (3, 3)
    assert_close(a, numerical_jacobian(lambda x: two_outputs(x)[0], [X3], 0))
    assert_close(b, numerical_jacobian(lambda x: two_outputs(x)[1], [X3], 0))
    a, b = jac(two_outputs)(X3)
    assert a.shape == (3,) and b.shape == (3, 3)


@pytest.mark.parametrize("jac", [nabla.jacfwd, nabla.jacrev, nabla.hessian],
                         ids=["jacfwd", "jacrev", "hessian"])
def test_has_aux_returns_the_auxiliary_value(jac, jit_mode):
    J, aux = jac(with_aux, has_aux=True)(X3)
    assert_close(aux, X3 * 2.0)
    expected = np.diag(np.exp(X3)) if jac is nabla.hessian else np.exp(X3)
    assert_close(J, expected)


def test_jacrev_with_has_aux_of_a_tuple_output_is_refused():
    with pytest.raises(nabla.NotDifferentiableError) as e:
        nabla.jacrev(tuple_and_aux, has_aux=True)(X3)
    assert "jacfwd" in e.value.hint


def tuple_and_aux(x):
    return (np.sin(x), x * x), x[0]


# -- composition ------------------------------------------------------------------------------
def _first(transform, fn, **kw):
    """The first derivative whose finite differences check the second."""
    return nabla.grad(fn, **kw) if transform in ("grad",) else nabla.jacrev(fn, **kw)


SECOND_ORDER = [
    # (name, composed function, arguments, first derivative it differentiates)
    ("grad(grad)", lambda: nabla.grad(nabla.grad(scalar_fn)), (0.7,),
     lambda: nabla.grad(scalar_fn)),
    ("grad(grad) loop", lambda: nabla.grad(nabla.grad(scalar_loop)), (0.7, 4),
     lambda: nabla.grad(scalar_loop)),
    ("jacfwd(grad) loop", lambda: nabla.jacfwd(nabla.grad(scalar_loop)), (0.7, 4),
     lambda: nabla.grad(scalar_loop)),
    ("jacrev(grad) branch", lambda: nabla.jacrev(nabla.grad(branchy_sum)), (X3,),
     lambda: nabla.grad(branchy_sum)),
    ("jacfwd(jacrev) branch", lambda: nabla.jacfwd(nabla.jacrev(branchy_sum)), (-X3,),
     lambda: nabla.grad(branchy_sum)),
    ("jacrev(jacrev) branch", lambda: nabla.jacrev(nabla.jacrev(branchy_sum)), (X3,),
     lambda: nabla.grad(branchy_sum)),
    ("jacfwd(jacfwd) branch", lambda: nabla.jacfwd(nabla.jacfwd(branchy_sum)), (X3,),
     lambda: nabla.grad(branchy_sum)),
    ("jacrev(jacfwd) branch", lambda: nabla.jacrev(nabla.jacfwd(branchy_sum)), (-X3,),
     lambda: nabla.grad(branchy_sum)),
    ("hessian loop+call", lambda: nabla.hessian(loop_with_call), (X3, 4),
     lambda: nabla.grad(loop_with_call)),
    ("jacfwd(jacrev) vector", lambda: nabla.jacfwd(nabla.jacrev(vector_fn)), (X3, Y3),
     lambda: nabla.jacrev(vector_fn)),
]


# Numba compiles nested transforms in seconds each: the composition matrix below runs every
# pair under Numba; these run under Numba for one case of each kind, the rest in Python
COMPILED = {"grad(grad) loop", "jacfwd(jacrev) branch", "hessian loop+call",
            "jacfwd(jacrev) vector"}
SECOND_ORDER_RUNS = [pytest.param(c, jit, id=f"{'numba' if jit else 'python'}-{c[0]}")
                     for c in SECOND_ORDER for jit in (False, "strict")
                     if not jit or c[0] in COMPILED]


@pytest.mark.parametrize("case, jit", SECOND_ORDER_RUNS)
def test_second_derivatives_match_finite_differences_of_the_first(case, jit, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", jit)
    _, composed, args, first = case
    got = composed()(*args)
    assert_close(got, numerical_jacobian(first(), list(args), 0), rtol=1e-5, atol=1e-6)


def test_hessian_vector_products_forward_over_reverse(jit_mode):
    v = np.array([1.0, 0.5, -0.25])
    for fn, args in ((branchy_sum, (X3,)), (loop_with_call, (X3, 4))):
        tangents = (v,) + tuple(0 for _ in args[1:])
        g, hv = nabla.jvp(nabla.grad(fn), args, tangents)
        assert_close(g, nabla.grad(fn)(*args))
        H = numerical_jacobian(nabla.grad(fn), list(args), 0)
        assert_close(hv, H @ v)


def test_third_order(jit_mode):
    got = nabla.grad(nabla.grad(nabla.grad(scalar_fn)))(0.7)
    assert_close(got, numerical_jacobian(nabla.grad(nabla.grad(scalar_fn)), [0.7], 0))


def rosenbrock_20(x, a, b):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + b * (x[i + 1] - x[i] ** 2) ** 2 + (a - x[i]) ** 2
    return s


def test_hessian_of_a_20_parameter_loop_matches_finite_differences_to_1e_6(jit_mode):
    x = np.linspace(-1.0, 1.2, 20)
    H = nabla.hessian(rosenbrock_20)(x, 1.0, 100.0)
    assert H.shape == (20, 20)
    expected = numerical_jacobian(nabla.grad(rosenbrock_20), [x, 1.0, 100.0], 0, eps=1e-5)
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-6 * np.abs(H).max())
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-9)


def test_the_hessian_source_is_forward_over_reverse_and_reads_as_python():
    text = nabla.hessian(branchy_sum).source
    assert "nabla.jacfwd(nabla.jacrev(branchy_sum))" in text
    defined = [line.split("(")[0][4:] for line in text.split("\n") if line.startswith("def ")]
    assert defined[0] == "branchy_sum_jacrev_jacfwd"
    assert "branchy_sum_jacrev_jvp" in defined
    compile(text, "<hessian>", "exec")


def reassigned_parameter(x, y):
    for i in range(3):
        y = y * x + 1.0
    return y


def test_a_parameter_not_differentiated_that_a_loop_makes_varied_starts_at_zero(jit_mode):
    assert_close(nabla.jacfwd(reassigned_parameter)(0.5, 2.0),
                 numerical_jacobian(reassigned_parameter, [0.5, 2.0], 0))
    assert_close(nabla.jacfwd(reassigned_parameter, argnums=1)(0.5, 2.0),
                 numerical_jacobian(reassigned_parameter, [0.5, 2.0], 1))


# -- transforms called inside a function being transformed ------------------------------------
SCALE = 1.5


def _model(x, y):
    return np.sin(x) * y * SCALE


def calls_jvp(x):
    y, y_dot = nabla.jvp(_model, (x, 2.0), (1.0, 0.0))
    return y_dot * y


def calls_grad(x):
    return nabla.grad(_model, argnums=1)(x, x * x) + x


_model_grad = nabla.grad(_model)


def calls_a_transformed_function(x):
    return _model_grad(x, 3.0) ** 2


def calls_jvp_in_a_loop(x, n):
    s = 0.0
    for i in range(n):
        y, y_dot = nabla.jvp(scalar_loop, (x * (i + 1), 3), (1.0, 0))
        s = s + y_dot * y
    return s


@pytest.mark.parametrize("fn, args", [(calls_jvp, (0.7,)), (calls_grad, (0.7,)),
                                      (calls_a_transformed_function, (0.7,)),
                                      (calls_jvp_in_a_loop, (0.4, 3))],
                         ids=["jvp", "grad", "module-level Function", "jvp in a loop"])
def test_transforms_of_functions_that_call_transforms(fn, args, jit_mode):
    expected = numerical_jacobian(fn, list(args), 0)
    assert_close(nabla.grad(fn)(*args), expected)  # grad of jvp, grad of grad
    out, back = nabla.vjp(fn, *args)  # vjp of jvp, vjp of grad
    assert_close(back(2.0)[0], 2.0 * expected)
    tangents = (1.0,) + tuple(0 for _ in args[1:])
    assert_close(nabla.jvp(fn, args, tangents)[1], expected)  # jvp of jvp, jvp of grad


def test_a_global_read_through_a_transform_called_inside_is_read_at_every_call(jit_mode):
    global SCALE
    g = nabla.grad(calls_jvp)
    first = g(0.7)
    old = SCALE
    try:
        SCALE = 3.0
        assert_close(g(0.7), 4.0 * first)
    finally:
        SCALE = old


def calls_vjp(x):
    out, back = nabla.vjp(_model, x, 2.0)
    return back(1.0)[0] * out


def test_vjp_called_inside_reads_its_forward_sweep_in_place(jit_mode):
    expected = numerical_jacobian(calls_vjp, [0.7], 0)
    assert_close(nabla.grad(calls_vjp)(0.7), expected)
    assert_close(nabla.jvp(calls_vjp, (0.7,), (1.0,))[1], expected)


# -- the composition matrix: every ordered pair of {grad, jvp, vjp, jacfwd, jacrev} ----------
def matrix_base(x):
    """Scalar in and out, so every first-order transform is f' and every pair f''."""
    s = x
    for i in range(3):
        if s > 0.5:
            s = s * np.sin(s) + 0.1 * x
        else:
            s = s + x * x * 0.3
    return s


def _as_jvp(f):
    def jvp_of(x):
        return nabla.jvp(f, (x,), (1.0,))[1]
    return jvp_of


def _as_vjp(f):
    def vjp_of(x):
        out, back = nabla.vjp(f, x)
        return back(1.0)[0]
    return vjp_of


FIRST = {"grad": nabla.grad, "jacfwd": nabla.jacfwd, "jacrev": nabla.jacrev,
         "jvp": _as_jvp, "vjp": _as_vjp}
PAIRS = [(outer, inner) for outer in FIRST for inner in FIRST]
_COMPOSED: dict = {}


def composed(*names):
    """FIRST[a](FIRST[b](...(matrix_base))), made once (so Numba compiles it once)."""
    if names not in _COMPOSED:
        f = matrix_base
        for name in reversed(names):
            f = FIRST[name](f)
        _COMPOSED[names] = f
    return _COMPOSED[names]


@pytest.mark.parametrize("outer, inner", PAIRS, ids=[f"{o}({i})" for o, i in PAIRS])
def test_every_ordered_pair_composes(outer, inner, jit_mode):
    for x in (0.9, 0.3):  # both branches
        expected = numerical_jacobian(nabla.grad(matrix_base), [x], 0)
        assert_close(composed(outer, inner)(x), expected, rtol=1e-6, atol=1e-8)


TRIPLES = [("grad", "grad", "grad"), ("jvp", "grad", "grad"), ("jacfwd", "jacrev", "grad"),
           ("jacfwd", "jacfwd", "jacrev"), ("grad", "vjp", "jvp")]
TRIPLE_RUNS = [pytest.param(t, jit, id=f"{'numba' if jit else 'python'}-{'('.join(t)}))")
               for t in TRIPLES for jit in (False, "strict")
               if not jit or t in (("grad", "grad", "grad"), ("jacfwd", "jacrev", "grad"))]


@pytest.mark.parametrize("names, jit", TRIPLE_RUNS)
def test_triples_used_in_practice(names, jit, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", jit)
    second = composed("grad", "grad")
    assert_close(composed(*names)(0.9), numerical_jacobian(second, [0.9], 0), rtol=1e-5,
                 atol=1e-7)


def test_vjp_with_has_aux_of_a_tuple_output_is_refused():
    with pytest.raises(nabla.NotDifferentiableError):
        nabla.vjp(tuple_and_aux, X3, has_aux=True)


def two_outputs_of_x(x, y):
    return (x * y, np.sin(x) * y)


def test_hessian_of_a_tuple_output(jit_mode):
    """Was refused at nabla's own code: "the tuple 'bars' is carried by this loop"."""
    x = np.array([0.3, -0.7])
    H = nabla.hessian(two_outputs_of_x)(x, 2.0)
    J = nabla.jacrev(two_outputs_of_x)
    for o in range(2):
        assert_close(H[o], numerical_jacobian(lambda v, o=o: J(v, 2.0)[o], [x], 0))
