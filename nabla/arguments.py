"""The arguments of a call, and what comes back: which arguments a transform takes
(kinds, dtypes, ranks), which it differentiates, and results cast to their arguments'
types (a derivative has its argument's dtype; float32 stays float32).

>>> kind(np.float32(1.0)), kind(np.zeros(2, int)), kind([1.0])
('float32', 'int', 'container')
>>> like(2, np.zeros(2, np.float32))
array([2., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from . import pytree
from .errors import TransformInputError

# mode="auto" differentiates in forward mode when the differentiated arguments are at most
# this many scalars: a jvp costs about 1.3x the primal, a reverse sweep 2-3x and a tape
AUTO_FORWARD_SCALARS = 1
# modes that differentiate with respect to the arguments ``argnums`` names
ARGNUM_MODES = ("grad", "value_and_grad", "jacfwd", "jacrev")
# what ``kind`` calls the arguments that have derivatives
FLOAT_KINDS = ("float32", "float64", "pyfloat")


def check(f, args) -> tuple:
    """What a call with ``args`` generates code for: (float32, active arguments, ranks of
    one example (vmap, jacfwd), forward mode or not (grad), the arguments' ranks (grad));
    refuses arguments the transform cannot take, naming them."""
    nparams = f._nparams()
    if len(args) != nparams:
        raise TransformInputError(
            f"{f.__name__} takes {nparams} argument{'s' if nparams != 1 else ''}, "
            f"got {len(args)}", **f._where(),
            hint="pass every argument positionally")
    kinds = [kind(a) for a in args]
    for i, k in enumerate(kinds):
        if k in ("float32", "float64", "pyfloat", "int", "bool"):
            continue
        if k == "complex":
            msg = "complex arguments are not supported yet"
            hint = "pass the real and imaginary parts as two float arguments"
        elif k == "container":
            msg = "tuples, lists and dicts as arguments (pytrees) are not supported yet"
            hint = "pass the arrays as separate arguments"
        elif k.startswith("subclass "):
            msg = (f"{k[len('subclass '):]} is a subclass of numpy.ndarray, whose "
                   "operations (masks, matrix products) nabla's generated code does not "
                   "reproduce")
            hint = ("pass a plain array: np.asarray(x), or for a masked array "
                    "x.filled(value) or x.compressed()")
        else:
            msg = f"arguments of {k} are not supported"
            hint = "pass a float, an int or a NumPy array"
        raise TransformInputError(f"argument {i}{f._param_name(i)} of "
                                  f"{f.__name__}: {msg}", **f._where(), hint=hint)
    if f.mode in ARGNUM_MODES:
        active = f._argnum_tuple(nparams)
        for i in active:
            if kinds[i] not in ("float32", "float64", "pyfloat"):
                raise TransformInputError(
                    f"{f.mode} of {f.__name__} with respect to argument {i}, which "
                    f"is {kinds[i] if kinds[i] != 'int' else 'an integer'}: only float "
                    "arguments have derivatives",
                    **f._where(),
                    hint=f"pass a float (e.g. float(x) or x.astype(float)) as argument {i}",
                )
    elif f.mode in ("jvp", "vjp"):
        active = tuple(i for i in range(nparams)
                       if kinds[i] in ("float32", "float64", "pyfloat"))
    elif f.mode == "vmap":
        active = f._default_active()
    else:
        active = ()
    floats = [k for k in kinds if k in ("float32", "float64")]
    float32 = "float32" in floats and "float64" not in floats
    ranks = None
    if f.mode == "vmap":
        ranks = tuple(int(np.ndim(a)) - (ax is not None) for a, ax in zip(args, active))
    elif f.mode == "jacfwd":
        ranks = tuple(int(np.ndim(a)) for a in args)
    forward = None
    if f.mode in ("grad", "value_and_grad") and f.direction == "auto":
        forward = (len(active) <= AUTO_FORWARD_SCALARS
                   and all(np.ndim(args[i]) == 0 for i in active))
    arg_ranks = None
    if f.mode in ("grad", "value_and_grad"):
        arg_ranks = tuple(int(np.ndim(a)) for a in args)
    return float32, active, ranks, forward, arg_ranks


def type_key(a):
    """What a call's dispatch is keyed by, per argument."""
    return (type(a), getattr(a, "dtype", None), getattr(a, "ndim", None))


def kind(a) -> str:
    """'float32', 'float64', 'int', 'bool' or a reason the argument is refused."""
    if isinstance(a, (bool, np.bool_)):
        return "bool"
    if isinstance(a, (int, np.integer)):
        return "int"
    if isinstance(a, float):
        return "pyfloat"
    if isinstance(a, np.floating):
        return "float32" if a.dtype == np.float32 else "float64"
    if isinstance(a, np.ndarray):
        if type(a) is not np.ndarray:
            # np.matrix, np.ma.MaskedArray, ...: their operators mean something else
            # (matrix products, masks) than the plain arrays generated code computes with
            return f"subclass {type(a).__module__}.{type(a).__qualname__}"
        k = a.dtype.kind
        if k == "f":
            if a.dtype == np.float32:
                return "float32"
            if a.dtype == np.float64:
                return "float64"
            return f"unsupported dtype {a.dtype}"
        if k in "iu":
            return "int"
        if k == "b":
            return "bool"
        if k == "c":
            return "complex"
        return f"unsupported dtype {a.dtype}"
    if isinstance(a, (complex, np.complexfloating)):
        return "complex"
    if pytree.is_container(a):
        return "container"
    if hasattr(a, "__array__"):
        return kind(np.asarray(a))
    return f"unsupported type {type(a).__name__}"


def float32_scalars(result, arrays: bool = False):
    """Python floats in a float32 call's results become np.float32, as NumPy gives
    (Numba returns float32 scalars as Python floats); containers keep their kind.
    ``arrays``: float64 arrays and scalars too (derivatives of float32 arguments, which
    the function computed through float64 values: they have their arguments' dtype).

    >>> float32_scalars((1.5, np.zeros(2)), arrays=True)[1].dtype
    dtype('float32')
    """
    if type(result) is tuple:
        return tuple(float32_scalars(r, arrays) for r in result)
    if isinstance(result, tuple) and hasattr(result, "_fields"):  # a namedtuple
        return type(result)(*(float32_scalars(r, arrays) for r in result))
    if isinstance(result, list):
        return [float32_scalars(r, arrays) for r in result]
    if isinstance(result, dict):
        return {k: float32_scalars(v, arrays) for k, v in result.items()}
    if pytree.is_dataclass_instance(result):
        leaves, tree = pytree.flatten(result)
        return pytree.unflatten(tree, [float32_scalars(v, arrays) for v in leaves])
    if type(result) is float or (arrays and isinstance(result, np.float64)):
        return np.float32(result)
    if arrays and isinstance(result, np.ndarray) and result.dtype == np.float64:
        return result.astype(np.float32)
    return result


def like(g, x):
    """``g`` with the type and dtype of ``x``: derivatives have their argument's dtype."""
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.dtype != x.dtype:
            g = g.astype(x.dtype)
        if g.shape != x.shape:
            g = np.broadcast_to(g, x.shape).copy()
        return g
    if isinstance(x, np.generic):
        return x.dtype.type(g)
    if isinstance(x, float):
        return float(g)
    return g
