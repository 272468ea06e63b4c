"""The machinery of the rule tests (tests/test_rules_*.py, one per module of
nabla/rules/): every derivative rule, checked against central finite differences.

Each rule gets a small function at module level of its test file (nabla reads source
files). A case names the function and how to draw its arguments; ``check`` then
differentiates it in reverse mode (``nabla.grad`` for a scalar output, with
respect to every float argument at once; ``nabla.vjp`` for an array output)
and in forward mode (``nabla.jvp``), in both ``jit_mode``s, and compares with
finite differences of the plain Python function. Shapes and dtypes are fixed
per case so that each generated function compiles once per mode.
"""

import os

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jvp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nabla

SETTINGS = settings(max_examples=5, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.filter_too_much])


# -- argument specifications ------------------------------------------------------------
class F:
    """A float argument drawn from [lo, hi]: a Python float (shape None) or an array.

    ``away`` lists points elements keep at least ``gap`` from (kinks of abs, floor...);
    ``integers`` keeps them away from every integer; ``grid`` draws from a grid of step
    ``grid`` shifted by ``shift`` (no ties for max/min: two grids shifted by half a
    step never meet); ``add`` is added after drawing (a well-conditioned matrix)."""

    def __init__(self, shape=None, lo=-2.0, hi=2.0, away=(), integers=False, gap=0.05,
                 grid=None, shift=0.0, unique=False, add=None):
        self.shape, self.lo, self.hi = shape, lo, hi
        self.away, self.integers, self.gap = away, integers, gap
        self.grid, self.shift, self.unique, self.add = grid, shift, unique, add

    def elements(self):
        if self.grid is not None:
            n = int((self.hi - self.lo) / self.grid)
            return st.integers(0, n).map(lambda k: self.lo + k * self.grid + self.shift)
        s = st.floats(self.lo, self.hi, allow_nan=False, allow_infinity=False)
        if self.away or self.integers:
            def ok(v):
                if any(abs(v - a) < self.gap for a in self.away):
                    return False
                return not (self.integers and abs(v - round(v)) < self.gap)
            s = s.filter(ok)
        return s

    def strategy(self):
        if self.shape is None:
            return self.elements().map(float)
        s = hnp.arrays(np.float64, self.shape, elements=self.elements(), unique=self.unique)
        if self.add is not None:
            s = s.map(lambda a: a + self.add)
        return s


class Case:
    def __init__(self, fn, *args, ok=None, rtol=1e-5, atol=1e-6, xfail=None, numba_fails=None):
        self.fn, self.args, self.ok = fn, args, ok
        self.rtol, self.atol, self.xfail = rtol, atol, xfail
        self.numba_fails = numba_fails  # a known failure under Numba only: its reason

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(self, id=self.fn.__name__, marks=marks)


def draw_args(data, case):
    args = [data.draw(a.strategy()) if isinstance(a, F) else a for a in case.args]
    if case.ok is not None:
        assume(case.ok(*args))
    return args


# -- the checks -------------------------------------------------------------------------
def is_float(a):
    return isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype.kind == "f")


def pattern(shape, k):
    """A fixed, irregular direction: tangents and cotangents."""
    n = int(np.prod(shape))
    v = 0.5 + np.sin(1.0 + 1.7 * k + 2.3 * np.arange(n))
    return v.reshape(shape) if shape else float(v[0])


def snapshot(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def assert_unchanged(args, before):
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg="nabla changed the caller's array")
            assert a.dtype == b.dtype


def assert_like(d, a, what):
    """A derivative with respect to ``a`` has ``a``'s shape and kind."""
    assert np.shape(d) == np.shape(a), f"{what}: shape {np.shape(d)} for an argument " \
        f"of shape {np.shape(a)}"
    if isinstance(a, np.ndarray):
        assert isinstance(d, np.ndarray) and d.dtype == a.dtype, f"{what}: {type(d)}"
    else:
        assert np.ndim(d) == 0


