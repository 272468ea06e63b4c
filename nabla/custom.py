"""What a user's function may say about its own derivative: ``custom_jvp`` and
``custom_vjp`` (JAX's semantics) give a function a derivative rule of the user's,
``checkpoint`` (alias ``remat``) asks reverse mode to recompute a function rather
than keep its intermediate values.

Called outside a transform, each runs the function it wraps. Inside a function nabla
transforms, every transform uses the rule instead of differentiating the body:

>>> import numpy as np
>>> @custom_vjp
... def clip_gradient(x):
...     return x
>>> def clip_fwd(x):
...     return x, None
>>> def clip_bwd(res, g):
...     return (np.minimum(np.maximum(g, -1.0), 1.0),)
>>> clip_gradient.defvjp(clip_fwd, clip_bwd)
>>> clip_gradient(3.0)
3.0
>>> import nabla
>>> def f(x):
...     return clip_gradient(x) * 3.0
>>> float(nabla.grad(f)(2.0))  # the body's derivative is 3.0; the rule clips it
1.0
>>> print(nabla.grad(f).source.split("def f_grad(x):")[1].split("def ")[0].strip())
# clip_gradient(x) by your rule: clip_fwd, then clip_bwd
    t1_vjp = clip_fwd(x)
    clip_gradient_res = t1_vjp[1]
    out = t1_vjp[0] * 3.0
    # adjoint sweep
    out_bar = seed(out)
    # return clip_gradient(x) * 3.0
    clip_gradient_bars = clip_bwd(clip_gradient_res, out_bar * 3.0)
    x_bar = cotangent_of(clip_gradient_bars[0], x)
    return x_bar

``nondiff_argnums`` are arguments the rule does not differentiate (integers, options):
a vjp rule's ``bwd`` and a jvp rule take them first, as in JAX.
"""

from __future__ import annotations

import ctypes
import functools
import linecache
import weakref

__all__ = ["CustomJVP", "CustomVJP", "Checkpoint", "custom_jvp", "custom_vjp", "checkpoint",
           "remat", "checkpointed_range", "rule_functions", "is_custom", "is_maker", "is_opaque",
           "readable"]


class _Wrapper:
    """A function of the user's with something said about its derivative."""

    def __init__(self, fun, nondiff_argnums=()):
        if not callable(fun):
            raise TypeError(f"nabla.{self.kind} wraps a function, got {fun!r}")
        self.fun = fun
        self._caller = None
        self.nondiff_argnums = tuple(sorted(int(i) for i in nondiff_argnums))
        inner = getattr(fun, "py_func", fun)  # a Numba dispatcher's Python function
        self.__name__ = getattr(inner, "__name__", "function")
        self.__qualname__ = getattr(inner, "__qualname__", self.__name__)
        for attr in ("__module__", "__doc__"):
            if hasattr(inner, attr):
                setattr(self, attr, getattr(inner, attr))

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)

    def readable(self, role: str):
        """The function of ``role`` ("fun", "fwd", "bwd", "jvp") as nabla reads it (compiled
        code called from a function of text: see ``readable``)."""
        return readable(getattr(self, role))

    rule_fun = property(lambda self: self.readable("fun"))
    rule_fwd = property(lambda self: self.readable("fwd"))
    rule_bwd = property(lambda self: self.readable("bwd"))
    rule_jvp = property(lambda self: self.readable("jvp"))

    def __repr__(self):
        return f"nabla.{self.kind}({getattr(self.fun, '__qualname__', self.fun)!r})"


class CustomVJP(_Wrapper):
    """A function whose reverse-mode derivative is the user's: ``fwd(*args)`` returns
    ``(output, residuals)``, ``bwd(*nondiff_args, residuals, g)`` the tuple of the
    cotangents of the other arguments."""

    kind = "custom_vjp"

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd, bwd) -> None:
        if not (callable(fwd) and callable(bwd)):
            raise TypeError("defvjp(fwd, bwd) takes two functions")
        self.fwd, self.bwd = fwd, bwd


class CustomJVP(_Wrapper):
    """A function whose forward-mode derivative is the user's: ``jvp(*nondiff_args,
    primals, tangents)`` returns ``(output, output's tangent)``, linear in the tangents.
    Reverse mode transposes it (differentiates it in reverse with respect to the
    tangents)."""

    kind = "custom_jvp"

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.jvp = None
        self._lin = None

    def defjvp(self, jvp):
        """Set the rule; returns it, so that ``@f.defjvp`` decorates it."""
        if not callable(jvp):
            raise TypeError("defjvp(jvp) takes a function")
        self.jvp = jvp
        self._lin = None
        return jvp

    rule_lin = property(lambda self: self.lin)  # made from text: readable as it is

    @property
    def lin(self):
        """``lin(*args, *tangents)``: the rule's output tangent, a function nabla reads (its
        reverse mode with respect to the tangents is the rule's transpose)."""
        if self._lin is None or self._lin[0] is not self.jvp:
            self._lin = (self.jvp, _linear_part(self))
        return self._lin[1]


class Checkpoint(_Wrapper):
    """A function that reverse mode recomputes from its arguments in the adjoint sweep
    instead of keeping its intermediate values."""

    kind = "checkpoint"


def custom_vjp(fun=None, *, nondiff_argnums=()):
    """``@nabla.custom_vjp`` (or ``nabla.custom_vjp(f, nondiff_argnums=(1,))``); then
    ``f.defvjp(f_fwd, f_bwd)``."""
    if fun is None:
        return functools.partial(custom_vjp, nondiff_argnums=nondiff_argnums)
    return CustomVJP(fun, nondiff_argnums)


