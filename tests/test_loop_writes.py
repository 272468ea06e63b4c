"""Writes into arrays inside loops, in reverse mode: each write's old value recorded and put
back right after the write's own adjoint, so that every statement's adjoint reads the
arrays as the statement did. These programs were refused ("the loop reads all of ... while
writing into it", "a loop writes a slice") or, where nothing differentiated the array,
differentiated wrong; each is checked against central differences in every mode, Numba
on and off. A slice written inside an inner loop or a branch of a loop is still refused,
at its line."""

import math  # noqa: F401 - the programs' namespace

import numpy as np
import pytest
from fd import assert_close, numerical_grad

import nabla
from nabla.errors import NotDifferentiableError


def slice_in_loop(w, x):  # slice write in loop
    y = np.ones(4)
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(y * w)
        y[1:3] = y[1:3] * x[i] + w[0:2]
    return s + np.sum(y)


def inner_loop_writes_whole_read(w, x):  # inner loop writes, outer reads
    y = np.zeros(4)
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(4):
            y[j] = y[j] + w[j] * x[i]
        s = s + np.sum(y * y)
    return s


def branch_writes_whole_read(w, x):  # branch writes
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            y[i % 4] = y[i % 4] * x[i]
        else:
            y[(i + 1) % 4] = y[(i + 1) % 4] + x[i]
        s = s + np.sum(y) * w[i % 4]
    return s


def made_each_iteration(w, x):  # array carried and replaced (not in place)
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        z = y * x[i]
        z[0] = z[0] + 1.0
        y = np.tanh(z)
        s = s + y[1]
    return s


def heat_equation(w, x):  # checkpoint-free time stepping, whole array reassigned in place
    u = w.copy()
    for i in range(x.shape[0]):
        u[1:-1] = u[1:-1] + 0.1 * (u[:-2] - 2 * u[1:-1] + u[2:]) * x[i]
    return np.sum(u * u)


def inactive_inner_writes(w, x):  # inactive array, inner loop write, outer read
    a = np.zeros(4)
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.dot(a, w)
        for j in range(4):
            a[j] = a[j] + x[i] * (j + 1)
    return s


def logged_top_level_write(w, x):  # top-level write into a logged array, after a whole read
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(y * w)
        y[0] = y[0] * x[i]
        if x[i] > 0.0:
            y[1] = y[1] + x[i]
    return s


def stencil_2d(w, x):  # 2-D stencil, slice writes
    u = np.outer(w, w)
    for i in range(x.shape[0]):
        u[1:-1, :] = u[1:-1, :] + 0.1 * x[i] * (u[:-2, :] - u[1:-1, :])
        u[:, 0] = u[:, 1] * x[i]
    return np.sum(u * u)


def stepped_slices(w, x):  # stepped and negative slices
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        y[::2] = y[::2] * x[i] + y[1::2]
        y[-1] = y[-2] * 0.5
        s = s + np.sum(y[::-1] * w)
    return s


def made_read_written_read(w, x):  # made then read whole then written then read
    s = 0.0
    for i in range(x.shape[0]):
        z = w * x[i]
        s = s + np.sum(z * z)
        z[1] = z[0] * z[2]
        s = s + np.sum(z * w)
    return s


def while_slice(w, x):  # while loop with slice write
    y = w.copy()
    k = 0
    s = 0.0
    while k < x.shape[0]:
        y[1:] = y[:-1] * x[k]
        s = s + np.sum(y)
        k = k + 1
    return s


def _energy(a, w):
    return np.sum(a * a * w)


def callee_reads_whole(w, x):  # a callee reads the array whole, then the loop writes it
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        s = s + _energy(y, w)
        y[i % 4] = y[(i + 1) % 4] * x[i]
    return s


def while_break_slices(w, x):  # while with break, slice writes
    y = w.copy()
    k = 0
    s = 0.0
    while True:
        y[1:3] = y[0:2] * x[k] + 0.1
        s = s + np.max(y)
        k = k + 1
        if k >= x.shape[0]:
            break
    return s


def carried_index(w, x):  # write whose index is a loop-carried int
    y = w.copy()
    j = 0
    s = 0.0
    for i in range(x.shape[0]):
        j = (j + 3) % 4
        y[j] = y[j] * x[i] + y[(j + 1) % 4]
        s = s + np.dot(y, w)
    return s



PROGRAMS = [slice_in_loop, inner_loop_writes_whole_read, branch_writes_whole_read,
            made_each_iteration, heat_equation, inactive_inner_writes, logged_top_level_write,
            stencil_2d, stepped_slices, made_read_written_read, while_slice,
            callee_reads_whole, while_break_slices, carried_index]


