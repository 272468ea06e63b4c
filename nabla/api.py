"""The transforms users call — ``grad``, ``value_and_grad``, ``jvp``, ``vjp``,
``jit`` — and ``nabla.Function``, the callable, inspectable object they return.

A ``Function`` transforms lazily (at the first call or the first
``.source``), once per pattern of argument dtypes, and memoizes the dispatch
per argument type signature so that a call costs a dictionary look-up and
the compiled call.
"""

from __future__ import annotations

import functools
import inspect
import traceback
import warnings
import weakref
from dataclasses import dataclass, field

import numpy as np

from . import pytree, runtime
from .checks import SEED_MESSAGE, seed
from .codegen import cache as disk
from .codegen.numba_cpu import compile_module, numba_errors
from .codegen.source import merge_modules, render_module
from .config import config
from .errors import (
    NablaError,
    NablaWarning,
    NotDifferentiableError,
    TransformInputError,
    TransformOutputError,
)
from .frontend.parse import check_signature, parse_function, source_lines, unwrap
from .frontend.resolve import reach
from .transforms.batching import Options, VectorFormUnavailable
from .transforms.normalize import normalize
from .transforms.ownership import own_updates
from .transforms.views import build, jacfwd_vector

if not hasattr(runtime, "seed"):  # generated code imports it from nabla.runtime
    runtime.seed = seed
    runtime.__all__ = sorted([*runtime.__all__, "seed"])

_MODES = ("jit", "grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "vmap")
_TARGETS = ("cpu", "parallel", "cuda")
_DIRECTIONS = ("auto", "reverse", "forward")
# mode="auto" differentiates in forward mode when the differentiated arguments are at most
# this many scalars: a jvp costs about 1.3x the primal, a reverse sweep 2-3x and a tape
AUTO_FORWARD_SCALARS = 1
# modes that differentiate with respect to the arguments ``argnums`` names
_ARGNUM_MODES = ("grad", "value_and_grad", "jacfwd", "jacrev")
_SEED_MESSAGE = SEED_MESSAGE


def _type_key(a):
    return (type(a), getattr(a, "dtype", None), getattr(a, "ndim", None))


_ndarray = np.ndarray
# scalars whose type says all a call's dispatch needs (the fast path's key is their type)
_PLAIN_SCALARS = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32,
                            np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8,
                            np.bool_})


def _fast_key(args) -> tuple:
    """The fast path's key: (dtype, ndim) of an exact ndarray, the type of anything else.

    >>> _fast_key((np.zeros((2, 3)), 1.0))
    ((dtype('float64'), 2), <class 'float'>)
    """
    return tuple([(a.dtype, a.ndim) if type(a) is _ndarray else type(a) for a in args])


@functools.cache
def _fast_key_of(nparams: int):
    """``_fast_key`` unrolled for ``nparams`` arguments (a third faster than the loop for
    six arrays); another number of arguments raises ValueError.

    >>> _fast_key_of(2)((np.zeros((2, 3)), 1.0)) == _fast_key((np.zeros((2, 3)), 1.0))
    True
    """
    if nparams == 0:
        return _fast_key
    names = [f"a{k}" for k in range(nparams)]
    items = "".join(f"(({a}.dtype, {a}.ndim) if type({a}) is ndarray else type({a})), "
                    for a in names)
    namespace = {"ndarray": _ndarray}
    exec(f"def key(args):\n    {', '.join(names)}, = args\n    return ({items})", namespace)
    return namespace["key"]


@functools.cache
def _derivatives_as_returned(idx: tuple, dtypes: tuple):
    """cast(g, args): the tuple of derivatives ``g`` (one per argument ``args[i]``, ``i`` in
    ``idx``) as ``tuple(_like(gi, args[i]) ...)`` gives it, returning ``g`` itself, checked
    unrolled, where each is an array of its argument's shape and of the dtype object
    ``dtypes[k]`` (the one the compiled code returned at the first call: an identity test;
    any other is cast by ``_like``)."""
    names = [f"g{k}" for k in range(len(idx))]
    test = " and ".join(f"type({g}) is ndarray and {g}.shape == args[{i}].shape and "
                        f"{g}.dtype is d{k}" for k, (g, i) in enumerate(zip(names, idx)))
    namespace = {"ndarray": _ndarray, "_like": _like, "idx": idx,
                 **{f"d{k}": d for k, d in enumerate(dtypes)}}
    exec(f"def cast(g, args):\n    try:\n        {', '.join(names)}, = g\n"
         f"        if type(g) is tuple and {test}:\n            return g\n"
         "    except (TypeError, ValueError):\n        pass\n"
         "    return tuple([_like(gi, args[i]) for gi, i in zip(g, idx)])", namespace)
    return namespace["cast"]


def _holds_check(bindings):
    """A function telling, in one expression unrolled over ``bindings``, whether each
    name still means the object it meant (a dict look-up and an identity test each)."""
    terms, namespace = [], {"MISSING": object()}
    for k, b in enumerate(bindings):
        namespace[f"w{k}"], namespace[f"o{k}"] = b.where, b.obj
        if isinstance(b.where, dict):
            terms.append(f"w{k}.get({b.name!r}, MISSING) is o{k}")
        else:  # a closure cell (emptied: ValueError, caught below)
            terms.append(f"w{k}.cell_contents is o{k}")
    body = " and ".join(terms) or "True"
    exec("def holds():\n    try:\n        return " + body + "\n    except ValueError:\n"
         "        return False", namespace)
    return namespace["holds"]


def _kind(a) -> str:
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
    if isinstance(a, (tuple, list, dict)):
        return "container"
    if hasattr(a, "__array__"):
        return _kind(np.asarray(a))
    return f"unsupported type {type(a).__name__}"


@dataclass
class Variant:
    """One generated module: for one flavor of dtypes and one set of active arguments."""

    text: str
    path: object
    meta: dict
    line_map: dict
    name: str
    key: str
    _python: object = None
    _numba: dict | None = None
    _numba_failed: bool = False
    warned: bool = False
    extra: dict = field(default_factory=dict)

    def python_functions(self) -> dict:
        if self._python is None:
            module = disk.load_module(self.path, disk.module_name(self.key), self.text)
            self._python = {k: v for k, v in vars(module).items()
                            if inspect.isfunction(v) and v.__module__ == module.__name__}
        return self._python

    def numba_functions(self) -> dict:
        if self._numba is None:
            self._numba = compile_module(self.path, disk.module_name(self.key, "_numba"),
                                         cache=config.cache and disk.in_store(self.path),
                                         text=self.text)
        return self._numba


