"""Batching rules, as data: how vmap's vector form treats each function, and how
device code (vmap's target="cuda") spells NumPy's scalar functions. The transform in
``nabla/transforms/batching.py`` reads these tables and names no function itself;
elementwise functions with derivative rules are found by their rules'
``elementwise`` flag.
"""

# math functions and their NumPy equivalents, for batched (array) arguments
MATH_TO_NP = {
    "math.sin": "np.sin", "math.cos": "np.cos", "math.tan": "np.tan", "math.asin": "np.arcsin",
    "math.acos": "np.arccos", "math.atan": "np.arctan", "math.sinh": "np.sinh",
    "math.cosh": "np.cosh", "math.tanh": "np.tanh", "math.asinh": "np.arcsinh",
    "math.acosh": "np.arccosh", "math.atanh": "np.arctanh", "math.exp": "np.exp",
    "math.expm1": "np.expm1", "math.exp2": "np.exp2", "math.log": "np.log",
    "math.log1p": "np.log1p", "math.log2": "np.log2", "math.log10": "np.log10",
    "math.sqrt": "np.sqrt", "math.fabs": "np.fabs", "math.atan2": "np.arctan2",
    "math.hypot": "np.hypot", "math.pow": "np.power", "abs": "np.abs",
    "math.floor": "np.floor", "math.ceil": "np.ceil", "math.trunc": "np.trunc",
    "math.isnan": "np.isnan", "math.isinf": "np.isinf",
}
# elementwise functions without derivative rules marked elementwise (piecewise constant)
ELEMENTWISE_ZERO = {
    "np.sign", "np.floor", "np.ceil", "np.rint", "np.trunc", "np.isnan", "np.isinf",
    "np.isfinite", "np.logical_and", "np.logical_or", "np.logical_not", "np.equal",
    "np.greater", "np.greater_equal", "np.less", "np.less_equal",
}
# functions of one array whose result has its argument's shape (and is batched with it)
SAME_SHAPE = {"np.zeros_like", "np.ones_like", "np.empty_like", "np.copy", "zero_like",
              "one_like", "snapshot", "np.full_like", "astype"}
# helpers ``f(v, like)`` giving ``v`` the shape of ``like``: their form for a batched ``v``
# and an unbatched ``like``
LIKE_SHAPED = {"broadcast_like": "batch_broadcast_like"}
# functions of vectors along the last axis that broadcast the leading axes as elementwise
# functions do (a batch axis in front lines up the same way)
LAST_AXIS_BROADCAST = {"np.cross"}
EXAMPLE_REDUCTIONS = {"np.sum": "batch_sum", "np.mean": "batch_mean"}
AXIS_REDUCTIONS = {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"}

# scalar NumPy functions spelled the way device code can call them: MATH_TO_NP read
# backwards, but for those device code lacks, and the spellings MATH_TO_NP has no entry for
_NOT_ON_DEVICE = {"np.exp2", "np.trunc", "np.isnan", "np.isinf"}
DEVICE_SPELLINGS = {n: m for m, n in MATH_TO_NP.items() if n not in _NOT_ON_DEVICE} | {
    "np.absolute": "abs", "np.maximum": "max", "np.minimum": "min"}
