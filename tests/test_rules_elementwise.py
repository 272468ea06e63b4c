"""The rules of elementwise functions (nabla/rules/elementwise.py): those of ``math``
on Python floats, NumPy's on arrays, the piecewise constant ones (zero derivatives), and
scalar outputs of array rules through grad and value_and_grad; checked against central
finite differences in reverse and forward mode (see rule_cases.py)."""

import math

import numpy as np
import pytest
from fd import assert_close, numerical_grad
from hypothesis import given
from rule_cases import (
    A3,
    A21,
    A23,
    NZ3,
    NZ23,
    SETTINGS,
    Case,
    F,
    assert_unchanged,
    rule_test,
    snapshot,
)

import nabla


# zero derivatives: piecewise constant functions times x
def z_np_floor(x):
    return np.floor(x) * x


def z_np_ceil(x):
    return np.ceil(x) * x


def z_np_sign(x):
    return np.sign(x) * x


def z_np_round(x):
    return np.round(x) * x


def z_round_method(x):
    return x.round() * x


def z_np_trunc(x):
    return np.trunc(x) * x


def z_np_rint(x):
    return np.rint(x) * x


def z_math_floor(a):
    return math.floor(a) * a


def z_math_ceil(a):
    return math.ceil(a) * a


def z_round(a):
    return round(a) * a


def z_math_trunc(a):
    return math.trunc(a) * a


NOT_INT3 = F((2, 3), -2.9, 2.9, integers=True, away=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5))
NOT_INT = F(None, -2.9, 2.9, integers=True, away=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5))
ZEROS = [
    Case(z_np_floor, NOT_INT3), Case(z_np_ceil, NOT_INT3), Case(z_np_sign, NZ23),
    Case(z_np_round, NOT_INT3), Case(z_round_method, NOT_INT3), Case(z_np_trunc, NOT_INT3),
    Case(z_np_rint, NOT_INT3), Case(z_math_floor, NOT_INT), Case(z_math_ceil, NOT_INT),
    Case(z_round, NOT_INT), Case(z_math_trunc, NOT_INT),
]


# =======================================================================================
# math: Python floats in, Python float out
# =======================================================================================
def m_sin(a):
    return math.sin(a)


def m_cos(a):
    return math.cos(a)


def m_tan(a):
    return math.tan(a)


def m_asin(a):
    return math.asin(a)


def m_acos(a):
    return math.acos(a)


def m_atan(a):
    return math.atan(a)


def m_atan2(a, b):
    return math.atan2(a, b)


def m_sinh(a):
    return math.sinh(a)


def m_cosh(a):
    return math.cosh(a)


def m_tanh(a):
    return math.tanh(a)


def m_asinh(a):
    return math.asinh(a)


def m_acosh(a):
    return math.acosh(a)


def m_atanh(a):
    return math.atanh(a)


def m_exp(a):
    return math.exp(a)


def m_expm1(a):
    return math.expm1(a)


def m_exp2(a):
    return math.exp2(a)


def m_log(a):
    return math.log(a)


def m_log_base(a, b):
    return math.log(a, b)


def m_log_const_base(a):
    return math.log(a, 2.0)


def m_log1p(a):
    return math.log1p(a)


def m_log2(a):
    return math.log2(a)


def m_log10(a):
    return math.log10(a)


def m_sqrt(a):
    return math.sqrt(a)


def m_pow(a, b):
    return math.pow(a, b)


def m_hypot(a, b):
    return math.hypot(a, b)


def m_fabs(a):
    return math.fabs(a)


def m_abs(a):
    return abs(a)


def m_erf(a):
    return math.erf(a)


def m_erfc(a):
    return math.erfc(a)


def m_copysign(a, b):
    return math.copysign(a, b)


