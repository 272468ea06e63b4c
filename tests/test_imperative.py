"""The imperative mode: nabla.Array's operations and their gradients through backward()
(against finite differences, Numba on and off), accumulation, updates in place, no_grad,
the errors PyTorch gives, the second training step compiling nothing, the seed's example
against nabla.grad, nn, and both optimizers against steps written out in NumPy."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from fd import numerical_grad

import nabla
from nabla.lazy import BackwardError, InPlaceError, ShapeError

RNG = np.random.default_rng(11)


def fd_grad(f, x):
    """Central differences of the scalar f at the float64 array x."""
    return numerical_grad(lambda v: float(f(v)), [x])


# (name, function of one Array (or NumPy array) to a scalar, input shape); each runs on an
# Array through backward() and on NumPy arrays through finite differences
OPS = [
    ("add sub mul div", lambda x: ((x + 1.5) * (2.0 - x) / (x * x + 3.0)).sum(), (3, 4)),
    ("pow neg abs", lambda x: (-(x ** 3) + abs(x) ** 2.5).sum(), (5,)),
    ("rpow rsub rdiv", lambda x: (2.0 ** x + 1.0 / (2.0 + x * x) - (3.0 - x)).sum(), (4,)),
    ("matmul", lambda x: (x @ np.arange(12.0).reshape(4, 3)).sum() + (x @ x.T).sum(), (2, 4)),
    ("elementwise", lambda x: (np.exp(x) + np.sin(x) * np.cos(x) + np.tanh(x)
                               + np.log(x * x + 1.0) + np.sqrt(x * x + 1.0)).sum(), (3, 3)),
    ("relu sigmoid", lambda x: (nabla.relu(x) + nabla.sigmoid(x)).sum(), (6,)),
    ("softmax", lambda x: (nabla.softmax(x, axis=-1) * np.arange(4.0)).sum(), (3, 4)),
    ("log_softmax", lambda x: (nabla.log_softmax(x, axis=0) ** 2).sum(), (3, 4)),
    ("sum mean max axes", lambda x: (x.sum(axis=0) ** 2).sum() + x.mean(axis=1, keepdims=True)
     .sum() * 3.0 + np.max(x, axis=1).sum() + x.max(), (3, 4)),
    ("indexing", lambda x: (x[1:, ::2] ** 2).sum() + x[0, 1] * 3.0 + x[:, None, 2].sum()
     + (x[np.array([0, 2, 2])] ** 2).sum(), (3, 4)),
    ("reshape transpose", lambda x: (x.reshape(2, 6) @ np.ones((6, 2))).sum()
     + (x.T * np.arange(3.0)).sum() + np.transpose(x, (1, 0)).reshape(-1)[3], (3, 4)),
    ("where maximum minimum", lambda x: (nabla.where(x > 0.1, x * x, -x) + nabla.maximum(x, 0.2)
                                         + nabla.minimum(x, -0.1) * 2.0).sum(), (7,)),
    ("more elementwise, clip, min", lambda x: (np.log1p(x * x) + np.expm1(x) + np.square(x)
                                             + np.arctan(x) + np.clip(x, -0.5, 0.5)).sum()
     + x.min(axis=0).sum() + np.min(x) * 2.0, (3, 4)),
    ("concatenate stack", lambda x: (nabla.concatenate([x, x * 2.0], axis=0) ** 2).sum()
     + (nabla.stack([x, np.sin(x)], axis=1) * 1.5).sum(), (2, 3)),
]


@pytest.mark.parametrize("name, f, shape", OPS, ids=[o[0] for o in OPS])
def test_op_gradients_against_finite_differences(jit_mode, name, f, shape):
    x0 = RNG.standard_normal(shape) + 0.05
    x = nabla.array(x0, requires_grad=True)
    y = f(x)
    assert isinstance(y, nabla.Array) and y.shape == ()
    y.backward()
    np.testing.assert_allclose(float(y), f(x0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), fd_grad(f, x0), rtol=1e-5, atol=1e-7)


def test_shapes_and_dtypes_are_known_before_anything_runs():
    x = nabla.ones((2, 3), nabla.float32)
    y = (x @ nabla.ones((3, 5), nabla.float32)).sum(axis=0, keepdims=True)
    assert y.shape == (1, 5) and y.dtype == np.float32 and y.ndim == 2 and len(y) == 1
    assert y._node.value is None  # lazy: nothing computed yet
    assert (x > 0).dtype == bool and (nabla.arange(3) / 2).dtype == np.float64
    # Python numbers are weak, as NumPy takes them: a float32 array stays float32
    for weak in (x ** 2, 0 * x, 2 - x, nabla.where(x > 0, x, 0.0), np.clip(x, 0, 1)):
        assert weak.dtype == np.float32 == np.asarray(weak).dtype
    assert (nabla.arange(3) * 2).dtype == np.int64 and (nabla.arange(3) * 2.5).dtype == float
    np.testing.assert_array_equal(np.asarray(y), np.full((1, 5), 6.0, np.float32))


def test_accumulation_zero_grad_and_none():
    w = nabla.array([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    (3.0 * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.array([1.0, 2.0]) + 3.0)
    assert w.grad() is w.grad  # the seed's spelling
    w.zero_grad()
    assert w.grad is None
    (w * w).sum().backward()
    w.grad = None
    assert w.grad is None


def test_in_place_updates_keep_leaves_and_later_recordings():
    w = nabla.array([1.0, -2.0], requires_grad=True)
    loss = (w ** 2).sum()
    loss.backward()
    w -= 0.25 * w.grad()  # the seed's update: after backward, outside no_grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), [0.5, -1.0])
    assert float(loss) == 5.0  # what was computed before stays
    w.grad = None
    (w ** 2).sum().backward()  # a new recording reads the new value
    np.testing.assert_allclose(w.grad.numpy(), [1.0, -2.0])
    h = w * 2.0
    h += 1.0  # a non-leaf: rebound to the recorded result
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 0.0])


def test_in_place_update_while_a_graph_reads_the_leaf_is_refused():
    w = nabla.array([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with pytest.raises(InPlaceError, match="in-place operation") as e:
        w += 1.0
    assert "test_imperative.py" in str(e.value)  # the user's line
    with nabla.no_grad():  # allowed there; y still computes with the old value
        w += 1.0
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(w.numpy(), [2.0, 3.0])


def test_no_grad_records_nothing_to_differentiate():
    w = nabla.array([1.0, 2.0], requires_grad=True)
    with nabla.no_grad():
        y = (w * 3.0).sum()
    assert not y.requires_grad
    with pytest.raises(BackwardError, match="does not require grad"):
        y.backward()
    assert float(y) == 9.0


def test_backward_errors_as_pytorch_gives_them():
    w = nabla.array([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward()
    with pytest.raises(BackwardError, match="second time") as e:
        y.backward()
    assert "retain_graph=True" in str(e.value)
    z = (w * w).sum()
    z.backward(retain_graph=True)
    z.backward()  # retained once: a second backward is allowed, and accumulates
    np.testing.assert_allclose(w.grad.numpy(), 3 * 2 * np.array([1.0, 2.0]))
    v = w * w
    with pytest.raises(BackwardError, match="only for scalar outputs"):
        v.backward()
    w.grad = None
    v.backward(gradient=np.array([1.0, 10.0]))  # an explicit cotangent
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 40.0])


def test_backward_leaves_the_callers_cotangent_theirs():
    w = nabla.array([1.0, 2.0], requires_grad=True)
    cotangent = np.array([3.0, 4.0])
    w.backward(gradient=cotangent)  # a leaf: its gradient is the cotangent, copied
    assert cotangent.flags.writeable
    cotangent[0] = 0.0
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])


def test_shape_mismatch_names_the_users_line():
    a, b = nabla.ones((2, 3)), nabla.ones((4,))
    with pytest.raises(ShapeError, match=r"could not be broadcast.*\(2, 3\) \(4,\)") as e:
        a + b  # noqa: B018
    assert "test_imperative.py" in str(e.value) and "a + b" in str(e.value)
    with pytest.raises(ShapeError, match="core dimension"):
        a @ nabla.ones((2, 2))  # noqa: B018
    with pytest.raises(ShapeError, match="cannot reshape"):
        a.reshape(4, 2)


def test_numpy_functions_without_a_record_lose_no_gradient():
    w = nabla.array([0.5, -1.0, 2.0], requires_grad=True)
    # integers and booleans have no gradient to lose: computed on the values
    np.testing.assert_array_equal(np.argsort(w), [1, 0, 2])
    assert np.allclose(w, w.numpy())
    with pytest.raises(nabla.NablaError, match=r"np\.linalg\.norm is not recorded") as e:
        np.linalg.norm(w)  # a float: as a constant, its gradient would be silently lost
    assert "test_imperative.py" in str(e.value)
    with pytest.raises(nabla.NablaError, match="np.cumsum"):
        np.cumsum(w * 2.0)
    assert np.linalg.norm(w.detach()) == pytest.approx(np.sqrt(5.25))
    with nabla.no_grad():
        assert np.cumsum(w)[-1] == pytest.approx(1.5)


def test_printing_item_and_numpy_compute():
    x = nabla.array([[1.0, 2.0]]) * 2.0
    assert str(x) == "[[2. 4.]]" and repr(x) == "Array([[2., 4.]])"
    assert x.sum().item() == 6.0 and float(x[0, 1]) == 4.0
    assert isinstance(x.numpy(), np.ndarray) and not x.numpy().flags.writeable
    d = x.detach()
    assert d.is_leaf and not d.requires_grad


def test_second_training_step_transforms_and_compiles_nothing():
    nabla.seed(1)
    model = nabla.nn.MLP([2, 16, 3])
    opt = nabla.optim.SGD(model.parameters(), lr=0.1)
    x = nabla.randn((8, 2))
    labels = np.arange(8) % 3

    def step():
        opt.zero_grad()
        loss = nabla.nn.softmax_cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return float(loss)

    first = step()
    before = nabla.stats()
    second = step()
    assert nabla.stats() == before
    assert second < first


def test_seed_example_gradients_equal_nabla_grad(jit_mode):
    # the example asserts that its gradients equal nabla.grad's of the same function
    ns = runpy.run_path(str(EXAMPLES / "imperative_mlp_step.py"), run_name="__main__")
    assert ns["weight"].grad.dtype == np.float32 and ns["bias"].grad.shape == (2, 4)
    assert ns["weight"].is_leaf and ns["weight"].requires_grad  # updated in place, still a leaf


def test_source_is_readable_with_the_users_names():
    w = nabla.array([1.0, 2.0], requires_grad=True)
    scaled = w * 3.0
    total = nabla.sum(np.tanh(scaled))
    text = nabla.source(total)
    assert "def program(w, c1):" in text and "scaled = w * c1" in text
    assert "total = np.sum(" in text and "# " in text and "test_imperative.py" in text
    total.backward()
    assert "w_bar" in total.source()  # after backward: the derivative


def test_transforms_take_arrays():
    x = nabla.randn((2, 3), nabla.float32)
    h = nabla.jacfwd(nabla.jacrev(nabla.vmap(lambda_free_foo)))(x)
    assert isinstance(h, np.ndarray) and h.shape == (2, 2, 3, 2, 3)


def lambda_free_foo(x):
    return nabla.sum(nabla.sin(x))


# -- nn and optim ------------------------------------------------------------------------------
def test_state_dict_save_and_load(tmp_path):
    nabla.seed(3)
    a, b = nabla.nn.MLP([3, 4, 2]), nabla.nn.MLP([3, 4, 2])
    path = tmp_path / "model.npz"
    a.save(path)
    b.load(path)
    x = nabla.randn((5, 3), nabla.float32)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert list(a.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.2.weight",
                                    "layers.2.bias"]
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({**a.state_dict(), "layers.0.bias": np.zeros(7)})


def test_losses():
    p = nabla.array([[1.0, 2.0], [0.5, -1.0]])
    t = np.array([[0.0, 2.0], [1.0, 1.0]])
    assert float(nabla.nn.mse_loss(p, t)) == pytest.approx(np.mean((p.numpy() - t) ** 2))
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    want = -np.mean(np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))[[0, 1],
                                                                                  [0, 2]])
    got = nabla.nn.softmax_cross_entropy(nabla.array(logits), np.array([0, 2]))
    assert float(got) == pytest.approx(want)


def numpy_sgd(ps, gs, steps, lr, momentum, wd):
    bufs = [None] * len(ps)
    for _ in range(steps):
        for k, (p, g) in enumerate(zip(ps, gs(ps))):
            g = g + wd * p
            bufs[k] = g if bufs[k] is None else momentum * bufs[k] + g
            ps[k] = p - lr * bufs[k]
    return ps


def numpy_adam(ps, gs, steps, lr, b1, b2, eps):
    m = [np.zeros_like(p) for p in ps]
    v = [np.zeros_like(p) for p in ps]
    for t in range(1, steps + 1):
        for k, (p, g) in enumerate(zip(ps, gs(ps))):
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            ps[k] = p - lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
    return ps


def quad_grads(ps):  # the gradient of sum(p ** 2 * c) per parameter
    return [2 * p * c for p, c in zip(ps, (1.0, 3.0))]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimizers_in_both_styles_against_numpy(kind):
    init = [np.array([1.0, -2.0]), np.array([[0.5, 0.25]])]
    if kind == "sgd":
        want = numpy_sgd([p.copy() for p in init], quad_grads, 4, 0.1, 0.9, 0.01)
    else:
        want = numpy_adam([p.copy() for p in init], quad_grads, 4, 0.1, 0.9, 0.999, 1e-8)
    ws = [nabla.array(p, requires_grad=True) for p in init]
    opt = nabla.optim.SGD(ws, lr=0.1, momentum=0.9, weight_decay=0.01) if kind == "sgd" \
        else nabla.optim.Adam(ws, lr=0.1)
    for _ in range(4):
        opt.zero_grad()
        ((ws[0] ** 2).sum() + ((ws[1] ** 2) * 3.0).sum()).backward()
        opt.step()
    for w, p in zip(ws, want):
        np.testing.assert_allclose(w.numpy(), p, rtol=1e-12)
    params = {"a": init[0], "b": init[1]}
    if kind == "sgd":
        state = nabla.optim.sgd_init(params)
    else:
        state = nabla.optim.adam_init(params)
    for _ in range(4):
        g = dict(zip(("a", "b"), quad_grads([params["a"], params["b"]])))
        if kind == "sgd":
            params, state = nabla.optim.sgd_update(params, g, state, lr=0.1, momentum=0.9,
                                                   weight_decay=0.01)
        else:
            params, state = nabla.optim.adam_update(params, g, state, lr=0.1)
    np.testing.assert_allclose(params["a"], want[0], rtol=1e-12)
    np.testing.assert_allclose(params["b"], want[1], rtol=1e-12)
    np.testing.assert_array_equal(init[0], [1.0, -2.0])  # nothing updated in place


# -- the examples ------------------------------------------------------------------------------
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_seed_example_runs_as_written(capsys):
    runpy.run_path(str(EXAMPLES / "imperative_mlp_step.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.startswith("Loss: ") and "gradients equal nabla.grad's" in out
    assert "def program(input, weight, bias, label):" in out  # the user's names


def test_training_example_learns_the_spirals(monkeypatch, capsys):
    sys.path.insert(0, str(EXAMPLES))
    try:
        example = runpy.run_path(str(EXAMPLES / "train_mlp_imperative.py"))
    finally:
        sys.path.remove(str(EXAMPLES))
    example["main"].__globals__["EPOCHS"] = 12
    assert example["main"]() >= 0.95
    assert "final training accuracy" in capsys.readouterr().out


def test_a_value_made_under_no_grad_is_a_constant_to_backward():
    """Made lazily under no_grad from an Array that requires grad, it still carried the
    gradient through its recorded operations (found by a zoo audit)."""
    a0 = np.array([1.0, 2.0, 3.0])
    a = nabla.array(a0, requires_grad=True)
    with nabla.no_grad():
        k = (a * 2.0).sum()
    (a * k).sum().backward()
    np.testing.assert_allclose(a.grad().numpy(), np.full(3, 2.0 * a0.sum()))

    @nabla.no_grad()
    def doubled_total(x):
        return (x * 2.0).sum()

    b = nabla.array(a0, requires_grad=True)
    (b * doubled_total(b) + b * b).sum().backward()
    np.testing.assert_allclose(b.grad().numpy(), 2.0 * a0.sum() + 2.0 * a0)
