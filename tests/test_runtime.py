"""Tests for nabla.runtime: every helper in Python mode and inside ``numba.njit``.

Each Numba wrapper below is compiled once per argument type signature, and
compilation dominates the run time, so Numba gets a representative subset of
the cases (float64 and float32, scalar/0-d, 1-D, 2-D and 3-D, int, negative
and tuple axes) while Python mode runs all of them.  Under Numba the dtype of
every result is read off the compiled signature (a float32 scalar comes back
to Python as a plain float).
"""

import contextlib
import copy
import importlib
import warnings

import numpy as np
import pytest
from numba import njit, types
from numba.core.errors import TypingError
from numba.np.numpy_support import as_dtype

import nabla
from nabla import runtime as R
from nabla.runtime._types import _inexact, _py_axes

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)

HELPERS = [
    "array_of", "astype", "broadcast_like", "cumsum", "dot_vjp_a", "dot_vjp_b",
    "expand_reduced", "extremum_vjp", "keepdims", "log_base", "matmul_vjp_a", "matmul_vjp_b",
    "norm", "one_like", "prod_vjp", "rcumsum", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_prod", "reduce_std", "reduce_sum", "reduce_var", "reduced_count", "reshape_like",
    "slice_axis", "squeeze", "take_axis", "tape_like", "unbroadcast", "unindex", "untranspose",
    "zero_like",
]  # fmt: skip


# ---------------------------------------------------------------------------
# Test utilities
# ---------------------------------------------------------------------------


def rand(shape, dtype=F64, seed=0):
    """Random normal array (a 0-d array for shape ())."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


@contextlib.contextmanager
def quiet():
    """Silence NumPy's RuntimeWarnings (var with ddof >= n and the like)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _assert_same(before, after):
    if isinstance(before, (tuple, list)):
        assert type(after) is type(before) and len(before) == len(after)
        for b, a in zip(before, after, strict=True):
            _assert_same(b, a)
    elif isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and after.shape == before.shape
        np.testing.assert_array_equal(after, before)
    else:
        assert type(after) is type(before) and after == before


def _nb_dtypes(t):
    """NumPy dtype(s) of a Numba return type."""
    if isinstance(t, types.BaseTuple):
        return tuple(_nb_dtypes(e) for e in t)
    return as_dtype(t.dtype if isinstance(t, types.Array) else t)


def _py_dtypes(v):
    if isinstance(v, tuple):
        return tuple(_py_dtypes(e) for e in v)
    return np.asarray(v).dtype


def run(fn, *args):
    """``fn(*args)`` and its result dtype(s), asserting no argument was modified.

    ``fn`` is a plain function (dtypes of the values) or a Numba dispatcher
    (dtypes of the compiled return type).
    """
    before = copy.deepcopy(args)
    out = fn(*args)
    _assert_same(before, args)
    if hasattr(fn, "overloads"):
        sig = tuple(fn.typeof_pyval(a) for a in args)
        return out, _nb_dtypes(fn.overloads[sig].signature.return_type)
    return out, _py_dtypes(out)


def close(got, ref, dtype=None, tol=None, msg=""):
    """Assert equal shapes and values (and that ``dtype`` is ``ref``'s, if given)."""
    got_a, ref_a = np.asarray(got), np.asarray(ref)
    assert got_a.shape == ref_a.shape, (got_a.shape, ref_a.shape, msg)
    if tol is None:
        tol = 2e-5 if F32 in (got_a.dtype, ref_a.dtype, dtype) else 1e-10
    np.testing.assert_allclose(got_a, ref_a, rtol=tol, atol=tol, equal_nan=True, err_msg=msg)


def vdot(a, b):
    return float(np.sum(np.asarray(a, F64) * np.asarray(b, F64)))


def vclose(lhs, rhs, dtype=F64):
    """Compare two inner products computed from arrays of ``dtype``."""
    close(lhs, rhs, tol=1e-4 if np.dtype(dtype) == F32 else 1e-9)