class Function:
    """A transformed function: call it, read ``.source``, compose it.

    ``fn.source`` is the generated Python module, ``fn.source_path`` the file it
    was written to, ``fn.namespace`` a namespace in which ``exec(fn.source, ...)``
    reproduces it.
    """

    def __init__(self, fun, mode: str, argnums=0, has_aux: bool = False,
                 direction: str = "auto"):
        if mode not in _MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if direction not in _DIRECTIONS:
            raise TransformInputError(f"mode must be one of {_DIRECTIONS}, not {direction!r}",
                                      hint='use mode="auto", "reverse" or "forward"')
        # grad, value_and_grad: "auto" (forward mode for a few scalars), "reverse", "forward"
        self.direction = direction
        # a transform of a transform differentiates the generated source of the inner one
        self.inner = fun if isinstance(fun, Function) else None
        if self.inner is not None and self.inner.batching is not None and \
                self.inner.batching["target"] == "cuda":
            raise NotDifferentiableError(
                f"nabla.{mode} of {self.inner._described()} with target='cuda': a cuda vmap "
                "runs as a kernel, so it must be the outermost transform",
                **self.inner._where(), hint=f"apply target='cuda' to the outermost transform: "
                f"nabla.vmap(nabla.{mode}(f), target='cuda')")
        if self.inner is not None and self.inner.mode not in _COMPOSABLE:
            raise NotDifferentiableError(
                f"nabla.{mode} of nabla.{self.inner.mode}({fun.__name__}) is not supported yet",
                hint=f"compose {', '.join(sorted(_COMPOSABLE))} (e.g. "
                "nabla.jvp(nabla.grad(f), ...) or nabla.hessian(f))")
        if not callable(fun):
            raise TransformInputError(f"nabla.{mode} needs a function, got {fun!r}")
        self.fun = fun
        self.mode = mode
        self.argnums = argnums
        self.has_aux = has_aux
        self.__name__ = getattr(fun, "__name__", "function")
        self.__qualname__ = getattr(fun, "__qualname__", self.__name__)
        self.__doc__ = getattr(fun, "__doc__", None)
        self._variants: dict = {}
        self._dispatch: dict = {}
        self._last = None
        self._checked = False
        self.trees = None  # the pytree structure of each argument, for a flat version
        self._flat: dict = {}  # trees -> the flat version of this function (see _flat_version)
        # vmap: in_axes, out_axes, axis_size, target; ``axes`` is in_axes resolved to one
        # int or None per parameter (per leaf), set on the versions calls dispatch to
        self.batching: dict | None = None
        self.axes: tuple | None = None
        self._by_axes: dict = {}  # (trees, per-leaf axes) -> the version calls dispatch to
        self._vmap_calls: dict = {}  # argument types -> (version, batched axes, axis_size)
        # the fast path: a cheap signature of plain arguments (see _fast_key) -> a closure
        # that calls the compiled function and casts its result, set up by a slow call
        self._fast: dict = {}
        self._fast_key = _fast_key  # _fast_key_of(the number of arguments) once known
        self._argnums_resolved: dict = {}  # nparams -> _argnum_tuple(nparams)
        # the names the transform resolved to functions (frontend.resolve.Binding), and a
        # check that they still mean them (None: nothing to check)
        self._bindings: list = []
        self._holds = None

    def __repr__(self) -> str:
        return f"<nabla.Function {self.mode}({self.__qualname__})>"

    # -- transform --------------------------------------------------------------------
    def _argnum_tuple(self, nparams: int) -> tuple[int, ...]:
        a = self.argnums
        items = a if isinstance(a, tuple) else (a,)
        out = []
        for i in items:
            if not isinstance(i, int) or isinstance(i, bool):
                raise TransformInputError(
                    f"argnums must be an int or a tuple of ints, got {a!r}",
                    **self._where(), hint="e.g. argnums=0 or argnums=(0, 1)")
            j = i + nparams if i < 0 else i
            if not 0 <= j < nparams:
                raise TransformInputError(
                    f"argnums={a!r} is out of range for {self.__name__}, which takes "
                    f"{nparams} argument{'s' if nparams != 1 else ''}",
                    **self._where(), hint=f"use argnums between 0 and {nparams - 1}")
            out.append(j)
        return tuple(out)

    def _where(self) -> dict:
        fn = self._plain()
        code = getattr(fn, "__code__", None)
        if code is None:
            return {}
        return dict(filename=code.co_filename, lineno=code.co_firstlineno)

    def _plain(self):
        """The user's Python function, under every transform."""
        if self.inner is not None:
            return self.inner._plain()
        return unwrap(self.fun)

    def _described(self) -> str:
        """``nabla.grad(f)``, ``nabla.jvp(nabla.grad(f))``: what this function is."""
        inner = self.inner._described() if self.inner is not None else self.__name__
        return f"nabla.{self.mode}({inner})"

    def _chain(self) -> tuple:
        """(mode, argnums, has_aux) of this transform and every inner one: with the user's
        function, what the generated code depends on."""
        inner = self.inner._chain() if self.inner is not None else ()
        own = (self.mode, self.argnums, self.has_aux, self.direction)
        if self.batching is not None:
            own += (repr(sorted(self.batching.items())), self.axes)
        return (own,) + inner

    def _inner_variant(self, float32: bool, ranks: tuple | None = None):
        """The inner transform's generated module for arguments like these. A vmap knows
        the ranks of the examples: a grad with mode="auto" inside it differentiates a
        single scalar in forward mode, as it would called on one example."""
        inner = self.inner
        forward = None
        if ranks is not None and inner.mode == "jacfwd" and self.batching is not None \
                and self.batching["target"] != "cuda":
            # the examples' ranks let the jacfwd run in vector forward mode (on the CPU: a
            # kernel allocates no arrays)
            return inner._variant(float32, inner._default_active(), ranks)
        if ranks is not None and inner.mode in ("grad", "value_and_grad") and \
                inner.direction == "auto":
            active = inner._default_active()
            forward = (len(active) <= AUTO_FORWARD_SCALARS
                       and all(ranks[i] == 0 for i in active))
        return inner._readable_variant(float32, forward)

    def _readable_variant(self, float32: bool, forward: bool | None = None):
        """The generated module other transforms read. A vmap with a parallel or cuda
        target is read in its cpu form (the same values, in source the transforms read)."""
        f = self
        if f.batching is not None and f.batching["target"] != "cpu":
            f = f._cpu_twin()
        return f._variant(float32, f._default_active(), forward=forward)

    def _cpu_twin(self) -> Function:
        twin = self._flat.get("cpu")
        if twin is None:
            twin = Function(self.inner if self.inner is not None else self.fun, "vmap")
            twin.batching = dict(self.batching, target="cpu")
            twin.axes, twin.trees = self.axes, self.trees
            self._flat["cpu"] = twin
        return twin

    def _nparams(self) -> int:
        if self.trees is not None:
            return sum(pytree.num_leaves(t) for t in self.trees)
        fn = self._plain()
        code = fn.__code__
        if (code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
                or code.co_kwonlyargcount or code.co_posonlyargcount or fn.__defaults__):
            # refused at the parameter, before argnums are checked against a count
            # that means nothing here
            check_signature(parse_function(fn))
        return code.co_argcount

    def _transform_refusals(self) -> None:
        """Raise what transforming the function would refuse (its syntax, names and calls):
        those come first, before complaints about the arguments of a call."""
        if self.inner is not None:
            self.inner._transform_refusals()
            return
        normalize(self._plain())

    def _default_active(self) -> tuple:
        n = self._nparams()
        if self.mode == "vmap":
            return self._vmap_axes(n)
        if self.mode in _ARGNUM_MODES:
            return self._argnum_tuple(n)
        if self.mode in ("jvp", "vjp"):
            return tuple(range(n))
        return ()

    def _variant(self, float32: bool, active: tuple, ranks: tuple | None = None,
                 forward: bool | None = None, arg_ranks: tuple | None = None) -> Variant:
        """``ranks`` (vmap): the number of dimensions of each argument in one example;
        ``forward`` (grad, value_and_grad): forward mode (None: as ``mode`` says without
        arguments to look at: reverse unless mode="forward"); ``arg_ranks`` (reverse-mode
        grad): the number of dimensions of each argument, which tell the transform which
        values are scalars."""
        if forward is None:
            forward = self.direction == "forward"
        if self.mode not in ("grad", "value_and_grad"):
            forward = False
        if forward or self.mode not in ("grad", "value_and_grad") or self.inner is not None:
            arg_ranks = None
        vkey = (float32, active, ranks, forward, arg_ranks)
        v = self._variants.get(vkey)
        if v is not None:
            return v
        fn = self._plain()
        inner = self._inner_variant(float32, ranks) if self.inner is not None else None
        options = None if self.batching is None else repr((sorted(self.batching.items()),
                                                           ranks))
        if self.mode == "jacfwd" and ranks is not None:
            options = repr(("ranks", ranks))
        if inner is not None:
            key = disk.make_key(inner.key, self.mode, active, self.has_aux,
                                isinstance(self.argnums, tuple), float32, options, forward)
        else:
            src = "".join(source_lines(fn)[0])
            trees = None if self.trees is None else [pytree.describe(t) for t in self.trees]
            reached = reach(fn)
            self._watch(reached.bindings)
            key = disk.make_key(src, fn.__code__.co_filename, reached.described,
                                self.mode, active, self.has_aux,
                                isinstance(self.argnums, tuple), float32, trees, options,
                                forward, *(() if arg_ranks is None else (arg_ranks,)))
        hit = disk.read(key)
        if hit is not None:
            text, meta = hit
            line_map = {int(k): v for k, v in meta.pop("line_map").items()}
            path = disk.entry_dir() / f"{key}.py"
        else:
            canon = normalize(fn, self.trees) if inner is None else _normalize_generated(inner)
            if self.mode == "vmap":
                b = self.batching
                options = Options(in_axes=active, out_axes=b["out_axes"],
                                  axis_size=b["axis_size"], target=b["target"],
                                  example=inner.meta["entry"] if inner is not None else None,
                                  ranks=ranks)
                gen = build(canon, "vmap", [], options=options)
            else:
                wrt = [canon.params[i] for i in active]
                gen, why = None, None
                if self.mode == "jacfwd":
                    gen, why = self._vector_jacfwd(canon, float32, active, ranks)
                if gen is None:
                    gen = build(canon, f"{self.mode}_forward" if forward else self.mode, wrt,
                                self.has_aux, isinstance(self.argnums, tuple), options=why,
                                ranks=None if arg_ranks is None else dict(zip(canon.params,
                                                                              arg_ranks)))
            header = self._header(canon, float32, active, gen.meta, forward)
            # generated code never updates in place an array another name or the caller holds
            gen.functions = [own_updates(f) for f in gen.functions]
            rendered = render_module(gen.functions, header, float32=float32, mapped=gen.own)
            text, line_map = rendered.text, rendered.line_map
            if self.mode == "vmap" and gen.meta.get("form") == "loop" and inner is not None:
                # the loop form calls the inner transform's functions: as it wrote them
                text = merge_modules(text, inner.text)
            meta = dict(gen.meta, entry=gen.entry)
            path = disk.write(key, text, dict(meta, line_map=line_map))
        v = Variant(text=text, path=path, meta=dict(meta, float32=float32), line_map=line_map,
                    name=self.__name__,
                    key=key)
        self._variants[vkey] = v
        return v

    def _vector_jacfwd(self, canon, float32: bool, active: tuple, ranks):
        """jacfwd in vector forward mode (its Generated, None) — the jvp's generated code
        mapped over its tangents in the vector form of vmap, the primals unbatched — or
        (None, why not) where the vector form does not apply (or the arguments' ranks are
        not known: another transform reads this one)."""
        if ranks is None:  # the per-direction loop, its comment as it always was
            return None, None
        jv = self._flat.get("jvp")
        if jv is None:
            jv = Function(self.inner if self.inner is not None else self.fun, "jvp",
                          has_aux=self.has_aux)
            jv.trees = self.trees
            self._flat["jvp"] = jv
        inner = jv._variant(float32, active)
        jcanon = _normalize_generated(inner)
        ntan = len(inner.meta["tangents"])
        jcanon.params = jcanon.params + jcanon.free[:ntan]
        jcanon.free = jcanon.free[ntan:]
        nprim = len(inner.meta["params"])
        options = Options(in_axes=(None,) * nprim + (0,) * ntan,
                          out_axes=(None, 0, None) if self.has_aux else (None, 0),
                          axis_size=None, target="cpu",
                          ranks=tuple(ranks) + tuple(ranks[i] for i in active),
                          directions=True)
        try:
            vmapped = build(jcanon, "vmap", [], options=options)
        except VectorFormUnavailable as e:
            return None, e.reason
        except TransformOutputError:  # the flow-insensitive analysis: see batched_names
            return None, "the primal output would carry the directions"
        wrt = [canon.params[i] for i in active]
        return jacfwd_vector(canon, wrt, self.has_aux, isinstance(self.argnums, tuple),
                             vmapped), None

    def _header(self, canon, float32: bool, active: tuple, meta: dict,
                forward: bool = False) -> list[str]:
        fn = self._plain()
        lines = [f"{self._described()} — generated by nabla from "
                 f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}; do not edit"]
        if self.mode == "vmap":
            axes = ", ".join(f"{p} (axis {a})" for p, a in zip(canon.params, active)
                             if a is not None)
            axes = axes or f"nothing (axis_size={self.batching['axis_size']})"
            lines.append(f"batches over: {axes}; the {meta['form']} form, target "
                         f"{self.batching['target']!r}")
        elif self.mode != "jit":
            names = ", ".join(canon.params[i] for i in active) or "nothing"
            reverse = self.mode in ("grad", "value_and_grad", "vjp", "jacrev") and not forward
            lines.append(f"differentiates with respect to: {names} "
                         f"({'reverse' if reverse else 'forward'} mode)")
            if self.mode in ("grad", "value_and_grad"):
                if self.direction == "auto":
                    lines.append(
                        'mode="auto" chose it (forward mode differentiates a single scalar '
                        f'argument); mode="{"reverse" if forward else "forward"}" asks for the '
                        "other")
                else:
                    lines.append(f'mode="{self.direction}" asked for it')
        lines.append("for float32 arguments: constants are float32" if float32
                     else "for float64 arguments")
        return lines

    # -- inspection -------------------------------------------------------------------
    def _shown(self) -> Variant:
        if self._last is not None:
            return self._last
        return self._variant(False, self._default_active())

    @property
    def source(self) -> str:
        shown = self._shown()
        return shown.extra.get("cuda_text", shown.text)  # a cuda vmap's kernel, once built

    @property
    def source_path(self) -> str:
        return str(self._shown().path)

    @property
    def namespace(self) -> dict:
        return {"__name__": f"nabla_namespace_{self.__name__}"}

    # -- calling ----------------------------------------------------------------------
    def _entry(self, args):
        """(variant, free-value readers) for arguments like ``args``: the dispatch shared by
        calls, jvp and vjp. A function the code calls that was defined again since (a
        helper redefined in a notebook) makes the transform again first."""
        if not self._still_bound():
            self._forget()
        entry = self._dispatch.get(tuple(_type_key(a) for a in args))
        if entry is None:
            entry = self._prepare(args)
        return entry

    def _watch(self, bindings) -> None:
        known = {(id(b.where), b.name) for b in self._bindings}
        new = [b for b in bindings if (id(b.where), b.name) not in known]
        if new:
            self._bindings = self._bindings + new
            self._holds = _holds_check(self._bindings)

    def _still_bound(self) -> bool:
        """Whether every function name the transform resolved (its inner transforms'
        too) still means the same function."""
        if self._holds is not None and not self._holds():
            return False
        return self.inner is None or self.inner._still_bound()

    def _forget(self) -> None:
        """Drop everything made from what the names meant before (and the inner
        transforms' too): the next call transforms again."""
        self._variants.clear()
        self._dispatch.clear()
        self._fast.clear()
        self._flat.clear()
        self._by_axes.clear()
        self._vmap_calls.clear()
        self._last = None
        self._bindings, self._holds = [], None
        if self.inner is not None:
            self.inner._forget()

    def _prepare(self, args):
        try:
            return self._prepare_checked(args)
        except TransformInputError:
            # what the transform refuses in the code is reported before what the call
            # got wrong (a callable argument is refused where the code calls it)
            self._transform_refusals()
            raise

    def _param_name(self, i: int) -> str:
        """`` (x)``: the name of parameter ``i``, where the arguments are the function's own."""
        if self.trees is not None:
            return ""
        code = self._plain().__code__
        return f" ({code.co_varnames[i]})" if i < code.co_argcount else ""

    def _prepare_checked(self, args):
        nparams = self._nparams()
        if len(args) != nparams:
            raise TransformInputError(
                f"{self.__name__} takes {nparams} argument{'s' if nparams != 1 else ''}, "
                f"got {len(args)}", **self._where(),
                hint="pass every argument positionally")
        kinds = [_kind(a) for a in args]
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
            raise TransformInputError(f"argument {i}{self._param_name(i)} of "
                                      f"{self.__name__}: {msg}", **self._where(), hint=hint)
        if self.mode in _ARGNUM_MODES:
            active = self._argnum_tuple(nparams)
            for i in active:
                if kinds[i] not in ("float32", "float64", "pyfloat"):
                    raise TransformInputError(
                        f"{self.mode} of {self.__name__} with respect to argument {i}, which "
                        f"is {kinds[i] if kinds[i] != 'int' else 'an integer'}: only float "
                        "arguments have derivatives",
                        **self._where(),
                        hint=f"pass a float (e.g. float(x) or x.astype(float)) as argument {i}",
                    )
        elif self.mode in ("jvp", "vjp"):
            active = tuple(i for i in range(nparams)
                           if kinds[i] in ("float32", "float64", "pyfloat"))
        elif self.mode == "vmap":
            active = self._vmap_axes(nparams)
        else:
            active = ()
        floats = [k for k in kinds if k in ("float32", "float64")]
        float32 = "float32" in floats and "float64" not in floats
        ranks = None
        if self.mode == "vmap":
            ranks = tuple(int(np.ndim(a)) - (ax is not None) for a, ax in zip(args, active))
        elif self.mode == "jacfwd":
            ranks = tuple(int(np.ndim(a)) for a in args)
        forward = None
        if self.mode in ("grad", "value_and_grad") and self.direction == "auto":
            forward = (len(active) <= AUTO_FORWARD_SCALARS
                       and all(np.ndim(args[i]) == 0 for i in active))
        arg_ranks = None
        if self.mode in ("grad", "value_and_grad"):
            arg_ranks = tuple(int(np.ndim(a)) for a in args)
        variant = self._variant(float32, active, ranks, forward, arg_ranks)
        readers = self._free_readers(variant.meta)
        self._dispatch[tuple(_type_key(a) for a in args)] = (variant, readers)
        return variant, readers

    def _free_readers(self, meta):
        """Functions reading each free value at call time. A source is a dotted name in
        the function's scope, or ``g/W``: the free value ``W`` of the function ``g``
        that the function calls (read in place), found through ``g``'s own scope."""
        top = self._plain()

        def lookup(fn, dotted):
            parts = dotted.split(".")
            code = fn.__code__
            cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
            if parts[0] in cells:
                obj = cells[parts[0]].cell_contents
            else:
                obj = fn.__globals__[parts[0]]
            for p in parts[1:]:
                obj = getattr(obj, p)
            return obj

        def reader(source: str):
            *callees, last = source.split("/")
            owner = top
            for c in callees:  # functions are resolved once, as at transform time
                found = lookup(owner, c)
                owner = found._plain() if isinstance(found, Function) else unwrap(found)

            def read(owner=owner, last=last):
                return lookup(owner, last)
            return read

        return [reader(s) for s in meta["free_sources"]]

    def _runner(self, variant: Variant, name: str):
        jit = config.jit
        if jit and not variant._numba_failed:
            try:
                return variant.numba_functions()[name], True
            except numba_errors() as e:  # pragma: no cover - compile errors happen at call
                return self._fallback(variant, e), False
        return variant.python_functions()[name], False

    def _fallback(self, variant: Variant, error):
        if config.jit == "strict":
            raise NablaError(
                f"Numba could not compile the code generated for {self.__name__} "
                f"({type(error).__name__}): {str(error).splitlines()[0] if str(error) else ''}",
                **self._where(),
                hint="run with nabla.config.jit = False to use Python, or change the call "
                "that Numba cannot compile",
            ) from error
        variant._numba_failed = True
        self._fast.clear()  # calls go through _call again, which runs the Python version
        if not variant.warned:
            variant.warned = True
            first = str(error).strip().splitlines()
            warnings.warn(
                f"nabla: Numba cannot compile the code generated for {self.__name__} "
                f"({first[0] if first else type(error).__name__}); running it as Python",
                NablaWarning, stacklevel=4)
        return variant.python_functions()

    def _call(self, variant, readers, name, args):
        frees = [r() for r in readers]
        if variant.meta.get("target") == "cuda" and config.jit:
            return self._call_cuda(variant, list(args) + frees)
        fn, compiled = self._runner(variant, name)
        try:
            return fn(*args, *frees)
        except Exception as e:  # noqa: BLE001 - see _call_failed
            return self._call_failed(variant, name, args, frees, e, compiled)

    def _call_failed(self, variant: Variant, name: str, args, frees, e: Exception,
                     compiled: bool):
        """A call of generated code raised ``e``: Numba could not compile it (run it as
        Python, or refuse in strict mode), or it failed (the error names the user's line)."""
        if isinstance(e, numba_errors()):
            if not compiled:
                raise
            fns = self._fallback(variant, e)
            return self._run_python(variant, fns[name], args, frees)
        if not isinstance(e, NablaError):
            if compiled:
                self._annotate_compiled(variant, name, args, frees, e)
            else:
                self._annotate(variant, e)
        raise

    def _annotate_compiled(self, variant: Variant, name: str, args, frees, e: Exception):
        """Compiled code names no line: the same call, run as Python, tells which line
        raises (or that none does there)."""
        if str(e).startswith(_SEED_MESSAGE):
            self._annotate(variant, e)
        try:
            variant.python_functions()[name](*args, *frees)
        except Exception as again:  # noqa: BLE001 - its location is all that is wanted
            line = self._user_line(variant, again)
            if line is not None:
                e.add_note(f"nabla: raised in compiled code generated for {self.__name__}; "
                           f"run as Python, the same call raises {type(again).__name__} at "
                           f"{line}")
                return
            self._annotate(variant, e)
            return
        fn = self._plain()
        e.add_note(f"nabla: raised in compiled code generated for {self.__name__} (defined at "
                   f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}; generated code in "
                   f"{variant.path}); run as Python, the same call raises nothing: Numba "
                   "computes this differently from Python here")

    def _user_line(self, variant: Variant, e: Exception) -> str | None:
        """``file:line: text`` of the user's line that generated code raising ``e`` comes
        from, or None."""
        path = str(variant.path)
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
        if not frames:
            return None
        user_line = variant.line_map.get(frames[-1].lineno)
        if user_line is None:
            return None
        import linecache

        filename = self._plain().__code__.co_filename
        text = linecache.getline(filename, user_line).strip()
        return f"{filename}:{user_line}: {text}"

    def _call_cuda(self, variant: Variant, args: list):
        """A cuda vmap: its kernel (planned and compiled at the first call for these argument
        types, again when a module constant baked into it changes), one example a thread."""
        from .codegen import numba_cuda

        numba_cuda.check_supported(self.__name__)
        if any(a is None for a in variant.meta["out_axes"]):
            raise TransformOutputError(
                f"vmap(..., target='cuda') of {self.__name__}: out_axes None is not "
                "supported on the GPU", **self._where(), hint="give every output axis 0")
        return self._cuda_runner(variant, args)(args)

    def _cuda_runner(self, variant: Variant, args: list):
        from .codegen import numba_cuda

        runners = variant.extra.setdefault("cuda", {})
        tkey = tuple(_type_key(a) for a in args)
        runner = runners.get(tkey)
        if runner is None or runner.plan.stale(args):
            plan = numba_cuda.plan(variant, args, self.__name__, self._described())
            key = disk.make_key(variant.key, "cuda", plan.text)
            path = disk.write(key, plan.text, {})
            runner = numba_cuda.Runner(plan, path, disk.module_name(key, "_cuda"))
            runners[tkey] = runner
            variant.extra["cuda_text"] = plan.text
        return runner

    def _run_python(self, variant, fn, args, frees):
        try:
            return fn(*args, *frees)
        except NablaError:
            raise
        except Exception as e:
            self._annotate(variant, e)
            raise

    def _annotate(self, variant: Variant, e: Exception):
        if str(e).startswith(_SEED_MESSAGE):
            raise TransformOutputError(
                f"{self.mode} of {self.__name__} needs a scalar float output "
                f"({str(e)[len(_SEED_MESSAGE):].strip(' ;:') or 'got something else'})",
                **self._where(),
                hint="reduce the output to a scalar (e.g. np.sum), use nabla.vjp or jacrev "
                "for non-scalar outputs, or return a float",
            ) from None
        line = self._user_line(variant, e)
        if line is not None:
            e.add_note(f"nabla: raised in code generated for {self.__name__} from {line}")
            return
        fn = self._plain()
        e.add_note(f"nabla: raised in code generated for {self.__name__} (defined at "
                   f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}; generated code "
                   f"in {variant.path})")

    # -- pytrees ---------------------------------------------------------------------------
    def _flat_version(self, trees: tuple) -> Function:
        """This transform over the leaves of arguments of structures ``trees``: one parameter
        per leaf, ``argnums`` naming every leaf of the arguments it named."""
        flat = self._flat.get(trees)
        if flat is not None:
            return flat
        nparams = len(trees)
        if self.inner is not None:
            fun = self.inner._flat_version(trees)
        else:
            fun = self.fun
        argnums = self.argnums
        if self.mode in _ARGNUM_MODES:
            idx = self._argnum_tuple(nparams)
            starts = [sum(pytree.num_leaves(t) for t in trees[:i]) for i in range(nparams)]
            argnums = tuple(starts[i] + k for i in idx for k in range(pytree.num_leaves(
                trees[i])))
        flat = Function(fun, self.mode, argnums=argnums, has_aux=self.has_aux,
                        direction=self.direction)
        flat.trees = trees
        self._flat[trees] = flat
        return flat

    def _regroup(self, trees, per_leaf):
        """Leaf-wise derivatives (one per leaf of the differentiated arguments) put back in
        the arguments' structures: one structure, or a tuple for tuple ``argnums``."""
        idx = self._argnum_tuple(len(trees))
        per_leaf = list(per_leaf)
        out = []
        for i in idx:
            n = pytree.num_leaves(trees[i])
            out.append(pytree.unflatten(trees[i], per_leaf[:n]))
            del per_leaf[:n]
        return tuple(out) if isinstance(self.argnums, tuple) else out[0]

    def _call_tree(self, args):
        flat_parts = [pytree.flatten(a) for a in args]
        trees = tuple(t for _, t in flat_parts)
        leaves = [leaf for part, _ in flat_parts for leaf in part]
        nested = self.inner is not None and (self.mode not in ("jacfwd", "jacrev") or (
            self.inner.mode not in ("jacfwd", "jacrev", "grad") or self.inner.inner is not None
            or self.inner.has_aux))
        if nested:
            raise TransformInputError(
                f"{self._described()} with tuples, lists or dicts as arguments is not "
                "supported yet", **self._where(),
                hint="pass the arrays as separate arguments (hessian, jacfwd, jacrev, grad "
                "and value_and_grad take containers)")
        flat = self._flat_version(trees)
        result = flat(*leaves)
        if self.mode in ("jacfwd", "jacrev"):
            jac, aux = result if self.has_aux else (result, None)
            if self.inner is not None:  # a Hessian: rows over the inner transform's leaves
                jac = self.inner._regroup(trees, [self._regroup(trees, row) for row in jac])
            else:
                jac = self._regroup(trees, jac)
            return (jac, aux) if self.has_aux else jac
        if self.mode == "grad":
            if self.has_aux:
                g, aux = result
                return self._regroup(trees, g), aux
            return self._regroup(trees, result)
        if self.mode == "value_and_grad":
            value, g = result
            return value, self._regroup(trees, g)
        return result

    # -- vmap ------------------------------------------------------------------------------
    def _in_axes_per_argument(self, nparams: int) -> list:
        in_axes = self.batching["in_axes"]
        if in_axes is None or (isinstance(in_axes, int) and not isinstance(in_axes, bool)):
            return [in_axes] * nparams
        if isinstance(in_axes, (tuple, list)):
            if len(in_axes) != nparams:
                raise TransformInputError(
                    f"vmap: in_axes={in_axes!r} has {len(in_axes)} entries, but "
                    f"{self.__name__} takes {nparams} argument{'s' if nparams != 1 else ''}",
                    **self._where(), hint="give one entry per argument, or one int for all")
            return list(in_axes)
        raise TransformInputError(
            f"vmap: in_axes must be an int, None, or a tuple or list with one entry per "
            f"argument, not {in_axes!r}", **self._where(),
            hint="e.g. in_axes=0 or in_axes=(0, None)")

    def _vmap_axes(self, nparams: int) -> tuple:
        """One axis (or None) per parameter, before a call has shown the arguments."""
        if self.axes is not None:
            return self.axes
        axes = self._in_axes_per_argument(nparams)
        for i, a in enumerate(axes):
            if not (a is None or (isinstance(a, int) and not isinstance(a, bool))):
                raise TransformInputError(
                    f"vmap: in_axes entry {a!r} for argument {i} is for a container; the "
                    "source is known once the function is called", **self._where(),
                    hint="call the function first, then read .source")
        return tuple(axes)

    def _call_vmap(self, args):
        # the fast path: arguments without containers, of types seen before; only the batch
        # sizes are checked again
        key = tuple(_type_key(a) for a in args)
        fast = self._vmap_calls.get(key)
        if fast is not None:
            sub, batched, axis_size = fast
            sizes = {args[i].shape[ax] for i, ax in batched}
            if axis_size is not None:
                sizes.add(axis_size)
            if len(sizes) == 1:
                result = sub(*args)
                self._last = sub._last
                return result
        sub, leaves = self._vmap_resolve(args)
        plain = not any(isinstance(a, (tuple, list, dict)) for a in args) and all(
            isinstance(a, np.ndarray) or ax is None for a, ax in zip(args, sub.axes)) \
            and any(ax is not None for ax in sub.axes)
        if plain:
            self._vmap_calls[key] = (sub, [(i, ax) for i, ax in enumerate(sub.axes)
                                           if ax is not None], self.batching["axis_size"])
        result = sub(*leaves)
        self._last = sub._last
        if plain:
            self._enter_fast_vmap(sub, args)
        if self.inner is not None and sub.trees is not None:
            # a vmapped derivative of pytrees: its leaf-wise batched derivatives put back in
            # the arguments' structures, as the derivative itself gives them
            return self.inner._regroup(sub.trees, result)
        return result

    def _enter_fast_vmap(self, sub: Function, args) -> None:
        """The fast path of a vmap: where its version ``sub`` has a fast path for these
        arguments (no containers: its leaves are the arguments), only the batch sizes are
        checked again before it is taken."""
        key = _fast_key(args)
        inner = sub._fast.get(key)
        if inner is None:
            return
        batched = [(i, ax) for i, ax in enumerate(sub.axes) if ax is not None]
        axis_size = self.batching["axis_size"]
        if axis_size is None:
            (i0, ax0), rest = batched[0], batched[1:]
        else:
            i0, ax0, rest = None, None, batched

        def fast(args):
            size = axis_size if i0 is None else args[i0].shape[ax0]
            for i, ax in rest:
                if args[i].shape[ax] != size:
                    return self._call_slow(args)  # refused there, with the sizes named
            result = inner(args)
            self._last = sub._last
            return result

        self._fast_key = _fast_key_of(len(args))
        self._fast[key] = fast

    def _vmap_resolve(self, args):
        """The version of this vmap for arguments like ``args`` (one in_axes entry per leaf,
        checked against them), and the arguments' leaves."""
        nparams = self._nparams()
        if len(args) != nparams:
            raise TransformInputError(
                f"{self.__name__} takes {nparams} argument{'s' if nparams != 1 else ''}, "
                f"got {len(args)}", **self._where(), hint="pass every argument positionally")
        per_arg = self._in_axes_per_argument(nparams)
        trees, leaves, axes, owners = [], [], [], []
        for i, (a, entry) in enumerate(zip(args, per_arg)):
            part, tree = pytree.flatten(a)
            trees.append(tree)
            leaves.extend(part)
            axes.extend(self._leaf_axes(entry, tree, i))
            owners.extend([i] * len(part))
        trees = tuple(trees)
        nested = any(t != pytree.LEAF for t in trees)
        inner = self.inner
        if nested and inner is not None and (inner.inner is not None or inner.has_aux or
                                             inner.mode not in ("grad", "jacfwd", "jacrev")):
            raise TransformInputError(
                f"{self._described()} with tuples, lists or dicts as arguments is not "
                "supported yet", **self._where(), hint="pass the arrays as separate arguments")
        size = None
        axis_size = self.batching["axis_size"]
        for leaf, ax, i in zip(leaves, axes, owners):
            if ax is None:
                continue
            nd = np.ndim(leaf)
            if nd == 0:
                raise TransformInputError(
                    f"vmap: argument {i} of {self.__name__} is a scalar; it has no axis {ax} "
                    "to map over", **self._where(), hint="give it in_axes None")
            if not -nd <= ax < nd:
                raise TransformInputError(
                    f"vmap: in_axes {ax} for argument {i} of {self.__name__}, which has "
                    f"{nd} dimension{'s' if nd != 1 else ''}", **self._where(),
                    hint=f"use an axis between {-nd} and {nd - 1}")
            n = np.shape(leaf)[ax]
            if size is None:
                size, first = n, i
            elif n != size:
                raise TransformInputError(
                    f"vmap got mismatched batch sizes: argument {first} of {self.__name__} "
                    f"has {size} along its mapped axis, argument {i} has {n}",
                    **self._where(), hint="map over axes of the same length")
        if size is None and axis_size is None:
            raise TransformInputError(
                f"vmap of {self.__name__}: no argument is batched (every in_axes is None) "
                "and no axis_size is given", **self._where(),
                hint="batch an argument, or pass axis_size=n")
        if size is not None and axis_size is not None and size != axis_size:
            raise TransformInputError(
                f"vmap: axis_size={axis_size} but argument {first} of {self.__name__} has "
                f"{size} along its mapped axis", **self._where(),
                hint="leave axis_size out when an argument is batched")
        key = (trees if nested else None, tuple(axes))
        sub = self._by_axes.get(key)
        if sub is None:
            fun = inner if inner is not None else self.fun
            if nested and inner is not None:  # per-example gradients of pytrees
                fun = inner._flat_version(trees)
            sub = Function(fun, "vmap")
            sub.batching = self.batching
            sub.axes = tuple(axes)
            sub.trees = trees if nested else None
            self._by_axes[key] = sub
        return sub, leaves

    def _leaf_axes(self, entry, tree, i: int) -> list:
        """in_axes ``entry`` for argument ``i`` (a prefix of its structure ``tree``) as one
        axis per leaf."""
        if entry is None or (isinstance(entry, int) and not isinstance(entry, bool)):
            return [entry] * pytree.num_leaves(tree)
        kind = tree[0]
        bad = None
        if isinstance(entry, dict):
            if kind != "dict" or sorted(entry) != list(tree[1]):
                bad = "a dict of axes needs a dict argument with the same keys"
            else:
                return [a for k, t in zip(tree[1], tree[2]) for a in self._leaf_axes(
                    entry[k], t, i)]
        elif isinstance(entry, (tuple, list)):
            kids = pytree.children(tree) if kind in ("tuple", "list", "namedtuple") else None
            if kids is None or len(kids) != len(entry):
                bad = "a tuple or list of axes needs a tuple or list argument of its length"
            else:
                return [a for e, (_, t) in zip(entry, kids) for a in self._leaf_axes(e, t, i)]
        else:
            bad = "axes are ints or None"
        raise TransformInputError(
            f"vmap: in_axes entry {entry!r} does not fit argument {i} of {self.__name__} "
            f"({pytree.describe(tree)}): {bad}", **self._where(),
            hint="give an int (or None) for the whole argument, or its structure of axes")

    def __call__(self, *args):
        # the fast path: arguments of a signature a compiled call has seen before (one
        # comprehension builds the key: (dtype, ndim) per exact ndarray, the type of
        # anything else; only plain arrays and scalars are ever entered, see _enter_fast)
        try:
            fast = self._fast.get(self._fast_key(args))
        except ValueError:  # another number of arguments than the last fast path's
            fast = None
        if fast is not None and config.jit:
            return fast(args)
        return self._call_slow(args)

    def _call_slow(self, args):
        if self.mode == "vmap" and self.axes is None:
            return self._call_vmap(args)
        if any(isinstance(a, (tuple, list, dict)) for a in args):
            return self._call_tree(args)
        variant, readers = self._entry(args)
        self._last = variant
        meta = variant.meta
        if self.mode == "jvp":
            raise TypeError("call nabla.jvp(fun, primals, tangents)")
        result = self._call(variant, readers, meta["entry"], args)
        if config.jit and not variant._numba_failed and meta.get("target") != "cuda":
            self._enter_fast(variant, readers, args, result)
        return self._finish(meta, result, args)

    def _finish(self, meta, result, args):
        """What a call returns, from what the generated entry function returned."""
        tree = meta.get("result_tree")
        if self.mode == "grad":
            if self.has_aux:
                g, aux = result
                aux = _restructure(_aux_tree(tree), aux)
                if meta.get("float32"):
                    aux = _float32_scalars(aux)
                return self._cast_grads(g, args), aux
            return self._cast_grads(result, args)
        if self.mode == "value_and_grad":
            value, g = result
            if self.has_aux:
                (out, aux) = value
                value = (out, _restructure(_aux_tree(tree), aux))
            if meta.get("float32"):  # Numba returns float32 scalars as Python floats
                value = _float32_scalars(value)
            return value, self._cast_grads(g, args)
        if self.mode in ("jacfwd", "jacrev") and tree is not None:
            if self.has_aux:
                jac, aux = result
                result = (_restructure(_out_tree(tree), jac),
                          _restructure(_aux_tree(tree), aux))
            else:
                result = _restructure(tree, result)
        elif tree is not None:
            result = _restructure(tree, result)
        return _float32_scalars(result) if meta.get("float32") else result

    def _enter_fast(self, variant: Variant, readers, args, result) -> None:
        """After a compiled call of plain arrays and scalars, a closure for later calls
        with arguments of the same signature: the compiled function, the free values read
        (at every call, as the slow path does), the result cast as ``_finish`` would."""
        if not all(type(a) is _ndarray or type(a) in _PLAIN_SCALARS for a in args):
            return
        name = variant.meta["entry"]
        compiled = (variant._numba or {}).get(name)
        if compiled is None:
            return
        post = self._fast_post(variant.meta, args, result)

        if readers:
            def fast(args):
                self._last = variant
                frees = [r() for r in readers]
                try:
                    result = compiled(*args, *frees)
                except Exception as e:  # noqa: BLE001 - handled as the slow path does
                    result = self._call_failed(variant, name, args, frees, e, True)
                return result if post is None else post(result, args)
        else:  # no free values to read
            def fast(args):
                self._last = variant
                try:
                    result = compiled(*args)
                except Exception as e:  # noqa: BLE001 - handled as the slow path does
                    result = self._call_failed(variant, name, args, (), e, True)
                return result if post is None else post(result, args)

        holds = self._holds_all()
        if holds is not None:  # the user's functions it calls: checked at every call
            unchecked = fast

            def fast(args):
                if holds():
                    return unchecked(args)
                return self._call_slow(args)

        self._fast_key = _fast_key_of(len(args))
        self._fast[self._fast_key(args)] = fast

    def _holds_all(self):
        """One check of this transform's bindings and its inner ones' (None: none)."""
        checks = []
        f = self
        while f is not None:
            if f._holds is not None:
                checks.append(f._holds)
            f = f.inner
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda: all(c() for c in checks)

    def _fast_post(self, meta, args, result):
        """``_finish`` for calls with arguments like ``args`` (``result``: what the compiled
        code returned for them), or None where it returns the result as is."""
        tree = meta.get("result_tree")
        if self.mode == "grad" and not self.has_aux:
            idx = self._argnum_tuple(len(args))
            if isinstance(self.argnums, tuple):
                if type(result) is tuple and len(result) == len(idx) and all(
                        type(args[i]) is _ndarray and type(g) is _ndarray and
                        g.dtype == args[i].dtype for g, i in zip(result, idx)):
                    # the usual case: every derivative already as its argument is
                    return _derivatives_as_returned(idx, tuple(g.dtype for g in result))
                return lambda g, args: tuple([_like(gi, args[i]) for gi, i in zip(g, idx)])
            i = idx[0]
            if type(args[i]) is _ndarray and type(result) is _ndarray and \
                    result.dtype == args[i].dtype:
                returned = result.dtype  # the compiled code's dtype object

                def cast_array(g, args):
                    x = args[i]
                    if type(g) is _ndarray and g.shape == x.shape and g.dtype is returned:
                        return g
                    return _like(g, x)
                return cast_array
            if type(args[i]) is float:
                return lambda g, args: g if type(g) is float else _like(g, args[i])
            return lambda g, args: _like(g, args[i])
        if self.mode not in ("grad", "value_and_grad") and not meta.get("float32") and \
                _returned_as_tree(result, tree):
            return None  # nested tuples already, as _finish would return them
        return lambda result, args: self._finish(meta, result, args)

    def _cast_grads(self, g, args):
        idx = self._argnums_resolved.get(len(args))
        if idx is None:
            idx = self._argnums_resolved[len(args)] = self._argnum_tuple(len(args))
        if isinstance(self.argnums, tuple):
            return tuple(_like(gi, args[i]) for gi, i in zip(g, idx))
        return _like(g, args[idx[0]])


