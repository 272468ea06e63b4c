"""Calls whose values carry no derivative (nabla/rules/constructors.py): lengths,
shapes, array constructors and integer arithmetic pass through, checked against central
finite differences (see rule_cases.py); random draws: their values pass through, their
arguments are inactive."""

import numpy as np
from fd import assert_close, numerical_grad
from hypothesis import given
from rule_cases import (
    A3,
    A23,
    SETTINGS,
    Case,
    assert_unchanged,
    pattern,
    rule_test,
    snapshot,
)

import nabla


# =======================================================================================
# Pass-through: values that carry no derivative
# =======================================================================================
def p_len(x):
    return x * len(x)


def p_shape(x):
    return x * x.shape[0] + x.shape[1] + x.ndim + x.size


def p_constructors(x):
    z = np.zeros(3)
    o = np.ones(3)
    e = np.empty(3)
    zl = np.zeros_like(x)
    return (x + z) * o + zl + e.shape[0]


def p_arange(x):
    return x * np.arange(3)


def p_linspace(x):
    return x * np.linspace(0.0, 1.0, 3)


def p_int_arith(x):
    n = len(x)
    k = n * 2 - 1
    m = k // 2 % 3 + (-n) + n ** 2
    return x * k + m


def p_int_arg(x, n):
    return x * (n + 1) + n // 2


PASS = [
    Case(p_len, A3), Case(p_shape, A23), Case(p_constructors, A3), Case(p_arange, A3),
    Case(p_linspace, A3), Case(p_int_arith, A3), Case(p_int_arg, A3, 3),
]


CASES = PASS
# under Numba (strict), only these representatives run by default (see rule_cases.py;
# NABLA_TEST_ALL_RULES=1 runs every case)
NUMBA_DEFAULT = {
    "p_shape", "p_constructors", "p_int_arith",
}


test_rule = rule_test(CASES, NUMBA_DEFAULT)


# =======================================================================================
# Random draws: their arguments are inactive, their values pass through
# =======================================================================================
def rand_standard_normal(x):
    z = np.random.standard_normal(3)
    return np.sum(z * x), z


def rand_normal(x):
    z = np.random.normal(1.0, 2.0, 3)
    u = np.random.uniform(-1.0, 1.0, 3)
    return np.sum(z * x + u * x * x), (z, u)


def rand_plain(x):
    z = np.random.standard_normal(3)
    return np.sum(np.sin(x) * z)


@SETTINGS
@given(x=A3.strategy())
def test_random_standard_normal(jit_mode, x):
    before = snapshot([x])
    g, z = nabla.grad(rand_standard_normal, has_aux=True)(x)
    assert_unchanged([x], before)
    assert z.shape == (3,)
    assert_close(g, z, 1e-12, 1e-12)  # d/dx sum(z * x) = z, whatever z was drawn
    t = pattern((3,), 1)
    out, out_dot, z2 = nabla.jvp(rand_standard_normal, (x,), (t,), has_aux=True)
    assert_close(out, np.sum(z2 * x), 1e-12, 1e-12)
    assert_close(out_dot, np.sum(z2 * t), 1e-12, 1e-12)


@SETTINGS
@given(x=A3.strategy())
def test_random_normal_uniform(jit_mode, x):
    g, (z, u) = nabla.grad(rand_normal, has_aux=True)(x)
    assert_close(g, z + 2 * u * x, 1e-12, 1e-12)
    value, g2 = nabla.value_and_grad(rand_normal, has_aux=True)(x)
    (v, (z2, u2)) = value
    assert_close(v, np.sum(z2 * x + u2 * x * x), 1e-12, 1e-12)
    assert_close(g2, z2 + 2 * u2 * x, 1e-12, 1e-12)


@SETTINGS
@given(x=A3.strategy())
def test_random_seeded_fd(x):
    """In Python, seeding NumPy before each call makes the draw a constant: FD applies."""
    old = nabla.config.jit
    nabla.config.jit = False
    try:
        def seeded(x):
            np.random.seed(1)
            return rand_plain(x)

        np.random.seed(1)
        g = nabla.grad(rand_plain)(x)
        assert_close(g, numerical_grad(seeded, [x]))
    finally:
        nabla.config.jit = old
