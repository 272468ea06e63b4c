"""Rules for reductions: sum, mean, prod, max, min, var, std, cumsum.

Forms Numba lacks (``axis=`` on most reductions, ``keepdims``, ``ddof``) are
lowered to ``nabla.runtime`` helpers, in the primal too:

>>> from nabla.rules.registry import lookup
>>> lookup("reduce_sum").vjp["x"]
'expand_reduced(g, x, axis)'
"""

import re

import numpy as np

from .registry import constant_value, deflower, defrule


def _no_axis(template: str) -> str:
    """The template for a reduction over all axes: ``reduce_sum(e, None)`` is ``np.sum(e)``."""
    template = template.replace("axis", "None")
    return re.sub(r"reduce_(sum|mean|prod|max|min)\(([^()]*(?:\([^()]*\))?[^()]*), None\)",
                  r"np.\1(\2)", template)


def keepdims_template(call: str, b) -> str:
    """``call`` (a reduction of ``x`` over ``axis``) with the reduced axes kept."""
    axis = constant_value(b["axis"], 0)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return f"np.expand_dims({call}, axis)"
    return f"keepdims({call}, x, axis)"


# vmap's vector form reduces each example of a batch with these (np.sum(x) of an example is
# batch_sum(x) of the batch); reductions along an axis shift the axis past the batch axis
_PER_EXAMPLE = {"sum": "batch_sum", "mean": "batch_mean"}
_ALONG_AN_AXIS = {"sum", "mean", "max", "min", "prod"}


def _reduction(objs, name, helper, vjp, jvp, extra=""):
    """``np.<name>(x, axis=None[, extra], keepdims=False)`` and its helper form."""
    params = "x, axis=None" + (", " + extra if extra else "")
    extra_args = "".join(", " + e.split("=")[0].strip() for e in extra.split(",") if e.strip())
    defrule(objs, f"np.{name}", params + ", keepdims=False", fresh=True, rank="whole",
            batching="example_reduction" if name in _PER_EXAMPLE else None,
            batched=_PER_EXAMPLE.get(name),
            vjp={"x": _no_axis(vjp)}, jvp={"x": _no_axis(jvp)})
    along = name in _ALONG_AN_AXIS
    defrule(None, helper, params, vjp={"x": vjp}, jvp={"x": jvp}, fresh=True,
            rank="axis" if along else None, batching="axis_reduction" if along else None)

    def lower(b):
        no_axis = constant_value(b["axis"], 0) is None
        keep = constant_value(b["keepdims"], True)
        plain = all(constant_value(b[e.split("=")[0].strip()], 1) in (0, None)
                    for e in extra.split(",") if e.strip())
        if no_axis and not keep and plain and name not in ("var", "std"):
            return None  # (Numba's np.var and np.std of float32 are float64)
        args = extra_args
        if "ddof" in extra:
            # a float ddof keeps (count - ddof) in the arguments' float type: under Numba,
            # a float32 minus an int is a float64
            ddof = constant_value(b["ddof"])
            args = f", {float(ddof)!r}" if isinstance(ddof, int) else extra_args
        call = f"{helper}(x, axis{args})"
        return keepdims_template(call, b) if keep else call

    deflower(f"np.{name}", lower)


_reduction(np.sum, "sum", "reduce_sum",
           "expand_reduced(g, x, axis)", "reduce_sum(x_dot, axis)")
_reduction(np.mean, "mean", "reduce_mean",
           "expand_reduced(g, x, axis) / reduced_count(x, axis)", "reduce_mean(x_dot, axis)")
_reduction(np.prod, "prod", "reduce_prod",
           "prod_vjp(g, x, axis)", "reduce_sum(prod_vjp(one_like(out), x, axis) * x_dot, axis)")
for _name, _objs in (("max", (np.max, np.amax)), ("min", (np.min, np.amin))):
    _reduction(_objs, _name, f"reduce_{_name}",
               "extremum_vjp(g, x, out, axis)",
               "reduce_sum(extremum_vjp(one_like(out), x, out, axis) * x_dot, axis)")
_centered = "(x - keepdims(reduce_mean(x, axis), x, axis))"
_reduction(np.var, "var", "reduce_var",
           f"expand_reduced(g, x, axis) * 2 * {_centered} / (reduced_count(x, axis) - ddof)",
           f"2 * reduce_sum({_centered} * x_dot, axis) / (reduced_count(x, axis) - ddof)",
           extra="ddof=0")
_reduction(np.std, "std", "reduce_std",
           f"expand_reduced(g / out, x, axis) * {_centered} / (reduced_count(x, axis) - ddof)",
           f"reduce_sum({_centered} * x_dot, axis) / ((reduced_count(x, axis) - ddof) * out)",
           extra="ddof=0")

# an average is a mean; with weights (over all axes), a weighted sum over their sum
defrule(np.average, "np.average", "x, axis=None, weights=None")


def _lower_average(b):
    # (a lowering's calls are not lowered again: it names the helper form itself)
    all_axes = constant_value(b["axis"], 0) is None
    if constant_value(b["weights"], 0) is None:
        return "np.mean(x)" if all_axes else "reduce_mean(x, axis)"
    return "np.sum(x * weights) / np.sum(weights)" if all_axes else None


deflower("np.average", _lower_average)

# ``x`` only gives keepdims its shape: its derivative there is zero. The zero terms are
# only emitted for axis=None or a tuple of axes; an int axis uses np.expand_dims.
defrule(None, "keepdims", "r, x, axis",
        vjp={"r": "reshape_like(g, r)", "x": "zero_like(x)"},
        jvp={"r": "keepdims(r_dot, x, axis)", "x": "zero_like(out)"})

# the median of all elements: the middle of the sorted values (np.sort's rule gives the rest)
defrule(np.median, "np.median", "a", fresh=True, rank="whole")
deflower("np.median", lambda b: "median_sorted(np.sort(np.ravel(a)))")
defrule(None, "median_sorted", "s", rank="whole",
        jvp={"s": "median_sorted(s_dot)"}, vjp={"s": "median_sorted_vjp(g, s)"})
defrule(None, "median_sorted_vjp", "v, s", fresh=True, rank="second", nondiff=("s",),
        jvp={"v": "median_sorted_vjp(v_dot, s)"}, vjp={"v": "median_sorted(g)"})
defrule(np.cumsum, "np.cumsum", "x, axis=None", fresh=True)
deflower("np.cumsum", lambda b: "cumsum(x, axis)")
defrule(None, "cumsum", "x, axis",
        vjp={"x": "reshape_like(rcumsum(g, axis), x)"}, jvp={"x": "cumsum(x_dot, axis)"})