def _restructure(tree, value):
    """A result generated code returns as nested tuples, in the structure ``tree`` (the
    JSON form of ``Canonical.result_tree``): dicts, lists and namedtuples again."""
    if tree is None or tree[0] == "leaf":
        return value
    kind, extra, children = tree
    items = [_restructure(t, v) for t, v in zip(children, value)]
    if kind == "dict":
        return dict(zip(extra[0], items))
    if kind == "list":
        return items
    if kind == "namedtuple":
        import importlib

        try:
            cls = importlib.import_module(extra[0])
            for part in extra[1].split("."):
                cls = getattr(cls, part)
            return cls(*items)
        except (ImportError, AttributeError, TypeError):
            return tuple(items)
    return tuple(items)


def _returned_as_tree(value, tree) -> bool:
    """Whether ``value`` already is what ``_restructure(tree, value)`` returns: ``tree``
    holds only tuples, and ``value`` is made of tuples in its shape (a compiled function's
    return type is fixed, so one value shows it for every call of its signature)."""
    if tree is None or tree[0] == "leaf":
        return True
    kind, _, children = tree
    return kind == "tuple" and type(value) is tuple and len(value) == len(children) and \
        all(_returned_as_tree(v, t) for v, t in zip(value, children))


def _destructure(tree, value):
    """A cotangent in the result's structure as the nested tuples generated code takes."""
    if tree is None or tree[0] == "leaf":
        return value
    kind, extra, children = tree
    if kind == "dict":
        if not isinstance(value, dict) or sorted(value) != list(extra[0]):
            raise TransformInputError("the cotangent must have the output's structure "
                                      f"(a dict with keys {list(extra[0])})")
        value = [value[k] for k in extra[0]]
    return tuple(_destructure(t, v) for t, v in zip(children, value))


