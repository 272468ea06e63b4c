"""Regressions from an audit of results (issue 13): each function here was computed
wrong, or crashed, before its fix. Every derivative is checked against central finite
differences, with Numba off and on (the ``jit_mode`` fixture)."""

import math

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jacobian

import nabla

V = np.array([-1.42, 0.92, 0.81, 0.38])


# -- an augmented assignment reads its target -------------------------------------------
def carried_through_a_tuple(x, n):
    s1 = x
    s4 = 1.0
    for k in range(n):
        s4 += 0.5 * s1
        s1, s4 = (math.tanh(s4 + s1), s1)
    return s1


def carried_in_a_while(x, y, v, n):
    s0 = v[1]
    s1 = y
    k0 = 0
    while k0 < n:
        k0 += 1
        s1 *= x
        s0 += s1
    s0, s4 = (1.2, s0)
    return s4


def test_augmented_assignment_carried_by_a_for_loop(jit_mode):
    """``s4 += ...`` reads s4: the loop carries it, though nothing reads it after."""
    assert nabla.jit(carried_through_a_tuple)(0.3, 3) == pytest.approx(
        carried_through_a_tuple(0.3, 3), rel=1e-14)
    assert_close(nabla.grad(carried_through_a_tuple)(0.3, 3),
                 numerical_grad(carried_through_a_tuple, [0.3, 3]))


def test_augmented_assignment_carried_by_a_while_loop(jit_mode):
    args = [0.67, 1.23, V, 4]
    assert nabla.jit(carried_in_a_while)(*args) == pytest.approx(carried_in_a_while(*args),
                                                                 rel=1e-14)
    gx, gy, gv = nabla.grad(carried_in_a_while, argnums=(0, 1, 2))(*args)
    assert_close(gx, numerical_grad(carried_in_a_while, args, 0))
    assert_close(gy, numerical_grad(carried_in_a_while, args, 1))
    assert_close(gv, numerical_grad(carried_in_a_while, args, 2))


# -- a return inside a loop, the only return --------------------------------------------
def returns_from_the_loop(x, y, v, n):
    w0 = v
    for j in range(n):
        return w0[j] * x


def test_return_inside_a_loop_is_the_only_return(jit_mode):
    args = [0.5, 1.0, V, 4]
    gx, gv = nabla.grad(returns_from_the_loop, argnums=(0, 2))(*args)
    assert_close(gv, [0.5, 0.0, 0.0, 0.0])
    assert_close(gx, numerical_grad(returns_from_the_loop, args, 0))


# -- in-place updates of a shared cotangent ---------------------------------------------
def element_then_augmented(x, v):
    w0 = x - v
    s2 = w0[1]
    w0 += v
    return s2 + np.mean(w0)


def test_in_place_update_of_a_cotangent_another_name_holds(jit_mode):
    """``unbroadcast`` hands back its argument where no axis is summed: the cotangent it
    returns is shared, and adding into it in place changed the other name too."""
    g = nabla.grad(element_then_augmented, argnums=1)(0.5, V)
    assert_close(g, [0.0, -1.0, 0.0, 0.0])
    assert_close(g, numerical_grad(element_then_augmented, [0.5, V], 1))


def fills_an_output(x):
    out = np.zeros_like(x)
    out[0] = x[1] ** 2
    out[1:] = x[:-1] * 2.0
    return out


def test_vjp_leaves_the_callers_cotangent_alone(jit_mode):
    x = np.arange(5.0)
    _, back = nabla.vjp(fills_an_output, x)
    ct = np.ones(5)
    (first,) = back(ct)
    assert_close(ct, np.ones(5))
    (second,) = back(ct)  # the same cotangent again: the same answer
    assert_close(first, second)
    assert_close(first, [2.0, 4.0, 2.0, 2.0, 0.0])


# -- a loop variable reused, an int that becomes a float --------------------------------
def reused_loop_variable(x, y, v, n):
    w0 = v
    s1 = 2
    for i in range(2):
        pass
    if y > 2:
        pass
    else:
        for i in range(n):
            if w0[1] < w0[i]:
                break
            s1 /= w0[i]
    return s1 * x


def test_loop_variable_reused_and_an_int_that_takes_floats(jit_mode):
    """The second loop's index was recorded on a tape made before it was ever set (None
    in Python), and s1 = 2 got an int tape that truncated 2 / w0[i]."""
    args = [1.03, -0.95, V, 2]
    gx, gv = nabla.grad(reused_loop_variable, argnums=(0, 2))(*args)
    assert_close(gx, numerical_grad(reused_loop_variable, args, 0))
    assert_close(gv, numerical_grad(reused_loop_variable, args, 2))


def halving_step(x, n):
    h = 1
    s = 0.0
    for i in range(n):
        h /= 2
        s = s + h * x * x
    return s


def test_an_inactive_int_that_takes_floats_keeps_them(jit_mode):
    """``h`` depends on no input; its tape must still hold 0.5, 0.25, ... not 0."""
    assert_close(nabla.grad(halving_step)(1.5, 4), numerical_grad(halving_step, [1.5, 4]))


# -- float32 stays float32 ---------------------------------------------------------------
def squares(x):
    return np.sum(x * x)


def squares_with_aux(x):
    return np.sum(x * x), np.sum(x)


def test_float32_values_come_back_as_float32(jit_mode):
    x = np.arange(3, dtype=np.float32)
    value, g = nabla.value_and_grad(squares)(x)
    assert type(value) is np.float32 and g.dtype == np.float32
    out, _ = nabla.vjp(squares, x)
    assert type(out) is np.float32
    (value, aux), _ = nabla.value_and_grad(squares_with_aux, has_aux=True)(x)
    assert type(value) is np.float32 and type(aux) is np.float32
    _, aux = nabla.grad(squares_with_aux, has_aux=True)(x)
    assert type(aux) is np.float32
    assert type(nabla.jit(squares)(x)) is np.float32


# -- ndarray subclasses ------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: np.ma.array([1.0, 2.0], mask=[0, 1]),
                                  lambda: np.matrix([[1.0, 2.0]])], ids=["masked", "matrix"])
