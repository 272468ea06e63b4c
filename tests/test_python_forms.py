"""The Python people write every day: default parameter values and keyword arguments
(in the function transformed and in the functions it calls), nested unpacking, and
loops over tuples — in every transform, Numba on and off, against finite differences."""

import dataclasses
import math
from functools import partial

import numpy as np
import pytest

import nabla
from nabla.errors import NablaError, NotDifferentiableError, TransformInputError
from tests.fd import assert_close, numerical_grad, numerical_jacobian, numerical_jvp

X = np.array([0.3, -0.2, 0.5])


# -- default values and keyword arguments -------------------------------------------------

def h(x, scale=2.0, shift=0.0):
    return np.sum(np.sin(x * scale) + shift * x)


def h_vec(x, scale=2.0, shift=0.0):
    return np.sin(x * scale) + shift * x


def calls_h(x, a):
    return h(x) + h(x, scale=a) + h(x, shift=1.0, scale=0.5) + h(x, 3.0)


def steps(x, n=3):
    s = 0.0
    for i in range(n):
        s = s + np.sum(x ** 2) * (i + 1)
    return s


def optional(x, w=None):
    if w is None:
        return np.sum(x * x)
    return np.sum(x * w)


def calls_optional(x):
    return optional(x) + optional(x, w=x)


def scalar(x, k=1.5):
    return math.sin(k * x) * x


CALLS = [  # (how it is called, the positional arguments, the keyword arguments)
    ("h(x)", (X,), {}),
    ("h(x, scale=3.0)", (X,), {"scale": 3.0}),
    ("h(x, shift=1.0, scale=0.5)", (X,), {"shift": 1.0, "scale": 0.5}),
    ("h(x, 0.7)", (X, 0.7), {}),
]


@pytest.mark.parametrize("call", CALLS, ids=[c[0] for c in CALLS])
def test_defaults_and_keywords_in_grad_and_value_and_grad(jit_mode, call):
    _, args, kwargs = call
    expected = numerical_grad(partial(h, **kwargs), args)
    assert_close(nabla.grad(h)(*args, **kwargs), expected)
    value, g = nabla.value_and_grad(h)(*args, **kwargs)
    assert value == pytest.approx(h(*args, **kwargs))
    assert_close(g, expected)
    assert_close(nabla.grad(h, mode="forward")(*args, **kwargs), expected)
    assert nabla.jit(h)(*args, **kwargs) == pytest.approx(h(*args, **kwargs))


@pytest.mark.parametrize("call", CALLS, ids=[c[0] for c in CALLS])
def test_defaults_and_keywords_in_jacobians_and_hessian(jit_mode, call):
    _, args, kwargs = call
    f = partial(h_vec, **kwargs)
    assert_close(nabla.jacfwd(h_vec)(*args, **kwargs), numerical_jacobian(f, args))
    assert_close(nabla.jacrev(h_vec)(*args, **kwargs), numerical_jacobian(f, args))
    grad = partial(nabla.grad(h), **kwargs)
    assert_close(nabla.hessian(h)(*args, **kwargs),
                 numerical_jacobian(lambda *a: grad(*a), args))


def test_a_parameter_passed_by_name_is_differentiated_by_its_position(jit_mode):
    d = nabla.grad(h, argnums=1)(X, scale=0.7)
    assert d == pytest.approx(numerical_grad(lambda s: h(X, s), (0.7,)), rel=1e-6)
    assert_close(nabla.grad(h, argnums=(0, 2))(X, shift=0.4)[1],
                 numerical_grad(lambda t: h(X, 2.0, t), (0.4,)))


def test_jvp_and_vjp_leave_defaulted_parameters_constant(jit_mode):
    v = np.array([1.0, 2.0, 3.0])
    out, tangent = nabla.jvp(h, (X,), (v,))
    assert out == pytest.approx(h(X))
    assert tangent == pytest.approx(numerical_jvp(h, (X,), (v,)))
    out, back = nabla.vjp(h, X)
    cotangents = back(1.0)
    assert len(cotangents) == 1  # one per primal passed
    assert_close(cotangents[0], numerical_grad(h, (X,)))


