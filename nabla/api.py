"""The transforms users call — ``grad``, ``value_and_grad``, ``jvp``, ``vjp``, ``jacfwd``,
``jacrev``, ``hessian``, ``vmap``, ``jit`` — each returning a ``nabla.Function``
(``function.py``), the callable, inspectable object that generates and runs the code.

The top floor: nothing below imports it. The transforms a user's code calls inside a
function being transformed (``nabla.grad(h)(x)``, ``nabla.jvp``) are known to the
passes below through ``hooks``, which this module fills.

>>> import numpy as np
>>> def loss(x):
...     return np.sum(np.sin(x) ** 2)
>>> g = grad(loss)
>>> g
<nabla.Function grad(loss)>
"""

from __future__ import annotations

import weakref

import numpy as np

from . import hooks, pytree
from .codegen import cache as disk
from .errors import TransformInputError
from .function import Function, VJPFunction, check_tangents, run_jvp, run_vjp

_TARGETS = ("cpu", "parallel", "cuda")
_jvp_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_vjp_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# -- the public transforms --------------------------------------------------------------
def grad(fun=None, argnums=0, has_aux: bool = False, mode: str = "auto") -> Function:
    """The gradient of a scalar-output ``fun`` with respect to argument(s) ``argnums``.

    ``mode``: ``"reverse"`` (an adjoint sweep), ``"forward"`` (a jvp per direction, no
    tape) or ``"auto"`` (forward mode when the differentiated arguments are a single
    scalar, reverse otherwise; ``.source`` says which ran)."""
    if fun is None:
        return lambda f: grad(f, argnums=argnums, has_aux=has_aux, mode=mode)
    return Function(fun, "grad", argnums=argnums, has_aux=has_aux, direction=mode)


def value_and_grad(fun=None, argnums=0, has_aux: bool = False, mode: str = "auto") -> Function:
    """``(value, gradient)`` of a scalar-output ``fun``, in one pass (``mode`` as ``grad``)."""
    if fun is None:
        return lambda f: value_and_grad(f, argnums=argnums, has_aux=has_aux, mode=mode)
    return Function(fun, "value_and_grad", argnums=argnums, has_aux=has_aux, direction=mode)


def jit(fun) -> Function:
    """``fun`` compiled by Numba for the CPU (a ``nabla.Function`` is returned as is)."""
    if isinstance(fun, Function):
        return fun
    return Function(fun, "jit")


def jacfwd(fun=None, argnums=0, has_aux: bool = False) -> Function:
    """The Jacobian of ``fun`` with respect to argument(s) ``argnums``, a column at a time
    (forward mode): shape ``out.shape + arg.shape``, nested as in JAX for tuple ``argnums``
    and tuple outputs."""
    if fun is None:
        return lambda f: jacfwd(f, argnums=argnums, has_aux=has_aux)
    return Function(fun, "jacfwd", argnums=argnums, has_aux=has_aux)


def jacrev(fun=None, argnums=0, has_aux: bool = False) -> Function:
    """The Jacobian of ``fun``, a row at a time (reverse mode: one forward sweep, then a
    backward sweep per output element); shapes as ``jacfwd``."""
    if fun is None:
        return lambda f: jacrev(f, argnums=argnums, has_aux=has_aux)
    return Function(fun, "jacrev", argnums=argnums, has_aux=has_aux)


def hessian(fun=None, argnums=0, has_aux: bool = False) -> Function:
    """``jacfwd(jacrev(fun))``: forward mode over reverse mode, as in JAX."""
    if fun is None:
        return lambda f: hessian(f, argnums=argnums, has_aux=has_aux)
    return jacfwd(jacrev(fun, argnums=argnums, has_aux=has_aux), argnums=argnums,
                  has_aux=has_aux)


def _memo(table, fun, mode, has_aux) -> Function:
    per_fun = table.setdefault(fun, {})
    if has_aux not in per_fun:
        per_fun[has_aux] = Function(fun, mode, has_aux=has_aux)
    return per_fun[has_aux]


