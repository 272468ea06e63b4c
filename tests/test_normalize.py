"""The canonical form, part by part (nabla/transforms/normalize/): the text normalize()
gives for small functions, each showing one module's work, and the syntax fence's
refusals (nabla/frontend/fence.py)."""

import inspect

import numpy as np
import pytest

import nabla
from nabla import pytree, syntax
from nabla.errors import UnsupportedSyntaxError
from nabla.frontend.fence import fence
from nabla.frontend.parse import parse_function
from nabla.transforms.normalize import normalize


def canonical(fn, trees=None) -> str:
    return normalize(fn, trees).to_source()


def text(source: str) -> str:
    return inspect.cleandoc(source)


# -- statements.py ------------------------------------------------------------------------

def swap(x, y):
    a, b = x, y
    a, b = b, a * b
    return a - b


def test_tuple_assignment_reads_every_value_before_it_assigns():
    assert canonical(swap) == text("""
        def swap(x, y):
            a = x
            b = y
            t1 = a * b
            a_1 = b
            b_1 = t1
            t2 = a_1 - b_1
            return t2
    """)
    assert normalize(swap).user_names == {"x": "x", "y": "y", "a": "a", "b": "b",
                                          "a_1": "a", "b_1": "b"}


# -- flow.py --------------------------------------------------------------------------------

def carried(x, n):
    s = 0.0
    for i in range(n):
        s += x * i
    return s


def test_augmented_assignment_in_a_loop_is_carried_back():
    assert canonical(carried) == text("""
        def carried(x, n):
            s = 0.0
            for i in range(0, n, 1):
                t1 = x * i
                s_1 = s + t1
                s = s_1
            return s
    """)


def branch(x):
    if x > 0.0:
        y = x * 2.0
    else:
        y = -x
    return y


def test_if_joins_the_versions_of_both_paths():
    assert canonical(branch) == text("""
        def branch(x):
            t1 = x > 0.0
            if t1:
                y = x * 2.0
            else:
                y_1 = -x
                y = y_1
            return y
    """)


def halve(x):
    while x > 1.0:
        x = x / 2.0
    return x


def test_while_loop_tests_a_flag_computed_before_and_at_the_end_of_the_body():
    assert canonical(halve) == text("""
        def halve(x):
            t1 = x > 1.0
            cond = t1
            while cond:
                x_1 = x / 2.0
                x = x_1
                t2 = x > 1.0
                cond = t2
            return x
    """)


def swapped_in_loop(x, y, n):
    p = (x, y)
    for i in range(n):
        p = (p[1], p[0])
    return p[0]


def test_a_tuple_carried_by_a_loop_is_refused():
    with pytest.raises(UnsupportedSyntaxError, match="the tuple 'p' is carried by this loop"):
        normalize(swapped_in_loop)


# -- callees.py -----------------------------------------------------------------------------

def scale(a, b):
    return a * b


def pair_sum(p):
    return p[0] + p[1]


def uses_helpers(x, y):
    return scale(x, y) + pair_sum((x, y))


def test_a_callee_is_called_by_name_and_one_passed_a_tuple_is_inlined():
    canon = normalize(uses_helpers)
    assert canon.to_source() == text("""
        def uses_helpers(x, y):
            t1 = scale(x, y)
            t2 = (x, y)
            t3 = x + y
            t4 = t1 + t3
            return t4
    """)
    assert list(canon.callees) == ["scale"]  # pair_sum was read in place
    assert canon.callees["scale"].canon.to_source() == text("""
        def scale(a, b):
            t1 = a * b
            return t1
    """)


# -- calls.py -------------------------------------------------------------------------------

def column_sums(x):
    return x.sum(axis=0)


def reshaped(x):
    return x.reshape(2, 3)


def test_methods_become_the_numpy_functions_they_mean():
    assert canonical(column_sums) == text("""
        def column_sums(x):
            t1 = reduce_sum(x, 0)
            return t1
    """)
    assert canonical(reshaped) == text("""
        def reshaped(x):
            t1 = (2, 3)
            t2 = np.reshape(x, t1)
            return t2
    """)


# -- trees.py -------------------------------------------------------------------------------

def affine(params, x):
    w, b = params
    return w * x + b


def by_key(params, x):
    return params["w"] * x + params["b"][1]


