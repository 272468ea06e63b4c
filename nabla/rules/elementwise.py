"""Rules for elementwise functions of ``math`` and NumPy.

Each unary function is given by its derivative ``D`` in ``x`` and ``out``;
its rules are then ``vjp = g * D`` and ``jvp = x_dot * D``, with ``{m}``
standing for the module (``np`` or ``math``):

>>> from nabla.rules.registry import lookup
>>> lookup("math.tanh").vjp["x"]
'g * (1 - out * out)'
"""

import builtins
import math

import numpy as np

from .registry import constant_value, deflower, defrule

# name in math, name in numpy, derivative
_UNARY = [
    ("sin", "sin", "{m}.cos(x)"),
    ("cos", "cos", "-{m}.sin(x)"),
    ("tan", "tan", "1 + out * out"),
    ("asin", "arcsin", "1 / {m}.sqrt(1 - x * x)"),
    ("acos", "arccos", "-1 / {m}.sqrt(1 - x * x)"),
    ("atan", "arctan", "1 / (1 + x * x)"),
    ("sinh", "sinh", "{m}.cosh(x)"),
    ("cosh", "cosh", "{m}.sinh(x)"),
    ("tanh", "tanh", "1 - out * out"),
    ("asinh", "arcsinh", "1 / {m}.sqrt(x * x + 1)"),
    ("acosh", "arccosh", "1 / {m}.sqrt(x * x - 1)"),
    ("atanh", "arctanh", "1 / (1 - x * x)"),
    ("exp", "exp", "out"),
    ("expm1", "expm1", "out + 1"),
    ("exp2", "exp2", "out * 0.6931471805599453"),
    ("log", "log", "1 / x"),
    ("log1p", "log1p", "1 / (1 + x)"),
    ("log2", "log2", "1 / (x * 0.6931471805599453)"),
    ("log10", "log10", "1 / (x * 2.302585092994046)"),
    ("sqrt", "sqrt", "0.5 / out"),
    ("fabs", "fabs", "{m}.copysign(1.0, x)"),
    ("erf", None, "1.1283791670955126 * math.exp(-x * x)"),
    ("erfc", None, "-1.1283791670955126 * math.exp(-x * x)"),
    (None, "abs", "np.sign(x)"),
    (None, "absolute", "np.sign(x)"),
    (None, "square", "2 * x"),
    (None, "reciprocal", "-out * out"),
    (None, "cbrt", "1 / (3 * out * out)"),
    (None, "negative", "-1"),
    (None, "positive", "1"),
    (None, "deg2rad", "0.017453292519943295"),
    (None, "rad2deg", "57.29577951308232"),
]

# math functions defined for every finite argument (the rest have a domain: log, sqrt,
# asin, ...; lgamma has no array form)
_TOTAL = {"sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "asinh", "exp", "expm1",
          "exp2", "fabs", "erf", "erfc"}

# NumPy functions device code (vmap's target="cuda") has no scalar form of
_NOT_ON_DEVICE = {"exp2"}

for _mname, _nname, _d in _UNARY:
    for _mod, _modname, _fname in ((math, "math", _mname), (np, "np", _nname)):
        if _fname is None:
            continue
        _D = _d.replace("{m}", _modname)
        if _fname == "fabs" and _modname == "np":
            _D = "np.sign(x)"
        # each function's counterpart: math.sin on arrays is np.sin, np.sin on a device
        # (one example per thread, scalars) is math.sin
        _spellings = ({"array_form": f"np.{_nname}"} if _modname == "math" and _nname else
                      {"device": f"math.{_mname}"} if _modname == "np" and _mname
                      and _nname not in _NOT_ON_DEVICE else
                      {"device": "abs"} if _nname in ("abs", "absolute") else {})
        defrule(
            getattr(_mod, _fname), f"{_modname}.{_fname}", "x", elementwise=True,
            jvp={"x": f"x_dot * ({_D})" if not _D.isidentifier() else f"x_dot * {_D}"},
            vjp={"x": f"g * ({_D})" if not _D.isidentifier() else f"g * {_D}"},
            total=_modname == "math" and _fname in _TOTAL and bool(_nname), **_spellings,
        )

