"""The rules of Python's operators (nabla/rules/arithmetic.py): ``+ - * / ** // %``,
unary minus and comparisons, and NumPy's ufuncs of them, on arrays that broadcast,
scalars and constants, checked against central finite differences in reverse and forward
mode (see rule_cases.py)."""

import numpy as np
from rule_cases import (
    A3,
    A21,
    A23,
    NZ3,
    NZ23,
    POS3,
    POS23,
    Case,
    F,
    rule_test,
)


# =======================================================================================
# Operators
# =======================================================================================
def op_add_bcast(x, y):
    return x + y


def op_add_col(x, y):
    return y + x


def op_add_scalar(x, s):
    return x + s


def op_add_const(x):
    return 1.5 + x + 2.0


def op_sub_bcast(x, y):
    return x - y


def op_sub_col(x, y):
    return y - x


def op_sub_scalar(s, x):
    return s - x


def op_sub_const(x):
    return 2.0 - x - 0.5


def op_mul_bcast(x, y):
    return x * y


def op_mul_col(x, y):
    return y * x


def op_mul_scalar(x, s):
    return s * x


def op_mul_const(x):
    return 3.0 * x * 2.0


def op_mul_self(x):
    return x * x


def op_div_bcast(x, y):
    return x / y


def op_div_col(x, y):
    return y / x


def op_div_scalar(s, x):
    return s / x


def op_div_const_num(x):
    return 2.0 / x


def op_div_const_den(x):
    return x / 4.0


def op_pow_int(x):
    return x ** 3


def op_pow_float(x):
    return x ** 2.5


def op_pow_neg(x):
    return x ** -1.5


def op_rpow_const(x):
    return 2.0 ** x


def op_pow_var(x, y):
    return x ** y


def op_pow_scalar_exp(x, s):
    return x ** s


def op_floordiv(x, y):
    return (x // y) * x + 2.0 // y + x // 0.7


def op_mod_var(x, y):
    return x % y


def op_mod_const(x):
    return x % 0.7 + 2.5 % x


def op_neg(x, y):
    return -x * y + -(y)


def op_compare(x, y):
    return (x > y) * x + (x <= 0.5) * y + (x == y) * 1.0 + (x != y) * x


def op_scalar_arith(a, b):
    return a * b + a / b - b ** 2 + (-a) + 3.0 - a ** b + a % b + a // b


def _far_from_multiple(x, y, gap=0.05):
    q = np.asarray(x) / np.asarray(y)
    return bool(np.all(np.abs(q - np.round(q)) > gap))


OPERATORS = [
    Case(op_add_bcast, A23, A3),
    Case(op_add_col, A23, A21),
    Case(op_add_scalar, A23, F()),
    Case(op_add_const, A3),
    Case(op_sub_bcast, A23, A3),
    Case(op_sub_col, A23, A21),
    Case(op_sub_scalar, F(), A23),
    Case(op_sub_const, A3),
    Case(op_mul_bcast, A23, A3),
    Case(op_mul_col, A23, A21),
    Case(op_mul_scalar, A23, F()),
    Case(op_mul_const, A3),
    Case(op_mul_self, A3),
    Case(op_div_bcast, A23, NZ3),
    Case(op_div_col, NZ23, A21),
    Case(op_div_scalar, F(), NZ23),
    Case(op_div_const_num, NZ3),
    Case(op_div_const_den, A3),
    Case(op_pow_int, A3),
    Case(op_pow_float, POS3),
    Case(op_pow_neg, POS3),
    Case(op_rpow_const, A3),
    Case(op_pow_var, POS23, A3),
    Case(op_pow_scalar_exp, POS3, F(None, -2.0, 2.0)),
    Case(op_floordiv, A23, F((3,), 0.5, 1.5),
         ok=lambda x, y: _far_from_multiple(x, y) and _far_from_multiple(2.0, y)
         and _far_from_multiple(x, 0.7)),
    Case(op_mod_var, A23, F((3,), 0.5, 1.5), ok=lambda x, y: _far_from_multiple(x, y)),
    Case(op_mod_const, F((3,), 0.5, 2.0),
         ok=lambda x: _far_from_multiple(x, 0.7) and _far_from_multiple(2.5, x)),
    Case(op_neg, A23, A3),
    Case(op_compare, A23, F((3,), -1.9, 1.9, grid=0.1, shift=0.05),
         ok=lambda x, y: bool(np.all(np.abs(x - 0.5) > 0.05))),
    Case(op_scalar_arith, F(None, 0.5, 2.0), F(None, 0.5, 2.0),
         ok=lambda a, b: _far_from_multiple(a, b)),
]


# NumPy's ufuncs of the operators (np.add is x + y; np.divide and np.mod keep their calls)
def uf_add_sub_mul(x, y):
    return np.multiply(np.add(x, y), np.subtract(y, 0.5))


def uf_divide(x, y):
    return np.divide(x, y) + np.true_divide(1.5, y)


def uf_mod(x, y):
    return np.mod(x, y) + np.remainder(2.5, y) + np.floor_divide(x, 0.7)


UFUNCS = [
    Case(uf_add_sub_mul, A23, A3),
    Case(uf_divide, A23, NZ3),
    Case(uf_mod, A23, F((3,), 0.5, 1.5),
         ok=lambda x, y: _far_from_multiple(x, y) and _far_from_multiple(2.5, y)
         and _far_from_multiple(x, 0.7)),
]

CASES = OPERATORS + UFUNCS
# under Numba (strict), only these representatives run by default (see rule_cases.py;
# NABLA_TEST_ALL_RULES=1 runs every case)
NUMBA_DEFAULT = {
    "op_add_bcast", "op_sub_scalar", "op_mul_bcast", "op_div_bcast", "op_div_const_num",
    "op_pow_var", "op_pow_float", "op_rpow_const", "op_floordiv", "op_mod_var", "op_neg",
    "op_compare", "op_scalar_arith", "uf_add_sub_mul", "uf_divide", "uf_mod",
}


test_rule = rule_test(CASES, NUMBA_DEFAULT)


def test_every_operator_spelling_round_trips_and_has_a_rule():
    """syntax.operator reads back the spelling each constructor was given, and
    syntax.rule_key names a registered rule for every operator but ``and``/``or``."""
    from nabla import rules, syntax

    a, b = syntax.load("a"), syntax.load("b")
    nodes = [syntax.binop(a, op, b) for op in
             ("+", "-", "*", "/", "//", "%", "**", "@", "&", "|", "^", "<<", ">>")]
    nodes += [syntax.unaryop(op, a) for op in ("-", "+", "not", "~")]
    nodes += [syntax.compare(a, op, b) for op in
              ("<", "<=", ">", ">=", "==", "!=", "is", "is not", "in", "not in")]
    for node in nodes:
        spelling = syntax.operator(node)
        assert syntax.operator(syntax.parse_expr(syntax.to_source(node))) == spelling
        assert rules.lookup(syntax.rule_key(node)) is not None, syntax.to_source(node)
    for op in ("and", "or"):
        assert syntax.operator(syntax.boolop(op, [a, b])) == op
