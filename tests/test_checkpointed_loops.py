"""nabla.checkpointed_range: reverse mode keeps a loop's carried values every ~sqrt(n)
iterations and recomputes segment by segment; the derivatives are those of the same loop
over range (and of finite differences), in every transform, Numba on and off."""

import numpy as np
import pytest
from fd import assert_close, numerical_grad

import nabla


def damped(x, n):
    for i in nabla.checkpointed_range(n):
        x = x + 0.1 * np.sin(x) - 0.01 * x * i
    return np.sum(x * x)


def damped_plain(x, n):
    for i in range(n):
        x = x + 0.1 * np.sin(x) - 0.01 * x * i
    return np.sum(x * x)


def kick(v, q, dt):
    return v - dt * np.sin(q)


def leapfrog(q, v, dt):
    """Two carried arrays, a scalar accumulator, a callee and an inner loop in the body."""
    energy = 0.0
    for step in nabla.checkpointed_range(2, 41, 3):
        v = kick(v, q, 0.5 * dt)
        q = q + dt * v
        v = kick(v, q, 0.5 * dt)
        for j in range(2):
            energy = energy + 0.5 * np.sum(v * v) * (j + 1)
    return energy + np.sum(np.cos(q))


Q = np.array([0.3, -0.7, 1.1])
V = np.array([0.2, 0.4, -0.1])


@pytest.mark.parametrize("n", [0, 1, 2, 7, 64, 100])
def test_the_same_derivative_as_the_loop_over_range(n, jit_mode):
    expected = nabla.grad(damped_plain)(Q, n)
    assert_close(nabla.grad(damped)(Q, n), expected, rtol=1e-12, atol=1e-14)
    if n in (7, 64):
        assert_close(expected, numerical_grad(damped, [Q, n], 0), rtol=1e-5)


def test_several_carried_values_a_callee_and_an_inner_loop(jit_mode):
    for argnum in (0, 1, 2):
        args = [Q, V, 0.05]
        got = nabla.grad(leapfrog, argnums=argnum)(*args)
        assert_close(got, numerical_grad(leapfrog, args, argnum), rtol=1e-5, atol=1e-7)


def test_other_transforms_read_it_as_range(jit_mode):
    _, tangent = nabla.jvp(damped, (Q, 7), (np.ones(3), 0))
    assert tangent == pytest.approx(np.sum(nabla.grad(damped_plain)(Q, 7)), rel=1e-10)
    assert_close(nabla.hessian(damped)(Q, 7), nabla.hessian(damped_plain)(Q, 7), rtol=1e-10)
    batch = np.stack([Q, Q + 0.5])
    rows = nabla.vmap(nabla.grad(damped), in_axes=(0, None))(batch, 7)
    for row, g in zip(batch, rows):
        assert_close(g, nabla.grad(damped_plain)(row, 7), rtol=1e-10)
    assert list(nabla.checkpointed_range(2, 8, 3)) == [2, 5]


def test_the_tape_holds_about_twice_the_square_root_of_the_steps():
    source = nabla.source(damped, mode="grad")
    assert "x_checkpoints = tape_like(x, segments)" in source
    assert "x_tape = tape_like(x, span)" in source
    assert nabla.runtime.checkpoint_span(10 ** 6) == 1000


def fills_an_array(x, n):
    # a table the loop only fills: the checkpoints need none of its values
    out = np.zeros(n)
    for i in nabla.checkpointed_range(n):
        x = np.sin(x)
        out[i] = x
    return np.sum(out)


def writes_into_an_array(x, n):
    # reads what it writes (even where nothing differentiates it, the adjoint reads it)
    out = np.zeros(n + 1)
    for i in nabla.checkpointed_range(n):
        x = np.sin(x) * out[i]
        out[i + 1] = out[i] + 1.0
    return x


def breaks_early(x, n):
    for i in nabla.checkpointed_range(n):
        x = x * 0.5
        if x < 0.1:
            break
    return x


def test_a_checkpointed_loop_filling_a_table(jit_mode):
    fd = (fills_an_array(0.3 + 1e-6, 4) - fills_an_array(0.3 - 1e-6, 4)) / 2e-6
    assert nabla.grad(fills_an_array)(0.3, 4) == pytest.approx(fd, rel=1e-6)


def test_what_a_checkpointed_loop_cannot_do_is_refused_where_it_is_written():
    with pytest.raises(nabla.NotDifferentiableError, match="checkpointed_range") as e:
        nabla.grad(writes_into_an_array)(0.3, 4)
    assert "out[i + 1] = out[i] + 1.0" in str(e.value)
    with pytest.raises(nabla.NablaError, match="break or return early") as e:
        nabla.grad(breaks_early)(0.3, 4)
    assert "test_checkpointed_loops.py" in str(e.value)