def test_ndarray_subclasses_are_refused_naming_the_argument(make):
    with pytest.raises(nabla.TransformInputError, match=r"argument 0 \(x\) of squares: numpy"):
        nabla.grad(squares)(make())
    with pytest.raises(nabla.TransformInputError, match="subclass of numpy.ndarray"):
        nabla.jit(squares)(make())


# -- NumPy's error model -----------------------------------------------------------------
def root(x):
    return np.sqrt(x)


def reciprocal(x):
    return 1.0 / x


def test_division_by_zero_gives_inf_as_numpy_does(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    with np.errstate(divide="ignore"):
        assert nabla.grad(root)(0.0) == np.inf
        assert nabla.jit(reciprocal)(np.float64(0.0)) == np.inf
        assert nabla.jit(reciprocal)(0.0) == np.inf
    monkeypatch.setattr(nabla.config, "jit", False)
    with np.errstate(divide="ignore"):
        assert nabla.grad(root)(0.0) == np.inf
        assert nabla.jit(reciprocal)(np.float64(0.0)) == np.inf


def mismatched(x, y):
    z = x * y
    return np.sum(z)


def test_an_error_in_compiled_code_names_the_line_python_raises_at(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    with pytest.raises(ValueError) as e:
        nabla.grad(mismatched)(np.ones(2), np.ones(3))
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert "run as Python, the same call raises ValueError at" in notes
    assert "z = x * y" in notes
    assert "to see the line" not in notes


# -- writes into an array of the function's own (found by a zoo of functions, issue 20) ---------
def copied_by_a_product(x):
    y = x * 1.0
    y[0] = y[1] + y[2]
    return np.sum(y * y)


def shifted_onto_itself(x):
    y = x * 2.0
    y[1:] = y[:-1]
    return np.sum(y * x)


def stored_twice(x):
    y = x * 1.0
    y[np.array([0, 0, 2])] += x[1:4]
    return np.sum(y * y)


def test_a_copy_made_by_multiplying_by_one_is_a_copy(jit_mode):
    # the optimizer folded y = x * 1.0 into y = x: y[0] = ... then wrote into the
    # caller's array (and the value and the gradient came out wrong)
    x = V.copy()
    assert nabla.jit(copied_by_a_product)(x) == pytest.approx(copied_by_a_product(V))
    assert_close(nabla.grad(copied_by_a_product)(x), numerical_grad(copied_by_a_product, (V,)))
    np.testing.assert_array_equal(x, V)


def test_a_read_before_a_write_into_its_array_is_not_moved_past_it(jit_mode):
    # the optimizer merged x's two cotangent terms after the adjoint put y's old values
    # back, so the first term read y before the write instead of after it
    assert_close(nabla.grad(shifted_onto_itself)(V), numerical_grad(shifted_onto_itself, (V,)))
    assert_close(nabla.jacrev(shifted_onto_itself)(V),
                 numerical_grad(shifted_onto_itself, (V,)))


def test_a_write_at_repeated_indices_is_refused_in_reverse_mode(jit_mode):
    # NumPy keeps the last value written at a repeated index; reverse mode gave the
    # cotangent to each, twice the derivative. Now it raises; forward mode is right.
    assert nabla.jit(stored_twice)(V) == pytest.approx(stored_twice(V))
    with pytest.raises(ValueError, match="repeated indices"):
        nabla.grad(stored_twice)(V)
    assert_close(nabla.grad(stored_twice, mode="forward")(V), numerical_grad(stored_twice, (V,)))


def ints_times_one(k):
    y = k * 1.0
    return y // 2


def bools_times_one(a, b):
    return (a * 1) + (b * 1)


def test_multiplying_ints_or_bools_by_one_keeps_numpy_s_dtype(jit_mode):
    # x * 1.0 of an int array is a float array, mask * 1 an int one (mask + mask is a
    # logical or): the optimizer folded both into the operand itself
    k = np.array([1, 2, 3])
    got = nabla.jit(ints_times_one)(k)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ints_times_one(k))
    a, b = np.array([True, False, True]), np.array([True, True, False])
    np.testing.assert_array_equal(nabla.jit(bools_times_one)(a, b), [2, 1, 1])


def named_like_a_cotangent(k_bar):
    return k_bar * 1.0


def test_a_users_name_spelled_like_a_cotangent_is_not_taken_for_a_float(jit_mode):
    got = nabla.jit(named_like_a_cotangent)(np.array([1, 2]))
    assert got.dtype == np.float64


def alternating(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 2 * (-1) ** i + (-2.0) ** i * x[i]
    return s


def test_a_negative_base_of_a_power_keeps_its_parentheses(jit_mode):
    # the optimizer folds -(1) into the constant -1, which ast.unparse wrote as
    # `-1 ** i`: Python reads that as -(1 ** i), so every term had the sign -1
    assert nabla.jit(alternating)(V) == pytest.approx(alternating(V))
    assert_close(nabla.grad(alternating)(V), numerical_grad(alternating, (V,)))
    assert "(-1) ** i" in nabla.jit(alternating).source


# -- a loop's adjoint read arrays as the end of the iteration left them ----------------------


def inner_loop_then_write(w, x):
    # the inner loop reads w[0], which the iteration overwrites after it: the adjoint of
    # the inner loop ran after the recomputed write, reading the new value
    w = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s = s + w[j] * w[j] * x[i, j]
        w[0] = w[0] + 0.5 * x[i, 0]
    return s


def inactive_written(w, x):
    # a is not differentiated, but the adjoint reads it: its writes were not recorded, and
    # the adjoint's recomputation applied them again to the final array
    a = np.ones(4)
    s = 0.0
    for i in range(x.shape[0]):
        s = s + w[0] * a[0]
        a[0] = a[0] + x[i, 0]
    return s


def inactive_written_inside(w, x):
    # the same, the writes inside an inner loop and a branch
    a = np.ones(4)
    s = 0.0
    for i in range(x.shape[0]):
        s = s + w[0] * a[0] + w[1] * a[1]
        for j in range(2):
            a[j] = a[j] + x[i, j]
        if x[i, 2] > -5.0:
            a[1] = a[1] * 0.5
    return s


def inactive_before_the_loop(w, x):
    # read before a loop that writes it and has nothing to differentiate
    a = np.ones(4)
    s = w[0] * a[0]
    for i in range(x.shape[0]):
        a[0] = a[0] + x[i, 0]
    return s + w[1] * a[0]


@pytest.mark.parametrize("fun", [inner_loop_then_write, inactive_written,
                                 inactive_written_inside, inactive_before_the_loop])
def test_a_loops_adjoint_reads_arrays_as_the_iteration_did(fun, jit_mode):
    rng = np.random.default_rng(3)
    w, x = rng.uniform(0.5, 1.5, size=4), rng.normal(size=(3, 4))
    for mode in ("reverse", "forward"):
        assert_close(nabla.grad(fun, mode=mode)(w, x), numerical_grad(fun, (w, x)))
    assert_close(nabla.value_and_grad(fun)(w, x)[1], numerical_grad(fun, (w, x)))


# -- a value broadcast where it is written: its cotangent summed back to its shape ---------


def scalar_into_slices(x):
    h = np.zeros(4)
    h[0:2] = x
    h[1:3] = h[1:3] + x * 2.0
    for i in range(2):
        h[1:] = h[1:] * x
    return np.sum(h * h)


def scalar_into_rows(x):
    h = np.zeros((3, 2))
    h[1] = x
    h[2] = h[1] * x
    return np.sum(h * h)


@pytest.mark.parametrize("fun", [scalar_into_slices, scalar_into_rows])
def test_a_scalar_written_into_a_slice_or_a_row(fun, jit_mode):
    # reverse mode added the whole slice of the array's cotangent to the scalar's: a
    # TypeError in Python, a Numba typing error compiled
    for mode in ("reverse", "forward"):
        assert nabla.grad(fun, mode=mode)(0.5) == pytest.approx(
            numerical_grad(fun, (0.5,)), rel=1e-6)


# -- `x += v` where another variable read later holds x's array (found by a zoo audit) -----
# NumPy changes the array in place, and the other variable sees it; nabla computes x + v
# as a new array. Where the two may share memory, that is refused at the line; where one
# of them is a scalar (an element of a vector), or the other is not read again, it is
# computed as before.
def alias_then_add(a):
    x = np.zeros(3)
    y = x
    y += a
    return np.sum(x)


def view_then_add(a):
    x = np.zeros(3)
    v = x[1:]
    v += a
    return np.sum(x)


def rows_scaled(a):
    b = np.ones((2, 2))
    for row in b:
        row *= a
    return np.sum(b)


def base_then_view_read(a):
    x = np.ones(3) * a
    v = x[1:]
    x += a
    return np.sum(v)


def element_then_add(x):
    t = x[0]
    x += 1.0
    s = t * 2.0
    for i in range(x.shape[0]):
        s += x[i] * t
    return s + np.sum(x)


def argument_renamed(x0, n):
    x = x0
    for _ in range(n):
        x += 0.1 * np.sin(x)
    return np.sum(x)


@pytest.mark.parametrize("fun", [alias_then_add, view_then_add, rows_scaled,
                                 base_then_view_read])
def test_an_augmented_assignment_into_a_shared_array_is_refused(fun, jit_mode):
    for transform in (nabla.grad, nabla.value_and_grad, lambda f: nabla.grad(f, mode="forward")):
        with pytest.raises(nabla.NablaError, match="augmented assignment") as info:
            transform(fun)(0.5)
        assert info.value.lineno is not None and "=" in info.value.line


def test_an_augmented_assignment_next_to_an_element_or_a_dead_alias(jit_mode):
    x = np.array([0.3, -0.2, 0.7])
    assert_close(nabla.grad(element_then_add)(x), numerical_grad(element_then_add, [x]))
    assert_close(nabla.grad(argument_renamed)(x, 3),
                 numerical_grad(argument_renamed, [x, 3]))
    before = x.copy()
    nabla.grad(argument_renamed)(x, 3)
    assert (x == before).all()  # generated code never writes into the caller's array


# -- a backward function run twice pops a write log it was given (a zoo audit) ------------
# vjp's vjp_fun, and jacrev (once per output), run the backward function again with the
# same residuals; a loop writing into an array in an inner loop or a branch keeps a write
# log there, which the backward function shortened in place: the second run undid nothing.
def logged_in_inner_loop(a):
    x = np.zeros(2)
    for it in range(2):
        for i in range(2):
            x[i] = 1.0 + a * x[i]
    return x


def logged_in_branch(a):
    x = np.zeros(1)
    for it in range(3):
        if a > 0:
            x[0] = 1.0 + a * x[0] * x[0]
    return x[0]


def test_a_backward_function_runs_again_with_the_same_write_log(jit_mode):
    a = 0.5
    assert_close(nabla.jacrev(logged_in_inner_loop)(a),
                 (logged_in_inner_loop(a + 1e-6) - logged_in_inner_loop(a - 1e-6)) / 2e-6)
    out, back = nabla.vjp(logged_in_branch, a)
    expected = numerical_grad(logged_in_branch, [a])
    for _ in range(3):
        assert_close(back(1.0)[0], expected)


# -- a write at repeated indices whose array's cotangent is not read after it (zoo audit) --
# The refusal lived in index_zero, which clears the cotangent at the written indices; where
# nothing read that cotangent again it was dropped as dead code, and reverse mode gave the
# written value's cotangent to every repeat ([1, 1] where NumPy's last write gives [0, 1]).
def last_write_wins(x):
    y = np.zeros(2)
    y[np.array([0, 0])] = x
    return y[0]


def test_a_write_at_repeated_indices_read_once_is_refused_in_reverse_mode(jit_mode):
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="repeated indices"):
        nabla.grad(last_write_wins)(x)
    assert_close(nabla.grad(last_write_wins, mode="forward")(x), [0.0, 1.0])


# -- a chained subscript assigned in a loop crashed the loop's analysis (zoo audit) --------
def chained_in_loop(x):
    a = np.zeros((2, 2))
    for i in range(2):
        a[i][1] = x
    return np.sum(a)


def chained_in_while(x):
    a = np.zeros((2, 2))
    i = 0
    while i < 2:
        if x > 0:
            a[i][0] += x
        i += 1
    return np.sum(a)


@pytest.mark.parametrize("fun", [chained_in_loop, chained_in_while])
def test_a_chained_subscript_written_in_a_loop_is_refused_at_its_line(fun):
    with pytest.raises(nabla.UnsupportedSyntaxError, match="only a name can be indexed") as e:
        nabla.grad(fun)(1.0)
    assert "][" in e.value.line


# -- hessian through a callee that returns early (a zoo audit) ----------------------------
# The gradient's callee keeps a residual set on one path only (``if in_python: t2 = None``);
# the jvp of that code copied the unset name on the other path, and jacfwd then refused its
# own generated code ("name 't2' is not defined").
def cube_or_minus(t):
    if t > 0:
        return t * t * t
    return -t


def summed_cube_or_minus(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += cube_or_minus(x[i])
    return s


def test_hessian_through_a_callee_that_returns_early(jit_mode):
    x = np.array([0.5, -0.3, 1.2])
    assert_close(nabla.hessian(summed_cube_or_minus)(x), np.diag([3.0, 0.0, 7.2]))
    assert_close(nabla.grad(summed_cube_or_minus)(x), [0.75, -1.0, 4.32])


# -- `v += a` on an array a function of yours was given (the caller's) ---------------------
def bump(v, a):
    v += a
    return np.sum(v)


def bumps_its_own(a):
    x = np.zeros(3)
    s = bump(x, a)
    return s + np.sum(x)  # NumPy: bump changed x in place


def bump_scalar(t, a):
    t += a
    return t * t


def bumps_a_number(a):
    return bump_scalar(1.5, a) + bump_scalar(a, a)


def test_an_augmented_assignment_into_a_callers_array_is_refused(jit_mode):
    with pytest.raises(nabla.NablaError, match="augmented assignment"):
        nabla.value_and_grad(bumps_its_own)(0.5)
    # a number passed in is not an array of the caller's: computed as before
    assert_close(nabla.grad(bumps_a_number)(0.5), numerical_grad(bumps_a_number, [0.5]))


# -- has_aux of a function that returns one value (a zoo audit): AttributeError before -----
def one_value(x):
    return np.sum(x * x)


@pytest.mark.parametrize("transform", [nabla.grad, nabla.value_and_grad, nabla.jacrev,
                                       nabla.jacfwd])
def test_has_aux_needs_a_pair(transform):
    with pytest.raises(nabla.TransformOutputError, match="must return a pair"):
        transform(one_value, has_aux=True)(np.ones(3))


# -- an inlined callee's local spelled like a temporary ----------------------------------
def _nested_pair_helper(u, v):
    t1 = u * 3.0
    return ((t1 * v + u, v), u)


def calls_a_helper_with_a_local_named_t1(x):
    r = _nested_pair_helper(np.sin(x), x + 1.0)
    return r[0][0] * r[1]


def test_an_inlined_callees_local_named_like_a_temporary_is_renamed(jit_mode):
    """A callee returning nested tuples is inlined; its local ``t1`` took the name of the
    caller's temporary holding its argument, and overwrote it: 3.28 where Python gives
    0.79 (and a wrong third derivative through jacfwd's generated jvp, which has a t1)."""
    assert nabla.jit(calls_a_helper_with_a_local_named_t1)(0.4) == pytest.approx(
        calls_a_helper_with_a_local_named_t1(0.4), rel=1e-14)
    assert_close(nabla.grad(calls_a_helper_with_a_local_named_t1)(0.4),
                 numerical_grad(calls_a_helper_with_a_local_named_t1, [0.4]))


def two_outputs(a, b):
    return (3 * a ** 2 * b, np.sum(a ** 3))


def test_jacfwd_of_jacfwd_of_a_tuple_output_with_tuple_argnums(jit_mode):
    x = np.array([0.3, -0.7])
    inner = nabla.jacfwd(two_outputs, argnums=(0, 1))
    third = nabla.jacfwd(inner, argnums=0)(x, 1.5)
    for o in range(2):
        for a in range(2):
            assert_close(third[o][a], numerical_jacobian(
                lambda v, o=o, a=a: inner(v, 1.5)[o][a], [x], 0))


# -- a cotangent of the wrong shape (a zoo audit): a raw broadcast ValueError before --------
def two_by_three(x):
    return np.outer(x, np.ones(3))


def test_a_cotangent_of_the_wrong_shape_is_refused_with_both_shapes():
    out, back = nabla.vjp(two_by_three, np.ones(2))
    with pytest.raises(nabla.TransformInputError, match=r"shape \(3, 2\), the output \(2, 3\)"):
        back(np.ones((3, 2)))
    assert_close(back(np.ones((2, 3)))[0], np.full(2, 3.0))


# -- dicts returned inside the function (a zoo audit): TypeError, AttributeError before -----
def _sum_and_dict(x):
    return np.sum(x ** 2), {"v": x * 2.0}


def unpacks_a_helpers_dict(x):
    s, d = _sum_and_dict(x)
    return s * d["v"][1]


def _loss_with_aux(x):
    return np.sum(x ** 2), {"v": x}


def reads_a_gradients_aux(x):
    g, aux = nabla.grad(_loss_with_aux, has_aux=True)(x)
    return g[0] * aux["v"][1]


def _of_a_dict(p):
    return np.sum(p["a"] ** 2)


def passes_a_dict_to_a_transform(x):
    return nabla.grad(_of_a_dict)({"a": x})["a"][0]


@pytest.mark.parametrize("fun", [unpacks_a_helpers_dict, reads_a_gradients_aux])
def test_a_dict_unpacked_from_a_call_is_read_by_key(fun, jit_mode):
    x = np.array([0.5, 2.0])
    assert nabla.jit(fun)(x) == pytest.approx(fun(x), rel=1e-14)
    assert_close(nabla.grad(fun)(x), numerical_grad(fun, [x]))


def test_a_transform_called_inside_on_a_dict_is_refused_at_its_line():
    with pytest.raises(nabla.NotDifferentiableError, match="tuple, list or dict argument"):
        nabla.grad(passes_a_dict_to_a_transform)(np.array([0.5, 2.0]))


def _doubled(x):
    return x * 2.0


def test_vmap_axes_out_of_range_and_numpy_integers(jit_mode):
    with pytest.raises(nabla.TransformInputError, match="out_axes 1 for an output of 1"):
        nabla.vmap(_doubled, out_axes=1)(np.ones(3))
    assert_close(nabla.vmap(_doubled, in_axes=np.int64(1))(np.ones((2, 3))), np.full((3, 2), 2.0))


# -- a third zoo audit: dicts through helpers, constant blocks, vmap of vmap --------------
def _product_of(d):
    return d["u"] * d["v"]


def passes_a_dict_literal(x, y):
    return _product_of({"u": x, "v": y})


def _pair_in_a_dict(x):
    return {"p": (x, 2.0)}


def unpacks_a_tuple_from_a_returned_dict(x):
    d = _pair_in_a_dict(x)
    a, b = d["p"]
    return a * b


def _list_in_a_dict(x):
    return {"l": [x, 2 * x], "s": x}


def reads_a_list_from_a_returned_dict(x):
    d = _list_in_a_dict(x)
    return d["l"][1] * d["s"]


def _step(d):
    return {"w": d["w"] * 2.0, "b": d["b"] + 1.0}


def passes_a_returned_dict_on(x):
    d = _step(_step({"w": x, "b": 0.5}))
    return d["w"] * d["b"]


@pytest.mark.parametrize("fun", [unpacks_a_tuple_from_a_returned_dict,
                                 reads_a_list_from_a_returned_dict, passes_a_returned_dict_on])
def test_dicts_passed_to_and_returned_by_helpers(fun, jit_mode):
    """Was: the dict lowered to a tuple, read with its string key (TypeError)."""
    assert nabla.jit(fun)(0.7) == pytest.approx(fun(0.7), rel=1e-14)
    assert_close(nabla.grad(fun)(0.7), numerical_grad(fun, [0.7]))
    assert nabla.jit(passes_a_dict_literal)(0.7, 0.4) == pytest.approx(0.28, rel=1e-14)
    assert_close(nabla.grad(passes_a_dict_literal, argnums=(0, 1))(0.7, 0.4), (0.4, 0.7))


def cubic_in_x(x, y):
    return x * x * y


def test_a_constant_block_in_a_tuple_output_has_a_tuple_tangent(jit_mode):
    """jvp of a function returning a tuple of tuples, one of them constant: its tangent
    was one zero where a tuple of zeros belonged (TypeError: 'float' object is not
    subscriptable, three transforms deep)."""
    second = nabla.jacfwd(nabla.grad(cubic_in_x, argnums=(0, 1)), argnums=(0, 1))
    third = nabla.jacfwd(second, argnums=1)(0.7, 0.4)
    for i in range(2):
        for j in range(2):
            assert_close(third[i][j], numerical_grad(lambda y, i=i, j=j: second(0.7, y)[i][j],
                                                     [0.4]))


def scaled_sum(x, scale=2.0):
    return np.sum(x) * scale


def scaled_product(x, y, scale=2.0):
    return np.sum(x) * scale * y


def test_vmap_of_vmap_leaves_defaults_unbatched(jit_mode):
    """Was: the inner vmap took the default as batched (IndexError in batch_pair)."""
    X = np.random.default_rng(0).random((2, 5, 3))
    Y = np.random.default_rng(1).random((2, 5))
    assert_close(nabla.vmap(nabla.vmap(scaled_sum))(X), 2 * X.sum(-1))
    assert_close(nabla.vmap(nabla.vmap(scaled_product))(X, y=Y, scale=0.5),
                 0.5 * X.sum(-1) * Y)


# -- writing a key of a dict of the function's own (a zoo audit: refused as "an array that
# may share memory with an argument") -------------------------------------------------------
def updates_its_dict(x):
    d = {"s": 0.0, "t": x}
    d["s"] = d["s"] + x * x
    d["u"] = np.sin(x)
    d["t"] *= 3.0
    return d["s"] * d["t"] + d["u"]


def updates_its_dict_in_a_branch(x):
    d = {"s": 0.0}
    if x > 0:
        d["s"] = x * 2.0
    return d["s"]


def updates_a_dict_passed_in(p):
    p["a"] = p["a"] * 2.0
    return p["a"]


def updates_a_dict_another_name_holds(x):
    d = {"s": x}
    e = d
    d["s"] = 2.0 * x
    return e["s"]


@pytest.mark.parametrize("fun", [updates_its_dict, updates_its_dict_in_a_branch])
@pytest.mark.parametrize("x", [0.7, -0.4])
def test_a_dict_of_the_functions_own_is_updated_by_key(fun, x, jit_mode):
    assert nabla.jit(fun)(x) == pytest.approx(fun(x), rel=1e-14)
    assert_close(nabla.grad(fun)(x), numerical_grad(fun, [x]))


def test_a_dict_update_another_holder_would_see_is_refused():
    with pytest.raises(nabla.UnsupportedSyntaxError, match="a dict passed in"):
        nabla.grad(updates_a_dict_passed_in)({"a": 0.7})
    with pytest.raises(nabla.UnsupportedSyntaxError, match="another variable or container"):
        nabla.grad(updates_a_dict_another_name_holds)(0.7)


# -- constructors whose values come from a differentiated argument (audit, zoo7) ----------
# np.full's fill value, np.linspace's ends, np.arange's start: the array carried no
# derivative, and the gradient through it was a silent zero
def filled(a):
    return np.sum(np.full(4, a) * np.arange(4.0))


def filled_like(x):
    return np.sum(np.full_like(x, x[0]) * x)


def spaced(a, b):
    return np.sum(np.sin(np.linspace(a, b, 11)))


def counted_from(a):
    return np.sum(np.arange(a, 5.0, 1.0) ** 2)


@pytest.mark.parametrize("fn, args, instead", [
    (filled, (0.7,), r"value \* np.ones\(shape\)"),
    (filled_like, (V,), r"value \* np.ones_like\(x\)"),
    (spaced, (0.1, 1.3), r"start \+ \(stop - start\) \* np.linspace"),
    (counted_from, (0.5,), r"start \+ step \* np.arange"),
])
def test_a_constructor_of_a_differentiated_value_is_refused(fn, args, instead):
    for mode in ("reverse", "forward"):
        with pytest.raises(nabla.NotDifferentiableError, match=instead) as e:
            nabla.grad(fn, mode=mode)(*args)
        assert "test_audit_regressions.py:" in str(e.value)


def counts(x):
    # np.arange(stop) counts from 0 whatever stop is; the fill of np.full is a constant
    n = x.shape[0]
    return np.sum(x * np.arange(n) + np.full(n, 2.0) * x ** 2)


def test_constructors_of_constants_still_differentiate(jit_mode):
    assert_close(nabla.grad(counts)(V), numerical_grad(counts, (V,), 0))


# -- an index by a list literal is NumPy's index array (audit, zoo7) ----------------------
# x[[0, 2]] read as the tuple x[0, 2]: one element where NumPy takes rows 0 and 2
def rows_by_list(X):
    return np.sum(X[[0, 2]] ** 2)


def rows_swapped(X):
    M = np.copy(X)
    M[[0, 1]] = M[[1, 0]]
    return np.sum(M * np.arange(M.size).reshape(M.shape))


@pytest.mark.parametrize("fn", [rows_by_list, rows_swapped])
def test_an_index_by_a_list_is_an_index_array(jit_mode, fn):
    X = np.arange(12.0).reshape(3, 4) / 10
    assert nabla.jit(fn)(X) == pytest.approx(fn(X))
    assert_close(nabla.grad(fn)(X), numerical_grad(fn, (X,), 0))
    assert_close(nabla.grad(fn, mode="forward")(X), numerical_grad(fn, (X,), 0))


def rows_by_names(X, i):
    return np.sum(X[[i, 0]])


def test_an_index_by_a_list_of_names_is_refused():
    with pytest.raises(nabla.UnsupportedSyntaxError, match=r"x\[np.array\(\[i, j\]\)\]"):
        nabla.grad(rows_by_names)(np.ones((3, 2)), 1)


# -- a view read after a write into its array (audit, zoo7) --------------------------------
# reverse mode kept the view as it was made, where NumPy's view shows the write: a wrong
# value and gradient from value_and_grad (forward mode was right)
def view_then_write(x):
    a = np.copy(x)
    v = a[1:]
    a[2] = a[2] * 3.0
    return np.sum(v ** 2)


def row_then_loop_writes(X):
    M = np.copy(X)
    r = M[1]
    for j in range(M.shape[1]):
        M[1, j] = M[1, j] ** 2
    return np.sum(r * X[0])


def _tail(v):
    return v[1:]


def transposed_then_write(X):
    A = np.copy(X)
    T = A.T
    A[0, 1] = A[0, 1] * 5.0
    return np.sum(T[1] * X[:, 0])


def helper_view_then_write(x):
    a = np.copy(x)
    t = _tail(a)
    a[-1] = a[-1] * 4.0
    return np.sum(t ** 2)


@pytest.mark.parametrize("fn, arg, view", [
    (view_then_write, V, "v"), (row_then_loop_writes, V.reshape(2, 2), "r"),
    (transposed_then_write, V.reshape(2, 2), "T"), (helper_view_then_write, V, "t")])
def test_a_view_read_after_a_write_into_its_array_is_refused(fn, arg, view):
    with pytest.raises(nabla.NotDifferentiableError, match=f"'{view}' is a view of") as e:
        nabla.value_and_grad(fn)(arg)
    assert "test_audit_regressions.py:" in str(e.value)
    # forward mode computes it as NumPy does
    assert_close(nabla.grad(fn, mode="forward")(arg), numerical_grad(fn, (arg,), 0))


def rows_apart(X, dt):
    # a row read, then the next row written: the row read is not changed
    traj = np.zeros((X.shape[0], X.shape[1]))
    traj[0] = X[0]
    energy = 0.0
    for k in range(X.shape[0] - 1):
        cur = traj[k]
        traj[k + 1] = cur + dt * np.sin(X[k + 1] * cur)
        energy = energy + np.sum(cur ** 2)
    return energy + np.sum(traj[-1])


def views_after_writes(x):
    u = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        u[i] = x[i] ** 2
        r = u[i:]
        s = u[i]
        u[i] = s * 2.0 + np.sum(r)
    d = u[1:] - u[:-1]
    return np.sum(d ** 2)


@pytest.mark.parametrize("fn, args", [
    (rows_apart, (np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.7]]), 0.1)),
    (views_after_writes, (V,))])