def _aux_tree(tree):
    return tree[2][1] if tree is not None and tree[0] == "tuple" else None


def _out_tree(tree):
    return tree[2][0] if tree is not None and tree[0] == "tuple" else None


# transforms whose generated source another transform can differentiate
_COMPOSABLE = ("grad", "value_and_grad", "jit", "jacfwd", "jacrev", "vmap")


def _normalize_generated(inner: Variant):
    """The canonical form of an inner transform's generated entry function: its trailing
    free-value parameters become free values again, read as the user's function reads
    them."""
    fn = inner.python_functions()[inner.meta["entry"]]
    canon = normalize(fn)
    n = len(inner.meta["params"])
    if canon.free:  # generated code reads nothing but its parameters and helpers
        raise AssertionError(f"generated code reads free values {canon.free}")
    canon.free = canon.params[n:]
    canon.free_sources = list(inner.meta["free_sources"])
    canon.params = canon.params[:n]
    return canon


def _float32_scalars(result):
    """Python floats in a float32 call's results become np.float32, as NumPy gives
    (Numba returns float32 scalars as Python floats); containers keep their kind."""
    if type(result) is tuple:
        return tuple(_float32_scalars(r) for r in result)
    if isinstance(result, tuple) and hasattr(result, "_fields"):  # a namedtuple
        return type(result)(*(_float32_scalars(r) for r in result))
    if isinstance(result, list):
        return [_float32_scalars(r) for r in result]
    if isinstance(result, dict):
        return {k: _float32_scalars(v) for k, v in result.items()}
    if type(result) is float:
        return np.float32(result)
    return result


