"""Rules for ``scipy.special``: ``expit``, ``logit``, ``erf``, ``erfc``, ``gammaln``
(whose derivative is ``digamma``), ``digamma`` (a value only: its derivative, trigamma,
has no rule), ``xlogy`` and ``logsumexp``. Generated code calls the runtime's helpers of
the same names (SciPy's own in Python, compiled kernels under Numba); ``logsumexp`` is
lowered to reductions that have rules of their own:

>>> from nabla.rules.registry import lookup
>>> lookup("expit").vjp["x"], lookup("gammaln").jvp["x"]
('g * (out * (1 - out))', 'x_dot * digamma(x)')
"""

import scipy.special

from .. import runtime as rt
from .registry import deflower, defrule

_ELEMENTWISE = {"elementwise": True, "rank": "elementwise", "batching": "elementwise",
                "fresh": True}

# name, derivative in x and out (as elementwise.py writes them)
for _name, _D in (
    ("expit", "out * (1 - out)"),
    ("logit", "1 / (x * (1 - x))"),
    ("erf", "1.1283791670955126 * np.exp(-x * x)"),
    ("erfc", "-1.1283791670955126 * np.exp(-x * x)"),
    ("gammaln", "digamma(x)"),
):
    defrule((getattr(scipy.special, _name), getattr(rt, _name)), _name, "x",
            jvp={"x": f"x_dot * ({_D})"}, vjp={"x": f"g * ({_D})"}, **_ELEMENTWISE)
defrule((scipy.special.digamma, scipy.special.psi, rt.digamma), "digamma", "x",
        doc="no derivative (trigamma has no rule)", **_ELEMENTWISE)
defrule((scipy.special.xlogy, rt.xlogy), "xlogy", "x, y",
        jvp={"x": "x_dot * np.log(y)", "y": "y_dot * x / y"},
        vjp={"x": "unbroadcast(g * np.log(y), x)", "y": "unbroadcast(g * x / y, y)"},
        **_ELEMENTWISE)

# logsumexp(a, axis): max + log(sum(exp(a - max))), each a reduction with rules
defrule(scipy.special.logsumexp, "scipy.special.logsumexp", "a, axis=None")
deflower("scipy.special.logsumexp", lambda b: (
    "reduce_max(a, axis) + np.log(reduce_sum(np.exp(a - expand_reduced(reduce_max(a, axis), "
    "a, axis)), axis))"))
