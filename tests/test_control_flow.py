"""Branches, loops, early returns: reverse and forward mode against central finite
differences, with Numba off and in strict mode."""

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jvp

import nabla

# -- the functions ------------------------------------------------------------------------


def branchy(a, b):
    if a > b:
        c = a * b
    else:
        c = a + b * b
    return c * a


def elif_chain(x):
    if x < -1.0:
        y = -x * x
    elif x < 1.0:
        y = np.sin(x)
    else:
        y = x ** 3
    return y * 2.0


def conditional_expression(x, y):
    z = x * y if x > y else x + y
    return z * z if (x > 0 and y > 0) or not x < -5 else z


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.01 * np.sin(x) * x
    return x


def loop_with_step(x):
    s = 0.0
    for i in range(10, 1, -3):
        s = s + x * i + np.cos(s)
    return s


def loop_over_rows(A, w):
    s = 0.0
    for row in A:
        s = s + np.sum(row * w) ** 2
    return s


def loop_enumerate_zip(a, b):
    s = 0.0
    for i, ai in enumerate(a):
        s = s + i * ai * ai
    for ai, bi in zip(a, b):
        s = s + np.tanh(ai * bi)
    return s


def while_input_dependent(x):
    n = 0
    while x > 1.0:
        x = x / 2.0 + 0.1 * x
        n += 1
    return x * n


def break_and_continue(x):
    s = 0.0
    for i in range(20):
        if i % 3 == 0:
            continue
        s = s + np.sin(x * i)
        if s > 2.0:
            break
    return s


def nested_loops_with_break(x, n):
    acc = 0.0
    for i in range(n):
        y = x * (i + 1)
        for j in range(5):
            y = np.sin(y) + x
            if y > 1.2:
                break
            y = y * 1.1
        acc = acc + y
    return acc


def branch_in_loop(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0:
            s = s + x[i] ** 2
        else:
            s = s - np.sin(x[i])
    return s


def loop_in_branch(x, n):
    if x > 0:
        for i in range(n):
            x = x * 0.9 + np.sin(x)
    else:
        x = -x
    return x


def early_returns(x):
    if x > 2.0:
        return x * 3.0
    if x < -2.0:
        return np.exp(x)
    y = x * x
    return y + x


def return_in_loop(x):
    for i in range(10):
        x = x * 1.3 + 0.1
        if x > 5.0:
            return x * i
    return -x


def horner(coeffs, x):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def logsumexp_loop(x):
    m = x[0]
    for i in range(1, len(x)):
        if x[i] > m:
            m = x[i]
    s = 0.0
    for i in range(len(x)):
        s = s + np.exp(x[i] - m)
    return m + np.log(s)


def euler(y0, k, n):
    y = y0
    dt = 0.1
    for i in range(n):
        y = y + dt * (-k * y + np.sin(y))
    return y


def rk4(y0, k, n):
    y = y0
    h = 0.05
    for i in range(n):
        k1 = -k * y
        k2 = -k * (y + 0.5 * h * k1)
        k3 = -k * (y + 0.5 * h * k2)
        k4 = -k * (y + h * k3)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y * y)


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def array_loop(x, n):
    for i in range(n):
        x = np.tanh(x * 1.5) + 0.1 * x
    return np.sum(x)


rng = np.random.default_rng(1)
VEC = rng.uniform(-1.0, 1.0, 5)
MAT = rng.uniform(-1.0, 1.0, (3, 4))