def _like(g, x):
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


_jvp_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_vjp_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(table, fun, mode, has_aux) -> Function:
    per_fun = table.setdefault(fun, {})
    if has_aux not in per_fun:
        per_fun[has_aux] = Function(fun, mode, has_aux=has_aux)
    return per_fun[has_aux]


def _check_tangents(f: Function, primals, tangents):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TransformInputError("jvp takes primals and tangents as tuples: "
                                  "jvp(f, (x,), (v,))", **f._where(),
                                  hint="wrap single arguments in a tuple: (x,)")
    if len(primals) != len(tangents):
        raise TransformInputError(
            f"jvp got {len(primals)} primals and {len(tangents)} tangents", **f._where(),
            hint="pass one tangent per primal")
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if np.shape(p) != np.shape(t):
            raise TransformInputError(
                f"tangent {i} has shape {np.shape(t)}, its primal {np.shape(p)}", **f._where(),
                hint="give each tangent the shape of its primal")


def jvp(fun, primals, tangents, has_aux: bool = False):
    """``(fun(*primals), J·tangents)`` (and ``aux``), computed in one forward pass."""
    f = _memo(_jvp_functions, fun, "jvp", has_aux)
    if isinstance(primals, (tuple, list)) and any(isinstance(p, (tuple, list, dict))
                                                  for p in primals):
        if not isinstance(tangents, (tuple, list)) or len(tangents) != len(primals):
            _check_tangents(f, primals, tangents)
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
    _check_tangents(f, primals, tangents)
    primals = tuple(primals)
    variant, readers = f._entry(primals)
    f._last = variant
    active = [i for i, k in enumerate(primals) if _kind(k) in ("float32", "float64", "pyfloat")]
    dots = []
    for i in active:
        t = tangents[i]
        p = primals[i]
        dots.append(_like(np.asarray(t), p) if isinstance(p, np.ndarray) else
                    (p.dtype.type(t) if isinstance(p, np.generic) else float(t)))
    result = f._call(variant, readers, variant.meta["entry"], primals + tuple(dots))
    tree = variant.meta.get("result_tree")
    if tree is not None:
        if has_aux:
            out, dot, aux = result
            o = _out_tree(tree)
            result = (_restructure(o, out), _restructure(o, dot),
                      _restructure(_aux_tree(tree), aux))
        else:
            result = (_restructure(tree, result[0]), _restructure(tree, result[1]))
    return _float32_scalars(result) if variant.meta.get("float32") else result


