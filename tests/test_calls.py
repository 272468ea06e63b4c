"""Calls to the user's own functions: each is transformed once per pattern of
differentiated arguments into functions of the generated module (``h``, ``h_jvp``,
``h_vjp``), shared by every call site, through any depth, with tuple returns,
free values and functions from other modules; checked against central finite
differences with Numba off and on."""

import numpy as np
import pytest
import user_module
from fd import assert_close, numerical_grad, numerical_jvp

import nabla

VEC = np.array([0.3, -0.7, 1.1])
OFFSET = np.array([0.5, -0.25, 2.0])


def _poly(a, b):
    return a * a * b + np.sin(b)


def two_sites(x, y):
    """The same function at two call sites with the same active arguments."""
    return _poly(x, y) * _poly(y, x)


def two_patterns(x, y):
    """The same function with different active arguments: one vjp per pattern."""
    return _poly(x, 2.0) + _poly(x, y) + _poly(3.0, y)


def _rotate(u, v, th):
    c = np.cos(th)
    s = np.sin(th)
    return c * u - s * v, s * u + c * v


def rotations(u, v, th, n):
    """A tuple returned in a loop and unpacked into the loop's carried values."""
    for i in range(n):
        u, v = _rotate(u, v, th * (i + 1))
        u = u * 0.9 + 0.1 * v * v
    return u + 2.0 * v


def _stats(x):
    m = np.mean(x)
    return m, np.sum((x - m) ** 2)


def tuple_read_whole(x):
    r = _stats(x)
    return r[0] * r[1] + _stats(x * x)[1]


def _branchy_loop(a, n):
    acc = 0.0
    for i in range(n):
        if acc > 1.0:
            break
        if a > 0.0:
            acc = acc + a * (i + 1)
        else:
            acc = acc - np.sin(a) * i
    return acc


def _fill(x, m):
    out = np.zeros(m)
    for i in range(m):
        out[i] = np.tanh(x * (i + 1))
    return out


def control_flow_in_callees(x, n):
    """Callees with loops, branches, a break and writes; the caller writes into the
    array one of them returns."""
    h = _fill(x, n)
    h[0] = h[0] * _branchy_loop(x, n)
    return np.sum(h * h) + _branchy_loop(-x, n)


def _inner(a):
    return np.exp(-a * a)


def _middle(a, b):
    return _inner(a + b) * b


def _outer(a):
    return _middle(a, OFFSET) + _inner(a)


def four_deep(x):
    return np.sum(_outer(x) * x)


def _make_scaler(c):
    def scaler(a):
        return a * c + OFFSET

    return scaler


_scale_by_3 = _make_scaler(3.0)


def closure_and_module(x):
    """A closure (its cell read at every call) and a function from another module."""
    return np.sum(_scale_by_3(x) ** 2) + user_module.damped(x[0], x[1])


def _pair_of_pairs(a):
    return (a, a * a), np.sin(a)


def nested_tuple(x):
    pq, r = _pair_of_pairs(x)
    p, q = pq
    return p * q + r


def _sum_pair(t):
    return t[0] * t[1]


def tuple_argument(x, y):
    return _sum_pair((x, y)) + x


def call_in_loop_with_rows(x, W, T):
    """An RNN whose step is a function of the user's, writing rows of a state array."""
    h = np.zeros((T + 1, x.shape[0]))
    h[0] = x
    for t in range(T):
        h[t + 1] = _cell(h[t], W)
    return np.sum(h[T] ** 2)


def _cell(h, W):
    return np.tanh(W @ h + 0.1)


W3 = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]])

CASES = [
    (two_sites, (0.7, -0.4), 0),
    (two_sites, (0.7, -0.4), 1),
    (two_patterns, (0.7, -0.4), 0),
    (two_patterns, (0.7, -0.4), 1),
    (rotations, (0.8, -0.3, 0.4, 5), 0),
    (rotations, (0.8, -0.3, 0.4, 5), 2),
    (tuple_read_whole, (VEC,), 0),
    (control_flow_in_callees, (0.3, 4), 0),
    (control_flow_in_callees, (-0.3, 4), 0),
    (four_deep, (VEC,), 0),
    (closure_and_module, (VEC,), 0),
    (nested_tuple, (0.6,), 0),
    (tuple_argument, (0.6, -1.2), 0),
    (tuple_argument, (0.6, -1.2), 1),
    (call_in_loop_with_rows, (VEC, W3, 4), 0),
    (call_in_loop_with_rows, (VEC, W3, 4), 1),
]