SF = F()
SPOS = F(None, 0.2, 3.0)
SUNIT = F(None, -0.9, 0.9)
SNZ = F(None, away=(0.0,), gap=0.2)
MATH = [
    Case(m_sin, SF), Case(m_cos, SF), Case(m_tan, F(None, -1.2, 1.2)),
    Case(m_asin, SUNIT), Case(m_acos, SUNIT), Case(m_atan, SF), Case(m_atan2, SNZ, SNZ),
    Case(m_sinh, SF), Case(m_cosh, SF), Case(m_tanh, SF), Case(m_asinh, SF),
    Case(m_acosh, F(None, 1.2, 3.0)), Case(m_atanh, SUNIT), Case(m_exp, SF),
    Case(m_expm1, SF), Case(m_exp2, SF), Case(m_log, SPOS),
    Case(m_log_base, SPOS, F(None, 1.5, 4.0)), Case(m_log_const_base, SPOS),
    Case(m_log1p, F(None, -0.8, 3.0)), Case(m_log2, SPOS), Case(m_log10, SPOS),
    Case(m_sqrt, SPOS), Case(m_pow, SPOS, SF), Case(m_hypot, SNZ, SNZ), Case(m_fabs, SNZ),
    Case(m_abs, SNZ), Case(m_erf, SF), Case(m_erfc, SF), Case(m_copysign, SNZ, SNZ),
]


# =======================================================================================
# NumPy elementwise
# =======================================================================================
def n_sin(x):
    return np.sin(x)


def n_cos(x):
    return np.cos(x)


def n_tan(x):
    return np.tan(x)


def n_arcsin(x):
    return np.arcsin(x)


def n_arccos(x):
    return np.arccos(x)


def n_arctan(x):
    return np.arctan(x)


def n_arctan2(y, x):
    return np.arctan2(y, x)


def n_sinh(x):
    return np.sinh(x)


def n_cosh(x):
    return np.cosh(x)


def n_tanh(x):
    return np.tanh(x)


def n_arcsinh(x):
    return np.arcsinh(x)


def n_arccosh(x):
    return np.arccosh(x)


def n_arctanh(x):
    return np.arctanh(x)


def n_exp(x):
    return np.exp(x)


def n_expm1(x):
    return np.expm1(x)


def n_exp2(x):
    return np.exp2(x)


def n_log(x):
    return np.log(x)


def n_log1p(x):
    return np.log1p(x)


def n_log2(x):
    return np.log2(x)


def n_log10(x):
    return np.log10(x)


def n_sqrt(x):
    return np.sqrt(x)


def n_power(x, y):
    return np.power(x, y)


def n_power_const(x):
    return np.power(x, 3.0)


def n_hypot(x, y):
    return np.hypot(x, y)


def n_fabs(x):
    return np.fabs(x)


def n_abs(x):
    return np.abs(x)


def n_absolute(x):
    return np.absolute(x)


def n_builtin_abs(x):
    return abs(x)


def n_maximum(x, y):
    return np.maximum(x, y)


def n_minimum(x, y):
    return np.minimum(x, y)


def n_maximum_const(x):
    return np.maximum(x, 0.0)


def n_where(x, y):
    return np.where(x > 0.0, x * y, y)


def n_clip(x):
    return np.clip(x, -0.5, 0.5)


def n_clip_var(x, lo, hi):
    return np.clip(x, lo, hi)


def n_clip_method(x):
    return x.clip(-0.5, 0.5)


def n_square(x):
    return np.square(x)


def n_reciprocal(x):
    return np.reciprocal(x)


def n_logaddexp(x, y):
    return np.logaddexp(x, y)


def n_cbrt(x):
    return np.cbrt(x)


def n_negative(x):
    return np.negative(x)


def n_deg2rad(x):
    return np.deg2rad(x) + np.rad2deg(x)