def fd_vjp(f, x, g, h=1e-6):
    """Central finite-difference ``d <g, f(x)> / dx`` for float64 ``x`` (array or 0-d)."""
    x = np.array(x, F64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        out[i] = (vdot(g, f(xp)) - vdot(g, f(xm))) / (2 * h)
    return out


def modes(nb_cases, py_only=()):
    """Parameters: every case in Python mode, the ``nb_cases`` also under Numba."""
    params = [pytest.param("python", *c, id=f"python-{i}") for i, c in enumerate(nb_cases)]
    n = len(params)
    params += [pytest.param("python", *c, id=f"python-{n + i}") for i, c in enumerate(py_only)]
    params += [pytest.param("numba", *c, id=f"numba-{i}") for i, c in enumerate(nb_cases)]
    return params


def pick(mode, py, nb):
    return nb if mode == "numba" else py


# ---------------------------------------------------------------------------
# Numba wrappers (one per helper or group, reused across cases)
# ---------------------------------------------------------------------------


@njit
def nb_reductions(x, axis):
    return (
        R.reduce_sum(x, axis),
        R.reduce_mean(x, axis),
        R.reduce_prod(x, axis),
        R.reduce_max(x, axis),
        R.reduce_min(x, axis),
        R.reduce_var(x, axis, 1),
        R.reduce_std(x, axis),
    )


nb_sum = njit(lambda x, axis: R.reduce_sum(x, axis))
nb_keep = njit(
    lambda r, g, x, axis: (
        R.keepdims(r, x, axis),
        R.expand_reduced(g, x, axis),
        R.reduced_count(x, axis),
    )
)
nb_unbroadcast = njit(lambda g, x: R.unbroadcast(g, x))
nb_broadcast_like = njit(lambda t, out: R.broadcast_like(t, out))
nb_one_zero = njit(lambda x: (R.one_like(x), R.zero_like(x)))
nb_squeeze = njit(lambda x, axis: R.squeeze(x, axis))
nb_squeeze_none = njit(lambda x: R.squeeze(x, None))
nb_log_base = njit(lambda x, base: R.log_base(x, base))
nb_norm = njit(lambda x, axis: R.norm(x, axis))
nb_array_of = njit(lambda items: R.array_of(items))
nb_tape_like = njit(lambda x, n: R.tape_like(x, n))
nb_batch_like = njit(lambda x, n: R.batch_like(x, n))
nb_astype = njit(lambda x, dtype: R.astype(x, dtype))
nb_unindex = njit(lambda g, x, index: R.unindex(g, x, index))
nb_cumsums = njit(lambda x, axis: (R.cumsum(x, axis), R.rcumsum(x, axis)))
nb_matmul_vjp = njit(lambda g, a, b: (R.matmul_vjp_a(g, a, b), R.matmul_vjp_b(g, a, b)))
nb_dot_vjp = njit(lambda g, a, b: (R.dot_vjp_a(g, a, b), R.dot_vjp_b(g, a, b)))
nb_extremum_vjp = njit(lambda g, x, r, axis: R.extremum_vjp(g, x, r, axis))
nb_prod_vjp = njit(lambda g, x, axis: R.prod_vjp(g, x, axis))
nb_untranspose = njit(lambda g, axes: R.untranspose(g, axes))
nb_reshape_like = njit(lambda g, x: R.reshape_like(g, x))
nb_take_slice = njit(
    lambda g, i, start, stop, axis: (R.take_axis(g, i, axis), R.slice_axis(g, start, stop, axis))
)


def py_keep(r, g, x, axis):
    return R.keepdims(r, x, axis), R.expand_reduced(g, x, axis), R.reduced_count(x, axis)


def py_one_zero(x):
    return R.one_like(x), R.zero_like(x)


def py_cumsums(x, axis):
    return R.cumsum(x, axis), R.rcumsum(x, axis)


def py_matmul_vjp(g, a, b):
    return R.matmul_vjp_a(g, a, b), R.matmul_vjp_b(g, a, b)


def py_dot_vjp(g, a, b):
    return R.dot_vjp_a(g, a, b), R.dot_vjp_b(g, a, b)


def py_take_slice(g, i, start, stop, axis):
    return R.take_axis(g, i, axis), R.slice_axis(g, start, stop, axis)


# ---------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------

KINDS = ["sum", "mean", "prod", "max", "min", "var", "std"]
PY_REDUCE = {
    "sum": (R.reduce_sum, np.sum),
    "mean": (R.reduce_mean, np.mean),
    "prod": (R.reduce_prod, np.prod),
    "max": (R.reduce_max, np.max),
    "min": (R.reduce_min, np.min),
    "var": (lambda x, axis: R.reduce_var(x, axis, 1), lambda x, axis: np.var(x, axis, ddof=1)),
    "std": (R.reduce_std, np.std),
}
REDUCE_INPUTS = [
    ((2, 3, 4), None),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 3, 4), (0, -1)),
    ((2, 3, 4), (2, 0, 1)),
    ((2, 3, 4), ()),
    ((3, 4), -2),
    ((3, 4), (0, 1)),
    ((5,), 0),
    ((5,), None),
    ((), None),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape,axis", REDUCE_INPUTS)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_reductions_python(kind, shape, axis, dtype):
    helper, ref = PY_REDUCE[kind]
    x = rand(shape, dtype)
    with quiet():
        (got, dt), want = run(helper, x, axis), ref(x, axis)
    close(got, want)
    assert dt == want.dtype
    if axis is None:
        assert not isinstance(got, np.ndarray)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("x", [2.5, np.float32(1.5), 3, np.arange(6, dtype=np.int32).reshape(2, 3)])
def test_reductions_python_scalars_ints(kind, x):
    helper, ref = PY_REDUCE[kind]
    with quiet():
        (got, dt), want = run(helper, x, None), ref(x, None)
    close(got, want)
    assert dt == np.asarray(want).dtype