def _id(case):
    f, args, argnum = case
    return f"{f.__name__}-{argnum}"


def _tangents(args, argnum):
    out = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            out.append(np.linspace(0.5, 1.5, a.size).reshape(a.shape) if i == argnum
                       else np.zeros_like(a))
        elif isinstance(a, float):
            out.append(1.0 if i == argnum else 0.0)
        else:
            out.append(0)
    return out


# Numba compiles every generated module in seconds: one case of each kind runs under it
COMPILED = {"two_sites-0", "rotations-0", "control_flow_in_callees-0", "four_deep-0",
            "closure_and_module-0", "nested_tuple-0", "call_in_loop_with_rows-1"}
RUNS = [pytest.param(c, jit, id=f"{'numba' if jit else 'python'}-{_id(c)}")
        for i, c in enumerate(CASES) for jit in (False, "strict")
        if not jit or (_id(c) in COMPILED and _id(c) not in [_id(d) for d in CASES[:i]])]


@pytest.mark.parametrize("case, jit", RUNS)
def test_grad_and_jvp_match_finite_differences(case, jit, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", jit)
    f, args, argnum = case
    copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    g = nabla.grad(f, argnums=argnum)(*args)
    assert_close(g, numerical_grad(f, list(args), argnum), rtol=1e-5, atol=1e-6)
    tangents = _tangents(args, argnum)
    out, out_dot = nabla.jvp(f, args, tuple(tangents))
    assert_close(out, f(*args), rtol=1e-12, atol=1e-12)
    fd_t = [t if not isinstance(a, int) else None for a, t in zip(args, tangents)]
    assert_close(out_dot, numerical_jvp(f, list(args), fd_t), rtol=1e-5, atol=1e-6)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)


def test_vjp_and_jit_call_the_shared_functions(jit_mode):
    out, back = nabla.vjp(rotations, 0.8, -0.3, 0.4, 5)
    assert_close(out, rotations(0.8, -0.3, 0.4, 5))
    gu, gv, gth, _ = back(2.0)
    args = [0.8, -0.3, 0.4, 5]
    assert_close(gu, 2.0 * numerical_grad(rotations, args, 0), rtol=1e-5)
    assert_close(gth, 2.0 * numerical_grad(rotations, args, 2), rtol=1e-5)
    assert_close(nabla.jit(four_deep)(VEC), four_deep(VEC), rtol=1e-12)
    assert "def _outer(" in nabla.jit(four_deep).source


def _defined(source: str) -> list[str]:
    return [line[4:line.index("(")] for line in source.split("\n") if line.startswith("def ")]


def test_a_function_is_transformed_once_and_shared_by_its_call_sites():
    grad_source = nabla.source(two_sites, mode="grad", argnums=(0, 1))
    # its forward function keeps what its backward function reads: the primal is not
    # computed twice
    assert _defined(grad_source) == ["two_sites_grad", "_poly_vjp", "_poly_vjp_bwd"]
    assert grad_source.count("_poly_vjp(") == 3  # its definition and two call sites
    assert grad_source.count("_poly_vjp_bwd(") == 3
    jvp_source = nabla.source(two_sites, mode="jvp")
    assert _defined(jvp_source) == ["two_sites_jvp", "_poly_jvp"]


def test_each_pattern_of_active_arguments_gets_its_own_function():
    names = _defined(nabla.source(two_patterns, mode="grad", argnums=(0, 1)))
    assert sorted(names) == ["_poly_vjp", "_poly_vjp_a", "_poly_vjp_a_bwd", "_poly_vjp_b",
                             "_poly_vjp_b_bwd", "_poly_vjp_bwd", "two_patterns_grad"]
    names = _defined(nabla.source(two_patterns, mode="jvp"))
    assert sorted(names) == ["_poly_jvp", "_poly_jvp_a", "_poly_jvp_b", "two_patterns_jvp"]


def test_every_depth_of_calls_is_shared():
    names = _defined(nabla.source(four_deep, mode="grad"))
    assert names[0] == "four_deep_grad"
    assert {"_outer_vjp", "_middle_vjp_a", "_inner_vjp"} <= set(names)


def test_a_closure_cell_is_read_at_every_call(jit_mode):
    g = nabla.grad(closure_and_module)
    before = g(VEC)
    cell = _scale_by_3.__closure__[0]
    old = cell.cell_contents
    try:
        cell.cell_contents = 5.0
        assert_close(g(VEC), numerical_grad(closure_and_module, [VEC], 0), rtol=1e-5)
        assert not np.allclose(g(VEC), before)
    finally:
        cell.cell_contents = old