NPOS = F((2, 3), 0.2, 3.0)
NZ21 = F((2, 1), away=(0.0,), gap=0.3)
NUNIT = F((2, 3), -0.9, 0.9)
NUMPY = [
    Case(n_sin, A23), Case(n_cos, A23), Case(n_tan, F((2, 3), -1.2, 1.2)),
    Case(n_arcsin, NUNIT), Case(n_arccos, NUNIT), Case(n_arctan, A23),
    Case(n_arctan2, NZ23, NZ3), Case(n_sinh, A23), Case(n_cosh, A23), Case(n_tanh, A23),
    Case(n_arcsinh, A23), Case(n_arccosh, F((2, 3), 1.2, 3.0)), Case(n_arctanh, NUNIT),
    Case(n_exp, A23), Case(n_expm1, A23), Case(n_exp2, A23), Case(n_log, NPOS),
    Case(n_log1p, F((2, 3), -0.8, 3.0)), Case(n_log2, NPOS), Case(n_log10, NPOS),
    Case(n_sqrt, NPOS), Case(n_power, NPOS, A3), Case(n_power_const, A23),
    Case(n_hypot, NZ23, NZ21), Case(n_fabs, NZ23),
    Case(n_abs, NZ23), Case(n_absolute, NZ23), Case(n_builtin_abs, NZ23),
    Case(n_maximum, F((2, 3), grid=0.1), F((3,), grid=0.1, shift=0.05)),
    Case(n_minimum, F((2, 1), grid=0.1), F((2, 3), grid=0.1, shift=0.05)),
    Case(n_maximum_const, NZ23),
    Case(n_where, NZ23, A3),
    Case(n_clip, F((2, 3), away=(-0.5, 0.5))),
    Case(n_clip_var, F((2, 3), grid=0.1, shift=0.05), F(None, -1.0, -0.3, grid=0.1),
         F(None, 0.3, 1.0, grid=0.1)),
    Case(n_clip_method, F((2, 3), away=(-0.5, 0.5))),
    Case(n_square, A23), Case(n_reciprocal, NZ23), Case(n_logaddexp, A23, A21),
    Case(n_cbrt, F((2, 3), away=(0.0,), gap=0.3)), Case(n_negative, A23), Case(n_deg2rad, A3),
]


CASES = ZEROS + MATH + NUMPY
# under Numba (strict), only these representatives run by default (see rule_cases.py;
# NABLA_TEST_ALL_RULES=1 runs every case)
NUMBA_DEFAULT = {
    "z_np_floor", "z_np_sign", "z_np_round", "z_math_floor", "z_math_ceil", "z_round",
    "z_math_trunc",
    *(c.fn.__name__ for c in MATH),
    "n_sin", "n_tan", "n_arcsin", "n_exp", "n_log", "n_sqrt", "n_power", "n_hypot", "n_abs",
    "n_maximum", "n_minimum", "n_where", "n_clip", "n_clip_var",
    "n_reciprocal", "n_logaddexp", "n_cbrt", "n_arctan2",
}


test_rule = rule_test(CASES, NUMBA_DEFAULT)


# =======================================================================================
# Scalar outputs through grad, of array-valued rules (grad, not only vjp)
# =======================================================================================
def g_chain(x, y):
    return np.sum(np.tanh(x * y + 1.0) * np.exp(-x) / (1.0 + y * y))


@SETTINGS
@given(x=A23.strategy(), y=A3.strategy())
def test_grad_and_value_and_grad(jit_mode, x, y):
    before = snapshot([x, y])
    value, (gx, gy) = nabla.value_and_grad(g_chain, argnums=(0, 1))(x, y)
    assert_unchanged([x, y], before)
    assert_close(value, g_chain(x, y), 1e-12, 1e-12)
    assert gx.shape == x.shape and gy.shape == y.shape
    assert_close(gx, numerical_grad(g_chain, [x, y], 0))
    assert_close(gy, numerical_grad(g_chain, [x, y], 1))
    g1 = nabla.grad(g_chain, argnums=1)(x, y)
    assert_close(g1, gy, 1e-12, 1e-12)


def _wishart_like(x, p):
    out = 0.0
    for j in range(1, p + 1):
        out = out + math.lgamma(2.5 + 0.5 * (1 - j))  # a constant: no derivative needed
    return np.sum(x * x) * out + math.gamma(1.5)


def test_lgamma_and_gamma_of_constants(jit_mode):
    x = np.array([0.3, -0.4, 0.8])
    for mode in ("reverse", "forward"):
        g = nabla.grad(_wishart_like, mode=mode)(x, 3)
        assert_close(g, numerical_grad(_wishart_like, [x, 3], 0))
    assert math.isclose(nabla.jit(_wishart_like)(x, 3), _wishart_like(x, 3))


def _lgamma_of_input(x):
    return math.lgamma(x) * x


def test_lgamma_of_a_differentiated_input_is_refused():
    with pytest.raises(nabla.NotDifferentiableError, match=r"lgamma\(\) has no derivative"):
        nabla.grad(_lgamma_of_input, mode="reverse")(2.0)
