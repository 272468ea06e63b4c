"""The scatter-to-gather rewrite of reverse loops (nabla/transforms/gather.py): loops
adding into ``x_bar[i]`` and ``x_bar[i + c]`` are rewritten so that each element is
written once, and the gradients still match central finite differences, with Numba
off and in strict mode, down to arrays too short for the loop's interior; loops the
rewrite cannot keep right are left alone."""

import doctest

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jacobian

import nabla
from nabla.transforms import gather

GATHERED = "# gather form"


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def neighbours(x):
    # offsets -1, 0 and +1: three iterations add into each element
    s = 0.0
    for i in range(1, len(x) - 1):
        s = s + x[i - 1] * x[i] ** 2 * np.sin(x[i + 1])
    return s


def from_one(x):
    s = 0.0
    for i in range(1, len(x)):
        s = s + (x[i] - x[i - 1] ** 2) ** 2 + x[i] * x[i]
    return s


def from_m(x, m):
    s = 0.0
    for i in range(m, len(x) - 1):
        s = s + x[i] * x[i + 1]
    return s


def weighted_skip(x, w):
    # offsets 0 and +2, a constant array multiplier, and x[i + 1] in between
    s = 0.0
    for i in range(len(x) - 2):
        s = s + w[i] * x[i] * x[i + 2] + np.sin(x[i + 1])
    return s


def two_arrays(x, y):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + x[i] * y[i + 1] + np.cos(x[i + 1])
    return s


def carried(x):
    # s is carried from one iteration to the next: the order of iterations matters
    s = 0.0
    for i in range(len(x) - 1):
        s = s * x[i + 1] + x[i]
    return s


def one_offset(x):
    # every x_bar[i] is written once already
    s = 0.0
    for i in range(len(x)):
        s = s + np.sin(x[i]) * x[i]
    return s


def branch_in_body(x):
    s = 0.0
    for i in range(len(x) - 1):
        if x[i] > 0.5:
            s = s + x[i] * x[i + 1]
    return s


def wraps_around(x):
    # x[i - 1] at i = 0 is x[-1], the element x[n - 1] names too: added into, not stored
    s = 0.0
    for i in range(len(x)):
        s = s + x[i - 1] * x[i] ** 2
    return s


def added_after(x):
    # x_bar holds the sum's adjoint before the loop's: the loop adds into it
    s = 0.0
    for i in range(len(x) - 1):
        s = s + x[i] * np.sin(x[i + 1])
    return s + np.sum(x ** 3)


def rows(x):
    # a matrix's rows: x_bar[i] and x_bar[i + 1] are rows, stored whole
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + np.sum(np.sin(x[i]) * x[i + 1])
    return s


def _check(f, args, argnums, rewritten):
    g = nabla.grad(f, argnums=argnums)
    got = g(*args)
    got = got if isinstance(argnums, tuple) else (got,)
    for a, value in zip(argnums if isinstance(argnums, tuple) else (argnums,), got):
        assert_close(value, numerical_grad(f, args, a), rtol=1e-6, atol=1e-6)
    assert (GATHERED in g.source) == rewritten, g.source


@pytest.mark.parametrize("n", [2, 3, 4, 9])
def test_rosenbrock(jit_mode, rng, n):
    _check(rosenbrock, [rng.random(n) + 0.5], 0, True)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_offsets_minus_one_and_plus_one(jit_mode, rng, n):
    _check(neighbours, [rng.random(n) + 0.5], 0, True)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_loop_starting_at_one(jit_mode, rng, n):
    _check(from_one, [rng.random(n) + 0.5], 0, True)


@pytest.mark.parametrize("m", [0, 2, 5, 6])
def test_loop_starting_at_a_parameter(jit_mode, rng, m):
    _check(from_m, [rng.random(6) + 0.5, m], 0, True)


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_constant_array_multiplier_and_offset_two(jit_mode, rng, n):
    _check(weighted_skip, [rng.random(n) + 0.5, rng.random(n)], 0, True)
    _check(weighted_skip, [rng.random(n) + 0.5, rng.random(n)], (0, 1), True)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_two_gradient_arrays(jit_mode, rng, n):
    _check(two_arrays, [rng.random(n), rng.random(n)], (0, 1), True)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_an_index_that_wraps_around(jit_mode, rng, n):
    _check(wraps_around, [rng.random(n) + 0.5], 0, True)
    assert nabla.grad(wraps_around).source.count("index_add(") >= 3


@pytest.mark.parametrize("n", [2, 3, 6])
def test_a_gradient_array_holding_values_before_the_loop(jit_mode, rng, n):
    _check(added_after, [rng.random(n) + 0.5], 0, True)
    assert nabla.grad(added_after).source.count("index_add(") >= 3


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_rows_stored_whole(jit_mode, rng, n):
    _check(rows, [rng.random((n, 3)) + 0.5], 0, True)
    assert "zeros_outside(" in nabla.grad(rows).source


@pytest.mark.parametrize("n", [1, 2, 5])
def test_float32_stays_float32(jit_mode, rng, n):
    x = (rng.random(n) + 0.5).astype(np.float32)
    g = nabla.grad(rosenbrock)(x)
    assert g.dtype == np.float32
    assert_close(g, numerical_grad(rosenbrock, [x.astype(np.float64)]), rtol=1e-3, atol=1e-3)