def test_a_module_constant_of_another_module_is_read_at_every_call(jit_mode):
    g = nabla.grad(closure_and_module)
    old = user_module.GAIN
    try:
        user_module.GAIN = 4.0
        assert_close(g(VEC), numerical_grad(closure_and_module, [VEC], 0), rtol=1e-5)
    finally:
        user_module.GAIN = old


def carried_tuple(x, n):
    r = _rotate(x, 1.0, 0.3)
    for i in range(n):
        r = _rotate(r[0], r[1], 0.3)
    return r[0]


def tuple_out_of_loop(x, n):
    for i in range(n):
        r = (x * i, x)
    return r[0] + r[1]


def joined_tuples(x):
    if x > 0.0:
        r = _rotate(x, x * x, 0.3)
    else:
        r = (x * x, 2.0)
    return r[0] * r[1]


@pytest.mark.parametrize("fn", [carried_tuple, tuple_out_of_loop])
def test_a_tuple_carried_by_a_loop_is_refused(fn):
    for transform in (nabla.grad, nabla.jit):
        with pytest.raises(nabla.UnsupportedSyntaxError) as e:
            transform(fn)(0.5, 3)
        assert "carried" in e.value.message and "a, b =" in e.value.hint
        assert e.value.line.strip() == "for i in range(n):"


@pytest.mark.parametrize("x", [0.7, -0.7])
def test_tuples_joined_by_a_branch_are_read_element_wise(x, jit_mode):
    assert_close(nabla.grad(joined_tuples)(x), numerical_grad(joined_tuples, [x], 0),
                 rtol=1e-6)
    out, out_dot = nabla.jvp(joined_tuples, (x,), (1.0,))
    assert_close(out, joined_tuples(x))
    assert_close(out_dot, numerical_jvp(joined_tuples, [x], [1.0]), rtol=1e-6)


def _slice_write_loop(x):
    h = np.zeros(4)
    for i in range(2):
        if x > -10.0:
            h[i:i + 2] = x + h[i:i + 2]
    return np.sum(h)


def calls_slice_writer(x):
    return _slice_write_loop(x) * 2.0


def test_a_refusal_inside_a_callee_names_the_callee_line():
    with pytest.raises(nabla.NotDifferentiableError) as e:
        nabla.grad(calls_slice_writer)(0.5)
    assert e.value.line.strip() == "h[i:i + 2] = x + h[i:i + 2]"
    assert e.value.filename.endswith("test_calls.py")


def test_editing_a_function_of_another_module_is_seen_by_the_disk_cache(tmp_path,
                                                                        monkeypatch):
    import importlib
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "edited_helpers.py").write_text("def h(a):\n    return a * 2.0\n")
    (tmp_path / "edited_main.py").write_text(
        "import edited_helpers\n\n\ndef f(x):\n    return edited_helpers.h(x) * x\n")
    import edited_helpers
    import edited_main

    assert_close(nabla.grad(edited_main.f)(1.5), 6.0)
    (tmp_path / "edited_helpers.py").write_text("def h(a):\n    return a * 3.25\n")
    importlib.reload(edited_helpers)
    assert_close(nabla.grad(edited_main.f)(1.5), 9.75)


def tuple_of_a_loop_variable(x, n):
    r = (x, 1.0)
    for i in range(n):
        x = x * 2.0 + r[0]
    return x + r[0] * r[1]


def test_a_tuple_keeps_the_value_a_loop_variable_had_when_it_was_made(jit_mode):
    assert_close(nabla.jit(tuple_of_a_loop_variable)(0.5, 3), tuple_of_a_loop_variable(0.5, 3))
    assert_close(nabla.grad(tuple_of_a_loop_variable)(0.5, 3),
                 numerical_grad(tuple_of_a_loop_variable, [0.5, 3], 0))


def doubled(x):
    return x * 2.0


def reads_elements_of_a_returned_array(x):
    y = doubled(x)
    return y[0] * y[1]


def test_constant_index_into_an_array_a_callee_returned(jit_mode):
    # an element of an array (not of a returned tuple): this crashed the shape analysis
    x = np.array([0.5, 1.5, 2.0])
    g = nabla.grad(reads_elements_of_a_returned_array)(x)
    np.testing.assert_allclose(g, [4.0 * x[1], 4.0 * x[0], 0.0])