CASES = [
    (branchy, (1.5, 0.7), 0),
    (branchy, (0.2, 0.7), 1),
    (elif_chain, (-1.5,), 0),
    (elif_chain, (0.3,), 0),
    (elif_chain, (1.7,), 0),
    (conditional_expression, (1.3, 0.4), 0),
    (conditional_expression, (-0.5, 0.4), 1),
    (scalar_loop, (0.8, 50), 0),
    (loop_with_step, (0.3,), 0),
    (loop_over_rows, (MAT, VEC[:4]), 1),
    (loop_over_rows, (MAT, VEC[:4]), 0),
    (loop_enumerate_zip, (VEC, VEC[::-1].copy()), 0),
    (while_input_dependent, (7.3,), 0),
    (break_and_continue, (0.4,), 0),
    (nested_loops_with_break, (0.3, 4), 0),
    (branch_in_loop, (VEC,), 0),
    (loop_in_branch, (0.6, 5), 0),
    (loop_in_branch, (-0.6, 5), 0),
    (early_returns, (2.5,), 0),
    (early_returns, (-2.5,), 0),
    (early_returns, (0.5,), 0),
    (return_in_loop, (0.5,), 0),
    (return_in_loop, (-3.0,), 0),
    (horner, (VEC, 0.7), 0),
    (horner, (VEC, 0.7), 1),
    (logsumexp_loop, (VEC,), 0),
    (euler, (0.5, 0.3, 30), 0),
    (euler, (0.5, 0.3, 30), 1),
    (rk4, (VEC, 0.7, 10), 0),
    (rk4, (VEC, 0.7, 10), 1),
    (rosenbrock, (VEC,), 0),
    (array_loop, (VEC, 4), 0),
]


def _id(case):
    f, args, argnum = case
    return f"{f.__name__}-{argnum}-{args[0] if np.isscalar(args[0]) else 'arr'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradient_matches_finite_differences(case, jit_mode):
    f, args, argnum = case
    copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    g = nabla.grad(f, argnums=argnum)(*args)
    assert_close(g, numerical_grad(f, list(args), argnum), rtol=1e-5, atol=1e-6)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_jvp_matches_finite_differences(case, jit_mode):
    f, args, argnum = case
    tangents = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            tangents.append(np.linspace(0.5, 1.5, a.size).reshape(a.shape) if i == argnum
                            else np.zeros_like(a))
        elif isinstance(a, float):
            tangents.append(1.0 if i == argnum else 0.0)
        else:
            tangents.append(0)
    out, out_dot = nabla.jvp(f, args, tuple(tangents))
    assert_close(out, f(*args), rtol=1e-12, atol=1e-12)
    fd_tangents = [t if not isinstance(a, int) else None for a, t in zip(args, tangents)]
    assert_close(out_dot, numerical_jvp(f, list(args), fd_tangents), rtol=1e-5, atol=1e-6)


def test_vjp_of_a_loop_reuses_its_forward_pass(jit_mode):
    out, vjp_fun = nabla.vjp(euler, 0.5, 0.3, 30)
    assert_close(out, euler(0.5, 0.3, 30))
    for ct in (1.0, -2.0):
        g0, g1, _ = vjp_fun(ct)
        assert_close(g0, ct * numerical_grad(euler, [0.5, 0.3, 30], 0))
        assert_close(g1, ct * numerical_grad(euler, [0.5, 0.3, 30], 1))


def test_trip_count_depends_on_input(jit_mode):
    g = nabla.grad(while_input_dependent)
    for x in (1.7, 5.3, 40.0):
        assert_close(g(x), numerical_grad(while_input_dependent, [x]))


def test_adjoint_of_a_loop_runs_backwards_with_a_tape():
    src = nabla.source(scalar_loop, mode="grad")
    assert "x_tape = tape_like(x, " in src
    # the loop's own index counts its iterations (range(0, n, 1), i never assigned)
    assert "x_tape[i] = tape_entry(x, x_tape)" in src  # x's rank is not known here
    assert "for i in range(" in src and "- 1, -1, -1)" in src
    assert "x = x_tape[i]" in src


def test_loops_stay_loops_and_branches_stay_branches():
    src = nabla.source(branch_in_loop, mode="grad")
    body = src.split("def branch_in_loop_grad")[1]
    assert body.count("for ") == 2  # forward loop, backward loop
    assert body.count("if ") >= 2
    assert "while" not in body


def test_writing_into_an_argument_is_refused():
    def write_arg(x):
        x[0] = 1.0
        return np.sum(x)

    with pytest.raises(nabla.UnsupportedSyntaxError) as e:
        nabla.grad(write_arg)(np.ones(3))
    assert "caller" in e.value.message and e.value.hint


def rnn_forward(x, W, T):
    h = np.zeros((T + 1, x.shape[0]))
    h[0] = x
    for t in range(T):
        h[t + 1] = np.tanh(W @ h[t])
    return np.sum(h[T])