class _VJPFunction:
    """``vjp_fun``: maps an output cotangent to one cotangent per primal, reusing the
    residuals the forward sweep stored."""

    def __init__(self, f: Function, variant: Variant, readers, residuals, primals, active):
        self._f = f
        self._variant = variant
        self._readers = readers
        self._residuals = residuals
        self._primals = primals
        self._active = active
        self.__name__ = f"{f.__name__}_vjp"

    @property
    def source(self) -> str:
        return self._variant.text

    @property
    def source_path(self) -> str:
        return str(self._variant.path)

    def __call__(self, cotangent):
        fn, compiled = self._f._runner(self._variant, self._variant.meta["bwd"])
        outputs = self._variant.meta.get("outputs")
        tree = self._variant.meta.get("result_tree")
        if tree is not None:
            cotangent = _destructure(_out_tree(tree) if self._variant.meta.get("has_aux")
                                     else tree, cotangent)
        if outputs is None:
            seeds = (cotangent,)
        elif not isinstance(cotangent, (tuple, list)) or len(cotangent) != outputs:
            raise TransformInputError(
                f"{self.__name__}: {self._f.__name__} returns a tuple of {outputs}; the "
                "cotangent must be a tuple of as many", **self._f._where(),
                hint="pass one cotangent per output, shaped like it")
        else:
            seeds = tuple(cotangent)
        try:
            grads = fn(*seeds, *self._residuals)
        except numba_errors() as e:
            if not compiled:
                raise
            fns = self._f._fallback(self._variant, e)
            grads = fns[self._variant.meta["bwd"]](*seeds, *self._residuals)
        out = []
        k = 0
        for i, p in enumerate(self._primals):
            if i in self._active:
                out.append(_like(grads[k], p))
                k += 1
            else:
                out.append(_like(0.0, p) if isinstance(p, np.ndarray)
                           else 0.0 * p if isinstance(p, (int, float)) else np.zeros_like(p))
        return tuple(out)


