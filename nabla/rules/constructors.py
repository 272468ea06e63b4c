"""Calls whose results never carry a derivative: shapes, sizes, array
constructors, ``range``; and random draws, whose arguments must not be active.

>>> from nabla.rules.registry import lookup
>>> lookup("np.zeros_like").kind, lookup("np.random.normal").kind
('inactive', 'random')
"""

import builtins
import math

import numpy as np

from .registry import defrule

# new arrays (and scalars): the function may write into them; np.zeros((n, m)) has the rank
# of its shape, np.zeros_like(x) the shape of x (and of x's batch, in vmap)
_MADE = {"zeros": "shape", "ones": "shape", "empty": "shape", "full": None, "arange": None,
         "linspace": None, "eye": None, "identity": None, "zeros_like": "first",
         "ones_like": "first", "empty_like": "first", "full_like": "first", "shape": None,
         "ndim": None, "size": None}
# the constructors whose values come from their arguments: a differentiated one is refused
# (the array would carry no derivative), with the differentiable way to write it
_FROM_VALUES = {
    "full": (("b",), "value * np.ones(shape)"),
    "full_like": (("b",), "value * np.ones_like(x)"),
    "linspace": (("a", "b"), "start + (stop - start) * np.linspace(0.0, 1.0, num)"),
    # np.arange(stop) counts from 0 (its values do not move with stop); with a start,
    # its values are start + step * k
    "arange": (lambda bound: ("a", "c") if bound.get("b") is not None else (),
               "start + step * np.arange(count)"),
}
for _name, _rank in _MADE.items():
    _from, _instead = _FROM_VALUES.get(_name, ((), None))
    defrule(getattr(np, _name), f"np.{_name}", "a=None, b=None, c=None, dtype=None",
            kind="inactive", fresh=True, rank=_rank, integral=_name in ("shape", "ndim", "size"),
            batching="same_shape" if _rank == "first" else None, values_from=_from,
            no_derivative=("{fn}() makes its values from an argument that depends on a "
                           "differentiated input, and nabla has no derivative rule for that",
                           f"write {_instead}: it is differentiable") if _instead else None)
for _name in ("len", "range", "int", "bool", "isinstance"):
    defrule(getattr(builtins, _name), _name, "a=None, b=None, c=None", kind="inactive",
            fresh=_name != "range", rank="scalar" if _name in ("len", "int") else None,
            integral=_name in ("len", "int"), fold=builtins.len if _name == "len" else None)
for _attr in ("shape", "ndim", "size", "dtype"):
    defrule(None, f"Attribute.{_attr}", "x", kind="inactive")
defrule(builtins.float, "float", "x", jvp={"x": "x_dot"}, vjp={"x": "g"}, fresh=True,
        rank="scalar")
defrule(math.factorial, "math.factorial", "x", kind="inactive")
# casts to a float type (float32 code spells its constants np.float32(0.1)); registered by
# spelling only: np.float32 as a value (a dtype argument) stays a constant
defrule(None, "np.float32", "x", jvp={"x": "np.float32(x_dot)"},
        vjp={"x": "unbroadcast(g, x)"})
defrule(None, "np.float64", "x", jvp={"x": "np.float64(x_dot)"},
        vjp={"x": "unbroadcast(g, x)"})

for _name in ("rand", "randn", "random", "uniform", "normal", "standard_normal", "randint",
              "exponential", "gamma", "beta", "poisson", "binomial", "choice", "permutation",
              "seed", "lognormal", "laplace", "logistic", "gumbel", "standard_cauchy",
              "chisquare", "geometric", "random_sample", "triangular", "vonmises", "weibull"):
    if hasattr(np.random, _name):
        defrule(getattr(np.random, _name), f"np.random.{_name}",
                "a=None, b=None, c=None, size=None", kind="random", impure=True, fresh=True)

# numbers NumPy and math name (spelled as written, never passed in): scalars
MODULE_CONSTANTS = frozenset({"math.pi", "math.e", "math.tau", "math.inf", "math.nan", "np.pi",
                              "np.e", "np.inf", "np.nan"})