def test_views_no_write_reaches_are_differentiated(jit_mode, fn, args):
    assert_close(nabla.grad(fn)(*args), numerical_grad(fn, args, 0))


def prefix_writes(x):
    y = np.copy(x)
    for i in range(1, y.shape[0]):
        y[i] = x[i] + x[i - 1] * 0.9
    return np.sum(y ** 3)


def test_second_order_code_reads_no_view(jit_mode):
    """The generated gradient's element reads are no views (an early form of the view
    check refused its temporaries)."""
    g = nabla.grad(prefix_writes)
    assert_close(nabla.hessian(prefix_writes)(V), numerical_jacobian(g, (V,), 0), rtol=1e-5)


def flattened_then_written(x):
    a = np.copy(x)
    f = a.flatten()  # a copy: the write below does not reach it
    a[0] = 5.0
    return np.sum(f * x.ravel()) + np.sum(a)


def test_flatten_copies(jit_mode):
    X = V.reshape(2, 2)
    assert nabla.jit(flattened_then_written)(X) == pytest.approx(flattened_then_written(X))
    for mode in ("forward", "reverse"):
        assert_close(nabla.grad(flattened_then_written, mode=mode)(X),
                     numerical_grad(flattened_then_written, (X,), 0))


def chained(x):
    a = b = x * 2.0
    return np.sum(a * b)