def vjp(fun, *primals, has_aux: bool = False):
    """``(fun(*primals), vjp_fun)`` (and ``aux``); ``vjp_fun(ct)`` returns one cotangent per
    primal and can be called many times."""
    f = _memo(_vjp_functions, fun, "vjp", has_aux)
    if any(isinstance(p, (tuple, list, dict)) for p in primals):
        parts = [pytree.flatten(p) for p in primals]
        trees = tuple(t for _, t in parts)
        result = _vjp_run(f._flat_version(trees), [leaf for part, _ in parts for leaf in part],
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
    return _vjp_run(f, primals, has_aux)


def _vjp_run(f: Function, primals, has_aux: bool):
    variant, readers = f._entry(primals)
    f._last = variant
    result = f._call(variant, readers, variant.meta["entry"], primals)
    active = [i for i, k in enumerate(primals) if _kind(k) in ("float32", "float64", "pyfloat")]
    tree = variant.meta.get("result_tree")
    # Numba returns float32 scalars as Python floats: the values come back as NumPy gives them
    like = _float32_scalars if variant.meta.get("float32") else (lambda v: v)
    if has_aux:
        out, aux, residuals = result
        return (like(_restructure(_out_tree(tree), out)),
                _VJPFunction(f, variant, readers, residuals, primals, active),
                like(_restructure(_aux_tree(tree), aux)))
    out, residuals = result
    return (like(_restructure(tree, out)),
            _VJPFunction(f, variant, readers, residuals, primals, active))


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
    f.batching = {"in_axes": in_axes, "out_axes": out_axes,
                  "axis_size": None if axis_size is None else int(axis_size),
                  "target": target}
    return f


def source(fun, mode: str = "grad", argnums=0, has_aux: bool = False) -> str:
    """The generated module of ``mode`` applied to ``fun`` (for float64 arguments)."""
    if isinstance(fun, Function):
        return fun.source
    return Function(fun, mode, argnums=argnums, has_aux=has_aux).source


def clear_cache() -> None:
    """Empty nabla's on-disk cache."""
    disk.clear_cache()


# what the user's code may call inside a function being transformed (see normalize)
TRANSFORMS = (grad, value_and_grad, jacfwd, jacrev, hessian, jit, jvp, vjp, vmap)

__all__ = ["Function", "grad", "value_and_grad", "jvp", "vjp", "jit", "jacfwd", "jacrev",
           "hessian", "vmap", "source", "clear_cache"]
