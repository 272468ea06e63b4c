"""The rank inference (nabla/transforms/ranks.py): the number of dimensions of every
canonical name of one example, from the parameters' ranks, each rule's ``rank`` fact
(constructors, reductions, products) and the user's functions called."""

import numpy as np

from nabla.transforms.normalize import normalize
from nabla.transforms.ranks import example_ranks


def made(x, n):
    z = np.zeros((n, 3))
    o = np.ones(n)
    e = np.zeros_like(x)
    k = len(x)
    return z, o, e, k


def reduced(A):
    s = np.sum(A)
    c = np.sum(A, axis=0)
    m = np.mean(A, axis=1)
    mx = np.max(A)
    return s, c, m, mx


def products(A, x):
    y = A @ x
    d = x @ x
    B = A @ A
    v = np.dot(A, x)
    return y, d, B, v


def indexed(A, x):
    s = 0.0
    for i in range(x.shape[0]):
        r = A[i]
        e = A[i, 0]
        col = A[:, i]
        s = s + x[i] * e
    return r, col, s


def square(v):
    w = v * v
    return w


def calls_square(x, a):
    q = square(x)
    p = square(a)
    return q, p


def two_ranks(x, c):
    if c > 0.0:
        y = x
    else:
        y = 1.0
    return y


def ranks_of(f, params):
    return example_ranks(normalize(f), params)


def test_constructors_take_the_rank_of_their_shape_or_argument():
    r = ranks_of(made, {"x": 2, "n": 0})
    assert (r["z"], r["o"], r["e"], r["k"]) == (2, 1, 2, 0)


def test_reductions_without_an_axis_are_scalars_and_along_one_lose_it():
    r = ranks_of(reduced, {"A": 2})
    assert (r["s"], r["mx"]) == (0, 0)
    assert (r["c"], r["m"]) == (1, 1)


def test_a_reduction_of_an_array_of_unknown_rank_along_an_axis_is_unknown():
    r = ranks_of(reduced, {})
    assert r["s"] == 0 and r["c"] is None


def test_matrix_products():
    r = ranks_of(products, {"A": 2, "x": 1})
    assert (r["y"], r["d"], r["B"], r["v"]) == (1, 0, 2, 1)


def test_indexing_and_a_range_counter():
    r = ranks_of(indexed, {"A": 2, "x": 1})
    assert r["i"] == 0  # the counter of a range loop is an integer
    assert r["r"] == 1  # A[i]: a row
    assert r["e"] == 0  # A[i, 0]: an element
    assert r["col"] == 1  # A[:, i]: a column
    assert r["s"] == 0


def test_a_callee_gives_its_result_the_rank_its_arguments_make():
    r = ranks_of(calls_square, {"x": 1, "a": 0})
    assert r["q"] == 1 and r["p"] == 0


def test_a_name_given_values_of_two_ranks_is_unknown():
    r = ranks_of(two_ranks, {"x": 1, "c": 0})
    assert r["y"] is None
    assert ranks_of(two_ranks, {"x": 0, "c": 0})["y"] == 0