def custom_jvp(fun=None, *, nondiff_argnums=()):
    """``@nabla.custom_jvp`` (or ``nabla.custom_jvp(f, nondiff_argnums=(1,))``); then
    ``@f.defjvp`` on the rule."""
    if fun is None:
        return functools.partial(custom_jvp, nondiff_argnums=nondiff_argnums)
    return CustomJVP(fun, nondiff_argnums)


def checkpoint(fun):
    """``@nabla.checkpoint``, or ``nabla.checkpoint(h)(x)`` in a function being
    transformed: reverse mode keeps only ``h``'s arguments and recomputes the rest.
    (One object per function: the transforms know it by identity. A custom_jvp or
    custom_vjp is returned as it is: its rule says what it keeps.)"""
    if isinstance(fun, (Checkpoint, CustomVJP, CustomJVP)):
        return fun
    try:
        return _CHECKPOINTS[fun]
    except (KeyError, TypeError):
        made = Checkpoint(fun)
    try:
        _CHECKPOINTS[fun] = made
    except TypeError:  # not weakly referable
        pass
    return made


_CHECKPOINTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


remat = checkpoint


def checkpointed_range(*args):
    """``range(*args)``, whose loop reverse mode checkpoints: it keeps the loop's carried
    values every ``span`` iterations (``span`` about the square root of the trip count)
    and recomputes one segment at a time in the adjoint, so that an n-step loop keeps
    O(sqrt(n)) values instead of n, for about one more run of the loop. Outside a
    transform, and in every other transform, it is ``range``."""
    return range(*args)


def is_custom(obj) -> bool:
    return isinstance(obj, _Wrapper)


def is_maker(obj) -> bool:
    """``custom_jvp``, ``custom_vjp``, ``checkpoint`` themselves (not a user's function)."""
    return any(obj is f for f in (custom_jvp, custom_vjp, checkpoint))


def rule_functions(obj) -> dict:
    """{role: function} of a custom function: ``fun``, and ``fwd`` and ``bwd`` or ``jvp``
    once defined. A role is the attribute of ``obj`` that holds the function."""
    out = {"fun": obj.fun}
    for role in ("fwd", "bwd", "jvp"):
        f = getattr(obj, role, None)
        if f is not None:
            out[role] = f
    return out


def is_opaque(obj) -> bool:
    """Compiled code nabla calls but does not read: a Numba dispatcher (``@njit``), a
    ``ctypes`` function."""
    if type(obj).__module__.startswith("numba") and hasattr(obj, "py_func"):
        return True
    return isinstance(obj, ctypes._CFuncPtr)


def readable(fn):
    """``fn`` if nabla can read its source; for compiled code (``is_opaque``), a function
    nabla can read that calls it (made once per function)."""
    if not is_opaque(fn):
        return fn
    known = _CALLERS.get(id(fn))
    if known is not None and known[0] is fn:
        return known[1]
    if hasattr(fn, "py_func"):
        code = fn.py_func.__code__
        params = list(code.co_varnames[:code.co_argcount])
        name = fn.py_func.__name__
    else:
        if getattr(fn, "argtypes", None) is None:
            raise TypeError(f"nabla calls the C function {fn!r} with its argtypes: set them")
        params = [f"a{i}" for i in range(len(fn.argtypes))]
        name = getattr(fn, "__name__", "c_function")
    made = _from_text(f"def {name}({', '.join(params)}):\n"
                      f"    return {name}_compiled({', '.join(params)})\n", name,
                      {f"{name}_compiled": fn}, f"a call of the compiled {name}")
    _CALLERS[id(fn)] = (fn, made)
    return made


_CALLERS: dict = {}  # id(compiled function) -> (it, the function calling it)


def caller(obj):
    """A function nabla can read that calls ``obj`` with its arguments (made once): what a
    transform of ``obj`` itself transforms, so that it uses the rule. A checkpoint alone is
    its function."""
    if isinstance(obj, Checkpoint):
        return obj.fun
    if obj._caller is None:
        code = readable(obj.fun).__code__
        params = ", ".join(code.co_varnames[:code.co_argcount])
        name = obj.__name__
        obj._caller = _from_text(f"def {name}_called({params}):\n    return {name}({params})\n",
                                 f"{name}_called", {name: obj}, f"a call of {name}")
    return obj._caller


def _from_text(text, name, namespace, what):
    """The function ``name`` that ``text`` defines, its source readable (``linecache``)."""
    filename = f"<nabla: {what} #{id(namespace):x}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]


def _linear_part(obj):
    """A function nabla can read: ``(*args, *tangents) -> jvp(...)[1]``, the rule's output
    tangent (made from text, kept in ``linecache`` so that its source can be read)."""
    code = readable(obj.fun).__code__
    params = list(code.co_varnames[:code.co_argcount])
    nondiff = [params[i] for i in obj.nondiff_argnums]
    diff = [p for p in params if p not in nondiff]
    dots = [f"{p}_dot" for p in diff]
    name = f"{obj.__name__}_tangent"
    lead = "".join(f"{p}, " for p in nondiff)
    text = (f"def {name}({', '.join(params + dots)}):\n"
            f"    return {obj.jvp.__name__}({lead}({''.join(p + ', ' for p in diff)}), "
            f"({''.join(d + ', ' for d in dots)}))[1]\n")
    return _from_text(text, name, {obj.jvp.__name__: obj.jvp},
                      f"the tangent of {obj.__qualname__}'s jvp rule")