@pytest.mark.parametrize(
    "x,axis",
    [(rand((2, 3, 4)), -1), (rand((3, 4), F32, 2), None)],
    ids=["3d-f64-int", "2d-f32-None"],
)
def test_reductions_numba(x, axis):
    with quiet():
        got, dts = run(nb_reductions, x, axis)
        want = [PY_REDUCE[k][1](x, axis) for k in KINDS]
    for kind, gv, dt, wv in zip(KINDS, got, dts, want, strict=True):
        close(gv, wv, msg=kind)
        assert dt == wv.dtype, kind
    if axis is None:
        assert all(isinstance(v, float) for v in got)


@pytest.mark.parametrize(
    "x,axis",
    [
        (np.float32(1.5), None),
        (np.array(1.5), None),
        (rand((2, 3, 4), F32, 1), (0, -1)),
        (rand((4, 6))[::2, 1::2], (1, 0)),
    ],
    ids=["f32-scalar", "0d", "3d-f32-tuple", "strided"],
)
def test_reduce_sum_numba_more(x, axis):
    (got, dt), want = run(nb_sum, x, axis), np.sum(x, axis=axis)
    close(got, want)
    assert dt == want.dtype


def test_reductions_numba_nan_and_errors():
    x = rand((2, 3, 4))
    x[1, 2, 0] = np.nan
    got = nb_reductions(x, -1)
    for kind, gv in zip(KINDS, got, strict=True):
        close(gv, PY_REDUCE[kind][1](x, -1), msg=kind)
    assert np.isnan(got[3][1, 2]) and np.isnan(got[4][1, 2])
    with pytest.raises(ValueError):
        nb_reductions(rand((2, 3, 4)), 3)
    with pytest.raises(ValueError):
        nb_sum(rand((2, 3, 4), F32), (0, 0))


_nb_matrix = {k: njit(lambda x, axis, f=PY_REDUCE[k][0]: f(x, axis))
              for k in ("sum", "mean", "prod", "max", "min")}


@pytest.mark.parametrize("kind", sorted(_nb_matrix))
def test_reductions_numba_matrix_one_axis(kind):
    """A vector or a matrix along one int axis has loops of its own (reductions._MATRIX_SRC,
    _VECTOR_SRC): NumPy's values and dtypes for both axes, strided and transposed layouts,
    ints, bools, float32, NaN (an extremum keeps it), empty rows and columns (an
    extremum's error)."""
    nan = np.array([[1.0, np.nan, 3.0], [2.0, 1.0, np.nan], [np.nan, 0.0, 1.0], [4, 5, 6]])
    inputs = [rand((3, 4)), rand((5, 4))[::2], rand((4, 3)).T, nan, np.arange(12).reshape(3, 4),
              rand((3, 4)) > 0, rand((3, 4), F32), np.zeros((0, 3)), np.zeros((3, 0)),
              rand(5), rand(9)[::3], np.arange(4), rand(4, F32), np.zeros(0), nan[:, 1]]
    for x in inputs:
        for axis in (0, -1) if x.ndim == 1 else (0, 1, -1, -2):
            try:
                with quiet():
                    want = PY_REDUCE[kind][1](x, axis)
            except ValueError:  # an extremum of an empty axis
                with pytest.raises(ValueError):
                    _nb_matrix[kind](x, axis)
                continue
            got = np.asarray(_nb_matrix[kind](x, axis))
            if x.ndim == 1:  # Numba hands a scalar back as a Python number
                got = got.astype(want.dtype) if want.dtype == np.float32 else got
            assert got.dtype == want.dtype and got.shape == want.shape, (x.dtype, axis)
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{x.dtype} {axis}")
    for x, axis in ((rand((2, 3)), 2), (rand(3), 1), (rand(3), -2)):
        with pytest.raises(ValueError, match="out of bounds"):
            _nb_matrix[kind](x, axis)


# ---------------------------------------------------------------------------
# keepdims, expand_reduced, reduced_count
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,x,axis",
    modes(
        [(rand((2, 3, 4)), -1), (rand((3, 4), F32), None)],
        [(rand((2, 3, 4), F32), (0, 2)), (rand(5), 0), (rand((2, 3, 4)), (2, -3, 1))],
    ),
)
def test_keepdims_expand_count(mode, x, axis):
    r = np.sum(x, axis=axis)
    g = rand(np.shape(r), x.dtype, seed=3)[()]
    (k, e, c), (kd, ed, cd) = run(pick(mode, py_keep, nb_keep), r, g, x, axis)
    close(k, np.sum(x, axis=axis, keepdims=True))
    close(e, np.broadcast_to(np.reshape(g, np.shape(k)), x.shape))
    assert e.flags.c_contiguous and e.flags.writeable and not np.shares_memory(e, g)
    vclose(vdot(e, x), vdot(g, np.sum(x, axis=axis)), x.dtype)  # expand_reduced is sum's vjp
    close(c, x.size / np.size(r))
    assert kd == ed == cd == x.dtype