def test_rnn_writing_rows_forward_mode(jit_mode):
    x = VEC[:3].copy()
    W = MAT[:, :3].copy()
    v = np.linspace(0.2, 1.0, 3)
    out, out_dot = nabla.jvp(rnn_forward, (x, W, 4), (v, np.zeros_like(W), 0))
    assert_close(out, rnn_forward(x, W, 4))
    assert_close(out_dot, numerical_jvp(rnn_forward, [x, W, 4], [v, np.zeros_like(W), None]))


def test_rnn_writing_rows_reverse_mode(jit_mode):
    x = VEC[:3].copy()
    W = MAT[:, :3].copy()
    for argnum in (0, 1):
        g = nabla.grad(rnn_forward, argnums=argnum)(x, W, 4)
        assert_close(g, numerical_grad(rnn_forward, [x, W, 4], argnum))


def accumulate_into(x, idx):
    acc = np.zeros(3)
    for i in range(len(idx)):
        acc[idx[i]] += x[i] * x[i]
        acc[0] = acc[0] * 0.5 + np.sin(acc[idx[i]])
    return np.sum(acc * np.array([1.0, 2.0, 3.0]))


def top_level_writes(x):
    y = np.zeros(4)
    y[0] = x[0] * 2.0
    y[1:3] = x[1:3] ** 2
    z = np.sum(y * y)
    y[0] = np.sin(z)
    return np.sum(y) + z


def test_writes_that_read_what_they_overwrite(jit_mode):
    x = VEC.copy()
    idx = np.array([0, 2, 2, 1, 0])
    g = nabla.grad(accumulate_into)(x, idx)
    assert_close(g, numerical_grad(accumulate_into, [x, idx], 0))


def test_writes_at_top_level(jit_mode):
    x = VEC[:4].copy()
    assert_close(nabla.grad(top_level_writes)(x), numerical_grad(top_level_writes, [x]))


def writes_in_nested_loop(x):
    h = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            h[i, j] = x[i] * x[j]
    return np.sum(h * h)


def stencil_rows(x, n):
    # each row of the state depends on the one before, written element by element
    a = np.zeros((n, x.shape[0]))
    for j in range(x.shape[0]):
        a[0, j] = x[j]
    for i in range(1, n):
        for j in range(x.shape[0]):
            a[i, j] = np.tanh(a[i - 1, j] * 1.1 + 0.1 * a[i - 1, (j + 1) % x.shape[0]])
    return np.sum(a[n - 1] ** 2)


def writes_in_branches_of_a_loop(x):
    h = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        if x[i] > 0:
            h[i] = x[i] * x[i]
        else:
            h[i] = np.sin(x[i])
        h[i] = h[i] * 2.0 + 1.0
    return np.sum(h * x)


def overwrites_in_nested_loops(x, n):
    a = np.zeros(3)
    for k in range(n):
        for i in range(3):
            a[i] = np.cos(a[i] + x[i] * a[(i + 1) % 3]) + x[i]
    return np.sum(a)


def writes_in_a_while_in_a_loop(x):
    a = np.zeros(4)
    s = 0.0
    for i in range(4):
        k = 0
        while k < 3 and a[i] < 5.0:
            a[i] = a[i] * 0.5 + np.sin(x[i] * k) + 1.0
            k += 1
        s = s + a[i] * x[i]
    return s