def test_vmap_maps_arguments_by_position_as_in_axes_says_and_keywords_over_axis_0(jit_mode):
    xs = np.random.default_rng(0).normal(size=(4, 3))
    assert_close(nabla.vmap(h)(xs, shift=2.0), [h(r, shift=2.0) for r in xs])
    assert_close(nabla.vmap(nabla.grad(h))(xs, scale=3.0),
                 [numerical_grad(partial(h, scale=3.0), (r,)) for r in xs])
    assert_close(nabla.vmap(h, in_axes=(0, None))(xs, 0.5), [h(r, 0.5) for r in xs])
    # an array passed by keyword is mapped over its axis 0, as JAX maps it (it was the
    # same for every example: shape (4, 4, 3) where JAX gives (4, 3))
    shifts = np.array([0.5, -1.0, 2.0, 0.25])
    got = nabla.vmap(h)(xs, shift=shifts)
    assert_close(got, [h(r, shift=s) for r, s in zip(xs, shifts)])
    assert_close(nabla.vmap(h, in_axes=None)(x=xs, shift=shifts),
                 [h(r, shift=s) for r, s in zip(xs, shifts)])


def test_callees_take_defaults_and_keywords(jit_mode):
    assert_close(nabla.grad(calls_h)(X, 0.7), numerical_grad(calls_h, (X, 0.7)))
    assert_close(nabla.grad(calls_h, argnums=1)(X, 0.7),
                 numerical_grad(calls_h, (X, 0.7), argnum=1))
    out, tangent = nabla.jvp(calls_h, (X, 0.7), (X, 1.0))
    assert tangent == pytest.approx(numerical_jvp(calls_h, (X, 0.7), (X, 1.0)))
    assert_close(nabla.grad(calls_optional)(X), numerical_grad(calls_optional, (X,)))
    assert_close(nabla.grad(steps)(X, n=4), numerical_grad(partial(steps, n=4), (X,)))
    assert_close(nabla.grad(steps)(X), numerical_grad(steps, (X,)))
    assert nabla.grad(scalar)(0.3) == pytest.approx(numerical_grad(scalar, (0.3,)), rel=1e-6)


def test_the_generated_call_shows_the_default_values():
    f = nabla.jit(calls_h)
    f(X, 0.7)
    assert "h(x, 2.0, 0.0) + h(x, a, 0.0) + h(x, 0.5, 1.0) + h(x, 3.0, 0.0)" in f.source
    g = nabla.grad(calls_h)
    g(X, 0.7)
    for call in ("h_vjp_x(x, 2.0, 0.0)", "h_vjp_x(x, a, 0.0)", "h_vjp_x(x, 0.5, 1.0)",
                 "h_vjp_x(x, 3.0, 0.0)"):
        assert call in g.source


def missing_argument(x):
    return h(scale=2.0)


def unknown_keyword(x):
    return h(x, scal=2.0)


def twice(x):
    return h(x, 2.0, scale=3.0)


ONES = np.ones(3)


def array_default(x, w=ONES):
    return np.sum(x * w)


def calls_array_default(x):
    return array_default(x)


@pytest.mark.parametrize("fn, message", [
    (missing_argument, "h\\(\\) is missing 'x'"),
    (unknown_keyword, "h\\(\\) has no parameter 'scal'"),
    (twice, "h\\(\\) gets 'scale' twice"),
    (calls_array_default, "default value of array_default\\(\\)'s parameter 'w' is ndarray"),
])
def test_a_call_that_does_not_bind_is_refused_where_it_is_written(fn, message):
    with pytest.raises(NablaError, match=message) as info:
        nabla.grad(fn)(X)
    assert info.value.lineno == fn.__code__.co_firstlineno + 1


def test_a_bad_keyword_at_the_call_of_a_transform_is_a_clear_error():
    with pytest.raises(TransformInputError, match="unexpected keyword argument 'scal'"):
        nabla.grad(h)(X, scal=2.0)


def test_keyword_only_parameters_are_still_refused_at_the_parameter():
    def kw_only(x, *, scale=2.0):
        return np.sum(x * scale)
    with pytest.raises(NablaError, match="keyword-only"):
        nabla.grad(kw_only)(X)