def test_zeros_outside():
    from nabla.runtime import zeros_outside

    for first, last, lo, hi, n in [(0, 3, 0, 1, 5), (2, 1, 0, 1, 4), (0, 9, 0, 1, 3),
                                   (1, 2, -1, 0, 6), (0, 0, 0, 1, 0)]:
        out = zeros_outside(np.ones((n, 2), np.float32), first, last, lo, hi)
        assert out.dtype == np.float32 and out.shape == (n, 2)
        mask = np.ones(n, bool)
        if first <= last:
            mask[max(first + lo, 0):max(last + hi + 1, 0)] = False
        assert (out[mask] == 0).all()


@pytest.mark.parametrize("f", [carried, one_offset, branch_in_body])
def test_left_alone(jit_mode, rng, f):
    _check(f, [rng.random(6) + 0.5], 0, False)


def test_value_and_grad(jit_mode, rng):
    x = rng.random(7)
    value, g = nabla.value_and_grad(rosenbrock)(x)
    assert_close(value, rosenbrock(x))
    assert_close(g, numerical_grad(rosenbrock, [x]))


def test_vjp(jit_mode, rng):
    x = rng.random(7)
    out, back = nabla.vjp(rosenbrock, x)
    assert_close(out, rosenbrock(x))
    assert_close(back(2.0)[0], 2.0 * numerical_grad(rosenbrock, [x]))
    # (the cotangent of s may be an array here, so its adjoint is unbroadcast(...), not a
    # copy: the body changes it, and the loop is left alone)
    assert GATHERED not in back.source


@pytest.mark.parametrize("f", [rosenbrock, neighbours])
def test_hessian_of_the_gathered_gradient(rng, f):
    # hessian differentiates the generated gradient, gather form (and its guards) included
    x = rng.random(5) + 0.5
    g = nabla.grad(f)
    h = nabla.hessian(f)(x)
    assert_close(h, numerical_jacobian(g, [x]), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("f", [rosenbrock, neighbours])
def test_vmap_of_the_gathered_gradient(jit_mode, rng, f):
    X = rng.random((3, 5)) + 0.5
    got = nabla.vmap(nabla.grad(f))(X)
    assert_close(got, np.stack([numerical_grad(f, [x]) for x in X]))


def test_the_rewritten_loop_reads_right():
    g = nabla.grad(rosenbrock)
    g(np.ones(4))
    src = g.source
    assert ("# gather form: each x_bar[i] written once (the scatter into x_bar[i], "
            "x_bar[i + 1] rewritten; the ends peeled)") in src
    assert "for i in range(1, n):" in src  # the interior, with both iterations' additions
    # x_bar is all zeros before the loops, and each loop writes elements no other does:
    # one store per element, no read of what it held
    assert src.count("x_bar[i] = ") == 3 and "index_add(" not in src
    # and those elements are not zeroed first: only the others are
    assert "x_bar = zeros_outside(x, 0, n - 1, 0, 1)" in src and "zero_like" not in src


def test_docstring_example():
    assert doctest.testmod(gather).failed == 0


def _loop(*lines, after="return x_bar"):
    from nabla import syntax
    text = "for k in range(n - 1, -1, -1):\n" + "".join(f"    {line}\n" for line in lines)
    return [syntax.parse_stmt(text), syntax.parse_stmt(after)]


@pytest.mark.parametrize("body", [
    # the scatter, rewritten
    _loop("i = k", "t2 = i + 1", "x_bar = index_add(x_bar, i, x[t2])",
          "x_bar = index_add(x_bar, t2, x[i])"),
])
def test_gather_loops_rewrites(body):
    assert gather.gather_loops(body) is not body


@pytest.mark.parametrize("body", [
    # a name the body assigns is read after the loop
    _loop("i = k", "t2 = i + 1", "x_bar = index_add(x_bar, i, x[t2])",
          "x_bar = index_add(x_bar, t2, x[i])", after="return x_bar, i"),
    # the gradient array is read in the body
    _loop("i = k", "t2 = i + 1", "x_bar = index_add(x_bar, i, x_bar[t2])",
          "x_bar = index_add(x_bar, t2, x[i])"),
    # a carried name changes in between, though it ends as it started
    _loop("t1 = s_bar", "s_bar = 2.0 * t1", "x_bar = index_add(x_bar, k, s_bar)",
          "x_bar = index_add(x_bar, k + 1, s_bar)", "s_bar = t1"),
    # a carried name changes
    _loop("t1 = s_bar", "x_bar = index_add(x_bar, k, t1)",
          "x_bar = index_add(x_bar, k + 1, t1)", "s_bar = 2.0 * t1"),
    # an index that is not the counter plus a constant
    _loop("t2 = 2 * k", "x_bar = index_add(x_bar, k, x[t2])",
          "x_bar = index_add(x_bar, t2, x[k])"),
    # another array written in place
    _loop("y[k] = 1.0", "x_bar = index_add(x_bar, k, x[k])",
          "x_bar = index_add(x_bar, k + 1, x[k])"),
    # a draw from the generator
    _loop("t1 = np.random.rand()", "x_bar = index_add(x_bar, k, t1)",
          "x_bar = index_add(x_bar, k + 1, t1)"),
])
def test_gather_loops_leaves_alone(body):
    assert gather.gather_loops(body) is body