def test_keep_python_scalars():
    assert R.keepdims(2.0, 3.0) == 2.0
    assert R.expand_reduced(np.float32(2), 1.0) == 2.0
    e = R.expand_reduced(np.float32(2), np.ones((2, 2), F32))
    close(e, np.full((2, 2), 2.0))
    assert e.dtype == F32
    assert type(R.reduced_count(3.0)) is float and R.reduced_count(3.0) == 1.0


# ---------------------------------------------------------------------------
# Broadcasting helpers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,g,x",
    modes(
        [
            (rand((2, 3, 4)), rand((3, 1), seed=1)),
            (rand((3, 4), F32), rand((1, 4), F32, 1)),
            (rand((3, 4), F32), rand((3, 4), F32, 1)),
            (rand((2, 3, 4)), 2.0),
            (3.0, rand((2, 3))),
            # a vector or a matrix: unbroadcast's loops of their own
            (rand(5), rand(1, seed=1)), (rand(5), rand(5, seed=1)), (rand((3, 4)), rand(4)),
            (rand((3, 4)), rand(1)), (rand((3, 4), F32), rand((3, 1), F32)),
            (rand((3, 4)), rand((1, 1))), (rand((5, 4))[::2], rand((1, 4))),
            (rand((4, 3)).T, rand((3, 4))),
        ],
        [(rand((2, 3)), np.array(2.0)), (rand((2, 3, 4)), rand((2, 3, 4), seed=1))],
    ),
)
def test_unbroadcast(mode, g, x):
    got, dt = run(pick(mode, R.unbroadcast, nb_unbroadcast), g, x)
    if np.ndim(x) == 0:
        want = np.sum(g)
        assert not isinstance(got, np.ndarray)
    elif np.ndim(g) == 0:
        want = np.full(np.shape(x), g)
    else:
        want = np.sum(g, axis=tuple(range(g.ndim - x.ndim)))
        want = np.sum(want, axis=tuple(i for i, n in enumerate(x.shape) if n == 1), keepdims=True)
    close(got, want)
    assert dt == np.result_type(g)
    if np.ndim(g) and np.ndim(x):
        v = rand(np.shape(x), seed=5)
        vclose(vdot(got, v), vdot(g, np.broadcast_to(v, g.shape)), g.dtype)  # adjoint


def test_unbroadcast_errors():
    with pytest.raises(ValueError):
        R.unbroadcast(rand((2, 3)), rand((2, 4)))
    with pytest.raises(ValueError):
        nb_unbroadcast(rand((2, 3, 4)), rand((2, 1)))
    for g, x in ((rand(3), rand(2)), (rand((2, 3)), rand(2)), (rand((2, 3)), rand((3, 3))),
                 (rand((2, 3)), rand((2, 2)))):
        with pytest.raises(ValueError, match="shapes do not match"):
            nb_unbroadcast(g, x)


@pytest.mark.parametrize(
    "mode,t,out",
    modes([(rand(4), rand((3, 4))), (np.float32(1.5), rand((2, 3), F32)), (2.0, 1.0)]),
)
def test_broadcast_like(mode, t, out):
    got, dt = run(pick(mode, R.broadcast_like, nb_broadcast_like), t, out)
    close(got, np.broadcast_to(t, np.shape(out)))
    assert dt == np.result_type(t)
    if isinstance(out, np.ndarray):
        assert got.flags.writeable and not np.shares_memory(got, t)


@pytest.mark.parametrize(
    "mode,x,dtype",
    modes(
        [(rand((2, 3), F32), F32), (np.arange(3), F64), (2.0, F64), (np.float32(3), F32), (3, F64)]
    ),
)
def test_one_zero_like(mode, x, dtype):
    (one, zero), (d1, d0) = run(pick(mode, py_one_zero, nb_one_zero), x)
    close(one, np.ones(np.shape(x)))
    close(zero, np.zeros(np.shape(x)))
    assert d1 == d0 == dtype
    if mode == "python" and isinstance(x, (int, float)):
        assert type(one) is float and type(zero) is float


# ---------------------------------------------------------------------------
# squeeze, log_base, norm
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,x,axis",
    modes([(rand((1, 3, 1)), (0, -1)), (rand(1, F32), 0)], [(rand((2, 1, 6))[..., ::2], -2)]),
)
def test_squeeze(mode, x, axis):
    got, dt = run(pick(mode, R.squeeze, nb_squeeze), x, axis)
    close(got, np.squeeze(x, axis))
    assert isinstance(got, np.ndarray) and dt == x.dtype


def test_squeeze_errors():
    with pytest.raises(ValueError):
        nb_squeeze(rand((1, 3, 1)), (0, 1))
    with pytest.raises(TypingError):
        nb_squeeze_none(rand((1, 3)))
    close(R.squeeze(rand((1, 3, 1))), rand((1, 3, 1)).ravel())