# -- nested unpacking and loops over tuples ---------------------------------------------------

def unpack_nested(params, x):
    (W1, b1), (W2, b2) = params
    hidden = np.tanh(x @ W1 + b1)
    return np.sum(np.tanh(hidden @ W2 + b2))


def loop_over_layers(params, x):
    for W, b in params:
        x = np.tanh(x @ W + b)
    return np.sum(x)


def loop_by_index(params, x):
    for i in range(len(params)):
        W, b = params[i]
        x = np.tanh(x @ W + b)
    return np.sum(x)


def enumerate_zip(params, x, scales):
    for i, ((W, b), s) in enumerate(zip(params, scales)):
        x = np.tanh(x @ W + b) * s + i
    return np.sum(x)


def swap_nested(x, y):
    a, (b, c) = x, (y, x * y)
    a, (b, c) = c, (a, b)
    return np.sum(a * b + c)


def _params():
    rng = np.random.default_rng(1)
    return [(rng.normal(size=(3, 4)), rng.normal(size=4)),
            (rng.normal(size=(4, 2)), rng.normal(size=2))]


def _grad_of_first_weight(f, params, *rest):
    def at(w):
        changed = [(w, params[0][1]), params[1]]
        return f(changed, *rest)
    return numerical_grad(at, (params[0][0],))


@pytest.mark.parametrize("f, rest", [
    (unpack_nested, ()), (loop_over_layers, ()), (loop_by_index, ()),
    (enumerate_zip, ((2.0, 0.5),)),
], ids=["(W1, b1), (W2, b2) = params", "for W, b in params", "for i in range(len(params))",
        "enumerate(zip(params, scales))"])
def test_layers_held_in_tuples(jit_mode, f, rest):
    params = _params()
    g = nabla.grad(f)(params, X, *rest)
    assert_close(g[0][0], _grad_of_first_weight(f, params, X, *rest))
    assert_close(nabla.grad(f, argnums=1)(params, X, *rest),
                 numerical_grad(lambda x: f(params, x, *rest), (X,)))
    assert nabla.jit(f)(params, X, *rest) == pytest.approx(f(params, X, *rest))


def test_a_loop_over_a_tuple_is_unrolled_in_the_generated_code():
    params = _params()
    g = nabla.grad(loop_over_layers)
    g(params, X)
    text = g._flat_version(tuple(nabla.pytree.flatten(a)[1] for a in (params, X))).source
    assert "for " not in text.split("def ")[1]  # one copy of the body per layer
    assert "W_1 = params_1_0" in text


def test_nested_unpacking_reads_every_value_first(jit_mode):
    y = np.array([1.0, 2.0, -1.0])
    assert nabla.jit(swap_nested)(X, y) == pytest.approx(swap_nested(X, y))
    assert_close(nabla.grad(swap_nested)(X, y), numerical_grad(swap_nested, (X, y)))
    assert_close(nabla.grad(swap_nested, argnums=1)(X, y),
                 numerical_grad(swap_nested, (X, y), argnum=1))


def tuple_by_a_runtime_index(params, x, k):
    W, b = params[k]
    return np.sum(x @ W + b)


def test_a_tuple_indexed_by_a_runtime_value_is_refused_where_it_is_indexed():
    with pytest.raises(NotDifferentiableError, match="params is a tuple, indexed here by k") \
            as info:
        nabla.grad(tuple_by_a_runtime_index)(_params(), X, 0)
    assert info.value.lineno == tuple_by_a_runtime_index.__code__.co_firstlineno + 1


# -- refusals that say what the value is and what to write instead ----------------------------

MODE = "fast"


def uses_a_string_flag(x):
    if MODE == "fast":
        return x * 2.0
    return x


def uses_a_list_as_an_array(x):
    return np.sum(x * x)


def test_a_string_global_is_refused_saying_it_is_a_string():
    with pytest.raises(NotDifferentiableError, match="'MODE' is a string \\('fast'\\)") as info:
        nabla.grad(uses_a_string_flag)(0.5)
    assert "boolean or a number" in info.value.hint


