"""nabla.custom_jvp, nabla.custom_vjp and nabla.checkpoint (JAX's semantics): every
transform uses the user's rule instead of differentiating the body, checked against
finite differences of the function (or against the rule itself, where the rule is
deliberately not the body's derivative), Numba on and off."""

import ctypes
import ctypes.util
from functools import partial

import numba
import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jacobian

import nabla

X = np.array([0.3, -0.7, 1.1, 2.0])
Y = np.array([1.5, 0.5, -0.4, 0.9])


# -- a custom_jvp: softplus with its derivative written out -------------------------------
@nabla.custom_jvp
def softplus(x):
    return np.log1p(np.exp(x))


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return softplus(x), x_dot / (1.0 + np.exp(-x))


def uses_softplus(x, y):
    return np.sum(softplus(x * y) * y)


# -- a custom_vjp: the same function, its reverse-mode rule written out -------------------
@nabla.custom_vjp
def softplus_v(x):
    return np.log1p(np.exp(x))


def softplus_v_fwd(x):
    return softplus_v(x), x


def softplus_v_bwd(x, g):
    return (g / (1.0 + np.exp(-x)),)


softplus_v.defvjp(softplus_v_fwd, softplus_v_bwd)


def uses_softplus_v(x, y):
    return np.sum(softplus_v(x * y) * y)


@pytest.mark.parametrize("f", [uses_softplus, uses_softplus_v], ids=["custom_jvp", "custom_vjp"])
def test_reverse_mode_uses_the_rule(f, jit_mode):
    for argnum in (0, 1):
        expected = numerical_grad(f, [X, Y], argnum)
        assert_close(nabla.grad(f, argnums=argnum)(X, Y), expected)
    value, (gx, gy) = nabla.value_and_grad(f, argnums=(0, 1))(X, Y)
    assert value == pytest.approx(f(X, Y))
    assert_close(gx, numerical_grad(f, [X, Y], 0))
    out, back = nabla.vjp(f, X, Y)
    bx, by = back(2.0)
    assert_close(bx, 2.0 * numerical_grad(f, [X, Y], 0))
    assert_close(by, 2.0 * numerical_grad(f, [X, Y], 1))
    assert_close(nabla.jacrev(softplus if f is uses_softplus else softplus_v)(X),
                 numerical_jacobian(softplus.fun, [X]))


def test_forward_mode_uses_a_jvp_rule(jit_mode):
    _, tangent = nabla.jvp(uses_softplus, (X, Y), (np.ones(4), np.zeros(4)))
    assert tangent == pytest.approx(np.sum(numerical_grad(uses_softplus, [X, Y], 0)))
    assert_close(nabla.jacfwd(softplus)(X), numerical_jacobian(softplus.fun, [X]))
    assert_close(nabla.grad(uses_softplus, mode="forward")(X, Y),
                 numerical_grad(uses_softplus, [X, Y], 0))


@pytest.mark.parametrize("f", [uses_softplus, uses_softplus_v], ids=["custom_jvp", "custom_vjp"])
def test_higher_orders_and_vmap_use_the_rule(f, jit_mode):
    def total(x):
        return f(x, Y)

    expected = numerical_jacobian(nabla.grad(total), [X])
    assert_close(nabla.hessian(total)(X), expected, rtol=1e-5, atol=1e-6)
    batch = np.stack([X, X + 0.5, -X])
    grads = nabla.vmap(nabla.grad(total))(batch)
    for row, g in zip(batch, grads):
        assert_close(g, numerical_grad(total, [row], 0))
    assert_close(nabla.vmap(total)(batch), [total(row) for row in batch], rtol=1e-12)


def test_parallel_vmap_of_a_gradient_uses_the_rule():
    def total(x):
        return uses_softplus_v(x, Y)

    batch = np.stack([X, X + 0.5, -X])
    grads = nabla.vmap(nabla.grad(total), target="parallel")(batch)
    for row, g in zip(batch, grads):
        assert_close(g, numerical_grad(total, [row], 0))


def test_a_custom_vjp_has_no_forward_mode_as_in_jax():
    with pytest.raises(nabla.NotDifferentiableError, match="custom_vjp") as e:
        nabla.jvp(uses_softplus_v, (X, Y), (X, Y))
    assert "test_custom.py" in str(e.value) and "softplus_v(x * y)" in str(e.value)


# -- rules that are not the body's derivative -------------------------------------------
@nabla.custom_vjp
def round_ste(x):
    return np.round(x)


def round_ste_fwd(x):
    return np.round(x), None


