"""Rules for linear algebra: dot, matmul, outer, cross, trace, transpose, norm,
solve, inv, det.

>>> from nabla.rules.registry import lookup
>>> lookup("np.linalg.inv").vjp["a"]
'-(out.T @ g @ out.T)'
"""

import numpy as np

from .. import syntax
from .reductions import keepdims_template
from .registry import constant_value, deflower, defrule

defrule(np.dot, "np.dot", "a, b", rank="product", batching="product", fresh=True,
        jvp={"a": "np.dot(a_dot, b)", "b": "np.dot(a, b_dot)"},
        vjp={"a": "dot_vjp_a(g, a, b)", "b": "dot_vjp_b(g, a, b)"})
defrule(np.matmul, "np.matmul", "a, b", rank="product", batching="product", fresh=True,
        jvp={"a": "a_dot @ b", "b": "a @ b_dot"},
        vjp={"a": "matmul_vjp_a(g, a, b)", "b": "matmul_vjp_b(g, a, b)"})
deflower("np.matmul", lambda b: "a @ b")  # Numba has the operator, not np.matmul
defrule(np.outer, "np.outer", "a, b", fresh=True,
        jvp={"a": "np.outer(a_dot, b)", "b": "np.outer(a, b_dot)"},
        vjp={"a": "reshape_like(g @ np.ravel(b), a)", "b": "reshape_like(np.ravel(a) @ g, b)"})
# the cross product of 3-vectors (stacks of them broadcast; the cotangent is summed back)
defrule(np.cross, "np.cross", "a, b", rank="elementwise", batching="last_axis", fresh=True,
        jvp={"a": "np.cross(a_dot, b)", "b": "np.cross(a, b_dot)"},
        vjp={"a": "unbroadcast(np.cross(b, g), a)", "b": "unbroadcast(np.cross(g, a), b)"})
defrule(np.trace, "np.trace", "a",
        jvp={"a": "np.trace(a_dot)"},
        vjp={"a": "g * np.eye(a.shape[0], a.shape[1])"})
defrule(None, "Attribute.T", "x", view=True, jvp={"x": "x_dot.T"}, vjp={"x": "g.T"})
defrule(np.transpose, "np.transpose", "x, axes=None", view=True,
        jvp={"x": "np.transpose(x_dot, axes)"}, vjp={"x": "untranspose(g, axes)"})
deflower("np.transpose", lambda b: "x.T" if constant_value(b["axes"], 0) is None else None)

defrule(np.linalg.norm, "np.linalg.norm", "x, ord=None, axis=None, keepdims=False", rank="whole",
        jvp={"x": "np.sum(x * x_dot) / out"}, vjp={"x": "g / out * x"})
defrule(None, "norm", "x, axis",
        jvp={"x": "reduce_sum(x * x_dot, axis) / out"},
        vjp={"x": "expand_reduced(g / out, x, axis) * x"})


def _lower_norm(b):
    order = constant_value(b["ord"], 0)  # 0: not a constant (refused below)
    if syntax.to_source(b["ord"]) in ("np.inf", "math.inf"):
        order = np.inf
    if order is not None:
        return _lower_norm_ord(order, b)
    axis_none = constant_value(b["axis"], 0) is None
    keep = constant_value(b["keepdims"], True)
    if axis_none and not keep:
        return "norm(x, axis)"  # Numba's np.linalg.norm of float32 is float64
    return keepdims_template("norm(x, axis)", b) if keep else "norm(x, axis)"


def _lower_norm_ord(order, b):
    """ord=1 and ord=np.inf (and 2 along an axis) as reductions of |x|: a vector's along
    ``axis`` (an int), or with axis=None a vector's or a matrix's (max column or row sum;
    ``rows_of`` makes a vector one column of a matrix)."""
    refused = "np.linalg.norm(x, ord)"  # the rule of np.linalg.norm takes no ord
    if constant_value(b["keepdims"], True) or order not in (1, 2, np.inf):
        return refused
    along = constant_value(b["axis"], 0)
    if along is None:
        return {1: "reduce_max(reduce_sum(np.abs(rows_of(x)), 0), None)",
                np.inf: "reduce_max(reduce_sum(np.abs(rows_of(x)), 1), None)"}.get(
                    order, refused)
    if not isinstance(along, int):
        return refused
    return {1: "reduce_sum(np.abs(x), axis)", 2: "norm(x, axis)",
            np.inf: "reduce_max(np.abs(x), axis)"}[order]


deflower("np.linalg.norm", _lower_norm)

defrule(np.linalg.solve, "np.linalg.solve", "a, b", fresh=True,
        jvp={"a": "np.linalg.solve(a, -(a_dot @ out))", "b": "np.linalg.solve(a, b_dot)"},
        vjp={"a": "-matmul_vjp_a(np.linalg.solve(a.T, g), a, out)",
             "b": "np.linalg.solve(a.T, g)"})
defrule(np.linalg.inv, "np.linalg.inv", "a", fresh=True,
        jvp={"a": "-(out @ a_dot @ out)"}, vjp={"a": "-(out.T @ g @ out.T)"})
defrule(np.linalg.det, "np.linalg.det", "a",
        jvp={"a": "out * np.trace(np.linalg.solve(a, a_dot))"},
        vjp={"a": "g * out * np.linalg.inv(a).T"})