def jvp(fun, primals, tangents, has_aux: bool = False):
    """``(fun(*primals), J·tangents)`` (and ``aux``), computed in one forward pass."""
    f = _memo(_jvp_functions, fun, "jvp", has_aux)
    if isinstance(primals, (tuple, list)) and len(primals) < f._positional:
        # parameters left to their default values: constants, their tangents zero
        given = len(primals)
        primals = f._bound(tuple(primals), {})
        if isinstance(tangents, (tuple, list)) and len(tangents) == given:
            tangents = tuple(tangents) + tuple(_zero_tangent(p) for p in primals[given:])
    if isinstance(primals, (tuple, list)) and any(pytree.is_container(p)
                                                  for p in primals):
        if not isinstance(tangents, (tuple, list)) or len(tangents) != len(primals):
            check_tangents(f, primals, tangents)
        parts = [pytree.flatten(p) for p in primals]
        trees = tuple(t for _, t in parts)
        tangent_parts = [pytree.flatten(t) for t in tangents]
        if tuple(t for _, t in tangent_parts) != trees:
            raise TransformInputError("jvp: the tangents' structure differs from the primals'",
                                      **f._where(), hint="give each tangent its primal's "
                                      "structure (the same tuples, lists and dict keys)")
        f = f._flat_version(trees)
        primals = [leaf for part, _ in parts for leaf in part]
        tangents = [leaf for part, _ in tangent_parts for leaf in part]
    check_tangents(f, primals, tangents)
    return run_jvp(f, tuple(primals), tangents, has_aux)


def vjp(fun, *primals, has_aux: bool = False):
    """``(fun(*primals), vjp_fun)`` (and ``aux``); ``vjp_fun(ct)`` returns one cotangent per
    primal and can be called many times."""
    f = _memo(_vjp_functions, fun, "vjp", has_aux)
    if len(primals) < f._positional:
        # parameters left to their default values: vjp_fun returns the cotangents of the
        # primals passed
        given = len(primals)
        result = vjp(fun, *f._bound(primals, {}), has_aux=has_aux)
        back = result[1]

        def vjp_given(cotangent):
            return back(cotangent)[:given]
        vjp_given.source = back.source
        return (result[0], vjp_given) + tuple(result[2:])
    if any(pytree.is_container(p) for p in primals):
        parts = [pytree.flatten(p) for p in primals]
        trees = tuple(t for _, t in parts)
        result = run_vjp(f._flat_version(trees), [leaf for part, _ in parts for leaf in part],
                          has_aux)
        back = result[1]

        def vjp_fun(cotangent):
            flat = list(back(cotangent))
            out = []
            for t in trees:
                n = pytree.num_leaves(t)
                out.append(pytree.unflatten(t, flat[:n]))
                del flat[:n]
            return tuple(out)
        vjp_fun.source = back.source
        return (result[0], vjp_fun) + tuple(result[2:])
    return run_vjp(f, primals, has_aux)


def _zero_tangent(p):
    return np.zeros_like(p) if isinstance(p, np.ndarray) else (
        0.0 * p if isinstance(p, (int, float)) else p)


def vmap(fun=None, in_axes=0, out_axes=0, axis_size=None, target: str = "cpu") -> Function:
    """``fun`` mapped over a batch axis of its arguments, as JAX's ``vmap``: ``in_axes``
    (and ``out_axes``) an int, None, or a pytree prefix of the arguments (outputs) of
    them; ``axis_size`` when no argument is batched; ``target`` ``"cpu"``, ``"parallel"``
    (the batch on all cores) or ``"cuda"`` (a numba.cuda kernel, outermost only)."""
    if fun is None:
        return lambda f: vmap(f, in_axes=in_axes, out_axes=out_axes, axis_size=axis_size,
                              target=target)
    if target not in _TARGETS:
        raise TransformInputError(f"vmap: target must be one of {_TARGETS}, not {target!r}",
                                  hint='use target="cpu", "parallel" or "cuda"')
    if axis_size is not None and (not isinstance(axis_size, (int, np.integer))
                                  or isinstance(axis_size, bool) or axis_size < 0):
        raise TransformInputError(f"vmap: axis_size must be a non-negative int, not "
                                  f"{axis_size!r}", hint="e.g. axis_size=8")
    f = Function(fun, "vmap")
    f.batching = {"in_axes": _int_axes(in_axes), "out_axes": _int_axes(out_axes),
                  "axis_size": None if axis_size is None else int(axis_size),
                  "target": target}
    return f