def check(f, args, rtol=1e-5, atol=1e-6, modes=("rev", "fwd")):
    """Reverse and forward derivatives of ``f`` at ``args`` against finite differences;
    the caller's arrays must come back unchanged from every call."""
    args = list(args)
    before = snapshot(args)
    expected = f(*snapshot(args))
    active = [i for i, a in enumerate(args) if is_float(a)]
    assert active
    fixed = {i: a for i, a in enumerate(args) if i not in active}
    f_ = f

    def f(*a):  # finite differences make every array float: keep the int ones
        return f_(*[fixed.get(i, v) for i, v in enumerate(a)])

    g_args = args
    if "rev" in modes:
        if np.ndim(expected) == 0:
            g = nabla.grad(f_, argnums=tuple(active))(*g_args)
            assert_unchanged(args, before)
            assert isinstance(g, tuple) and len(g) == len(active)
            for i, gi in zip(active, g):
                assert_like(gi, args[i], f"grad wrt argument {i}")
                assert_close(gi, numerical_grad(f, snapshot(args), i), rtol, atol)
        else:
            ct = pattern(np.shape(expected), 7)
            out, pullback = nabla.vjp(f_, *g_args)
            assert_unchanged(args, before)
            assert np.shape(out) == np.shape(expected)
            assert_close(out, expected, 1e-12, 1e-12)
            cts = pullback(ct)
            assert_unchanged(args, before)
            assert len(cts) == len(args)

            def inner(*a):
                return np.sum(ct * f(*a))

            for i in active:
                assert_like(cts[i], args[i], f"vjp wrt argument {i}")
                assert_close(cts[i], numerical_grad(inner, snapshot(args), i), rtol, atol)
    if "fwd" in modes:
        tangents = [pattern(np.shape(a), i) if is_float(a) else
                    (np.zeros_like(a) if isinstance(a, np.ndarray) else 0) for i, a in
                    enumerate(args)]
        out, out_dot = nabla.jvp(f_, tuple(g_args), tuple(tangents))
        assert_unchanged(args, before)
        assert np.shape(out) == np.shape(expected)
        assert_close(out, expected, 1e-12, 1e-12)
        assert np.shape(out_dot) == np.shape(expected), "jvp: tangent shape"
        ref = numerical_jvp(f, snapshot(args), [t if is_float(a) else None
                                                for a, t in zip(args, tangents)])
        assert_close(out_dot, ref, rtol, atol)


def run_case(case, data):
    check(case.fn, draw_args(data, case), case.rtol, case.atol)


# -- argument specifications shared by several rule files ------------------------------------
A23 = F((2, 3))
A3 = F((3,))
A21 = F((2, 1))
POS23 = F((2, 3), 0.5, 2.0)
POS3 = F((3,), 0.5, 2.0)
POS21 = F((2, 1), 0.5, 2.0)
NZ23 = F((2, 3), away=(0.0,), gap=0.3)
NZ3 = F((3,), away=(0.0,), gap=0.3)

# Under Numba every distinct generated function costs about a second of compilation (on
# two cores), so by default Numba checks one or two representatives of each rule (the
# variants add method spellings, constants on the other side, other axes); set
# NABLA_TEST_ALL_RULES=1 to compile every case. (Chaining many rules into one function
# does not help: Numba's compile time grows faster than the function.)
ALL_UNDER_NUMBA = os.environ.get("NABLA_TEST_ALL_RULES", "") not in ("", "0")


def rule_test(cases, numba_default):
    """The test of a rules module: each case (see ``rule_params``) against finite
    differences, on inputs hypothesis draws (``test_rule = rule_test(CASES, ...)``)."""
    @pytest.mark.parametrize("case, mode", rule_params(cases, numba_default))
    @SETTINGS
    @given(data=st.data())
    def test_rule(case, mode, data):
        old = nabla.config.jit
        nabla.config.jit = mode
        try:
            run_case(case, data)
        finally:
            nabla.config.jit = old
    return test_rule


def rule_params(cases, numba_default):
    """Every case in Python mode; under Numba (strict), the representatives of each rule
    (the names in ``numba_default``), or every case with NABLA_TEST_ALL_RULES=1 (compiling
    them all takes over 15 minutes)."""
    out = []
    for c in cases:
        p = c.param()
        out.append(pytest.param(p.values[0], False, marks=p.marks, id=f"python-{p.id}"))
        marks = list(p.marks)
        if c.numba_fails:  # a known Numba gap: must fail with a NablaError, until it is fixed
            marks.append(pytest.mark.xfail(strict=True, raises=nabla.NablaError,
                                           reason=c.numba_fails))
        if ALL_UNDER_NUMBA or c.fn.__name__ in numba_default or c.numba_fails:
            out.append(pytest.param(p.values[0], "strict", marks=marks, id=f"numba-{p.id}"))
    return out
