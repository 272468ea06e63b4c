"""Pytrees: arguments that are (nested) tuples, lists, dicts and namedtuples of arrays and
scalars. Generated code sees one parameter per leaf; derivatives come back in the
argument's structure, as in JAX."""

import collections
import typing

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jacobian

import nabla

RNG = np.random.default_rng(0)
PARAMS = (RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=(2, 4)), RNG.normal(size=2))
X = RNG.normal(size=3)
Y = RNG.normal(size=2)
Pair = collections.namedtuple("Pair", "w b")


def mlp_loss(params, x, y):
    W1, b1, W2, b2 = params
    h = np.tanh(W1 @ x + b1)
    return np.sum((W2 @ h + b2 - y) ** 2)


def dict_loss(p, x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + p["w"][i] * x[i] ** 2
    return s + p["b"] * p["nested"][1] ** 2 + p["nested"][0][0]


def namedtuple_loss(p, x):
    return np.sum(p.w * x) * p.b


def _replace(tree, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        return {**tree, head: _replace(tree[head], rest, value)}
    items = list(tree)
    items[head] = _replace(items[head], rest, value)
    if hasattr(tree, "_fields"):
        return type(tree)(*items)
    return type(tree)(items)


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def _fd_leaf(f, args, argnum, path):
    """Finite differences of f with respect to one leaf of argument ``argnum``."""
    def at(v):
        a = list(args)
        a[argnum] = _replace(args[argnum], path, v)
        return f(*a)
    return numerical_grad(at, [_get(args[argnum], path)], 0)


def test_grad_of_a_tuple_of_parameters_is_a_tuple(jit_mode):
    g = nabla.grad(mlp_loss)(PARAMS, X, Y)
    assert isinstance(g, tuple) and len(g) == 4
    for i in range(4):
        assert g[i].shape == PARAMS[i].shape
        assert_close(g[i], _fd_leaf(mlp_loss, [PARAMS, X, Y], 0, [i]))
    for a, b in zip(PARAMS, (RNG.normal(size=(4, 3)),)):  # the caller's arrays are untouched
        assert a.shape == b.shape


def test_dicts_and_nested_containers_mirror_the_argument(jit_mode):
    p = {"w": np.array([0.5, -1.0, 2.0]), "b": 0.7, "nested": [(1.5,), 3.0]}
    x = np.array([0.3, 0.4, -0.2])
    g = nabla.grad(dict_loss)(p, x)
    assert set(g) == {"w", "b", "nested"} and isinstance(g["nested"], list)
    assert isinstance(g["nested"][0], tuple)
    for path in (["w"], ["b"], ["nested", 1], ["nested", 0, 0]):
        assert_close(_get(g, path), _fd_leaf(dict_loss, [p, x], 0, path))


def test_namedtuples_value_and_grad_with_tuple_argnums(jit_mode):
    p = Pair(np.array([1.0, 2.0]), 3.0)
    x = np.array([0.5, 0.25])
    value, (gp, gx) = nabla.value_and_grad(namedtuple_loss, argnums=(0, 1))(p, x)
    assert_close(value, namedtuple_loss(p, x))
    assert isinstance(gp, Pair)
    assert_close(gp.w, x * p.b)
    assert_close(gp.b, np.sum(p.w * x))
    assert_close(gx, p.w * p.b)


def test_jvp_and_vjp_take_pytrees(jit_mode):
    p = Pair(np.array([1.0, 2.0]), 3.0)
    x = np.array([0.5, 0.25])
    out, dot = nabla.jvp(namedtuple_loss, (p, x), (Pair(np.array([1.0, 0.0]), 0.5), np.zeros(2)))
    assert_close(out, namedtuple_loss(p, x))
    assert_close(dot, x[0] * p.b + 0.5 * np.sum(p.w * x))
    out, back = nabla.vjp(namedtuple_loss, p, x)
    gp, gx = back(2.0)
    assert isinstance(gp, Pair)
    assert_close(gp.w, 2.0 * x * p.b)
    assert_close(gx, 2.0 * p.w * p.b)
    with pytest.raises(nabla.TransformInputError):
        nabla.jvp(namedtuple_loss, (p, x), ((np.ones(2), 0.0, 1.0), np.zeros(2)))


def test_hessian_of_a_tuple_of_parameters_nests_as_in_jax(monkeypatch):
    # Python only: its Numba compilation takes half a minute; the next test compiles one
    monkeypatch.setattr(nabla.config, "jit", False)
    H = nabla.hessian(mlp_loss)(PARAMS, X, Y)
    assert len(H) == 4 and all(len(row) == 4 for row in H)
    for i in range(4):
        for j in range(4):
            assert H[i][j].shape == PARAMS[i].shape + PARAMS[j].shape
    # one block against finite differences of the gradient
    def grad_b1(b1):
        return nabla.grad(mlp_loss)((PARAMS[0], b1, PARAMS[2], PARAMS[3]), X, Y)[2]
    assert_close(H[2][1], numerical_jacobian(grad_b1, [PARAMS[1]], 0))


def test_hessian_and_jacfwd_of_pytrees_compiled(jit_mode):
    p = Pair(np.array([1.0, 2.0]), 3.0)
    H = nabla.hessian(namedtuple_loss)(p, np.array([0.5, 0.25]))
    assert isinstance(H, Pair) and isinstance(H.w, Pair)
    assert H.w.w.shape == (2, 2) and H.w.b.shape == (2,) and np.shape(H.b.b) == ()
    assert_close(H.w.b, np.array([0.5, 0.25]))
    assert_close(H.b.w, np.array([0.5, 0.25]))
    J = nabla.jacfwd(dict_loss)({"w": np.ones(3), "b": 0.5, "nested": [(1.0,), 2.0]},
                                np.array([0.3, 0.4, -0.2]))
    assert_close(J["w"], np.array([0.3, 0.4, -0.2]) ** 2)


def test_float32_leaves_stay_float32(jit_mode):
    p = (np.ones(3, np.float32), np.float32(2.0))
    g = nabla.grad(lambda_free)(p, np.arange(3, dtype=np.float32))
    assert g[0].dtype == np.float32 and isinstance(g[1], np.float32)


def lambda_free(p, x):
    w, b = p
    return np.sum(w * x) * b


def test_a_missing_dict_key_is_refused_with_its_location():
    with pytest.raises(nabla.NotDifferentiableError) as e:
        nabla.grad(dict_loss)({"w": np.ones(3), "b": 0.5}, np.ones(3))
    assert "nested" in e.value.message and "p[\"nested\"]" in e.value.line


def two_outputs(x):
    return np.sin(x), x * x


def test_vjp_of_a_tuple_output_takes_a_tuple_cotangent(jit_mode):
    x = np.array([0.5, -0.3])
    out, back = nabla.vjp(two_outputs, x)
    assert_close(out[0], np.sin(x))
    (g,) = back((np.ones(2), np.array([2.0, 0.0])))
    assert_close(g, np.cos(x) + np.array([2.0, 0.0]) * 2 * x)
    with pytest.raises(nabla.TransformInputError):
        back(np.ones(2))


# -- pytree outputs ---------------------------------------------------------------------------
def dict_output(x):
    return {"sin": np.sin(x), "sq": x * x}


def loss_with_metrics(x):
    loss = np.sum(x ** 2)
    return loss, {"mean": np.mean(x), "parts": [x[0], x[1]]}


def _stats_dict(x):
    return {"m": np.mean(x), "s": np.sum(x * x)}


def uses_a_dict_returned_by_a_helper(x):
    d = _stats_dict(x)
    return d["m"] * d["s"]


def test_dicts_and_lists_come_back_as_dicts_and_lists(jit_mode):
    x = np.array([0.5, -0.3])
    out = nabla.jit(dict_output)(x)
    assert set(out) == {"sin", "sq"}
    assert_close(out["sq"], x * x)
    out, dot = nabla.jvp(dict_output, (x,), (np.ones(2),))
    assert_close(dot["sin"], np.cos(x))
    out, back = nabla.vjp(dict_output, x)
    assert_close(out["sin"], np.sin(x))
    (g,) = back({"sin": np.ones(2), "sq": np.ones(2)})
    assert_close(g, np.cos(x) + 2 * x)
    J = nabla.jacfwd(dict_output)(x)
    assert_close(J["sq"], np.diag(2 * x))
    g, aux = nabla.grad(loss_with_metrics, has_aux=True)(x)
    assert_close(g, 2 * x)
    assert isinstance(aux, dict) and isinstance(aux["parts"], list)
    assert_close(aux["parts"][1], x[1])
    assert_close(nabla.grad(uses_a_dict_returned_by_a_helper)(x),
                 numerical_grad(uses_a_dict_returned_by_a_helper, [x], 0))


# -- a Jacobian from containers to containers: the output's structure outside, each
# argument's inside (JAX's order); each block against finite differences ---------------
def dict_to_dict(p):
    return {"u": p["a"] * 2.0 * p["b"], "v": p["a"][0] * p["a"][1]}


def dict_to_tuple(p):
    return (p["a"][0] * p["b"], p["c"] * p["b"], np.sin(p["a"]))


def pair_to_list(q, s):
    return [q.w * s, q.b ** 2, q.w[1] * q.b]


def arrays_to_nested(w, b):
    return ((w * 0.6, b ** 2), [w[1] * b])


def pair_to_nested(q, s):
    return ((q.w * s, q.b ** 2), [q.w[1] * q.b])


def _fd_jacobian_tree(f, args, argnums):
    """JAX's jacobian layout by finite differences: per output leaf, per argument leaf."""
    out_leaves, out_tree = nabla.pytree.flatten(f(*args))
    argnums_t = argnums if isinstance(argnums, tuple) else (argnums,)
    per_out = []
    for i, out in enumerate(out_leaves):
        blocks = []
        for k in argnums_t:
            leaves, tree = nabla.pytree.flatten(args[k])
            paths = _leaf_paths(args[k])
            blocks.append(nabla.pytree.unflatten(tree, [
                _fd_block(f, args, k, path, i, np.shape(out)) for path in paths]))
        per_out.append(tuple(blocks) if isinstance(argnums, tuple) else blocks[0])
    return nabla.pytree.unflatten(out_tree, per_out)


def _leaf_paths(tree, prefix=()):
    if isinstance(tree, dict):
        return [p for k in sorted(tree) for p in _leaf_paths(tree[k], prefix + (k,))]
    if isinstance(tree, (tuple, list)):
        return [p for k, v in enumerate(tree) for p in _leaf_paths(v, prefix + (k,))]
    return [prefix]


def _fd_block(f, args, argnum, path, out_index, out_shape):
    x = np.asarray(_get(args[argnum], path), dtype=np.float64)
    block = np.zeros(out_shape + x.shape)
    for j in np.ndindex(*x.shape):
        def at(v, j=j):
            xv = x.copy()
            xv[j] = v
            a = list(args)
            a[argnum] = _replace(args[argnum], path, xv if x.ndim else float(xv))
            return nabla.pytree.flatten(f(*a))[0][out_index]
        block[(...,) + j] = _numerical_grad_vector(at, float(x[j]))
    return block


def _assert_same_tree(got, want):
    got_leaves, got_tree = nabla.pytree.flatten(got)
    want_leaves, want_tree = nabla.pytree.flatten(want)
    assert got_tree == want_tree, (got, want)
    for g, w in zip(got_leaves, want_leaves):
        assert_close(np.asarray(g), np.asarray(w))


def _numerical_grad_vector(f, x, eps=1e-6):
    return (np.asarray(f(x + eps)) - np.asarray(f(x - eps))) / (2 * eps)


P_AB = {"a": np.array([0.7, -1.3]), "b": 0.4}
P_ABC = {"a": np.array([0.7, -1.3]), "b": 0.4, "c": 1.9}


@pytest.mark.parametrize("transform", [nabla.jacfwd, nabla.jacrev])
@pytest.mark.parametrize("fun, args, argnums", [
    (dict_to_dict, (P_AB,), 0),
    (dict_to_tuple, (P_ABC,), 0),
    (pair_to_list, (Pair(np.array([0.3, 0.8]), 1.7), 0.6), 0),
    (pair_to_list, (Pair(np.array([0.3, 0.8]), 1.7), 0.6), (0, 1)),
])
def test_jacobian_of_containers_to_containers_nests_as_in_jax(transform, fun, args, argnums,
                                                              jit_mode):
    """Was: the argument's structure outside (``{'a': 'u'}`` for a dict output), a
    StopIteration for 3 argument leaves and 2 outputs, a namedtuple and a tuple swapped."""
    got = transform(fun, argnums=argnums)(*args)
    _assert_same_tree(got, _fd_jacobian_tree(fun, args, argnums))


@pytest.mark.parametrize("transform", [nabla.jacfwd, nabla.jacrev])
@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_jacobians_of_nested_outputs_nest_as_in_jax(transform, argnums, jit_mode):
    """Was: a ValueError in jac_block (jacfwd: the blocks of one level of tuples only), a
    refusal (jacrev: "vjp of a function returning nested tuples")."""
    args = (Pair(np.array([0.3, 0.8]), 1.7), 0.6)
    got = transform(pair_to_nested, argnums=argnums)(*args)
    _assert_same_tree(got, _fd_jacobian_tree(pair_to_nested, args, argnums))
    args = (np.array([0.3, 0.8]), 1.7)
    got = transform(arrays_to_nested, argnums=(0, 1))(*args)
    _assert_same_tree(got, _fd_jacobian_tree(arrays_to_nested, args, (0, 1)))


def dict_of_nested(x, y):
    return {"a": (x * y, [np.sin(x)]), "b": np.sum(x) * y}


def test_vjp_of_nested_outputs_takes_a_cotangent_of_their_structure(jit_mode):
    x, y = np.array([0.3, -0.8]), 1.7
    out, back = nabla.vjp(dict_of_nested, x, y)
    _assert_same_tree(out, dict_of_nested(x, y))
    ct = {"a": (np.array([1.0, -2.0]), [np.array([0.5, 3.0])]), "b": 0.7}
    gx, gy = back(ct)

    def dotted(x, y):
        leaves = nabla.pytree.flatten(dict_of_nested(x, y))[0]
        return sum(np.sum(a * c) for a, c in zip(leaves, nabla.pytree.flatten(ct)[0]))
    assert_close(gx, numerical_grad(dotted, [x, y], 0))
    assert_close(gy, numerical_grad(dotted, [x, y], 1))
    with pytest.raises(nabla.TransformInputError):
        back({"a": (np.ones(2), np.ones(2)), "b": 0.7})


# -- a transform over another keeps the containers the inner one returns -----------------
def dict_cubic(p):
    return np.sum(p["a"] ** 3) * p["b"]


def dict_with_aux(p):
    return np.sum(p["a"] ** 2) * p["b"], {"m": p["a"] * 3.0}


def array_with_aux(x):
    return np.sum(x ** 3), {"v": x * 2.0}


def array_to_dict(x):
    return {"s": x * 2.0, "t": np.sin(x)}


P_DICT = {"a": np.array([0.3, -0.7]), "b": 1.5}
T_DICT = {"a": np.array([1.0, 0.5]), "b": -0.25}


def _axpy(p, t, e):
    (pl, tree), (tl, _) = nabla.pytree.flatten(p), nabla.pytree.flatten(t)
    return nabla.pytree.unflatten(tree, [a + e * b for a, b in zip(pl, tl)])


def _fd_directional(f, p, t, eps=1e-6):
    (plus, tree), (minus, _) = (nabla.pytree.flatten(f(_axpy(p, t, eps))),
                                nabla.pytree.flatten(f(_axpy(p, t, -eps))))
    return nabla.pytree.unflatten(tree, [(np.asarray(a) - np.asarray(b)) / (2 * eps)
                                         for a, b in zip(plus, minus)])


def test_jvp_vjp_and_jacobians_of_a_gradient_of_a_dict(jit_mode):
    """Was: jvp(grad(f)) with a dict argument gave tuples, vjp asked for a tuple."""
    g = nabla.grad(dict_cubic)
    out, dot = nabla.jvp(g, (P_DICT,), (T_DICT,))
    _assert_same_tree(out, g(P_DICT))
    _assert_same_tree(dot, _fd_directional(g, P_DICT, T_DICT))
    (ct,) = nabla.vjp(g, P_DICT)[1](T_DICT)  # the Hessian is symmetric: H t again
    _assert_same_tree(ct, _fd_directional(g, P_DICT, T_DICT))
    _assert_same_tree(nabla.jacrev(g)(P_DICT), _fd_jacobian_tree(g, (P_DICT,), 0))
    h = nabla.jacfwd(g)
    _assert_same_tree(nabla.jacfwd(h)(P_DICT), _fd_jacobian_tree(h, (P_DICT,), 0))


def test_hessian_with_aux_keeps_the_aux_structure(jit_mode):
    """Was: the aux's dict came back a tuple (x,)."""
    H, aux = nabla.hessian(dict_with_aux, has_aux=True)(P_DICT)
    _assert_same_tree(aux, {"m": P_DICT["a"] * 3.0})

    def gradient(p):
        return nabla.grad(dict_with_aux, has_aux=True)(p)[0]
    _assert_same_tree(H, _fd_jacobian_tree(gradient, (P_DICT,), 0))
    x = np.array([0.3, -0.7])
    for transform in (nabla.hessian(array_with_aux, has_aux=True),
                      nabla.jacfwd(nabla.jacrev(array_with_aux, has_aux=True), has_aux=True)):
        H, aux = transform(x)
        assert_close(H, np.diag(6 * x))
        _assert_same_tree(aux, {"v": 2 * x})


def _per_example(batched, one, n):
    leaves, tree = nabla.pytree.flatten(batched)
    for i in range(n):
        want, want_tree = nabla.pytree.flatten(one(i))
        assert want_tree == tree
        for b, w in zip(leaves, want):
            assert_close(np.asarray(b)[i], np.asarray(w))


@pytest.mark.parametrize("transform", [
    nabla.grad, nabla.value_and_grad, nabla.hessian,
    lambda f: nabla.grad(f, has_aux=True), lambda f: nabla.jacrev(f, has_aux=True)])
def test_vmap_of_a_derivative_of_dicts(transform, jit_mode):
    """Was: refused (value_and_grad, has_aux, hessian), or the aux's dict a tuple."""
    fun = dict_with_aux if transform.__name__ == "<lambda>" else dict_cubic
    X = np.array([[0.3, -0.7], [0.1, 0.2], [0.5, 0.9]])
    B = np.array([1.5, 2.0, -1.0])
    d = transform(fun)
    _per_example(nabla.vmap(d)({"a": X, "b": B}), lambda i: d({"a": X[i], "b": B[i]}), 3)


def test_transforms_of_a_vmap_with_a_dict_output(jit_mode):
    """Was: jvp and jacfwd of it flattened the dict into a tuple; vjp asked for a tuple."""
    X = np.array([[0.3, -0.7], [0.1, 0.2]])
    T = np.array([[1.0, 0.5], [-0.3, 2.0]])
    v = nabla.vmap(array_to_dict)
    out, dot = nabla.jvp(v, (X,), (T,))
    _assert_same_tree(out, array_to_dict(X))
    _assert_same_tree(dot, {"s": 2 * T, "t": np.cos(X) * T})
    _assert_same_tree(nabla.jacfwd(v)(X), _fd_jacobian_tree(array_to_dict, (X,), 0))
    (ct,) = nabla.vjp(v, X)[1]({"s": T, "t": T})
    assert_close(ct, 2 * T + np.cos(X) * T)


# -- namedtuples made inside the function --------------------------------------------------
State = collections.namedtuple("State", "pos vel")


class Scaled(typing.NamedTuple):
    value: float
    scale: float = 2.0


def _leapfrog(s, dt):
    vel = s.vel - dt * np.sin(s.pos)
    return State(s.pos + dt * vel, vel)


def two_steps(x, v):
    s = _leapfrog(_leapfrog(State(pos=x, vel=v), 0.1), 0.2)
    return np.sum(s.pos ** 2) + np.sum(s[1] * s.pos)


def state_of(x):
    return State(np.sin(x), x * Scaled(x[0] * 3.0).scale)


def test_namedtuple_made_in_the_function_is_read_and_differentiated(jit_mode):
    x, v = np.array([0.3, -0.4]), np.array([0.1, 0.2])
    gx, gv = nabla.grad(two_steps, argnums=(0, 1))(x, v)
    assert_close(gx, numerical_grad(two_steps, (x, v), 0))
    assert_close(gv, numerical_grad(two_steps, (x, v), 1))
    assert_close(nabla.jit(two_steps)(x, v), two_steps(x, v))


def test_namedtuple_result_comes_back_as_its_class(jit_mode):
    x = np.array([0.3, -0.4, 1.2])
    out = nabla.jit(state_of)(x)
    assert type(out) is State
    assert_close(out.pos, np.sin(x))
    jac = nabla.jacfwd(state_of)(x)
    assert type(jac) is State
    assert_close(jac.pos, numerical_jacobian(lambda a: state_of(a).pos, (x,)))
    assert_close(jac.vel, numerical_jacobian(lambda a: state_of(a).vel, (x,)))
    batch = nabla.vmap(_leapfrog, in_axes=(0, None))(State(np.ones((3, 2)), np.zeros((3, 2))),
                                                     0.1)
    assert type(batch) is State
    assert_close(batch.pos, _leapfrog(State(np.ones((3, 2)), np.zeros((3, 2))), 0.1).pos)


def test_namedtuple_missing_field_is_refused_at_its_line():
    def make(x):
        return State(x)

    with pytest.raises(nabla.NablaError, match="missing its field 'vel'") as e:
        nabla.jit(make)(1.0)
    assert "return State(x)" in str(e.value)