@pytest.mark.parametrize(
    "mode,x,base",
    modes(
        [
            (np.abs(rand((2, 3), F32)) + 0.1, 2.0),
            (8.0, 2.0),
            (np.float32(1000), 10),
            (np.abs(rand(4)) + 0.1, np.abs(rand(4, seed=1)) + 1.5),
        ]
    ),
)
def test_log_base(mode, x, base):
    got, dt = run(pick(mode, R.log_base, nb_log_base), x, base)
    close(got, np.log(np.asarray(x, F64)) / np.log(np.asarray(base, F64)))
    assert dt == np.asarray(x).dtype
    if type(x) is float:
        assert type(got) is float


@pytest.mark.parametrize(
    "mode,x,axis",
    modes(
        [(rand((2, 3, 4)), -1), (rand((3, 4), F32), None)],
        [(rand((2, 3, 4), seed=1), (1, 2)), (rand(5, F32), 0), (rand((2, 3, 4), F32), 0)],
    ),
)
def test_norm(mode, x, axis):
    (got, dt), want = run(pick(mode, R.norm, nb_norm), x, axis), np.linalg.norm(x, axis=axis)
    close(got, want)
    assert dt == want.dtype == x.dtype


# ---------------------------------------------------------------------------
# array_of, tape_like, astype
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,items",
    modes(
        [
            ((1.0, 2.0, 3.0),),
            ((np.float32(1), 2.0),),
            ((rand((2, 3), F32), rand((2, 3), F32, 1)),),
            ((rand(3), rand(6, seed=1)[::2]),),
        ],
        [((np.float32(1), np.float32(2)),), ([rand(2), rand(2)],)],
    ),
)
def test_array_of(mode, items):
    (got, dt), want = run(pick(mode, R.array_of, nb_array_of), items), np.array(list(items))
    close(got, want)
    assert dt == want.dtype


def test_array_of_numba_shape_mismatch():
    with pytest.raises(ValueError):
        nb_array_of((rand((2, 3), F32), rand((3, 2), F32)))


@pytest.mark.parametrize("mode,x,n", modes([(rand((2, 3), F32), 4), (2.0, 5), (np.float32(1), 3)]))
def test_tape_like(mode, x, n):
    got, _ = run(pick(mode, R.tape_like, nb_tape_like), x, n)
    assert got.shape == (n,) + np.shape(x) and got.dtype == np.asarray(x).dtype
    got[...] = 0  # writable


@pytest.mark.parametrize("mode,x,n", modes([(rand((2, 3), F32), 4), (2.0, 5), (np.int64(1), 3)]))
def test_batch_like_is_tape_like(mode, x, n):
    got, dt = run(pick(mode, R.batch_like, nb_batch_like), x, n)
    ref, ref_dt = run(pick(mode, R.tape_like, nb_tape_like), x, n)
    assert got.shape == ref.shape == (n,) + np.shape(x) and dt == ref_dt == np.asarray(x).dtype


def loop_helpers(x, stop, step):
    """The loop helpers as generated loops use them: a tape, a write log undone in part."""
    a = x.copy()
    log = R.write_log(a)
    tape = R.tape_like(a[0], 1)
    k = 0
    while R.range_continues(k, stop, step):
        log = R.log_write(log, a, k)
        a[k] = 2.0 * a[k]
        tape = R.tape_push(tape, k, a[k])
        k += step
    doubled = a.copy()
    log = R.pop_writes(a, log, 1)  # undo all the writes but the first
    n = R.range_len(0, stop, step)
    return doubled, a.copy(), R.log_size(log), n, tape[:n].copy(), R.index_zero(a, 0)


nb_loop_helpers = njit(loop_helpers)
nb_range_len = njit(lambda start, stop, step: R.range_len(start, stop, step))
nb_undo_writes = njit(lambda a, log, start: R.undo_writes(a, log, start))


@pytest.mark.parametrize("mode", ["python", "numba"])
def test_loop_helpers(mode):
    x = np.arange(1.0, 4.0)
    doubled, undone, size, n, tape, zeroed = pick(mode, loop_helpers, nb_loop_helpers)(x, 3, 1)
    close(doubled, [2.0, 4.0, 6.0])
    close(undone, [2.0, 2.0, 3.0])
    assert size == 1 and n == 3
    close(tape, [2.0, 4.0, 6.0])
    close(zeroed, [0.0, 2.0, 3.0])
    assert pick(mode, R.range_len, nb_range_len)(5, 0, -2) == 3
    undo = pick(mode, R.undo_writes, nb_undo_writes)
    close(undo(undone, R.write_log(undone), 0), undone)


@pytest.mark.parametrize(
    "mode,x,dtype",
    modes(
        [(rand((2, 3)), np.float32), (3, np.float64), (np.float32(2.5), np.float64)],
        [(rand(3), np.dtype("float32"))],
    ),
)
def test_astype(mode, x, dtype):
    got, dt = run(pick(mode, R.astype, nb_astype), x, dtype)
    close(got, np.asarray(x).astype(dtype))
    assert dt == np.dtype(dtype)
    if mode == "python" and not isinstance(x, np.ndarray):
        assert type(got) is dtype