@pytest.mark.parametrize("fun", PROGRAMS, ids=[f.__name__ for f in PROGRAMS])
def test_reverse_mode_through_writes_in_loops(fun, jit_mode):
    rng = np.random.default_rng(0)
    w, x = rng.uniform(0.5, 1.2, size=4), rng.normal(size=6) * 0.5
    want = numerical_grad(fun, [w, x])
    for mode in ("reverse", "forward"):
        assert_close(nabla.grad(fun, mode=mode)(w, x), want)
    value, g = nabla.value_and_grad(fun)(w, x)
    assert value == pytest.approx(fun(w, x), rel=1e-12)
    assert_close(g, want)
    gw, gx = nabla.grad(fun, argnums=(0, 1))(w, x)
    assert_close(gw, want)
    assert_close(gx, numerical_grad(fun, [w, x], argnum=1))
    ws = np.stack([w, w * 0.9])
    per = nabla.vmap(nabla.grad(fun), in_axes=(0, None))(ws, x)
    assert_close(per[1], numerical_grad(fun, [ws[1], x]))


def slice_in_inner_loop(w, x):  # slice write inside an inner loop, whole read in the outer
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(y * y) * x[i]
        for j in range(2):
            y[j:j + 2] = y[j:j + 2] * 0.5 + x[i]
    return s


def slice_in_branch(w, x):  # slice write in a branch, whole read after
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            y[:2] = y[2:] * x[i]
        s = s + np.prod(y) + y[0]
    return s



def moving_slice(w, x):
    # its bounds change from one iteration to the next: a tape of fixed-shape entries
    # cannot keep what each write overwrites
    y = w.copy()
    s = 0.0
    for i in range(x.shape[0]):
        y[i % 2:i % 2 + 2] = y[i % 2:i % 2 + 2] * x[i]
        s = s + np.sum(y)
    return s


@pytest.mark.parametrize("fun,line,why", [
    (slice_in_inner_loop, 6, "a slice written inside an inner loop"),
    (slice_in_branch, 5, "a slice written inside an inner loop or a branch"),
    (moving_slice, 6, "a slice whose bounds change")])
def test_a_slice_reverse_mode_cannot_record_is_refused_at_its_line(fun, line, why):
    w, x = np.linspace(0.5, 1.0, 4), np.linspace(-1.0, 1.0, 3)
    with pytest.raises(NotDifferentiableError, match=why) as e:
        nabla.grad(fun)(w, x)
    assert e.value.lineno == fun.__code__.co_firstlineno + line
    _, dot = nabla.jvp(fun, (w, x), (np.ones(4), np.zeros(3)))  # forward mode handles it
    eps = 1e-6
    assert dot == pytest.approx((fun(w + eps, x) - fun(w - eps, x)) / (2 * eps), rel=1e-6,
                                abs=1e-8)


def test_a_derivative_of_reverse_mode_through_a_write_log_names_the_users_line():
    # the write log of a loop writing inside an inner loop has no derivative; the refusal
    # named the generated file and a helper the user never wrote
    w, x = np.linspace(0.5, 1.0, 4), np.linspace(-1.0, 1.0, 6)
    with pytest.raises(NotDifferentiableError, match="write log") as e:
        nabla.jacfwd(nabla.grad(inner_loop_writes_whole_read))(w, x)
    assert e.value.filename == __file__
    assert e.value.lineno == inner_loop_writes_whole_read.__code__.co_firstlineno + 3
    assert "jacfwd(nabla.jacfwd(f))" in e.value.hint
    # what the hint says works
    h = nabla.jacfwd(nabla.jacfwd(inner_loop_writes_whole_read))(w, x)
    want = np.array([numerical_grad(lambda v, k=k: nabla.grad(inner_loop_writes_whole_read)(
        v, x)[k], [w]) for k in range(4)])
    assert_close(h, want)


def test_reverse_over_reverse_through_a_write_log_is_refused_before_running():
    # an undifferentiated array written in an inner loop: the second reverse sweep taped
    # the growing write log and stopped at run time (a ValueError from the tape's check)
    w, x = np.linspace(0.5, 1.0, 4), np.linspace(-1.0, 1.0, 6)
    with pytest.raises(NotDifferentiableError, match="write log") as e:
        nabla.jacrev(nabla.grad(inactive_inner_writes))(w, x)
    assert e.value.filename == __file__