def chained_array(x):
    a = b = np.zeros(x.shape[0])
    a[0] = x[0] * 5.0
    return np.sum(b * x)


def test_a_chained_assignment(jit_mode):
    """``a = b = v`` raised "name 't1' is not defined" (nabla's temporary)."""
    for mode in ("forward", "reverse"):
        assert_close(nabla.grad(chained, mode=mode)(V), numerical_grad(chained, (V,), 0))
    assert_close(nabla.grad(chained_array, mode="forward")(V),
                 numerical_grad(chained_array, (V,), 0))
    with pytest.raises(nabla.NotDifferentiableError, match="'b' is a view of the array 'a'"):
        nabla.grad(chained_array, mode="reverse")(V)


def _inner(x):
    return np.sin(x) * x


def _outer(x, y):
    return _inner(x) + _inner(y) ** 2


def two_helpers_deep(x, y):
    return np.sum(_outer(x, y))


def test_second_order_through_a_helper_calling_a_helper(jit_mode):
    """The generated vjp's local ``_outer__inner_t1`` looked like a name a class mangles,
    and nabla called its own module stale (StaleSourceError)."""
    y = V[::-1].copy()
    expected = np.diag(2 * np.cos(V) - V * np.sin(V))
    assert_close(nabla.hessian(two_helpers_deep)(V, y), expected)