# ---------------------------------------------------------------------------
# unindex
# ---------------------------------------------------------------------------

IDX = np.array([0, -1, 0])
I3 = np.array([3, 0, 3])
UNINDEX_NB = [
    ((3, 4), F64, 1),
    ((2, 3, 4), F64, (slice(0, 2), None, -1)),
    ((3, 4), F64, IDX),
    ((3, 4), F64, rand((3, 4), seed=7) > 0),
    ((3, 4), F64, (slice(None), None, IDX)),
    ((2, 3, 4), F64, (np.array([0, 1, 1]), slice(None), I3)),
    ((2, 3, 4), F64, (1, slice(None), I3)),
    ((2, 3, 4), F32, (Ellipsis, np.array([1, 1, 2]))),
]
UNINDEX_PY = [
    ((2, 3, 4), F64, rand((2, 3), seed=8) > 0),
    ((2, 3, 4), F32, (Ellipsis, slice(None, None, -2))),
    ((2, 3, 4), F64, (slice(1, None), np.array([2, 2]), np.array([0, 1]))),
    ((2, 3, 4), F64, np.array([[0, 1], [1, 1]])),
    ((3, 4), F64, [0, 0, 2]),
    ((2, 3, 4), F64, (np.array([[0], [1]]), slice(None), np.array([1, 2]))),
    ((3, 4), np.dtype(np.int64), (1, slice(None))),
]


@pytest.mark.parametrize("mode,shape,dtype,index", modes(UNINDEX_NB, UNINDEX_PY))
def test_unindex(mode, shape, dtype, index):
    x = rand(shape, seed=1).astype(dtype)
    fdt = _inexact(dtype)
    g = rand(np.shape(x[index]), fdt, seed=2)[()]
    got, dt = run(pick(mode, R.unindex, nb_unindex), g, x, index)
    want = np.zeros(x.shape, fdt)
    np.add.at(want, index, g)
    close(got, want)
    assert dt == fdt
    v = rand(shape, seed=3)
    vclose(vdot(got, v), vdot(g, v[index]), fdt)  # adjoint of indexing: repeats accumulate


def test_unindex_numba_errors():
    with pytest.raises(IndexError):
        nb_unindex(rand((3, 4)), rand((3, 4)), np.array([0, 3, 1]))
    with pytest.raises(TypingError):
        nb_unindex(rand((2, 2)), rand((2, 3)), (np.array([[0]]), slice(None)))


# ---------------------------------------------------------------------------
# cumsum / rcumsum
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,x,axis", modes([(rand((2, 3, 4)), -2), (rand((3, 4), F32), None)], [(rand(5), 0)])
)
def test_cumsums(mode, x, axis):
    (c, rc), (cd, rcd) = run(pick(mode, py_cumsums, nb_cumsums), x, axis)
    close(c, np.cumsum(x, axis=axis))
    flat = x.ravel() if axis is None else x
    ax = 0 if axis is None else axis
    want = np.zeros(flat.shape)
    n = flat.shape[ax]
    for j in range(n):  # explicit reverse cumulative sum
        src = [slice(None)] * flat.ndim
        src[ax] = slice(j, n)
        dst = [slice(None)] * flat.ndim
        dst[ax] = j
        want[tuple(dst)] = np.sum(flat[tuple(src)].astype(F64), axis=ax)
    close(rc, want)
    assert cd == rcd == x.dtype
    g = rand(np.shape(c), seed=4)
    vclose(vdot(g, np.cumsum(x, axis=axis)), vdot(R.rcumsum(g, axis), flat), x.dtype)


# ---------------------------------------------------------------------------
# matmul / dot vjps
# ---------------------------------------------------------------------------


def _mm_operands(sa, sb, dtype):
    a, b = rand(sa, dtype, 1), rand(sb, dtype, 2)
    return rand(np.shape(a @ b), dtype, 3)[()], a, b


@pytest.mark.parametrize(
    "mode,sa,sb,dtype",
    modes(
        [((3, 4), (4, 5), F64), ((4,), (4, 5), F64), ((3, 4), (4,), F32)],
        [
            ((4,), (4,), F64),
            ((3, 4), (4, 5), F32),
            ((2, 3, 4), (4, 5), F64),
            ((4,), (2, 4, 5), F64),
            ((2, 1, 3, 4), (3, 4, 2), F64),
            ((2, 3, 4), (4,), F64),
        ],
    ),
)
def test_matmul_vjp(mode, sa, sb, dtype):
    g, a, b = _mm_operands(sa, sb, dtype)
    (ga, gb), (gad, gbd) = run(pick(mode, py_matmul_vjp, nb_matmul_vjp), g, a, b)
    close(ga, fd_vjp(lambda v: v @ b, a, g), tol=1e-4)
    close(gb, fd_vjp(lambda v: a @ v, b, g), tol=1e-4)
    assert gad == gbd == dtype
    vclose(vdot(ga, a), vdot(g, a @ b), dtype)  # bilinear: <g, ab> = <ga, a> = <gb, b>
    vclose(vdot(gb, b), vdot(g, a @ b), dtype)


