"""What reverse mode learns from the call and from how arrays are filled, checked against
central finite differences (Numba off and strict), and in the generated source:

- the ranks of the arguments prove values scalars, so a loop's scalar accumulator
  needs no tape;
- an array the function makes and then fills in one loop that never reads it needs no
  write log; one read before or inside that loop keeps it."""

import numpy as np
import pytest
from fd import assert_close, numerical_grad

import nabla


def table_then_logsumexp(a, x):
    n = x.shape[0]
    k = a.shape[0]
    table = np.empty((n, k))
    for i in range(n):
        for j in range(k):
            sq = 0.0
            for m in range(j + 1):
                v = a[j] * x[i]
                for q in range(m):
                    v = v + a[q] * x[i] * 0.5
                sq = sq + v * v
            table[i, j] = np.sin(sq)
    s = 0.0
    for i in range(n):
        s = s + np.log(np.sum(np.exp(table[i])))
    return s


def read_before_filled(x):
    h = np.zeros(x.shape[0])
    t = np.sum(np.sin(h + x) ** 2)  # reads h before the loop fills it
    for i in range(x.shape[0]):
        h[i] = np.tanh(x[i] * t)
    return np.sum(h * h) + t


def read_while_filled(x):
    h = np.zeros(x.shape[0])
    h[0] = x[0]
    for i in range(1, x.shape[0]):
        h[i] = np.sin(h[i - 1]) * x[i]
    return np.sum(h * h)


def copied_then_filled(w, s, x):
    s2 = s.copy()
    for i in range(0, s.shape[0], 2):
        h = np.tanh(w[i] * x + s[i])
        c = h * s[i + 1]
        s2[i] = h
        s2[i + 1] = c
        x = h
    return np.sum(x * s2[0]) + np.sum(s2 * s2)


def scaled(v, c):
    return v * c + c * c


def same_callee_two_ranks(x, y):
    # scaled() is called with a scalar and with an array: two vjps, one per rank
    s = 0.0
    for i in range(3):
        s = s + scaled(y, x[i])
    return s + np.sum(scaled(x, y))


RNG = np.random.default_rng(7)
CASES = [
    (table_then_logsumexp, (RNG.uniform(-1, 1, 3), RNG.uniform(-1, 1, 4)), (0, 1)),
    (read_before_filled, (RNG.uniform(-1, 1, 5),), (0,)),
    (read_while_filled, (RNG.uniform(-1, 1, 5),), (0,)),
    (copied_then_filled, (RNG.uniform(-1, 1, (4, 3)), RNG.uniform(-1, 1, (4, 3)),
                          RNG.uniform(-1, 1, 3)), (0, 1, 2)),
    (same_callee_two_ranks, (RNG.uniform(-1, 1, 3), 0.7), (0, 1)),
]


@pytest.mark.parametrize("fun,args,argnums", CASES, ids=[c[0].__name__ for c in CASES])
def test_reverse_mode_against_finite_differences(jit_mode, fun, args, argnums):
    g = nabla.grad(fun, argnums=argnums, mode="reverse")
    got = g(*args)
    for k, i in enumerate(argnums):
        assert_close(got[k], numerical_grad(fun, args, i))


def test_scalar_accumulators_need_no_tape():
    x = RNG.uniform(-1, 1, 4)
    g = nabla.grad(table_then_logsumexp, argnums=(0, 1), mode="reverse")
    g(RNG.uniform(-1, 1, 3), x)
    src = g.source
    assert "sq_tape" not in src and "v_tape" not in src
    # the table is filled without a write log, and not written again in the adjoint
    assert "write_log" not in src and "table_old_tape" not in src
    writes = [ln for ln in src.splitlines() if ln.strip().startswith("table[i, j] = ")]
    assert len(writes) == 1


def test_arrays_read_around_their_filling_keep_their_log():
    g = nabla.grad(read_while_filled, mode="reverse")
    g(RNG.uniform(-1, 1, 4))
    assert "h_old_tape" in g.source
    g = nabla.grad(read_before_filled, mode="reverse")
    g(RNG.uniform(-1, 1, 4))
    assert "h_old_tape" in g.source


def test_ranks_choose_the_variant():
    """The same grad called with scalars and with an array transforms twice: with scalars
    only, no cotangent needs summing back to an operand's shape."""
    def f(x, y):
        u = x * y
        return np.sum(u * u)

    g = nabla.grad(f, argnums=(0, 1), mode="reverse")
    a = g(0.5, 0.3)
    scalars = g.source
    b = g(np.array([0.5, 0.4]), 0.3)
    assert_close(a[0], numerical_grad(f, [0.5, 0.3], 0))
    assert_close(b[0], numerical_grad(f, [np.array([0.5, 0.4]), 0.3], 0))
    assert_close(b[1], numerical_grad(f, [np.array([0.5, 0.4]), 0.3], 1))
    assert "unbroadcast" not in scalars
    assert "unbroadcast" in g.source