class _Scaled:
    def loss(self, x):
        __t = 3.0 * x  # the class's body makes it _Scaled__t: the same source still
        return np.sum(__t * x)


def test_a_method_with_a_private_local():
    assert_close(nabla.grad(_Scaled().loss)(V), 6.0 * V)


def filled_whole(x):
    a = np.zeros(x.shape[0])
    a[...] = x ** 2
    return np.sum(a[...] * x)


def zero_dimensional(x):
    s = np.zeros(())
    s[...] = x[0] * 2.0
    return float(s[...] * x[1])


@pytest.mark.parametrize("fn", [filled_whole, zero_dimensional])
def test_an_ellipsis_index(jit_mode, fn):
    """``a[...]`` made Numba fail to compile the reverse-mode code (a lone Ellipsis)."""
    for mode in ("forward", "reverse"):
        assert_close(nabla.grad(fn, mode=mode)(V), numerical_grad(fn, (V,), 0))


def quadratic_form(x):
    A = np.array([[2.0, 1.0], [1.0, -3.0]])
    return np.sum((A @ x) * x)


def test_a_matrix_literal_compiles(jit_mode):
    """``np.array([[2.0, 1.0], [1.0, 3.0]])`` became array_of of tuples, which Numba
    refuses (strict mode raised; the default fell back to Python with a warning)."""
    x = V[:2].copy()
    assert nabla.jit(quadratic_form)(x) == pytest.approx(quadratic_form(x))
    for mode in ("forward", "reverse"):
        assert_close(nabla.grad(quadratic_form, mode=mode)(x),
                     numerical_grad(quadratic_form, (x,), 0))