@pytest.mark.parametrize(
    "mode,a,b",
    modes(
        [(2.0, rand(3)), (rand((2, 3), F32), np.float32(1.5)), (2.0, 3.0)],
        [
            (rand((2, 3)), rand(3, seed=1)),
            (rand((2, 3, 4)), rand((5, 4, 2), seed=1)),
            (rand((2, 3, 4)), rand(4, seed=1)),
            (rand(4), rand((2, 4, 3), seed=1)),
        ],
    ),
)
def test_dot_vjp(mode, a, b):
    out = np.dot(a, b)
    g = rand(np.shape(out), np.asarray(out).dtype, seed=3)[()]
    (ga, gb), (gad, gbd) = run(pick(mode, py_dot_vjp, nb_dot_vjp), g, a, b)
    close(ga, fd_vjp(lambda v: np.dot(v, b), a, g), tol=1e-4)
    close(gb, fd_vjp(lambda v: np.dot(a, v), b, g), tol=1e-4)
    assert gad == gbd == np.asarray(out).dtype


def test_matmul_numba_rejects_stacks():
    with pytest.raises(TypingError):
        nb_matmul_vjp(*_mm_operands((2, 3, 4), (4, 5), F64))


# ---------------------------------------------------------------------------
# extremum_vjp / prod_vjp
# ---------------------------------------------------------------------------


def _groups(x, axis):
    """(element index, reduction-group index) pairs, by explicit loops."""
    axes = _py_axes(axis, x.ndim)
    return [(i, tuple(v for d, v in enumerate(i) if d not in axes)) for i in np.ndindex(x.shape)]


def _extremum_ref(g, x, r, axis):
    g, r = np.asarray(g), np.asarray(r)
    groups = _groups(x, axis)
    out = np.zeros(x.shape)
    for i, k in groups:
        if x[i] == r[k]:
            out[i] = g[k] / sum(1 for j, kk in groups if kk == k and x[j] == r[k])
    return out


def _prod_ref(g, x, axis):
    g = np.asarray(g)
    groups = _groups(x, axis)
    out = np.zeros(x.shape)
    for i, k in groups:
        out[i] = g[k] * np.prod([x[j] for j, kk in groups if kk == k and j != i])
    return out


TIES = np.array([[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 5.0], [0.0, 1.0, 4.0, 4.0]]] * 2)
TIES[1, 0, 3] = 3.0
ZEROS = np.arange(24.0).reshape(2, 3, 4) % 7 - 1.0  # zeros; a (0, 2) group holds two


@pytest.mark.parametrize(
    "mode,x,axis", modes([(TIES, -1), (rand((3, 4), F32), None)], [(TIES, (0, 2))])
)
@pytest.mark.parametrize("red", [np.max, np.min])
def test_extremum_vjp(mode, red, x, axis):
    r = red(x, axis=axis)
    g = rand(np.shape(r), x.dtype, seed=3)[()]
    got, dt = run(pick(mode, R.extremum_vjp, nb_extremum_vjp), g, x, r, axis)
    close(got, _extremum_ref(g, x, r, axis))
    assert dt == x.dtype


@pytest.mark.parametrize("fn", [R.extremum_vjp, nb_extremum_vjp], ids=["python", "numba"])
def test_extremum_vjp_fd_and_nan(fn):
    x = rand((2, 3, 4))
    g = rand((2, 3), seed=1)
    for red in (np.max, np.min):
        close(fn(g, x, red(x, -1), -1), fd_vjp(lambda v, red=red: red(v, -1), x, g), tol=1e-6)
    x[1, 2, 0] = np.nan
    got = fn(g, x, np.max(x, -1), -1)
    assert got[1, 2, 0] == g[1, 2] and np.sum(got[1, 2] != 0) == 1


@pytest.mark.parametrize(
    "mode,x,axis", modes([(ZEROS, -1), (rand((3, 4), F32), None)], [(ZEROS, (0, 2))])
)
def test_prod_vjp(mode, x, axis):
    g = rand(np.shape(np.prod(x, axis=axis)), x.dtype, seed=3)[()]
    got, dt = run(pick(mode, R.prod_vjp, nb_prod_vjp), g, x, axis)
    close(got, _prod_ref(g, x, axis))
    assert dt == x.dtype


def test_prod_vjp_fd():
    x = rand((2, 3, 4)) + 0.5
    g = rand((2, 4), seed=1)
    close(R.prod_vjp(g, x, 1), fd_vjp(lambda v: np.prod(v, 1), x, g), tol=1e-6)
    assert R.prod_vjp(2.0, 3.0) == 2.0