# log Gamma and Gamma: their derivatives need the digamma function, which Numba lacks.
# They run on values that do not depend on a differentiated input (a constant like a
# Wishart prior's log Gamma_p); on one that does, the transforms refuse at the line.
for _fname in ("lgamma", "gamma"):
    defrule(getattr(math, _fname), f"math.{_fname}", "x", elementwise=True,
            doc="no derivative (digamma has no Numba implementation)")

# math.log(x, base): the two-argument form is lowered to the runtime's log_base.
defrule(math.log, "math.log", "x, base=None", elementwise=True, array_form="np.log",
        jvp={"x": "x_dot * (1 / x)"}, vjp={"x": "g * (1 / x)"})
deflower("math.log", lambda b: None if constant_value(b["base"], 0) is None
         else "log_base(x, base)")
defrule(
    None, "log_base", "x, base", elementwise=True,
    jvp={"x": "x_dot / (x * np.log(base))", "base": "-base_dot * out / (base * np.log(base))"},
    vjp={"x": "unbroadcast(g / (x * np.log(base)), x)",
         "base": "unbroadcast(-g * out / (base * np.log(base)), base)"},
)

defrule(builtins.abs, "abs", "x", elementwise=True, array_form="np.abs", integral=True,
        jvp={"x": "x_dot * np.sign(x)"}, vjp={"x": "g * np.sign(x)"})
deflower("abs", lambda b: "np.abs(x)")  # Numba's abs() takes scalars only

# Two-argument functions (math's and NumPy's: each the other's counterpart).
_PAIRS = {"math.atan2": "np.arctan2", "math.hypot": "np.hypot", "math.pow": "np.power"}


def _counterpart(spelling: str) -> dict:
    if spelling in _PAIRS:
        return {"array_form": _PAIRS[spelling]}
    return {"device": next(m for m, n in _PAIRS.items() if n == spelling)}


for _obj, _sp in ((math.atan2, "math.atan2"), (np.arctan2, "np.arctan2")):
    defrule(
        _obj, _sp, "y, x", elementwise=True, **_counterpart(_sp),
        jvp={"y": "y_dot * x / (x * x + y * y)", "x": "-x_dot * y / (x * x + y * y)"},
        vjp={"y": "unbroadcast(g * x / (x * x + y * y), y)",
             "x": "unbroadcast(-g * y / (x * x + y * y), x)"},
    )
for _obj, _sp in ((math.hypot, "math.hypot"), (np.hypot, "np.hypot")):
    defrule(
        _obj, _sp, "x, y", elementwise=True, **_counterpart(_sp),
        jvp={"x": "x_dot * x / out", "y": "y_dot * y / out"},
        vjp={"x": "unbroadcast(g * x / out, x)", "y": "unbroadcast(g * y / out, y)"},
    )
for _obj, _sp in ((math.pow, "math.pow"), (np.power, "np.power")):
    defrule(  # np.power raises for integers to negative powers
        _obj, _sp, "x, y", elementwise=True, raises=True, **_counterpart(_sp),
        jvp={"x": "y * x ** (y - 1) * x_dot", "y": "np.log(x) * out * y_dot"},
        vjp={"x": "unbroadcast(g * y * x ** (y - 1), x)",
             "y": "unbroadcast(g * np.log(x) * out, y)"},
    )
defrule(
    np.logaddexp, "np.logaddexp", "x, y", elementwise=True,
    jvp={"x": "x_dot * np.exp(x - out)", "y": "y_dot * np.exp(y - out)"},
    vjp={"x": "unbroadcast(g * np.exp(x - out), x)", "y": "unbroadcast(g * np.exp(y - out), y)"},
)
# At ties, maximum and minimum split the derivative evenly, as JAX does.
for _obj, _sp, _gt in ((np.maximum, "np.maximum", ">"), (np.minimum, "np.minimum", "<"),
                       (builtins.max, "max", ">"), (builtins.min, "min", "<")):
    _wx = f"((x {_gt} y) + 0.5 * (x == y))"
    _wy = f"((y {_gt} x) + 0.5 * (x == y))"
    _device = {"np.maximum": {"device": "max"}, "np.minimum": {"device": "min"},
               "max": {"integral": True, "fold": builtins.max},
               "min": {"integral": True, "fold": builtins.min}}.get(_sp, {})
    defrule(
        _obj, _sp, "x, y", elementwise=True, **_device,
        jvp={"x": f"x_dot * {_wx}", "y": f"y_dot * {_wy}"},
        vjp={"x": f"unbroadcast(g * {_wx}, x)", "y": f"unbroadcast(g * {_wy}, y)"},
    )