def outer_product_table(X):
    n = X.shape[0]
    K = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            K[i, j] = X[i] * X[j]
    return np.sum(K ** 2)


def test_hessian_of_writes_in_an_inner_loop(jit_mode):
    """A tuple (an index) made and read in an inner loop was taken for one the outer loop
    carries ("the tuple 't9' is carried by this loop", in nabla's own generated code)."""
    X = V[:3].copy()
    g = nabla.grad(outer_product_table)
    assert_close(nabla.hessian(outer_product_table)(X), numerical_jacobian(g, (X,), 0),
                 rtol=1e-5)


def written_through_an_alias(x):
    a = np.zeros(3)
    b = a
    b[0] = x[0]
    return np.sum(a * x)


def test_a_write_through_an_alias_of_a_local_array_says_so():
    """It was refused as a write that "would change the caller's data"."""
    with pytest.raises(nabla.UnsupportedSyntaxError,
                       match="a view or an alias of 'a'.*'a' would not change") as e:
        nabla.grad(written_through_an_alias)(V[:3].copy())
    assert "caller" not in str(e.value)


def view_written_on_one_path(x, c):
    a = np.copy(x)
    v = a[1:]
    if c > 0:
        a[2] = a[2] * 3.0
    else:
        v = a[:2]
    return np.sum(v ** 2)


