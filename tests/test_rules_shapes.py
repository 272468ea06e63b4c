"""The rules of shapes, indexing and sequences (nabla/rules/shapes.py): reshape, ravel,
squeeze, expand_dims, copies and casts of arrays, indexing (ints, slices, fancy), tuples,
``np.array([...])``, stack and concatenate; checked against central finite differences
in reverse and forward mode (see rule_cases.py)."""

import numpy as np
from rule_cases import (
    A3,
    A23,
    Case,
    F,
    rule_test,
)

# =======================================================================================
# Shapes, indexing, sequences
# =======================================================================================
IDX = np.array([2, 0, 2, 1])


def s_reshape(x):
    return np.reshape(x, (3, 2))


def s_reshape_method(x):
    return x.reshape(2, 3)


def s_reshape_tuple(x):
    return x.reshape((3, 2))


def s_reshape_minus1(x):
    return x.reshape(-1)


def s_ravel(x):
    return np.ravel(x)


def s_ravel_method(x):
    return x.ravel()


def s_flatten(x):
    return x.flatten()


def s_squeeze(x):
    return np.squeeze(x)


def s_squeeze_axis(x):
    return np.squeeze(x, axis=1)


def s_squeeze_method(x):
    return x.squeeze()


def s_expand_dims(x):
    return np.expand_dims(x, 0)


def s_none_index(x):
    return x[:, None] * x[None, :]


def s_copy(x):
    return np.copy(x) * 2.0


def s_copy_method(x):
    return x.copy() + x


def s_np_array_copy(x):
    return np.array(x) * x


def s_asarray(x):
    return np.asarray(x) * x


def s_astype(x):
    return x.astype(np.float64) * x


def s_index_int(x):
    return x[0] * x[-1]


def s_index_scalar(x):
    return x[1, 2] * x[0, 0]


def s_slice(x):
    return x[1:] * x[:-1]


def s_slice_step(x):
    return x[::2]


def s_column(x):
    return x[:, 1]


def s_block(x):
    return x[0:2, 1:]


def s_fancy(x, idx):
    return x[idx]


def s_fancy_free(x):
    return x[IDX] * 2.0


def s_tuple_unpack(x, y):
    t = (x, y * 2.0)
    u, v = t
    a, b = x[0], x[1]
    return u * v + a * b


def s_tuple_index(x):
    t = (x, x * x)
    return t[0] + t[1]


def s_array_scalars(a, b):
    return np.array([a * b, a + b, b])


def s_array_of_arrays(x, y):
    return np.array([x, y * x])


def s_array_of_elements(x):
    return np.array([x[0] * x[1], x[2]])


def s_stack(x, y):
    return np.stack((x, y))


def s_stack_axis1(x, y):
    return np.stack([x, y * 2.0], axis=1)


def s_vstack(x, y):
    return np.vstack((x, y))


def s_vstack_1d(x, y):
    return np.vstack((x, y))


def s_hstack(x, y):
    return np.hstack((x, y))


def s_hstack_1d(x, y):
    return np.hstack((x, y))


def s_concatenate(x, y):
    return np.concatenate((x, y))


def s_concatenate_axis1(x, y):
    return np.concatenate([x, y], axis=1)


SQUEEZE_NONE = "runtime squeeze(x, None): under Numba the axis must be an int or a tuple"
SHAPES = [
    Case(s_reshape, A23), Case(s_reshape_method, F((6,))), Case(s_reshape_tuple, A23),
    Case(s_reshape_minus1, A23), Case(s_ravel, A23), Case(s_ravel_method, A23),
    Case(s_flatten, A23), Case(s_squeeze, F((2, 1, 3)), numba_fails=SQUEEZE_NONE),
    Case(s_squeeze_axis, F((2, 1, 3))),
    Case(s_squeeze_method, F((1, 3)), numba_fails=SQUEEZE_NONE),
    Case(s_expand_dims, A23), Case(s_none_index, A3),
    Case(s_copy, A23), Case(s_copy_method, A23), Case(s_np_array_copy, A23),
    Case(s_asarray, A23), Case(s_astype, A23),
    Case(s_index_int, A3), Case(s_index_scalar, A23), Case(s_slice, A3),
    Case(s_slice_step, F((5,))), Case(s_column, A23), Case(s_block, A23),
    Case(s_fancy, A3, IDX),
    Case(s_fancy_free, A3),
    Case(s_tuple_unpack, A3, A3), Case(s_tuple_index, A3),
    Case(s_array_scalars, F(), F()), Case(s_array_of_arrays, A3, A3),
    Case(s_array_of_elements, A3),
    Case(s_stack, A3, A3), Case(s_stack_axis1, A23, A23),
    Case(s_vstack, A23, F((1, 3))), Case(s_vstack_1d, A3, A3),
    Case(s_hstack, A23, F((2, 1))), Case(s_hstack_1d, A3, F((2,))),
    Case(s_concatenate, A23, F((1, 3))), Case(s_concatenate_axis1, A23, F((2, 1))),
]


def s_diff(x):
    return np.diff(x)


def s_diff_axis0(x):
    return np.diff(x, axis=0)


def s_diff_axis1(x):
    return np.diff(x, axis=1)


def s_diff_second(x):
    return np.diff(x, n=2) + np.diff(x, 3, axis=-1)[..., :1]


def s_triangles(a):
    return np.tril(a) * 2.0 + np.triu(a, 1) * a + np.tril(a, -1)


def s_flip(x):
    return np.flip(x) * x


def s_roll(x):
    return np.roll(x, 1) * x + np.roll(x, -2)


def s_diag_of_matrix(a):
    return np.diag(a) + np.diag(a, 1)[0] * np.diag(a, -1)[0]


def s_diag_matrix(x):
    return np.diag(x) + np.diag(x * x, 1)[1:, :3]


def s_sort(x):
    return np.sort(x) * np.arange(x.shape[-1]) + np.sort(np.exp(x))[..., :1]


def s_median(x):
    return np.median(x) * np.sum(x) + np.median(x ** 3)


SORTED = F((2, 3), grid=0.1, unique=True)  # no ties, where sorting has no derivative
SHAPES += [Case(s_sort, SORTED), Case(s_sort, F((4,), grid=0.1, unique=True)),
           Case(s_median, SORTED), Case(s_median, F((5,), grid=0.1, unique=True))]
SHAPES += [Case(s_diff, A23), Case(s_diff, A3), Case(s_diff_axis0, A23),
           Case(s_diff_axis1, A23), Case(s_diff_second, F((2, 5))), Case(s_diff_second, F((5,))),
           Case(s_triangles, F((3, 3))), Case(s_flip, A23), Case(s_roll, A23),
           Case(s_diag_of_matrix, A23), Case(s_diag_matrix, A3)]

CASES = SHAPES
# under Numba (strict), only these representatives run by default (see rule_cases.py;
# NABLA_TEST_ALL_RULES=1 runs every case)
NUMBA_DEFAULT = {
    "s_reshape_method", "s_ravel", "s_squeeze_axis", "s_expand_dims", "s_none_index",
    "s_astype", "s_index_int", "s_slice", "s_column", "s_fancy", "s_tuple_unpack",
    "s_array_scalars", "s_array_of_arrays", "s_stack_axis1", "s_vstack", "s_hstack",
    "s_concatenate_axis1", "s_diff", "s_diff_axis0", "s_diff_axis1", "s_diff_second",
    "s_triangles", "s_flip", "s_roll",
    "s_diag_of_matrix", "s_diag_matrix", "s_sort", "s_median",
}


test_rule = rule_test(CASES, NUMBA_DEFAULT)