# the condition, a boolean, is piecewise constant: its derivative is zero (a gradient's code
# that takes a mask as an argument, x > 0, is differentiated again through it)
defrule(
    np.where, "np.where", "condition, x, y", elementwise=True, nondiff=("condition",),
    jvp={"x": "np.where(condition, x_dot, 0.0)", "y": "np.where(condition, 0.0, y_dot)"},
    vjp={"x": "unbroadcast(np.where(condition, g, 0.0), x)",
         "y": "unbroadcast(np.where(condition, 0.0, g), y)"},
)
defrule(
    np.clip, "np.clip", "a, a_min, a_max", elementwise=True,
    jvp={"a": "a_dot * ((a >= a_min) & (a <= a_max))",
         "a_min": "a_min_dot * (a < a_min)", "a_max": "a_max_dot * (a > a_max)"},
    vjp={"a": "unbroadcast(g * ((a >= a_min) & (a <= a_max)), a)",
         "a_min": "unbroadcast(g * (a < a_min), a_min)",
         "a_max": "unbroadcast(g * (a > a_max), a_max)"},
)
# copysign is piecewise constant in y: its derivative there is zero (away from y = 0)
defrule(math.copysign, "math.copysign", "x, y",
        jvp={"x": "x_dot * math.copysign(1.0, x) * math.copysign(1.0, y)",
             "y": "zero_like(out)"},
        vjp={"x": "g * math.copysign(1.0, x) * math.copysign(1.0, y)", "y": "zero_like(y)"})

# Piecewise constant: derivative zero almost everywhere. Those of NumPy that map element by
# element are batched as elementwise functions (their rules need no ``elementwise``: there
# is no derivative to broadcast); math's have NumPy counterparts for arrays.
_ELEMENTWISE = {"batching": "elementwise", "rank": "elementwise"}
_ZERO_FACTS = {
    **{f"np.{n}": _ELEMENTWISE for n in (
        "sign", "floor", "ceil", "rint", "trunc", "isnan", "isinf", "isfinite", "logical_and",
        "logical_or", "logical_not", "equal", "greater", "greater_equal", "less", "less_equal")},
    "np.floor": dict(_ELEMENTWISE, device="math.floor"),
    "np.ceil": dict(_ELEMENTWISE, device="math.ceil"),
    **{f"math.{n}": {"array_form": f"np.{n}"} for n in ("trunc", "isnan", "isinf")},
    **{f"math.{n}": {"array_form": f"np.{n}", "integral": True} for n in ("floor", "ceil")},
    **{n: {"integral": True} for n in ("round", "np.argmax", "np.argmin")},
}
for _obj, _sp in [
    (math.floor, "math.floor"), (math.ceil, "math.ceil"), (math.trunc, "math.trunc"),
    (np.floor, "np.floor"), (np.ceil, "np.ceil"), (np.trunc, "np.trunc"),
    (np.rint, "np.rint"), (np.sign, "np.sign"), (builtins.round, "round"),
    (np.round, "np.round"), (np.isnan, "np.isnan"), (np.isinf, "np.isinf"),
    (np.isfinite, "np.isfinite"), (math.isnan, "math.isnan"), (math.isinf, "math.isinf"),
    (np.greater, "np.greater"), (np.less, "np.less"), (np.equal, "np.equal"),
    (np.greater_equal, "np.greater_equal"), (np.less_equal, "np.less_equal"),
    (np.logical_and, "np.logical_and"), (np.logical_or, "np.logical_or"),
    (np.logical_not, "np.logical_not"), (np.argmax, "np.argmax"), (np.argmin, "np.argmin"),
    (np.argsort, "np.argsort"),
]:
    defrule(_obj, _sp, "x, y=None" if _sp in {
        "np.greater", "np.less", "np.equal", "np.greater_equal", "np.less_equal",
        "np.logical_and", "np.logical_or", "round", "np.round"} else "x", kind="zero", fresh=True,
        **_ZERO_FACTS.get(_sp, {}))