def view_written_or_not(x, n):
    a = np.copy(x)
    v = a[1:]
    a[1] = 2.0 * a[1]
    for i in range(n):
        v = a[:2]
    return np.sum(v ** 2)


@pytest.mark.parametrize("fn, c", [(view_written_on_one_path, 1.0),
                                   (view_written_or_not, 0)])
def test_a_view_stale_on_one_path_is_refused(fn, c):
    """A branch (or a loop that may not run) that takes the view again does not make it
    fresh on the other path."""
    with pytest.raises(nabla.NotDifferentiableError, match="'v' is a view of"):
        nabla.grad(fn, mode="reverse")(V, c)


def zero_dimensional_output(x):
    return np.array(np.sum(x ** 2))


@pytest.mark.parametrize("x", [np.array(0.3), V])
def test_grad_of_a_0d_array_output(jit_mode, x):
    """A 0-d float array is a scalar output with Numba too (it was refused there only)."""
    assert_close(nabla.grad(zero_dimensional_output)(x), 2 * x)


# -- a loop's variable, and a value its body makes, read after the loop (audit, 2026-12-07) --
def loop_variable_after(x, n):
    s = x
    i = 0
    for i in range(n):
        s = s * 1.1 + x
    return s * i


def loop_variable_first_set_by_the_loop(x, n):
    s = x
    for i in range(n):
        s = s * 1.1 + x * i
    return s * i


