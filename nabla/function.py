"""``nabla.Function``: what every transform returns — callable, inspectable, composable.

A ``Function`` transforms lazily (at the first call or the first ``.source``), once
per pattern of argument dtypes, and memoizes the dispatch per argument type signature,
so that a call costs a dictionary look-up and the compiled call (``fast_path``). The
generated module of a call comes from ``pipeline``; running it (Numba or Python, the
fallback, error notes) is ``running``'s; the arguments' checks and the results' casts
are ``arguments``'s; a vmap's in_axes are resolved by ``vmapping``.

>>> import numpy as np
>>> def f(x):
...     return np.sum(x * x)
>>> g = Function(f, "grad")
>>> g
<nabla.Function grad(f)>
>>> g._described()
'nabla.grad(f)'
"""

from __future__ import annotations

import inspect

import numpy as np

from . import (
    arguments,
    chunks,
    custom,
    fast_path,
    pipeline,
    pytree,
    running,
    shipping,
    stages,
    vmapping,
)
from .codegen.numba_cpu import numba_errors
from .config import config
from .errors import NablaError, NotDifferentiableError, TransformInputError
from .frontend.parse import bound_object, check_signature, parse_function, unwrap
from .transforms.normalize import normalize

MODES = ("jit", "grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "vmap")
DIRECTIONS = ("auto", "reverse", "forward")
# transforms whose generated source another transform can differentiate
COMPOSABLE = ("grad", "value_and_grad", "jit", "jacfwd", "jacrev", "vmap")


class Function:
    """A transformed function: call it, read ``.source``, compose it.

    ``fn.source`` is the generated Python module, ``fn.source_path`` the file it
    was written to, ``fn.namespace`` a namespace in which ``exec(fn.source, ...)``
    reproduces it.
    """


    def __init__(self, fun, mode: str, argnums=0, has_aux: bool = False,
                 direction: str = "auto"):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if direction not in DIRECTIONS:
            raise TransformInputError(f"mode must be one of {DIRECTIONS}, not {direction!r}",
                                      hint='use mode="auto", "reverse" or "forward"')
        # grad, value_and_grad: "auto" (forward mode for a few scalars), "reverse", "forward"
        self.direction = direction
        self._given = fun  # as given (what a pickle of this Function holds: shipping)
        if custom.is_custom(fun):  # transformed by its rule: a function calling it
            fun = custom.caller(fun)
        # a transform of a transform differentiates the generated source of the inner one
        self.inner = fun if isinstance(fun, Function) else None
        if self.inner is not None and self.inner.batching is not None and \
                self.inner.batching["target"] == "cuda":
            raise NotDifferentiableError(
                f"nabla.{mode} of {self.inner._described()} with target='cuda': a cuda vmap "
                "runs as a kernel, so it must be the outermost transform",
                **self.inner._where(), hint=f"apply target='cuda' to the outermost transform: "
                f"nabla.vmap(nabla.{mode}(f), target='cuda')")
        if self.inner is not None and self.inner.mode not in COMPOSABLE:
            raise NotDifferentiableError(
                f"nabla.{mode} of nabla.{self.inner.mode}({fun.__name__}) is not supported yet",
                hint=f"compose {', '.join(sorted(COMPOSABLE))} (e.g. "
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
        self._block = None  # a flat version's derivative's structure (see block_tree)
        self._flat: dict = {}  # trees -> the flat version of this function (see _flat_version)
        # vmap: in_axes, out_axes, axis_size, target; ``axes`` is in_axes resolved to one
        # int or None per parameter (per leaf), set on the versions calls dispatch to
        self.batching: dict | None = None
        self.axes: tuple | None = None
        self._by_axes: dict = {}  # (trees, per-leaf axes) -> the version calls dispatch to
        self._vmap_calls: dict = {}  # argument types -> (version, batched axes, axis_size)
        # the fast path: a cheap signature of plain arguments (see fast_path.fast_key) -> a closure
        # that calls the compiled function and casts its result, set up by a slow call
        self._fast: dict = {}
        self._fast_key = fast_path.fast_key  # fast_key_of(the number of arguments) once known
        self._argnums_resolved: dict = {}  # nparams -> _argnum_tuple(nparams)
        # the names the transform resolved to functions (frontend.resolve.Binding), and a
        # check that they still mean them (None: nothing to check)
        self._bindings: list = []
        self._holds = None
        # calls with fewer arguments than this, or with keywords, are bound to the
        # parameters first (0: no parameter has a default value)
        self._positional = _positional_count(fun)

    def __repr__(self) -> str:
        return f"<nabla.Function {self.mode}({self.__qualname__})>"

    def __reduce__(self):
        # pickled by what it is, never by compiled code; made again once per process
        return shipping.reduce(self)

    def __dask_tokenize__(self):
        # Dask names a task by its arguments: this Function, by the token its pickles carry
        return ("nabla.Function", shipping.token(self))

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

    def _variant(self, float32: bool, active: tuple, ranks: tuple | None = None,
                 forward: bool | None = None, arg_ranks: tuple | None = None):
        """The generated module for a call pattern (see ``pipeline.variant``)."""
        return pipeline.variant(self, float32, active, ranks, forward, arg_ranks)

    def _readable_variant(self, float32: bool, forward: bool | None = None):
        """The generated module other transforms read (see ``pipeline.readable_variant``)."""
        return pipeline.readable_variant(self, float32, forward)

    def _nparams(self) -> int:
        if self.trees is not None:
            return sum(pytree.num_leaves(t) for t in self.trees)
        fn = self._plain()
        code = fn.__code__
        if (code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
                or code.co_kwonlyargcount or code.co_posonlyargcount):
            # refused at the parameter, before argnums are checked against a count
            # that means nothing here
            check_signature(parse_function(fn))
        return code.co_argcount - len(bound_object(fn))

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
            return vmapping.vmap_axes(self, n)
        if self.mode in arguments.ARGNUM_MODES:
            return self._argnum_tuple(n)
        if self.mode in ("jvp", "vjp"):
            return tuple(range(n))
        return ()

    # -- inspection -------------------------------------------------------------------
    def _shown(self) -> running.Variant:
        if self._last is not None:
            return self._last
        return self._variant(False, self._default_active())

    @property
    def source(self) -> str:
        shown = self._shown()
        return shown.extra.get("cuda_text", shown.text)  # a cuda vmap's kernel, once built

    def source_of(self, *example_args, stage: str = "module") -> str:
        """The generated module a call with arguments like ``example_args`` runs (nothing
        is run; without them: as ``.source``), or an earlier ``stage`` of it (see
        ``nabla.stages``): ``"canonical"``, ``"transformed"``, ``"optimized"``."""
        stages.check_stage(stage)
        if any(isinstance(a, str) for a in example_args):
            raise TransformInputError(
                f"{self._described()}: example arguments are arrays and numbers, not "
                f"{next(a for a in example_args if isinstance(a, str))!r}",
                hint='pass the transform by keyword: nabla.source(f, x, mode="jvp")')
        shown = self._variant_for(example_args) if example_args else self._shown()
        return stages.text(shown, stage)

    def _variant_for(self, args) -> running.Variant:
        """The variant a call with ``args`` runs, run or not."""
        args = tuple(np.asarray(a) if getattr(a, "__nabla_array__", False) else a
                     for a in args)
        if self.mode == "vmap" and self.axes is None:
            sub, leaves = vmapping.vmap_resolve(self, args)
            return sub._variant_for(leaves)
        if any(pytree.is_container(a) for a in args):
            trees = tuple(pytree.flatten(a)[1] for a in args)
            leaves = [leaf for a in args for leaf in pytree.flatten(a)[0]]
            return self._flat_version(trees)._variant_for(leaves)
        if self.mode in ("jvp", "vjp") or len(args) >= self._positional:
            return self._entry(args)[0]
        return self._entry(self._bound(args, {}))[0]

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
        entry = self._dispatch.get(tuple(arguments.type_key(a) for a in args))
        if entry is None:
            entry = self._prepare(args)
        return entry

    def _watch(self, bindings) -> None:
        known = {(id(b.where), b.name) for b in self._bindings}
        new = [b for b in bindings if (id(b.where), b.name) not in known]
        if new:
            self._bindings = self._bindings + new
            self._holds = fast_path.holds_check(self._bindings)

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
            float32, active, ranks, forward, arg_ranks = arguments.check(self, args)
        except TransformInputError:
            # what the transform refuses in the code is reported before what the call
            # got wrong (a callable argument is refused where the code calls it)
            self._transform_refusals()
            raise
        variant = self._variant(float32, active, ranks, forward, arg_ranks)
        readers = running.free_readers(self, variant.meta)
        self._dispatch[tuple(arguments.type_key(a) for a in args)] = (variant, readers)
        return variant, readers

    def _param_name(self, i: int) -> str:
        """`` (x)``: the name of parameter ``i``, where the arguments are the function's own."""
        if self.trees is not None:
            return ""
        fn = self._plain()
        code = fn.__code__
        i += len(bound_object(fn))
        return f" ({code.co_varnames[i]})" if i < code.co_argcount else ""

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
        if self.mode in arguments.ARGNUM_MODES:
            idx = self._argnum_tuple(nparams)
            starts = [sum(pytree.num_leaves(t) for t in trees[:i]) for i in range(nparams)]
            argnums = tuple(starts[i] + k for i in idx for k in range(pytree.num_leaves(
                trees[i])))
        flat = Function(fun, self.mode, argnums=argnums, has_aux=self.has_aux,
                        direction=self.direction)
        flat.trees = trees
        if self.mode in arguments.ARGNUM_MODES:  # its derivatives, as the user sees them
            flat._block = pytree.grads_tree([trees[i] for i in self._argnum_tuple(nparams)],
                                            isinstance(self.argnums, tuple))
        flat._positional = 0  # called with every leaf
        self._flat[trees] = flat
        return flat

    def block_tree(self, nwrt: int):
        """The structure of one of this transform's derivatives (in the JSON form of
        ``Canonical.result_tree``) as its callers see it: the argument's containers for a
        flat version, a tuple for tuple ``argnums``."""
        if self._block is not None:
            return self._block
        return ["tuple", [], [pytree.LEAF_JSON] * nwrt] if isinstance(self.argnums, tuple) \
            else pytree.LEAF_JSON

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
        inner = self.inner
        while inner is not None:
            if inner.mode == "vmap":  # its in_axes name the containers' leaves
                raise TransformInputError(
                    f"{self._described()} with tuples, lists or dicts as arguments is not "
                    "supported yet", **self._where(),
                    hint="pass the arrays as separate arguments (derivatives of derivatives "
                    "and vmaps of derivatives take containers)")
            inner = inner.inner
        flat = self._flat_version(trees)
        result = flat(*leaves)
        if self.mode in ("jacfwd", "jacrev"):
            jac, aux = result if self.has_aux else (result, None)
            # each leaf of the output (the inner transform's blocks included, in the
            # arguments' structures already) holds one block per argument leaf: those go
            # back into the arguments' structures, the output's structure around them
            tree = flat._entry(leaves)[0].meta.result_tree
            if self.has_aux:
                tree = pytree.out_tree(tree)
            jac = pytree.map_result(tree, jac, lambda block: self._regroup(trees, block))
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

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) < self._positional:
            return self._call_bound(args, kwargs)
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

    def _bound(self, args, kwargs) -> tuple:
        """The arguments of a call as one positional tuple: keyword arguments in their
        places, parameters not passed given their default values (generated code takes
        every parameter by position, and argnums count them so)."""
        try:
            bound = inspect.signature(self._plain()).bind(*args, **kwargs)
        except TypeError as e:
            raise TransformInputError(f"{self._described()}: {e}", **self._where(),
                                      hint="pass the function's parameters, by position or "
                                      "by name") from None
        bound.apply_defaults()
        return bound.args

    def _call_bound(self, args, kwargs):
        bound = self._bound(args, kwargs)
        if self.mode != "vmap" or self.axes is not None:
            return self(*bound)
        # a vmap maps the arguments passed by position as in_axes says, and those passed
        # by keyword over their axis 0, as JAX does (a number passed by keyword, which JAX
        # refuses, is the same for every example); defaults are the same for every example
        names = list(inspect.signature(self._plain()).parameters)[:len(bound)]
        kw_axes = tuple(0 if name in kwargs and (pytree.is_container(kwargs[name])
                                                 or np.ndim(kwargs[name]) > 0) else None
                        for name in names[len(args):])
        version = self._bound_version(len(args), kw_axes)
        result = version(*bound)
        self._last = version._last
        return result

    def _bound_version(self, nargs: int, kw_axes: tuple) -> Function:
        """This vmap with one axis per parameter: ``in_axes``'s for the ``nargs`` passed by
        position, ``kw_axes`` for the rest (0 for those passed by keyword, None for those
        left to their defaults); a vmap inside it bound the same way (its defaults are
        no more batched than the outer one's)."""
        key = ("bound", nargs, kw_axes)
        version = self._flat.get(key)
        if version is None:
            inner = self.inner
            if inner is not None and inner.mode == "vmap" and inner.axes is None:
                inner = inner._bound_version(nargs, kw_axes)
            per_arg = vmapping.in_axes_per_argument(self, nargs)
            version = Function(inner if inner is not None else self.fun, "vmap")
            version.batching = dict(self.batching, in_axes=tuple(per_arg) + kw_axes)
            version._positional = 0
            self._flat[key] = version
        return version

    def _call_slow(self, args):
        if any(getattr(a, "__nabla_array__", False) for a in args):
            # a nabla.Array: the transform takes the NumPy array it computes
            args = tuple(np.asarray(a) if getattr(a, "__nabla_array__", False) else a
                         for a in args)
        if self.mode == "vmap" and self.axes is None:
            if chunks.has_dask_array(args):  # a task per chunk, run by Dask
                return chunks.call(self, args)
            return vmapping.call_vmap(self, args)
        if any(pytree.is_container(a) for a in args):
            return self._call_tree(args)
        variant, readers = self._entry(args)
        self._last = variant
        meta = variant.meta
        if self.mode == "jvp":
            raise TypeError("call nabla.jvp(fun, primals, tangents)")
        result = running.call(self, variant, readers, meta.entry, args)
        if config.jit and not variant._numba_failed and meta.target != "cuda":
            fast_path.enter(self, variant, readers, args, result)
        return self._finish(meta, result, args)

    def _finish(self, meta, result, args):
        """What a call returns, from what the generated entry function returned."""
        tree = meta.result_tree
        if self.mode == "grad":
            if self.has_aux:
                g, aux = result
                aux = pytree.restructure(pytree.aux_tree(tree), aux)
                if meta.float32:
                    aux = arguments.float32_scalars(aux)
                return self._cast_grads(g, args), aux
            return self._cast_grads(result, args)
        if self.mode == "value_and_grad":
            value, g = result
            if self.has_aux:
                (out, aux) = value
                value = (out, pytree.restructure(pytree.aux_tree(tree), aux))
            if meta.float32:  # Numba returns float32 scalars as Python floats
                value = arguments.float32_scalars(value)
            return value, self._cast_grads(g, args)
        if self.mode in ("jacfwd", "jacrev") and tree is not None:
            if self.has_aux:
                jac, aux = result
                result = (pytree.restructure(pytree.out_tree(tree), jac),
                          pytree.restructure(pytree.aux_tree(tree), aux))
            else:
                result = pytree.restructure(tree, result)
        elif tree is not None:
            result = pytree.restructure(tree, result)
        if meta.float32 and self._derivatives_only():
            # float32 arguments: the derivatives have their dtype, where the function
            # computed through float64 values (np.zeros(n) is float64), as grad's do
            return arguments.float32_scalars(result, arrays=True)
        return arguments.float32_scalars(result) if meta.float32 else result

    def _derivatives_only(self) -> bool:
        """Whether every value this transform returns is a derivative (a Jacobian, a
        batch of gradients), none the function's own value or aux."""
        f = self
        while f.mode == "vmap" and f.inner is not None:
            f = f.inner
        return f.mode in ("jacfwd", "jacrev", "grad") and not f.has_aux

    def _cast_grads(self, g, args):
        idx = self._argnums_resolved.get(len(args))
        if idx is None:
            idx = self._argnums_resolved[len(args)] = self._argnum_tuple(len(args))
        if isinstance(self.argnums, tuple):
            return tuple(arguments.like(gi, args[i]) for gi, i in zip(g, idx))
        return arguments.like(g, args[idx[0]])


class VJPFunction:
    """``vjp_fun``: maps an output cotangent to one cotangent per primal, reusing the
    residuals the forward sweep stored."""

    def __init__(self, f: Function, variant: running.Variant, readers, residuals, primals, active,
                 out):
        self._f = f
        self._variant = variant
        self._readers = readers
        self._residuals = residuals
        self._primals = primals
        self._active = active
        self.__name__ = f"{f.__name__}_vjp"
        # each output's shape, which its cotangent must have
        self._shapes = [np.shape(o) for o in self._leaves(out)] \
            if variant.meta.outputs is not None else [np.shape(out)]

    @property
    def source(self) -> str:
        return self._variant.text

    @property
    def source_path(self) -> str:
        return str(self._variant.path)

    def _leaves(self, nested) -> tuple:
        """The leaves of nested tuples shaped as the output, in the backward function's
        order (the elements themselves for a flat tuple)."""
        paths = self._variant.meta.paths
        if paths is None:
            return tuple(nested)
        out = []
        for path in paths:
            v = nested
            for i in path:
                v = v[i]
            out.append(v)
        return tuple(out)

    def __call__(self, cotangent):
        fn, compiled = running.runner(self._f, self._variant, self._variant.meta.bwd)
        outputs = self._variant.meta.outputs
        tree = self._variant.meta.result_tree
        if tree is not None:
            cotangent = pytree.destructure(
                pytree.out_tree(tree) if self._variant.meta.has_aux else tree, cotangent)
        if self._variant.meta.paths is not None:  # nested tuples: a seed per leaf
            seeds = self._leaves(cotangent)
        elif outputs is None:
            seeds = (cotangent,)
        elif not isinstance(cotangent, (tuple, list)) or len(cotangent) != outputs:
            raise TransformInputError(
                f"{self.__name__}: {self._f.__name__} returns a tuple of {outputs}; the "
                "cotangent must be a tuple of as many", **self._f._where(),
                hint="pass one cotangent per output, shaped like it")
        else:
            seeds = tuple(cotangent)
        for i, (seed, shape) in enumerate(zip(seeds, self._shapes)):
            if np.shape(seed) != shape:
                which = f"output {i}" if len(seeds) > 1 else "the output"
                raise TransformInputError(
                    f"{self.__name__}: the cotangent of {which} has shape {np.shape(seed)}, "
                    f"the output {shape}", **self._f._where(),
                    hint="give the cotangent the shape of its output")
        try:
            grads = fn(*seeds, *self._residuals)
        except numba_errors() as e:
            if not compiled:
                raise
            fns = running.fallback(self._f, self._variant, e)
            grads = fns[self._variant.meta.bwd](*seeds, *self._residuals)
        out = []
        k = 0
        for i, p in enumerate(self._primals):
            if i in self._active:
                out.append(arguments.like(grads[k], p))
                k += 1
            else:
                out.append(arguments.like(0.0, p) if isinstance(p, np.ndarray)
                           else 0.0 * p if isinstance(p, (int, float)) else np.zeros_like(p))
        return tuple(out)


def check_tangents(f: Function, primals, tangents):
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


def run_vjp(f: Function, primals, has_aux: bool):
    variant, readers = f._entry(primals)
    f._last = variant
    result = running.call(f, variant, readers, variant.meta.entry, primals)
    active = [i for i, k in enumerate(primals) if arguments.kind(k) in arguments.FLOAT_KINDS]
    tree = variant.meta.result_tree
    # Numba returns float32 scalars as Python floats: the values come back as NumPy gives them
    like = arguments.float32_scalars if variant.meta.float32 else (lambda v: v)
    if has_aux:
        out, aux, residuals = result
        return (like(pytree.restructure(pytree.out_tree(tree), out)),
                VJPFunction(f, variant, readers, residuals, primals, active, out),
                like(pytree.restructure(pytree.aux_tree(tree), aux)))
    out, residuals = result
    return (like(pytree.restructure(tree, out)),
            VJPFunction(f, variant, readers, residuals, primals, active, out))


def run_jvp(f, primals: tuple, tangents, has_aux: bool):
    """nabla.jvp's call: the generated jvp run on the primals and their tangents (cast to
    the primals' types)."""
    variant, readers = f._entry(primals)
    f._last = variant
    active = [i for i, k in enumerate(primals) if arguments.kind(k) in arguments.FLOAT_KINDS]
    dots = []
    for i in active:
        t = tangents[i]
        p = primals[i]
        dots.append(arguments.like(np.asarray(t), p) if isinstance(p, np.ndarray) else
                    (p.dtype.type(t) if isinstance(p, np.generic) else float(t)))
    result = running.call(f, variant, readers, variant.meta.entry, primals + tuple(dots))
    tree = variant.meta.result_tree
    if tree is not None:
        if has_aux:
            out, dot, aux = result
            o = pytree.out_tree(tree)
            result = (pytree.restructure(o, out), pytree.restructure(o, dot),
                      pytree.restructure(pytree.aux_tree(tree), aux))
        else:
            result = (pytree.restructure(tree, result[0]), pytree.restructure(tree, result[1]))
    return arguments.float32_scalars(result) if variant.meta.float32 else result


def _positional_count(fun) -> int:
    """The number of parameters of the user's function under ``fun``'s transforms, where
    some have default values; else 0."""
    while isinstance(fun, Function):
        fun = fun.fun
    try:
        fn = unwrap(fun)
    except NablaError:  # refused when the transform reads the function
        return 0
    code = getattr(fn, "__code__", None)
    if code is None or not getattr(fn, "__defaults__", None):
        return 0
    return code.co_argcount - len(bound_object(fn))