def test_a_list_passed_where_an_array_is_meant_is_refused_where_it_is_used():
    with pytest.raises(NotDifferentiableError, match="x is a tuple, list or dict of 2 values, "
                       "used here as an array") as info:
        nabla.grad(uses_a_list_as_an_array)([1.0, 2.0])
    assert info.value.lineno == uses_a_list_as_an_array.__code__.co_firstlineno + 1
    assert "np.array(x)" in info.value.hint


# -- attributes of plain objects --------------------------------------------------------------

@dataclasses.dataclass
class Settings:
    alpha: float
    weights: np.ndarray


class Holder:
    pass


SETTINGS = Settings(alpha=0.5, weights=np.array([1.0, 2.0, 3.0]))
OPTIONS = Holder()
OPTIONS.inner = Holder()
OPTIONS.inner.scale = 3.0


def reads_attributes(x):
    return np.sum(SETTINGS.weights * np.sin(x)) * SETTINGS.alpha + OPTIONS.inner.scale * x[0]


def calls_a_reader(x):
    return reads_attributes(x) * 2.0


def test_attributes_of_plain_objects_are_read_at_every_call(jit_mode, monkeypatch):
    for f in (reads_attributes, calls_a_reader):
        g = nabla.grad(f)
        assert_close(g(X), numerical_grad(f, (X,)))
        monkeypatch.setattr(SETTINGS, "alpha", 2.0)
        assert_close(g(X), numerical_grad(f, (X,)))
        monkeypatch.setattr(SETTINGS, "alpha", 0.5)
        assert nabla.jit(f)(X) == pytest.approx(f(X))
    assert "def reads_attributes_grad(x, SETTINGS_weights, SETTINGS_alpha, " \
           "OPTIONS_inner_scale)" in nabla.grad(reads_attributes).source


# -- bound methods ----------------------------------------------------------------------------

class Model:
    def __init__(self, w, scale):
        self.w = w
        self.scale = scale

    def loss(self, x, shift=0.0):
        return np.sum(np.tanh(self.w * x) ** 2) * self.scale + shift * x[0]

    def predict(self, x):
        return np.tanh(self.w * x) * self.scale


def test_a_bound_method_is_transformed_with_its_object_read_at_every_call(jit_mode):
    model = Model(np.array([0.5, -1.0, 2.0]), 1.5)
    g = nabla.grad(model.loss)
    assert_close(g(X), numerical_grad(model.loss, (X,)))
    assert_close(g(X, shift=2.0), numerical_grad(partial(model.loss, shift=2.0), (X,)))
    model.scale = 3.0  # read at every call, like a global
    assert_close(g(X), numerical_grad(model.loss, (X,)))
    other = Model(np.array([1.0, 1.0, 1.0]), 0.5)
    assert_close(nabla.grad(other.loss)(X), numerical_grad(other.loss, (X,)))
    assert_close(nabla.jacfwd(model.predict)(X), numerical_jacobian(model.predict, (X,)))
    assert_close(nabla.jacrev(model.predict)(X), numerical_jacobian(model.predict, (X,)))
    xs = np.random.default_rng(2).normal(size=(4, 3))
    assert_close(nabla.vmap(model.loss)(xs), [model.loss(r) for r in xs])
    assert nabla.jit(model.loss)(X) == pytest.approx(model.loss(X))
    assert "def loss_grad(x, shift, self_w, self_scale)" in g.source


def test_an_objects_attribute_read_through_an_argument_points_to_the_bound_method():
    model = Model(np.array([0.5, -1.0, 2.0]), 1.5)
    with pytest.raises(NotDifferentiableError, match="attribute .w is not supported") as info:
        nabla.grad(Model.loss, argnums=1)(model, X)
    assert "nabla.grad(model.loss)" in info.value.hint


# -- dataclasses as pytrees ------------------------------------------------------------------

@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray
    scale: float = 1.0

    def loss(self, x):
        return np.sum(np.tanh(x @ self.w + self.b) ** 2) * self.scale


def layer_loss(layer, x):
    return np.sum(np.tanh(x @ layer.w + layer.b) ** 2) * layer.scale


def _layer():
    rng = np.random.default_rng(3)
    return Layer(rng.normal(size=(3, 2)), rng.normal(size=2), 0.7)


