"""Rules for shapes and indexing: reshape, ravel, squeeze, expand_dims, copy,
astype, indexing, ``np.array([...])``, stack, concatenate.

A rule with ``seq`` takes a literal sequence (``np.stack((a, b))``); its
``seq_vjp`` is the cotangent of element ``{i}``:

>>> from nabla.rules.registry import lookup
>>> lookup("np.stack").seq_vjp
'take_axis(g, {i}, axis)'
"""

import math

import numpy as np

from .. import runtime as rt
from .registry import constant_value, deflower, defrule

defrule(np.reshape, "np.reshape", "x, shape", view=True,
        jvp={"x": "np.reshape(x_dot, shape)"}, vjp={"x": "reshape_like(g, x)"})
defrule(np.ravel, "np.ravel", "x", view=True, jvp={"x": "np.ravel(x_dot)"},
        vjp={"x": "reshape_like(g, x)"})
defrule(np.squeeze, "np.squeeze", "x, axis=None", view=True)
deflower("np.squeeze", lambda b: "squeeze(x, axis)")
defrule(None, "squeeze", "x, axis", view=True,
        jvp={"x": "squeeze(x_dot, axis)"}, vjp={"x": "reshape_like(g, x)"})
# differences of neighbours along the last axis, or the first: slices subtracted
defrule(np.diff, "np.diff", "x, n=1, axis=-1", fresh=True)


def _diff(b):
    """np.diff(x, n, axis) of constant n and axis: slices of x, the binomial coefficients
    of order n as weights (n = 2: x[2:] - 2 * x[1:-1] + x[:-2])."""
    n, axis = constant_value(b["n"]), constant_value(b["axis"])
    if type(n) is not int or type(axis) is not int or n < 1:
        return None
    terms = []
    for k in range(n, -1, -1):
        stop = "" if k == n else str(k - n)
        part = f"{k}:{stop}" if k else f":{stop}"
        index = (":, " * axis + part if axis >= 0 else
                 "..., " + part + ", :" * (-axis - 1))
        weight = math.comb(n, k)
        sign = "-" if (n - k) % 2 else "+"
        term = f"x[{index}]" if weight == 1 else f"{weight} * x[{index}]"
        terms.append((sign, term))
    out = terms[0][1]
    for sign, term in terms[1:]:
        out += f" {sign} {term}"
    return out


deflower("np.diff", _diff)
# sorting along the last axis permutes: the tangent is sorted as the values are, the
# cotangent put back where each value came from (nabla.runtime.sorting)
defrule(np.sort, "np.sort", "a", fresh=True, rank="first", batching="last_axis",
        jvp={"a": "sort_tangent(a_dot, a)"}, vjp={"a": "sort_cotangent(g, a)"})
defrule(None, "sort_tangent", "t, x", fresh=True, rank="first", nondiff=("x",),
        jvp={"t": "sort_tangent(t_dot, x)"}, vjp={"t": "sort_cotangent(g, x)"})
defrule(None, "sort_cotangent", "v, x", fresh=True, rank="first", nondiff=("x",),
        jvp={"v": "sort_cotangent(v_dot, x)"}, vjp={"v": "sort_tangent(g, x)"})
# linear maps that are their own adjoints' kin: a triangle keeps the triangle of the
# cotangent, a flip flips it back, a roll rolls it back (Numba: flip and roll of the
# whole array, roll by an int)
for _obj, _sp in ((np.tril, "np.tril"), (np.triu, "np.triu")):
    defrule(_obj, _sp, "x, k=0", fresh=True, rank="first",
            jvp={"x": f"{_sp}(x_dot, k)"}, vjp={"x": f"{_sp}(g, k)"})
defrule(np.flip, "np.flip", "x", rank="first", view=True, jvp={"x": "np.flip(x_dot)"},
        vjp={"x": "np.flip(g)"})
defrule(np.roll, "np.roll", "x, shift", fresh=True, rank="first", nondiff=("shift",),
        jvp={"x": "np.roll(x_dot, shift)"}, vjp={"x": "np.roll(g, -shift)"})
