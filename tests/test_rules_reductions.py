"""The rules of reductions (nabla/rules/reductions.py): sum, mean, prod, max, min, var,
std and cumsum, over everything or along an axis, with keepdims and ddof, as functions and
as methods; checked against central finite differences in reverse and forward mode (see
rule_cases.py)."""

import numpy as np
import pytest
from fd import assert_close, numerical_jacobian
from rule_cases import (
    A3,
    A23,
    Case,
    F,
    rule_test,
)

import nabla


# =======================================================================================
# Reductions
# =======================================================================================
def r_sum(x):
    return np.sum(x)


def r_sum_axis0(x):
    return np.sum(x, axis=0)


def r_sum_axis_neg(x):
    return np.sum(x, axis=-1)


def r_sum_axis_pos(x):
    return np.sum(x, 1)


def r_sum_keepdims(x):
    return np.sum(x, axis=1, keepdims=True)


def r_sum_none_keepdims(x):
    return np.sum(x, axis=None, keepdims=True)


def r_sum_method(x):
    return x.sum(axis=0)


def r_sum_method_all(x):
    return x.sum()


def r_mean(x):
    return np.mean(x)


def r_mean_axis(x):
    return np.mean(x, axis=-1)


def r_mean_keepdims(x):
    return np.mean(x, axis=0, keepdims=True)


def r_mean_method(x):
    return x.mean()


def r_mean_method_axis(x):
    return x.mean(axis=1)


def r_prod(x):
    return np.prod(x)


def r_prod_axis(x):
    return np.prod(x, axis=0)


def r_prod_keepdims(x):
    return np.prod(x, axis=-1, keepdims=True)


def r_prod_method(x):
    return x.prod()


def r_max(x):
    return np.max(x)


def r_max_axis(x):
    return np.max(x, axis=1)


def r_max_keepdims(x):
    return np.max(x, axis=0, keepdims=True)


def r_max_method(x):
    return x.max(axis=-1)


def r_amax(x):
    return np.amax(x)


def r_min(x):
    return np.min(x)


def r_min_axis(x):
    return np.min(x, axis=0)


def r_min_keepdims(x):
    return np.min(x, axis=-1, keepdims=True)


def r_min_method(x):
    return x.min()


def r_var(x):
    return np.var(x)


def r_var_axis(x):
    return np.var(x, axis=0)


def r_var_ddof(x):
    return np.var(x, ddof=1)


def r_var_keepdims(x):
    return np.var(x, axis=1, keepdims=True)


def r_var_method(x):
    return x.var()


def r_std(x):
    return np.std(x)


def r_std_axis(x):
    return np.std(x, axis=-1)


def r_std_ddof_axis(x):
    return np.std(x, axis=0, ddof=1)


def r_std_keepdims(x):
    return np.std(x, axis=None, keepdims=True)


def r_std_method(x):
    return x.std(axis=1)


def r_cumsum(x):
    return np.cumsum(x)


def r_cumsum_axis0(x):
    return np.cumsum(x, axis=0)


def r_cumsum_axis_neg(x):
    return np.cumsum(x, axis=-1)


def r_cumsum_method(x):
    return x.cumsum(axis=1)


def r_sum_1d(x):
    return np.sum(x, axis=0)


UNIQ23 = F((2, 3), grid=0.1, unique=True)
SPREAD23 = F((2, 3), grid=0.1, unique=True)  # var/std: never all equal
PROD23 = F((2, 3), 0.5, 1.5)
REDUCTIONS = [
    Case(r_sum, A23), Case(r_sum_axis0, A23), Case(r_sum_axis_neg, A23),
    Case(r_sum_axis_pos, A23), Case(r_sum_keepdims, A23), Case(r_sum_none_keepdims, A23),
    Case(r_sum_method, A23), Case(r_sum_method_all, A23), Case(r_sum_1d, A3),
    Case(r_mean, A23), Case(r_mean_axis, A23), Case(r_mean_keepdims, A23),
    Case(r_mean_method, A23), Case(r_mean_method_axis, A23),
    Case(r_prod, PROD23), Case(r_prod_axis, PROD23), Case(r_prod_keepdims, PROD23),
    Case(r_prod_method, PROD23),
    Case(r_max, UNIQ23), Case(r_max_axis, UNIQ23), Case(r_max_keepdims, UNIQ23),
    Case(r_max_method, UNIQ23), Case(r_amax, UNIQ23),
    Case(r_min, UNIQ23), Case(r_min_axis, UNIQ23), Case(r_min_keepdims, UNIQ23),
    Case(r_min_method, UNIQ23),
    Case(r_var, A23), Case(r_var_axis, A23), Case(r_var_ddof, A23), Case(r_var_keepdims, A23),
    Case(r_var_method, A23),
    Case(r_std, SPREAD23), Case(r_std_axis, SPREAD23), Case(r_std_ddof_axis, SPREAD23),
    Case(r_std_keepdims, SPREAD23), Case(r_std_method, SPREAD23),
    Case(r_cumsum, A23), Case(r_cumsum_axis0, A23), Case(r_cumsum_axis_neg, A23),
    Case(r_cumsum_method, A23),
]


def r_average(x, w):
    return np.average(x) + np.average(x, axis=1) * np.average(x, weights=w)


REDUCTIONS += [Case(r_average, A23, F((2, 3), 0.5, 2.0))]

CASES = REDUCTIONS
# under Numba (strict), only these representatives run by default (see rule_cases.py;
# NABLA_TEST_ALL_RULES=1 runs every case)
NUMBA_DEFAULT = {
    "r_sum", "r_sum_axis0", "r_sum_keepdims", "r_mean_axis", "r_prod", "r_prod_axis", "r_max",
    "r_max_axis", "r_min_keepdims", "r_var_ddof", "r_var_axis", "r_std", "r_std_ddof_axis",
    "r_cumsum", "r_cumsum_axis0", "r_average",
}


test_rule = rule_test(CASES, NUMBA_DEFAULT)


# -- second derivatives of a product (prod_vjp's tangent, prod_vjp_jvp) ---------------------
def prod_all(x):
    return np.prod(x) * 2.0


def prod_rows(x):
    return np.sum(np.prod(x, axis=1) ** 2)


def prod_columns_kept(x):
    return np.sum(np.sin(np.prod(x, axis=0, keepdims=True)))


@pytest.mark.parametrize("fun", [prod_all, prod_rows, prod_columns_kept])
@pytest.mark.parametrize("second", ["hessian", "jacrev_grad", "jacfwd_jacfwd"])
def test_second_derivatives_of_a_product(fun, second, jit_mode):
    """Was refused: "prod_vjp() has no derivative with respect to its argument 'x'". A zero
    in the input checks that no division is involved."""
    x = np.array([[0.5, 2.0, -1.5], [0.0, 1.2, 0.7]])
    if fun is prod_all:
        x = x[0]
    made = {"hessian": lambda f: nabla.hessian(f),
            "jacrev_grad": lambda f: nabla.jacrev(nabla.grad(f)),
            "jacfwd_jacfwd": lambda f: nabla.jacfwd(nabla.jacfwd(f))}[second](fun)
    g = nabla.grad(fun)
    assert_close(made(x), numerical_jacobian(lambda v: g(v), (x,)))