@pytest.mark.parametrize("fn, extra", [(writes_in_nested_loop, ()), (stencil_rows, (3,)),
                                       (writes_in_branches_of_a_loop, ()),
                                       (overwrites_in_nested_loops, (3,)),
                                       (writes_in_a_while_in_a_loop, ())],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_writes_in_nested_loops_and_branches_of_loops(jit_mode, fn, extra):
    x = VEC[:4].copy() if fn is not writes_in_nested_loop else VEC[:3].copy()
    x0 = x.copy()
    g = nabla.grad(fn)(x, *extra)
    assert_close(g, numerical_grad(fn, [x, *extra], 0))
    np.testing.assert_array_equal(x, x0)
    out, out_dot = nabla.jvp(fn, (x, *extra), (np.ones_like(x),) + tuple(0 for _ in extra))
    assert_close(out_dot, np.sum(numerical_grad(fn, [x, *extra], 0)))


def slice_write_in_loop(x):
    h = np.zeros((3, 3))
    for i in range(3):
        h[i, :] = x * x[i]
    return np.sum(h)


def row_write_in_nested_loop(x):
    h = np.zeros((3, 3))
    for k in range(2):
        for i in range(3):
            h[i] = x * x[i] + h[i]
    return np.sum(h)


def slice_write_in_a_branch_of_a_loop(x):
    h = np.zeros((3, 3))
    for i in range(3):
        if x[i] > -10.0:
            h[i, :] = x * x[i] + h[i, :]
    return np.sum(h * h)


def test_slice_writes_in_a_loops_body(jit_mode):
    x = VEC[:3].copy()
    assert_close(nabla.grad(slice_write_in_loop)(x), numerical_grad(slice_write_in_loop, [x]))


def test_writes_reverse_mode_cannot_handle_are_refused():
    with pytest.raises(nabla.NotDifferentiableError) as e:
        nabla.grad(slice_write_in_a_branch_of_a_loop)(VEC[:3].copy())
    assert "slice" in e.value.message and "jvp" in e.value.hint
    assert "test_control_flow.py" in str(e.value)


def test_row_writes_in_nested_loops_are_refused_when_run(monkeypatch):
    # the array's number of dimensions is known only when it runs: a row, not an element
    monkeypatch.setattr(nabla.config, "jit", False)
    with pytest.raises(ValueError, match="element by element"):
        nabla.grad(row_write_in_nested_loop)(VEC[:3].copy())


# -- calls to the user's own functions ----------------------------------------------------
SCALE = np.array([1.0, 2.0, 0.5])


def _square_plus(a, b):
    return a * a + b


def _two_outputs(a):
    return np.sin(a), np.cos(a) * SCALE[0]


def _depth3(a):
    return _square_plus(a, 1.0) * 2.0


def _depth2(a):
    s, c = _two_outputs(a)
    return _depth3(s) + c


def calls_chain(x):
    return _depth2(x) * _square_plus(x, x)


def call_in_loop(x, n):
    acc = 0.0
    for i in range(n):
        acc = acc + _square_plus(np.sin(x * i), acc * 0.1)
    return acc


def _scaled(v):
    return np.sum(v * SCALE)


def call_with_global(v):
    return _scaled(v * v)


CALL_CASES = [(calls_chain, (0.7,), 0), (call_in_loop, (0.4, 5), 0),
              (call_with_global, (np.array([0.3, -0.2, 0.9]),), 0)]


@pytest.mark.parametrize("case", CALL_CASES, ids=[_id(c) for c in CALL_CASES])
def test_calls_to_user_functions(case, jit_mode):
    f, args, argnum = case
    g = nabla.grad(f, argnums=argnum)(*args)
    assert_close(g, numerical_grad(f, list(args), argnum), rtol=1e-5, atol=1e-6)
    tangents = [np.ones_like(a) if isinstance(a, np.ndarray) else (1.0 if i == argnum else 0)
                for i, a in enumerate(args)]
    out, out_dot = nabla.jvp(f, args, tuple(tangents))
    fd_t = [t if not isinstance(a, int) else None for a, t in zip(args, tangents)]
    assert_close(out_dot, numerical_jvp(f, list(args), fd_t), rtol=1e-5, atol=1e-6)


def test_a_global_read_by_a_called_function_is_read_at_every_call(jit_mode):
    global SCALE
    v = np.array([0.3, -0.2, 0.9])
    g = nabla.grad(call_with_global)
    first = g(v)
    old = SCALE
    try:
        SCALE = old * 3.0
        assert_close(g(v), 3.0 * first)
    finally:
        SCALE = old


def _recursive(x):
    return _recursive(x * 0.5)


def calls_recursive(x):
    return _recursive(x)


def test_recursion_is_refused():
    with pytest.raises(nabla.NotDifferentiableError) as e:
        nabla.grad(calls_recursive)(1.0)
    assert "recursion" in e.value.message and e.value.hint


def test_a_vjp_function_of_a_function_with_writes_can_be_called_again(jit_mode):
    from golden_functions import grid_writes

    x = np.array([0.3, -0.2, 0.5])
    out, back = nabla.vjp(grid_writes, x, 3)
    first = back(1.0)[0]
    assert_close(back(1.0)[0], first)
    assert_close(back(-2.0)[0], -2.0 * first)
    assert_close(first, numerical_grad(grid_writes, [x, 3], 0))


def assigned_in_loop_read_after(x):
    s = 0.0
    for i in range(3):
        t = np.sin(x * (i + 1))
        s = s + t
    return s + t * 2.0


def assigned_in_inner_loop_read_in_outer(x, n):
    s = 0.0
    for i in range(n):
        for j in range(2):
            t = np.cos(x * (i + j + 1))
            s = s + 0.5 * t
        s = s * t
    return s + t


@pytest.mark.parametrize("fn, args", [(assigned_in_loop_read_after, (0.7,)),
                                      (assigned_in_inner_loop_read_in_outer, (0.7, 3))])
def test_a_value_assigned_in_a_loop_and_read_after_it(fn, args, jit_mode):
    # its cotangent from after the loop belongs to the last iteration's value only
    assert_close(nabla.grad(fn)(*args), numerical_grad(fn, list(args), 0))


def settle(k, x0, n):
    x = x0
    v = 0.0
    for i in range(n):
        v = v - 0.1 * k * x
        x = x + 0.1 * v
    return x, v


def settle_value(k, x0, n):
    return settle(k, x0, n)[0]


def settle_aux(k, x0, n):
    x, v = settle(k, x0, n)
    return x, v


def test_value_and_grad_returns_the_output_the_adjoint_loop_restores(jit_mode):
    # the output variable is the loop's: the adjoint sweep walks it back to x0, so the
    # value returned must be a copy taken before the sweep
    value, g = nabla.value_and_grad(settle_value)(1.5, 1.0, 30)
    assert value == pytest.approx(settle_value(1.5, 1.0, 30), rel=1e-14)
    assert g == pytest.approx(numerical_grad(settle_value, (1.5, 1.0, 30)), rel=1e-6)
    (value, aux), g = nabla.value_and_grad(settle_aux, has_aux=True)(1.5, 1.0, 30)
    assert (value, aux) == pytest.approx(settle(1.5, 1.0, 30), rel=1e-14)
    g2, aux2 = nabla.grad(settle_aux, has_aux=True)(1.5, 1.0, 30)
    assert aux2 == pytest.approx(settle(1.5, 1.0, 30)[1], rel=1e-14)
    assert g2 == pytest.approx(g, rel=1e-14)


def shrinking(x):
    for i in range(2):
        x = np.sum(x * x, keepdims=True) * x[:1]
    return np.sum(x)


def test_a_carried_array_that_changes_shape_raises_at_its_loop(jit_mode):
    """Its tape is shaped by the first iteration's x, (3,); the second iteration's (1,)
    would be broadcast into it and the adjoint would restore three copies (the gradient
    came out 3x too large): the tape's entry is checked, and the error names the loop."""
    x = np.array([0.5, -0.3, 0.8])
    with pytest.raises(ValueError, match="changed shape between iterations") as caught:
        nabla.grad(shrinking)(x)
    assert caught.value.args[1:] == ((3,), (1,))
    assert "for i in range(2):" in " ".join(getattr(caught.value, "__notes__", []))


def growing_while(x, n):
    i = 0
    while i < n:
        x = np.concatenate((x, x[:1])) * 0.5
        i = i + 1
    return np.sum(x * x)


def test_a_while_loop_whose_carried_array_grows_raises(jit_mode):
    with pytest.raises(ValueError, match="changed shape between iterations"):
        nabla.grad(growing_while)(np.array([0.5, -0.3]), 3)


def stable(x):
    for i in range(3):
        x = x + 0.1 * np.sin(x) * x[0]
    return np.sum(x * x)


def test_a_carried_array_of_one_shape_is_checked_and_right(jit_mode):
    x = np.array([0.5, -0.3, 0.8])
    assert_close(nabla.grad(stable)(x), numerical_grad(stable, [x]), rtol=1e-6)
    assert "x_tape[i] = tape_entry(x, x_tape)" in nabla.grad(stable).source