# a vector's diagonal matrix, or a matrix's diagonal (k: which one)
defrule(np.diag, "np.diag", "v, k=0", nondiff=("k",), fresh=True,
        jvp={"v": "np.diag(v_dot, k)"}, vjp={"v": "diag_vjp(g, v, k)"})
defrule(rt.diag_vjp, "diag_vjp", "g, v, k=0", nondiff=("v", "k"), fresh=True,
        jvp={"g": "diag_vjp(g_dot, v, k)"}, vjp={"g": "np.diag(g, k)"})
defrule(np.expand_dims, "np.expand_dims", "x, axis", view=True,
        jvp={"x": "np.expand_dims(x_dot, axis)"}, vjp={"x": "reshape_like(g, x)"})
defrule(np.copy, "np.copy", "x", jvp={"x": "np.copy(x_dot)"}, vjp={"x": "g"}, fresh=True,
        rank="first", batching="same_shape")
defrule(None, "astype", "x, dtype", fresh=True, rank="first", batching="same_shape",
        jvp={"x": "astype(x_dot, dtype)"}, vjp={"x": "astype(g, x.dtype)"})
# ``index`` is the index as written (valid inside brackets only); ``index_value`` is the
# same index as a value (``1:`` becomes ``slice(1, None, None)``), for calls. An index (ints,
# bools, slices) has no derivative: a gradient's code that takes a tape of indices as an
# argument (a while loop's) is differentiated again through it.
defrule(None, "Subscript", "x, index", nondiff=("index",),
        jvp={"x": "x_dot[index]"}, vjp={"x": "unindex(g, x, index_value)"})
defrule(None, "array_of", "items", seq="items", seq_vjp="g[{i}]",
        seq_jvp="array_of(items_dot)", fresh=True)
defrule(rt.rows_of, "rows_of", "x", jvp={"x": "rows_of(x_dot)"}, vjp={"x": "reshape_like(g, x)"})
defrule(np.stack, "np.stack", "arrays, axis=0", fresh=True, seq="arrays",
        seq_vjp="take_axis(g, {i}, axis)", seq_jvp="np.stack(arrays_dot, axis)")
defrule(np.concatenate, "np.concatenate", "arrays, axis=0", fresh=True, seq="arrays",
        seq_vjp="slice_axis(g, {start}, {stop}, axis)", seq_jvp="np.concatenate(arrays_dot, axis)")


class _Rows(str):
    """The ``seq_vjp`` of vstack/hstack: element ``{i}`` starts after the rows (columns)
    of the elements before it, which ``rows(j)`` spells (1-D elements count as one row
    of vstack)."""

    def __new__(cls, rows: str, axis: str):
        self = super().__new__(cls, f"<{rows}>")
        self.rows, self.axis = rows, axis
        return self

    def format(self, i, **_):
        start = " + ".join(self.rows.format(j=j) for j in range(i)) or "0"
        stop = " + ".join(self.rows.format(j=j) for j in range(i + 1))
        return f"reshape_like(slice_axis(g, {start}, {stop}, {self.axis}), tup[{i}])"


# np.vstack((a, b)): 1-D elements become rows; np.hstack((a, b)): 1-D elements are joined
# along axis 0, others along axis 1.
defrule(np.vstack, "np.vstack", "tup", fresh=True, seq="tup",
        seq_vjp=_Rows("np.atleast_2d(tup[{j}]).shape[0]", "0"), seq_jvp="np.vstack(tup_dot)")
defrule(np.hstack, "np.hstack", "tup", fresh=True, seq="tup",
        seq_vjp=_Rows("np.shape(tup[{j}])[min(g.ndim - 1, 1)]", "min(g.ndim - 1, 1)"),
        seq_jvp="np.hstack(tup_dot)")
# np.array and np.asarray are rewritten by the normalizer: np.array([a, b]) becomes
# array_of((a, b)), np.array(x) becomes np.copy(x) and np.asarray(x) becomes x.
defrule(np.array, "np.array", "object, dtype=None", kind="inactive", fresh=True)
defrule(np.asarray, "np.asarray", "a, dtype=None", kind="inactive")