@pytest.mark.parametrize("f", [layer_loss, Layer.loss], ids=["function", "Layer.loss"])
def test_differentiating_with_respect_to_a_dataclass_gives_a_dataclass(jit_mode, f):
    layer = _layer()
    g = nabla.grad(f)(layer, X)
    assert isinstance(g, Layer)
    assert_close(g.w, numerical_grad(lambda w: f(Layer(w, layer.b, layer.scale), X),
                                     (layer.w,)))
    assert_close(g.b, numerical_grad(lambda b: f(Layer(layer.w, b, layer.scale), X),
                                     (layer.b,)))
    assert g.scale == pytest.approx(numerical_grad(
        lambda s: f(Layer(layer.w, layer.b, s), X), (0.7,)), rel=1e-6)
    value, g2 = nabla.value_and_grad(f)(layer, X)
    assert value == pytest.approx(f(layer, X))
    assert_close(g2.w, g.w)
    assert nabla.jit(f)(layer, X) == pytest.approx(f(layer, X))
    assert_close(nabla.grad(layer_loss, argnums=1)(layer, X),
                 numerical_grad(lambda x: layer_loss(layer, x), (X,)))


@pytest.mark.parametrize("f", [unpack_nested, loop_over_layers], ids=lambda f: f.__name__)
def test_layers_held_in_tuples_in_the_other_transforms(jit_mode, f):
    params = _params()
    xs = np.random.default_rng(4).normal(size=(4, 3))
    assert_close(nabla.vmap(f, in_axes=(None, 0))(params, xs), [f(params, r) for r in xs])
    assert_close(nabla.vmap(nabla.grad(f, argnums=1), in_axes=(None, 0))(params, xs),
                 [numerical_grad(lambda x: f(params, x), (r,)) for r in xs])
    v = np.array([1.0, -0.5, 2.0])
    zero = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    _, tangent = nabla.jvp(f, (params, X), (zero, v))
    assert tangent == pytest.approx(numerical_jvp(lambda x: f(params, x), (X,), (v,)))
    g = nabla.grad(f, argnums=1)
    assert_close(nabla.jacfwd(nabla.grad(f, argnums=1), argnums=1)(params, X),
                 numerical_jacobian(lambda x: g(params, x), (X,)), rtol=1e-4, atol=1e-5)


def largest_of_a_tuple(params, x):
    n = max(len(params), 1)
    s = 0.0
    for i in range(min(len(params), 5)):  # folded to range(0, 2): unrolled
        s = s + np.sum(params[i][1]) * x[i]
    return np.sum(x * n) + s + max(x[0], x[1])


def test_calls_on_tuples_fold_only_where_their_rule_can(jit_mode):
    params = _params()
    assert_close(nabla.grad(largest_of_a_tuple, argnums=1)(params, X),
                 numerical_grad(lambda x: largest_of_a_tuple(params, x), (X,)))


# -- Python's max and min of more than two values -----------------------------------------

def clipped_product(a, b):
    return max(a, b, 0.5 * a * b) * min(a, 2.0 * b, 3.0)


def extremes_of_a_tuple(a, b):
    t = (a, b * 2.0)
    return max(t) + min((a, b)) * max(a, -b)


@pytest.mark.parametrize("args", [(1.0, 2.0), (3.0, 0.7), (-1.5, 0.4), (2.5, 1.9)])
@pytest.mark.parametrize("f", [clipped_product, extremes_of_a_tuple])
def test_max_and_min_of_several_values_and_of_a_tuple(jit_mode, f, args):
    assert_close(nabla.jit(f)(*args), f(*args))
    got = nabla.grad(f, argnums=(0, 1))(*args)
    for i in (0, 1):
        assert_close(got[i], numerical_grad(f, args, i))


def test_max_of_one_array_is_refused_with_np_max_as_the_hint():
    def largest(x):
        return max(x) * 2.0

    with pytest.raises(NotDifferentiableError, match=r"use np\.max\(x\)") as e:
        nabla.grad(largest)(np.array([1.0, 3.0]))
    assert "return max(x) * 2.0" in str(e.value)
