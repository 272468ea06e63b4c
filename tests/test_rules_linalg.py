"""The rules of linear algebra (nabla/rules/linalg.py): dot, matmul, outer, trace,
transpose, norm, solve, inv, det and cross; checked against central finite differences in
reverse and forward mode (see rule_cases.py)."""

import numpy as np
import pytest
from fd import assert_close, numerical_grad
from rule_cases import (
    A3,
    A23,
    NZ23,
    Case,
    F,
    rule_test,
)

import nabla


# =======================================================================================
# Linear algebra
# =======================================================================================
def l_dot_11(x, y):
    return np.dot(x, y)


def l_dot_21(a, x):
    return np.dot(a, x)


def l_dot_12(x, a):
    return np.dot(x, a)


def l_dot_22(a, b):
    return np.dot(a, b)


def l_dot_method(a, x):
    return a.dot(x)


def l_matmul_22(a, b):
    return a @ b


def l_matmul_21(a, x):
    return a @ x


def l_matmul_12(x, a):
    return x @ a


def l_matmul_11(x, y):
    return x @ y


def l_np_matmul(a, b):
    return np.matmul(a, b)


def l_outer(x, y):
    return np.outer(x, y)


def l_trace(a):
    return np.trace(a)


def l_trace_method(a):
    return a.trace()


def l_T(a):
    return a.T


def l_transpose(a):
    return np.transpose(a)


def l_transpose_axes(a):
    return np.transpose(a, (1, 0))


def l_transpose_3d(a):
    return np.transpose(a, (2, 0, 1))


def l_transpose_method(a):
    return a.transpose(1, 0)


def l_norm_1d(x):
    return np.linalg.norm(x)


def l_norm_2d(a):
    return np.linalg.norm(a)


def l_norm_axis0(a):
    return np.linalg.norm(a, axis=0)


def l_norm_axis1(a):
    return np.linalg.norm(a, axis=-1)


def l_norm_keepdims(a):
    return np.linalg.norm(a, axis=1, keepdims=True)


def l_solve_vec(a, b):
    return np.linalg.solve(a, b)


def l_solve_mat(a, b):
    return np.linalg.solve(a, b)


def l_inv(a):
    return np.linalg.inv(a)


def l_det(a):
    return np.linalg.det(a)


A32 = F((3, 2))
A33 = F((3, 3))
WELL33 = F((3, 3), -0.5, 0.5, add=3.0 * np.eye(3))
NZ1 = F((3,), 0.3, 2.0)
LINALG = [
    Case(l_dot_11, A3, A3), Case(l_dot_21, A23, A3), Case(l_dot_12, F((2,)), A23),
    Case(l_dot_22, A23, A32), Case(l_dot_method, A23, A3),
    Case(l_matmul_22, A23, A32), Case(l_matmul_21, A23, A3), Case(l_matmul_12, F((2,)), A23),
    Case(l_matmul_11, A3, A3), Case(l_np_matmul, A23, A33),
    Case(l_outer, A3, F((2,))), Case(l_trace, A33), Case(l_trace_method, A23),
    Case(l_T, A23), Case(l_transpose, A23), Case(l_transpose_axes, A23),
    Case(l_transpose_3d, F((2, 3, 2))), Case(l_transpose_method, A23),
    Case(l_norm_1d, NZ1), Case(l_norm_2d, NZ23), Case(l_norm_axis0, NZ23),
    Case(l_norm_axis1, NZ23), Case(l_norm_keepdims, NZ23),
    Case(l_solve_vec, WELL33, A3), Case(l_solve_mat, WELL33, A32), Case(l_inv, WELL33),
    Case(l_det, WELL33),
]


CASES = LINALG
# under Numba (strict), only these representatives run by default (see rule_cases.py;
# NABLA_TEST_ALL_RULES=1 runs every case)
NUMBA_DEFAULT = {
    "l_dot_11", "l_dot_21", "l_dot_22", "l_matmul_22", "l_matmul_12", "l_np_matmul", "l_outer",
    "l_trace", "l_T", "l_transpose_3d", "l_norm_1d", "l_norm_axis0", "l_norm_keepdims",
    "l_solve_vec", "l_inv", "l_det",
}


test_rule = rule_test(CASES, NUMBA_DEFAULT)


def _cross_energy(a, b):
    return np.sum(np.cross(a, b) ** 2 * np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("shape_a", [(3,), (4, 3)])
def test_cross_product(jit_mode, shape_a):
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-1, 1, shape_a), rng.uniform(-1, 1, 3)
    for mode in ("reverse", "forward"):
        got = nabla.grad(_cross_energy, argnums=(0, 1), mode=mode)(a, b)
        for i in range(2):
            assert_close(got[i], numerical_grad(_cross_energy, [a, b], i))


# -- np.linalg.norm with ord=1 and ord=np.inf: vectors, matrices, along an axis ----------------

def norm_1(x):
    return np.linalg.norm(x, 1)


def norm_inf(x):
    return np.linalg.norm(x, np.inf)


def norm_1_rows(x):
    return np.sum(np.linalg.norm(x, ord=1, axis=1) * np.arange(1.0, x.shape[0] + 1))


def norm_inf_columns(x):
    return np.sum(np.linalg.norm(x, ord=np.inf, axis=0) * np.arange(1.0, x.shape[1] + 1))


def norm_2_rows(x):
    return np.sum(np.linalg.norm(x, ord=2, axis=1))


def spectral_norm(x):
    return np.linalg.norm(x, 2)


_V = np.random.default_rng(5).normal(size=5)
_M = np.random.default_rng(6).normal(size=(3, 4))


@pytest.mark.parametrize("f, x", [
    (norm_1, _V), (norm_1, _M), (norm_inf, _V), (norm_inf, _M), (norm_1_rows, _M),
    (norm_inf_columns, _M), (norm_2_rows, _M),
], ids=lambda v: getattr(v, "__name__", str(np.shape(v))))
def test_norms_with_an_order(jit_mode, f, x):
    expected = numerical_grad(f, (x,))
    assert_close(nabla.grad(f, mode="reverse")(x), expected)
    assert_close(nabla.grad(f, mode="forward")(x), expected)
    assert nabla.jit(f)(x) == pytest.approx(f(x))


def test_the_spectral_norm_is_refused_at_the_call():
    with pytest.raises(nabla.NablaError, match="this form of np.linalg.norm"):
        nabla.grad(spectral_norm)(_M)