def row_after_the_loop(X):
    s = 0.0
    for row in X:
        s = s + np.sum(row) * s + 1.0
    return s * np.sum(row)


def body_array_after_the_loop(x):
    a = x * 1.0
    for i in range(3):
        b = a * 1.0
        a = a + b * 0.1
    return np.sum(a * b)


@pytest.mark.parametrize("n", [4, 1, 0])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_loop_variable_read_after_the_loop(jit_mode, mode, n):
    # was: reverse mode 0.0 (Numba) or a TypeError (Python); after no iteration, Python's
    # value is the one before the loop
    assert_close(nabla.jit(loop_variable_after)(0.4, n), loop_variable_after(0.4, n))
    assert_close(nabla.grad(loop_variable_after, mode=mode)(0.4, n),
                 numerical_grad(loop_variable_after, (0.4, n)))
    if n:
        f = loop_variable_first_set_by_the_loop
        assert_close(nabla.grad(f, mode=mode)(0.4, n), numerical_grad(f, (0.4, n)))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_value_the_body_makes_read_after_the_loop(jit_mode, mode):
    # was: reverse mode's "a value the loop carries changed shape between iterations"
    X = np.array([[0.3, 0.2], [0.5, -0.1]])
    assert_close(nabla.grad(row_after_the_loop, mode=mode)(X),
                 numerical_grad(row_after_the_loop, (X,)))
    x = np.array([0.3, -0.7, 1.1, 0.5])
    assert_close(nabla.grad(body_array_after_the_loop, mode=mode)(x),
                 numerical_grad(body_array_after_the_loop, (x,)))


# -- vmap's and jacfwd's vector form: an element read, then a write into its array ---------
def save_then_overwrite(x):
    y = x ** 2
    a = y[0]
    y[0] = 10.0
    return y * a


def swap_through_a_temporary(x):
    y = x * 1.0
    t = y[0]
    y[0] = y[1]
    y[1] = t
    return y * np.array([1.0, 2.0, 3.0])


def pivots(x):
    y = x * 1.0
    for k in range(3):
        p = y[k]
        y[k] = 1.0
        y = y / p
    return y


@pytest.mark.parametrize("f", [save_then_overwrite, swap_through_a_temporary, pivots])
def test_an_element_read_before_a_write_keeps_its_value_in_the_vector_form(jit_mode, f):
    # was: each example's element a view of the batch (y[:, 0]), changed by the write
    X = np.array([[0.5, 1.0, 2.0, 1.2], [3.0, 1.0, 1.5, 0.7]])[:, :3]
    assert_close(nabla.vmap(f)(X), np.stack([f(r) for r in X]))
    for r in X:
        assert_close(nabla.jacfwd(f)(r), numerical_jacobian(f, (r,)))


def count_positive(x):
    return np.sum(x > 0) * x + (x > 0.5).sum()


def test_vmap_counts_booleans_as_ints(jit_mode):
    # was: the count cast back to bool (1 where 3 is right)
    X = np.array([[1.5, 0.6, -0.3, 0.9], [-1.0, -2.0, 3.0, -4.0]])
    assert_close(nabla.vmap(count_positive)(X), np.stack([count_positive(r) for r in X]))


def log_base(x):  # named like a helper of nabla.runtime
    return math.log(x, 2.0) + 1.0


def test_a_function_named_like_a_runtime_helper(jit_mode):
    # was: its generated entry shadowed the helper it calls (a TypeError)
    assert_close(nabla.jit(log_base)(3.0), log_base(3.0))
    assert_close(nabla.vmap(log_base)(np.array([3.0, 4.0])), [log_base(3.0), log_base(4.0)])


def outer_by_newaxis(x):
    return np.sum(x[:, np.newaxis] * x[np.newaxis, :] + x[:, np.newaxis])


def test_np_newaxis_indexes_like_none(jit_mode):
    x = np.array([0.5, 1.0, 2.0])
    assert_close(nabla.jit(outer_by_newaxis)(x), outer_by_newaxis(x))
    assert_close(nabla.grad(outer_by_newaxis)(x), numerical_grad(outer_by_newaxis, (x,)))


def test_an_element_of_an_array_of_unknown_rank_gets_the_float_hint():
    # jacrev's code is made for any rank: y[0] may be a row (a view) or one number
    with pytest.raises(nabla.NablaError, match=r"a = float\(\.\.\.\)"):
        nabla.jacrev(save_then_overwrite)(np.array([0.5, 1.0, 2.0]))


def wave(u0):
    n = u0.shape[0]
    uprev = u0.copy()
    u = u0.copy()
    for t in range(5):
        unext = np.zeros(n)
        unext[1:-1] = 2 * u[1:-1] - uprev[1:-1] + 0.2 * (u[2:] - 2 * u[1:-1] + u[:-2])
        uprev = u
        u = unext
    return np.dot(u, u)


def test_rotating_buffers_are_not_stale_views(jit_mode):
    # was refused in reverse mode: 'u' a view of 'unext' read after a write into 'unext',
    # where each write goes into the new array np.zeros made
    u0 = np.array([0.0, 0.3, 0.8, 0.4, 0.1, 0.0])
    assert_close(nabla.grad(wave, mode="reverse")(u0), numerical_grad(wave, (u0,)))


def loop_maybe_empty(x, n):
    s = x * 1.0
    for i in range(n):
        s = s * np.sin(s) + x
    return np.sum(s * s)


@pytest.mark.parametrize("n", [0, 2])
def test_reverse_over_reverse_through_a_loop_that_may_not_run(jit_mode, n):
    # was: an IndexError (Python), a read past the end of an empty tape (Numba)
    x = np.array([0.3, -0.7, 1.1])
    want = numerical_jacobian(nabla.grad(loop_maybe_empty, mode="forward"), (x, n))
    assert_close(nabla.jacrev(nabla.jacrev(loop_maybe_empty))(x, n), want, rtol=1e-5)