# ---------------------------------------------------------------------------
# untranspose, reshape_like, take_axis, slice_axis
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,x,axes", modes([(rand((2, 3, 4)), (1, -1, 0)), (rand((3, 4), F32), None)])
)
def test_untranspose(mode, x, axes):
    g = np.ascontiguousarray(np.transpose(rand(x.shape, x.dtype, 5), axes))
    got, dt = run(pick(mode, R.untranspose, nb_untranspose), g, axes)
    assert got.shape == x.shape and dt == x.dtype
    inv = None if axes is None else np.argsort(np.mod(axes, x.ndim))
    close(got, np.transpose(g, inv))
    vclose(vdot(got, x), vdot(g, np.transpose(x, axes)), x.dtype)


@pytest.mark.parametrize(
    "mode,g,x",
    modes([(rand((4, 6)).T, np.zeros((2, 3, 4))), (rand((1, 1), F32), np.float32(0)), (2.5, 1.0)]),
)
def test_reshape_like(mode, g, x):
    got, dt = run(pick(mode, R.reshape_like, nb_reshape_like), g, x)
    close(got, np.reshape(g, np.shape(x)))
    assert dt == np.result_type(g)
    assert isinstance(got, np.ndarray) == isinstance(x, np.ndarray)


@pytest.mark.parametrize(
    "mode,g,i,start,stop,axis",
    modes(
        [(rand((2, 3, 4)), -1, 1, 3, -2), (rand(5), 2, 1, 3, 0)], [(rand((3, 4), F32), 0, 0, 2, 0)]
    ),
)
def test_take_slice_axis(mode, g, i, start, stop, axis):
    (t, s), (td, sd) = run(pick(mode, py_take_slice, nb_take_slice), g, i, start, stop, axis)
    close(t, np.take(g, i, axis=axis))
    index = [slice(None)] * g.ndim
    index[axis] = slice(start, stop)
    close(s, g[tuple(index)])
    assert td == sd == g.dtype
    if np.ndim(t):
        assert t.flags.c_contiguous and not np.shares_memory(t, g)
    assert not np.shares_memory(s, g)
    n = g.shape[axis]  # vjps of stack and concatenate, as inner products
    xs = [rand(np.shape(np.take(g, 0, axis=axis)), seed=10 + k) for k in range(n)]
    stacked = sum(vdot(R.take_axis(g, k, axis), xs[k]) for k in range(n))
    vclose(vdot(g, np.stack(xs, axis)), stacked, g.dtype)
    bounds = [(0, start), (start, stop), (stop, n)]
    parts = [rand(np.shape(R.slice_axis(g, *b, axis)), seed=20 + k) for k, b in enumerate(bounds)]
    total = sum(vdot(R.slice_axis(g, *b, axis), p) for b, p in zip(bounds, parts, strict=True))
    vclose(vdot(g, np.concatenate(parts, axis)), total, g.dtype)


def test_take_axis_numba_bounds():
    with pytest.raises(IndexError):
        nb_take_slice(rand((2, 3, 4)), 3, 0, 1, -2)


def test_public_api():
    assert set(HELPERS) <= set(R.__all__)
    for name in HELPERS:
        doc = getattr(R, name).__doc__
        assert doc and ">>>" in doc, name


def test_package_exports():
    """``__all__`` is what the modules export, plus ``seed`` and ``batch_seed`` (checks.py:
    call-time checks); every helper says it is
    nabla.runtime's (generated code imports it from there, and nabla recognises it by it)."""
    modules = [importlib.import_module(f"nabla.runtime.{m}") for m in (
        "batch", "broadcasting", "elementwise", "indexing", "jacobians", "linalg", "loops",
        "opaque", "reduction_vjps", "reductions", "shapes", "sorting", "special")]
    names = [n for m in modules for n in m.__all__]
    assert len(names) == len(set(names))
    assert set(R.__all__) == {*names, "seed", "batch_seed"} and R.__all__ == sorted(R.__all__)
    for name in set(names) - {"in_python", "prange"}:
        assert getattr(R, name).__module__ == "nabla.runtime", name
    assert R.seed.__module__ == R.batch_seed.__module__ == "nabla.checks"
    assert R.in_python is True


def _slow_compiled(x):
    return np.sum(np.cos(x) * x)


def test_a_slow_compile_says_once_what_it_compiles(monkeypatch, capfd):
    from nabla.codegen import numba_cpu

    monkeypatch.setattr(numba_cpu, "SLOW_COMPILE_S", 0.0)
    monkeypatch.setattr(nabla.config, "jit", "strict")
    monkeypatch.setattr(nabla.config, "cache", False)
    g = nabla.grad(_slow_compiled)
    np.testing.assert_allclose(g(np.ones(2)), np.cos(1.0) - np.sin(1.0) + np.zeros(2))
    err = capfd.readouterr().err
    assert err.count("nabla: Numba is compiling nabla.grad(_slow_compiled)") == 1
    assert "not cached" in err
    monkeypatch.setattr(nabla.config, "verbose", False)
    nabla.grad(_slow_compiled, mode="forward")(np.ones(2))
    assert "Numba is compiling" not in capfd.readouterr().err