def test_a_pytree_parameter_is_one_parameter_per_leaf():
    pair = pytree.flatten((1.0, 2.0))[1]
    assert canonical(affine, (pair, pytree.LEAF)) == text("""
        def affine(params_0, params_1, x):
            params = (params_0, params_1)
            w = params_0
            b = params_1
            t1 = w * x
            t2 = t1 + b
            return t2
    """)
    nested = pytree.flatten({"w": 1.0, "b": [2.0, 3.0]})[1]
    assert canonical(by_key, (nested, pytree.LEAF)) == text("""
        def by_key(params_b_0, params_b_1, params_w, x):
            params_b = (params_b_0, params_b_1)
            params = (params_b, params_w)
            t1 = params_w * x
            t2 = t1 + params_b_1
            return t2
    """)


# -- the fence (nabla/frontend/fence.py) ----------------------------------------------------

def with_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def with_lambda(x):
    f = lambda v: v * 2.0  # noqa: E731
    return f(x)


def place(fn, marker):
    """(line, column) of ``marker`` in ``fn``'s source."""
    lines, first = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if marker in line:
            return first + i, line.index(marker)
    raise AssertionError(marker)


def test_the_fence_refuses_try_at_its_file_line_and_column():
    with pytest.raises(UnsupportedSyntaxError) as caught:
        normalize(with_try)
    line, col = place(with_try, "try:")
    err = caught.value
    assert (err.filename, err.lineno, err.col) == (__file__, line, col)
    assert str(err) == (
        f"{__file__}:{line}:{col + 1}: `try` blocks cannot be differentiated by nabla\n"
        "        try:\n"
        "        ^\n"
        "    hint: handle errors outside the differentiated function")


def test_the_fence_refuses_a_lambda_where_it_is_written():
    parsed = parse_function(with_lambda)
    with pytest.raises(UnsupportedSyntaxError) as caught:
        fence(parsed.tree, parsed.where)
    line, col = place(with_lambda, "lambda v")
    err = caught.value
    assert (err.lineno, err.col, err.message) == (
        line, col, "lambdas cannot be differentiated by nabla")
    assert err.hint == "define a function at module level with `def`"


def test_the_fence_lets_the_supported_subset_through():
    for fn in (swap, carried, branch, halve, uses_helpers):
        parsed = parse_function(fn)
        assert fence(parsed.tree, parsed.where) is None


# -- the operators syntax.py builds -------------------------------------------------------

def test_operator_constructors_build_what_python_parses():
    a, b = syntax.load("a"), syntax.load("b")
    built = [syntax.binop(a, "@", b), syntax.unaryop("not", a), syntax.unaryop("-", a),
             syntax.boolop("or", [a, b]), syntax.compare(a, "<=", b)]
    assert [syntax.to_source(n) for n in built] == ["a @ b", "not a", "-a", "a or b",
                                                    "a <= b"]
    parsed = [syntax.parse_expr(s) for s in ("a @ b", "not a", "-a", "a or b", "a <= b")]
    assert [type(getattr(n, "op", None) or n.ops[0]) for n in built] == [
        type(getattr(n, "op", None) or n.ops[0]) for n in parsed]


# -- statements.py: which arrays may be written into ----------------------------------------

def written_elementwise(x):
    y = np.exp(x)
    y[0] = y[1] * 3.0
    z = np.tanh(y)
    z[1] += y[0]
    return np.sum(y * y) + np.sum(z)


def test_an_array_a_rule_says_is_new_may_be_written_into(jit_mode):
    """The rule of np.exp says its result is a new array (``Rule.new_array``), so the
    function may write into it, as into np.zeros's; the reverse sweep restores what the
    write overwrote before np.tanh's and np.exp's adjoints read it."""
    x = np.array([0.3, -0.2, 0.5])
    h = 1e-6
    expected = [(written_elementwise(x + h * e) - written_elementwise(x - h * e)) / (2 * h)
                for e in np.eye(3)]
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(nabla.grad(written_elementwise, mode=mode)(x), expected,
                                   rtol=1e-6, atol=1e-9)
    assert nabla.jit(written_elementwise)(x) == pytest.approx(written_elementwise(x))


def written_view(x):
    y = x[1:]
    y[0] = 1.0
    return np.sum(y)


def test_an_array_that_may_share_memory_is_not_written_into():
    with pytest.raises(UnsupportedSyntaxError, match="may share memory"):
        normalize(written_view)