def round_ste_bwd(res, g):
    return (g,)  # straight through: the rounding's derivative taken as 1


round_ste.defvjp(round_ste_fwd, round_ste_bwd)


def quantized_loss(w):
    return np.sum(round_ste(w * 4.0) * w)


def test_a_straight_through_estimator_is_the_rule_not_the_body(jit_mode):
    w = np.array([0.3, -0.55, 0.8])
    # d/dw sum(q(4w) * w) with dq := 1: 4 w + q(4w)
    assert_close(nabla.grad(quantized_loss)(w), 4.0 * w + np.round(4.0 * w), rtol=1e-12)


@nabla.custom_jvp
def logsumexp(x):
    return np.log(np.sum(np.exp(x)))


@logsumexp.defjvp
def logsumexp_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    m = np.max(x)
    e = np.exp(x - m)
    return m + np.log(np.sum(e)), np.sum(e * x_dot) / np.sum(e)


@nabla.custom_vjp
def logsumexp_v(x):
    return np.log(np.sum(np.exp(x)))


def logsumexp_v_fwd(x):
    m = np.max(x)
    e = np.exp(x - m)
    return m + np.log(np.sum(e)), e / np.sum(e)


def logsumexp_v_bwd(softmax, g):
    return (g * softmax,)


logsumexp_v.defvjp(logsumexp_v_fwd, logsumexp_v_bwd)


@pytest.mark.parametrize("lse", [logsumexp, logsumexp_v], ids=["custom_jvp", "custom_vjp"])
def test_a_stable_logsumexp_rule_stays_finite_where_the_body_overflows(lse, jit_mode):
    def score(x):
        return lse(x * 1.0) * 2.0

    big = np.array([1000.0, 1001.0, 999.0])
    softmax = np.exp(big - 1001.0) / np.sum(np.exp(big - 1001.0))
    with np.errstate(over="ignore", invalid="ignore"):
        naive = nabla.grad(lambda_free_naive)(big)
    assert not np.all(np.isfinite(naive))  # the body's own derivative overflows
    value, g = nabla.value_and_grad(score)(big)  # the rule's value, as in JAX
    assert value == pytest.approx(2.0 * (1001.0 + np.log(np.sum(np.exp(big - 1001.0)))))
    assert np.all(np.isfinite(g))
    assert_close(g, 2.0 * softmax, rtol=1e-12)
    small = np.array([0.1, -0.3, 0.25])
    assert_close(nabla.grad(score)(small), numerical_grad(score, [small]))


def lambda_free_naive(x):
    return np.log(np.sum(np.exp(x))) * 2.0


# -- an implicit function: the fixed point z = cos(a z) ----------------------------------
@nabla.custom_vjp
def fixed_point(a):
    z = 0.5
    for _ in range(200):
        z = np.cos(a * z)
    return z


def fixed_point_fwd(a):
    z = fixed_point(a)
    return z, (a, z)


def fixed_point_bwd(res, g):
    a, z = res
    # F(z, a) = z - cos(a z) = 0: dz/da = -F_a / F_z
    s = np.sin(a * z)
    return (g * (-z * s) / (1.0 + a * s),)


fixed_point.defvjp(fixed_point_fwd, fixed_point_bwd)


def implicit(a):
    return fixed_point(a) * a


def test_an_implicit_function_rule(jit_mode):
    a = 0.8
    expected = numerical_grad(implicit, [a], 0)
    assert nabla.grad(implicit)(a) == pytest.approx(expected, rel=1e-6)
    # the loop's own derivative is not read: the rule's cost does not grow with its length
    assert "range(" not in nabla.grad(implicit).source.split("def fixed_point(")[0]


# -- nondiff_argnums and the rule's free values -----------------------------------------
SCALE = 3.0


@partial(nabla.custom_vjp, nondiff_argnums=(1,))
def power(x, n):
    return x ** n


def power_fwd(x, n):
    return x ** n, x


def power_bwd(n, x, g):
    return (g * n * x ** (n - 1) * SCALE / 3.0,)


power.defvjp(power_fwd, power_bwd)


def cubes(x):
    return np.sum(power(x, 3))


def test_nondiff_arguments_come_first_in_bwd_and_free_values_are_read(jit_mode):
    assert_close(nabla.grad(cubes)(X), 3 * X ** 2, rtol=1e-12)
    assert_close(nabla.hessian(cubes)(X), np.diag(6 * X), rtol=1e-10, atol=1e-12)