def _int_axes(axes):
    """in_axes or out_axes with NumPy's integers as ints (``np.int64(1)``, as JAX takes it).

    >>> _int_axes((np.int64(1), None, {"a": np.int32(0)}))
    (1, None, {'a': 0})
    """
    if isinstance(axes, np.integer):
        return int(axes)
    if isinstance(axes, (tuple, list)):
        return type(axes)(_int_axes(a) for a in axes)
    if isinstance(axes, dict):
        return {k: _int_axes(a) for k, a in axes.items()}
    return axes


def source(fun, *example_args, mode: str | None = None, argnums=0, has_aux: bool = False,
           in_axes=0, stage: str = "module") -> str:
    """The generated module of ``mode`` applied to ``fun``; of a ``nabla.Array``, the
    program that computes it.

    With ``example_args``, the module a call with such arguments runs (their shapes and
    dtypes choose it; nothing is run); without, what the last call ran, or before any
    call the module for float64 arguments of unknown shapes. ``stage``: ``"module"``
    (what runs), or an earlier stage of the pipeline — ``"canonical"``,
    ``"transformed"``, ``"optimized"`` (``nabla.stages``). ``mode``: the transform
    (``"grad"`` by default); ``fun`` may be a ``nabla.Function``, shown as it is, or
    under ``mode`` where one is given (``mode="jvp"`` of a grad: a Hessian-vector
    product).

    >>> import numpy as np
    >>> def f(x):
    ...     return np.sum(x * x)
    >>> print(source(f, np.ones(3)).splitlines()[1])
    # reverse mode, with respect to x
    """
    shown = getattr(fun, "__nabla_source__", None)
    if shown is not None:
        return shown()
    fun = as_function(fun, mode, argnums, has_aux, in_axes)
    return fun.source_of(*example_args, stage=stage)


def as_function(fun, mode: str | None = None, argnums=0, has_aux: bool = False,
                in_axes=0) -> Function:
    """``fun`` under the transform ``mode``: "grad" by default, where ``fun`` is not
    already a ``nabla.Function`` (which ``mode=None`` leaves as it is)."""
    if mode is None:
        if isinstance(fun, Function):
            return fun
        mode = "grad"
    if mode in ("grad", "value_and_grad", "jacfwd", "jacrev", "hessian"):
        return {"grad": grad, "value_and_grad": value_and_grad, "jacfwd": jacfwd,
                "jacrev": jacrev, "hessian": hessian}[mode](fun, argnums, has_aux)
    if mode in ("jvp", "vjp"):
        return Function(fun, mode, has_aux=has_aux)
    if mode == "jit":
        return jit(fun)
    if mode == "vmap":
        return vmap(fun, in_axes=in_axes)
    raise TransformInputError(f"nabla.source: no mode {mode!r}", hint=f"choose one of {_MODES}")


_MODES = "grad, value_and_grad, jvp, vjp, jacfwd, jacrev, hessian, jit, vmap"


def clear_cache() -> None:
    """Empty nabla's on-disk cache."""
    disk.clear_cache()


# what the user's code may call inside a function being transformed (see normalize)
TRANSFORMS = (grad, value_and_grad, jacfwd, jacrev, hessian, jit, jvp, vjp, vmap)
hooks.register(transforms=TRANSFORMS, function_type=Function,
               jvp_function=lambda fn, has_aux: _memo(_jvp_functions, fn, "jvp", has_aux),
               vjp_function=lambda fn, has_aux: _memo(_vjp_functions, fn, "vjp", has_aux),
               jvp=jvp, vjp=vjp)

__all__ = ["Function", "grad", "value_and_grad", "jvp", "vjp", "jit", "jacfwd", "jacrev",
           "hessian", "vmap", "source", "clear_cache", "VJPFunction"]