@partial(nabla.custom_jvp, nondiff_argnums=(0,))
def scaled_sin(k, x):
    return np.sin(k * x)


@scaled_sin.defjvp
def scaled_sin_jvp(k, primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return scaled_sin(k, x), k * np.cos(k * x) * x_dot


def test_a_jvp_rule_takes_its_nondiff_arguments_first(jit_mode):
    def f(x):
        return np.sum(scaled_sin(2.0, x))

    assert_close(nabla.grad(f)(X), 2.0 * np.cos(2.0 * X), rtol=1e-12)
    assert_close(nabla.jacfwd(nabla.grad(f))(X), np.diag(-4.0 * np.sin(2.0 * X)), rtol=1e-10)


# -- checkpoint -------------------------------------------------------------------------
def cell(h, w):
    return np.tanh(h * w + 0.1)


cell_checkpointed = nabla.checkpoint(cell)


def rnn(h, w):
    for _ in range(5):
        h = cell(h, w)
    return np.sum(h)


def rnn_checkpointed(h, w):
    for _ in range(5):
        h = cell_checkpointed(h, w)
    return np.sum(h)


def rnn_inline_checkpoint(h, w):
    for _ in range(5):
        h = nabla.checkpoint(cell)(h, w)
    return np.sum(h)


def test_checkpointed_calls_give_the_stored_derivatives(jit_mode):
    stored = nabla.grad(rnn, argnums=(0, 1))(X, Y)
    for f in (rnn_checkpointed, rnn_inline_checkpoint):
        again = nabla.grad(f, argnums=(0, 1))(X, Y)
        for a, b in zip(stored, again):
            assert_close(a, b, rtol=1e-12)
        assert_close(again[1], numerical_grad(rnn, [X, Y], 1))
    # stored: cell's forward function keeps what its backward one reads; checkpointed:
    # one function recomputes cell in the adjoint
    assert "def cell_vjp_bwd(" in nabla.grad(rnn, argnums=(0, 1)).source
    source = nabla.grad(rnn_checkpointed, argnums=(0, 1)).source
    assert "def cell_remat_vjp(" in source and "_bwd(" not in source


def test_a_rule_must_be_defined_before_it_is_used():
    @nabla.custom_vjp
    def undefined(x):
        return x * 2.0

    def f(x):
        return undefined(x)

    with pytest.raises(nabla.NotDifferentiableError, match="defvjp"):
        nabla.grad(f)(1.0)


def test_a_rule_returning_a_cotangent_of_the_wrong_shape_is_an_error(jit_mode):
    @nabla.custom_vjp
    def wrong(x):
        return x * 2.0

    def wrong_fwd(x):
        return x * 2.0, None

    def wrong_bwd(res, g):
        return (np.sum(g),)  # a scalar for an array argument

    wrong.defvjp(wrong_fwd, wrong_bwd)

    def f(x):
        return np.sum(wrong(x))

    # (strict Numba: the typing error, naming the function)
    with pytest.raises((ValueError, nabla.NablaError), match="shape|dimensions|TypingError"):
        nabla.grad(f)(X)


def test_redefining_the_rule_is_seen():
    @nabla.custom_vjp
    def doubled(x):
        return x * 2.0

    def fwd(x):
        return x * 2.0, None

    def bwd_two(res, g):
        return (g * 2.0,)

    def bwd_five(res, g):
        return (g * 5.0,)

    def f(x):
        return doubled(x)

    doubled.defvjp(fwd, bwd_two)
    g = nabla.grad(f)
    assert g(1.0) == 2.0
    doubled.defvjp(fwd, bwd_five)
    assert g(1.0) == 5.0


def test_calling_a_custom_function_outside_a_transform_runs_it():
    assert softplus(0.0) == pytest.approx(np.log(2.0))
    assert power(2.0, 3) == 8.0
    assert cell_checkpointed(0.5, 2.0) == pytest.approx(np.tanh(1.1))
    assert nabla.checkpoint(cell) is cell_checkpointed
    assert nabla.checkpoint(softplus) is softplus  # a rule already says what it keeps


# -- compiled code nabla does not read: called, and given a derivative by a rule ----------
@numba.njit
def twice_sin(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = 2.0 * np.sin(x[i])
    return out


@numba.njit
def twice_sin_vjp(x, g):
    return 2.0 * np.cos(x) * g


twice_sin_rule = nabla.custom_vjp(twice_sin)


def twice_sin_fwd(x):
    return twice_sin(x), x


def twice_sin_bwd(x, g):
    return (twice_sin_vjp(x, g),)


twice_sin_rule.defvjp(twice_sin_fwd, twice_sin_bwd)


def uses_compiled(x):
    return np.sum(twice_sin_rule(x) * x)


def test_a_wrapped_njit_function_is_called_as_compiled_code(jit_mode):
    assert_close(nabla.grad(uses_compiled)(X), 2 * np.cos(X) * X + 2 * np.sin(X), rtol=1e-12)
    assert_close(nabla.jit(uses_compiled)(X), uses_compiled(X), rtol=1e-12)
    source = nabla.grad(uses_compiled).source
    assert "opaque_call(twice_sin_vjp_compiled, x, g)" in source  # called, not read


def calls_compiled_plainly(x, y):
    return np.sum(twice_sin(y) * x)


def test_compiled_code_without_a_rule_runs_but_is_not_differentiated_through(jit_mode):
    assert_close(nabla.grad(calls_compiled_plainly)(X, Y), 2 * np.sin(Y), rtol=1e-12)
    with pytest.raises(nabla.NotDifferentiableError, match="compiled code") as e:
        nabla.grad(calls_compiled_plainly, argnums=1)(X, Y)
    assert "twice_sin(y)" in str(e.value) and "custom_vjp" in str(e.value)


_libm = ctypes.CDLL(ctypes.util.find_library("m"))
c_cos = _libm.cos
c_cos.argtypes, c_cos.restype = [ctypes.c_double], ctypes.c_double
c_sin = _libm.sin
c_sin.argtypes, c_sin.restype = [ctypes.c_double], ctypes.c_double
c_cosine = nabla.custom_vjp(c_cos)


def c_cosine_fwd(x):
    return c_cos(x), x


def c_cosine_bwd(x, g):
    return (-g * c_sin(x),)


c_cosine.defvjp(c_cosine_fwd, c_cosine_bwd)


def uses_c(x):
    return c_cosine(x * 2.0) * x


def test_a_wrapped_c_function(jit_mode):
    assert nabla.grad(uses_c)(0.7) == pytest.approx(numerical_grad(uses_c, [0.7], 0),
                                                     rel=1e-7)
    assert nabla.jit(uses_c)(0.7) == pytest.approx(uses_c(0.7), rel=1e-15)


@nabla.custom_vjp
def polar(x, y):
    return np.sqrt(x * x + y * y), np.arctan2(y, x)


def polar_fwd(x, y):
    r = np.sqrt(x * x + y * y)
    return (r, np.arctan2(y, x)), (x, y, r)


def polar_bwd(res, g):
    x, y, r = res
    g_r, g_theta = g  # one cotangent per output, as the function returns them
    return (g_r * x / r - g_theta * y / (r * r), g_r * y / r + g_theta * x / (r * r))


polar.defvjp(polar_fwd, polar_bwd)


def uses_polar(x, y):
    r, theta = polar(x, y)
    return r * 2.0 + theta * 3.0


def test_a_rule_for_a_function_returning_a_tuple(jit_mode):
    for argnum in (0, 1):
        got = nabla.grad(uses_polar, argnums=argnum)(0.3, 0.8)
        assert got == pytest.approx(numerical_grad(uses_polar, [0.3, 0.8], argnum), rel=1e-7)


@pytest.mark.parametrize("f", [softplus, softplus_v])
def test_vmap_of_a_custom_rule_function_itself(f, jit_mode):
    """vmap applied to the custom function directly raised AttributeError (its rule
    object has no module name) where vmap of a function calling it worked."""
    X = np.array([[0.1, -2.0], [0.3, 4.0]])
    assert_close(nabla.vmap(f)(X), np.logaddexp(0.0, X))


@nabla.custom_jvp
def _marked_sin(x):
    return np.sin(x)


@_marked_sin.defjvp
def _marked_sin_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return np.sin(x), 2.0 * np.cos(x) * x_dot  # twice the true derivative: a marker


def _transform_of_a_rule_inside(x):
    return nabla.grad(_marked_sin)(x) * x + np.sum(nabla.vmap(softplus)(x * np.ones(2)))


def test_a_transform_of_a_custom_rule_function_inside_a_function(jit_mode):
    """nabla.grad(f) and nabla.vmap(f) with f a custom rule, called inside a function, were
    refused as "not a function nabla can read ... defined with `def`"; the rule is used."""
    x = 0.3
    expected = 2.0 * np.cos(x) * x + 2.0 * np.log1p(np.exp(x))
    assert nabla.jit(_transform_of_a_rule_inside)(x) == pytest.approx(expected)
