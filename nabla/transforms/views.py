"""One reverse pass, many views: the generated functions behind each transform.

``grad`` and ``value_and_grad`` run the forward and adjoint sweeps in one
function seeded with ``seed(out)``; ``vjp`` hands the two sweeps to the
caller as two functions, the first returning the residuals the second needs;
``jvp`` interleaves tangents with the primal; ``jit`` is the canonical primal.

The ``vjp`` view of a function, optimized: the forward function returns the output
and the residuals, the backward one the cotangents from the output's:

>>> import numpy as np
>>> from nabla import syntax
>>> from nabla.transforms.normalize import normalize
>>> def f(x, y):
...     z = x * y
...     return np.sin(z)
>>> for fn in build(normalize(f), "vjp", ["x"]).functions:
...     print(syntax.to_source(fn))
def f_vjp(x, y):
    z = x * y
    out = np.sin(z)
    return (out, (z, x, y))
def f_vjp_bwd(out_bar, z, x, y):
    # return np.sin(z)
    z_bar = out_bar * np.cos(z)
    # z = x * y
    x_bar = unbroadcast(z_bar * y, x)
    return (x_bar,)
"""

from __future__ import annotations

from .. import rules, syntax
from ..errors import NotDifferentiableError, TransformOutputError
from .batching import build_vmap, nest_source, output_paths
from .bodies import assigned_names
from .floats import is_float
from .forward import forward
from .fuse import fuse_sums
from .gather import gather_loops
from .generated import Generated, Meta
from .optimize import is_skipped, live_in, optimize
from .ranks import example_ranks, rank, tuple_element, tuple_length
from .reverse import reverse
from .unroll import unroll


def _keep(canon) -> set[str]:
    return set(canon.user_names) | set(canon.params) | set(canon.free)


class Library:
    """The generated functions of the user's functions that generated code calls, each
    made once per (function, derivative, differentiated parameters) and shared by every
    call: ``h`` (the primal), ``h_jvp`` (value and tangent from tangents of the
    arguments) and ``h_vjp`` (cotangents of the arguments from the result's, recomputing
    the primal inside). A suffix names the parameters when only some are differentiated."""

    def __init__(self):
        self.names: dict[tuple, str] = {}
        self.pending: list[tuple] = []
        self.callees: dict[str, object] = {}  # spelling -> Callee
        self.built: dict[tuple, Generated] = {}  # key -> what was made before ``finish``

    @staticmethod
    def _key(callee, kind: str, pattern=(), ranks=None) -> tuple:
        if ranks is not None and all(r is None for r in ranks):
            ranks = None
        return (callee.spelling, kind, tuple(pattern)) + (() if ranks is None else (ranks,))

    def _request(self, callee, kind: str, pattern=(), ranks=None) -> str:
        """``ranks``: the number of dimensions of each of the callee's parameters at the
        call (a tuple, None where unknown): a callee called with other ranks gets a
        function of its own."""
        self._know(callee)
        key = self._key(callee, kind, pattern, ranks)
        if key not in self.names:
            params = callee.canon.params + callee.canon.free
            name = callee.spelling if kind == "primal" else f"{callee.spelling}_{kind}"
            if kind == "transposed":  # the tangents of all the rule's arguments, or some
                dots = [p for p in params if p.endswith("_dot")]
                if list(pattern) != dots:
                    name += "_" + "_".join(p[:-len("_dot")] for p in pattern)
            elif kind != "primal" and [p for p in params if p in pattern] != callee.canon.params:
                name += "_" + "_".join(pattern)
            if kind != "primal":  # never the name of a function of the user's, or another
                taken = set(self.names.values()) | set(self.callees)
                taken |= {f"{n}_bwd" for n in taken}
                base, k = name, 1
                while name in taken or f"{name}_bwd" in taken:
                    k += 1
                    name = f"{base}_{k}"
            self.names[key] = name
            self.pending.append((key, callee))
        return self.names[key]

    def _know(self, callee):
        if callee.spelling not in self.callees:
            self.callees[callee.spelling] = callee
            for c in list(callee.canon.callees.values()) + list(callee.rules.values()):
                self._know(c)

    def jvp(self, callee, pattern) -> str:
        return self._request(callee, "jvp", pattern)

    def vjp(self, callee, pattern, ranks=None) -> tuple[str, list[str]]:
        """The forward function of ``callee``'s reverse mode, which returns its result and
        then the residuals its backward function (this name + ``_bwd``) takes after the
        result's cotangents; and the residuals' names. Made at once: the caller needs
        to know how many there are."""
        name = self._request(callee, "vjp", pattern, ranks)
        key = self._key(callee, "vjp", pattern, ranks)
        if key not in self.built:
            self.built[key] = self._make(key, callee)
        return name, self.built[key].meta.residuals

    def transposed(self, lin, pattern) -> str:
        """A custom_jvp rule's output tangent (``lin``, see ``nabla.custom``) differentiated
        in reverse with respect to the tangents ``pattern``: the rule transposed."""
        return self._request(lin, "transposed", pattern)

    def remat_vjp(self, callee, pattern, ranks=None) -> str:
        """A checkpointed callee's reverse mode in one function: it recomputes the callee
        from its arguments and returns the arguments' cotangents from the result's."""
        return self._request(callee, "remat_vjp", pattern, ranks)

    def finish(self, functions: list) -> list:
        """The callees' functions that ``functions`` (and they themselves) call."""
        out = []
        done = 0
        scanned = 0
        everything = list(functions)
        while True:
            for f in everything[scanned:]:
                for node in syntax.walk(f):
                    if isinstance(node, syntax.Call) and isinstance(node.func, syntax.Name) \
                            and node.func.id in self.callees:
                        self._request(self.callees[node.func.id], "primal")
            scanned = len(everything)
            if done == len(self.pending):
                return out
            key, callee = self.pending[done]
            done += 1
            gen = self.built.get(key) or self._make(key, callee)
            out.extend(gen.functions)
            everything.extend(gen.functions)

    def _make(self, key, callee) -> Generated:
        kind, pattern = key[1], key[2]
        ranks = key[3] if len(key) > 3 else None
        mode = {"primal": "jit", "jvp": "jvp", "vjp": "callee_vjp",
                "remat_vjp": "callee_remat_vjp", "transposed": "callee_remat_vjp"}[kind]
        return build(callee.canon, mode, list(pattern), lib=self, entry=self.names[key],
                     ranks=None if ranks is None else {
                         p: r for p, r in zip(callee.canon.params + callee.canon.free, ranks)
                         if r is not None})


def build(canon, mode: str, wrt: list[str], has_aux: bool = False,
          tuple_grads: bool = False, lib: Library | None = None,
          entry: str | None = None, options=None, ranks: dict | None = None) -> Generated:
    """Generated functions of ``mode`` for ``canon``, differentiating ``wrt`` (parameter names).
    ``ranks``: the number of dimensions of each parameter, when the call tells them (grad
    then knows which values are scalars).

    The generated functions of the user's functions ``canon`` calls follow the entry's."""
    if lib is None:
        lib = Library()
        for c in canon.callees.values():
            lib._know(c)
        gen = build(canon, mode, wrt, has_aux, tuple_grads, lib, entry, options, ranks)
        gen.functions = gen.functions + lib.finish(gen.functions)
        return gen
    if mode == "vmap":  # options: a batching.Options
        return build_vmap(canon, options, lib, entry, build)
    gen = _build(canon, mode, wrt, has_aux, tuple_grads, lib, entry, ranks, options)
    if ranks and not is_skipped():  # small arrays as scalars, sums in one pass
        for fn in gen.functions:
            params = [a.id for a in fn.args.args]
            fn.body = fuse_sums(unroll(fn.body, ranks, params), ranks, set(wrt))
    return gen


def _optimize_adjoint(body, keep, params):
    """``optimize`` for code with an adjoint sweep: its loops that scatter into a gradient
    array are rewritten in gather form (gather.py), and what that leaves optimized again."""
    body = optimize(body, keep, params)
    if is_skipped():
        return body
    gathered = gather_loops(body, keep)
    return body if gathered is body else optimize(gathered, keep, params)


def _build(canon, mode, wrt, has_aux, tuple_grads, lib, entry, ranks=None,
           why=None) -> Generated:
    """``ranks``: the parameters' numbers of dimensions, when the call tells them;
    ``why`` (jacfwd): why the vector forward mode was not used, for the comment."""
    name = canon.name
    params = canon.params + canon.free
    keep = _keep(canon)
    meta = Meta(mode, params=canon.params, free=canon.free, free_sources=canon.free_sources,
                wrt=wrt, has_aux=has_aux, result_tree=canon.result_tree)
    if has_aux and not (isinstance(canon.result, syntax.Tuple) and len(canon.result.elts) == 2):
        raise TransformOutputError(
            f"has_aux=True: {canon.parsed.fn.__name__} must return a pair (output, aux)",
            **canon.parsed.where(canon.parsed.tree),
            hint="return (output, aux), or drop has_aux=True")
    if mode == "jit":
        body = optimize(canon.body + [syntax.ret(canon.result)], keep, params)
        entry = entry or name
        return Generated([syntax.function_def(entry, params, body)], entry, meta)

    if mode == "callee_remat_vjp":
        sw = reverse(canon, wrt, lib=lib, each_output=True, ranks=ranks)
        grads = syntax.tuple_(sw.grads) if len(sw.grads) > 1 else sw.grads[0]
        body = sw.forward + [syntax.comment("adjoint sweep")] + sw.adjoint
        body = _optimize_adjoint(body + [syntax.ret(grads)], keep | set(sw.seeds),
                                 params + sw.seeds)
        return Generated([syntax.function_def(entry, params + sw.seeds, body)], entry, meta)
    if mode == "callee_vjp":
        return _callee_vjp(canon, wrt, lib, entry, ranks, meta)

    if mode in ("grad_forward", "value_and_grad_forward"):
        return _grad_forward(canon, mode, wrt, has_aux, tuple_grads, lib, meta, ranks)
    if mode in ("grad", "value_and_grad"):
        sw = reverse(canon, wrt, has_aux, scalar_out=True, lib=lib, ranks=ranks)
        seed = syntax.assign(sw.seed, syntax.call(syntax.load("seed"), [syntax.clone(sw.out)]))
        sweep = "adjoint sweep"
        primal = canon.result if not has_aux else canon.result.elts[0] if isinstance(
            canon.result, syntax.Tuple) else None
        if mode == "grad" and ranks is not None and primal is not None and is_float(
                canon, primal, set(wrt)) and rank(primal, example_ranks(canon, ranks),
                                                  canon) == 0:
            # seed's check always passes: its 1.0 needs nothing of out, which grad does
            # not return (floats.py)
            seed = syntax.assign(sw.seed, syntax.const(1.0))
            sweep = ("adjoint sweep, from 1.0: grad returns no value, so the value is not "
                     "computed")
        grads = syntax.tuple_(sw.grads) if tuple_grads else sw.grads[0]
        aux = sw.result.elts[1] if has_aux else None
        kept = []
        restored = assigned_names(sw.adjoint)

        def returned(atom):
            """``atom``, or a copy of it taken before the adjoint sweep restores it (the
            variable of a loop)."""
            if isinstance(atom, syntax.Name) and atom.id in restored:
                copy = canon.namer.fresh(f"{atom.id}_value")
                kept.append(syntax.assign(copy, syntax.clone(atom)))
                return syntax.load(copy)
            return atom
        if has_aux:
            aux = returned(aux)
        if mode == "grad":
            value = syntax.tuple_([grads, aux]) if has_aux else grads
        else:
            result = returned(sw.out)
            out = syntax.tuple_([result, aux]) if has_aux else result
            value = syntax.tuple_([out, grads])
        body = sw.forward + kept + [syntax.comment(sweep), seed] + sw.adjoint
        out_keep = {sw.out.id} if isinstance(sw.out, syntax.Name) else set()
        out_keep |= {k.targets[0].id for k in kept}
        body = _optimize_adjoint(body + [syntax.ret(value)], keep | out_keep, params)
        entry = f"{name}_{mode}"
        return Generated([syntax.function_def(entry, params, body)], entry, meta)

    if mode == "jvp":
        fw = forward(canon, wrt, lib)
        tangent_params = [fw.tangents[p] for p in wrt]
        if has_aux:
            value = syntax.tuple_([fw.result.elts[0], fw.result_dot.elts[0], fw.result.elts[1]])
        else:
            value = syntax.tuple_([fw.result, fw.result_dot])
        body = optimize(fw.body + [syntax.ret(value)], keep | set(tangent_params),
                        params + tangent_params)
        entry = entry or f"{name}_jvp"
        meta.tangents = tangent_params
        # tangents follow the user's parameters; free values come last, as in every view
        signature = canon.params + tangent_params + canon.free
        return Generated([syntax.function_def(entry, signature, body)], entry, meta)

    if mode == "vjp":
        if has_aux and _outputs(canon, True) is not None:
            raise NotDifferentiableError(
                "vjp with has_aux of a function whose output is a tuple is not supported yet",
                **canon.parsed.where(canon.parsed.tree),
                hint="return one array as the output, or use jvp / jacfwd")
        outputs = None if has_aux else _outputs(canon, False)
        if outputs is not None:
            # a tuple output: the backward function takes one cotangent per leaf
            paths = _leaves(canon, False)
            leaves = [_leaf_atom(canon, p) for p in paths]
            if any(a is None for a in leaves):
                raise NotDifferentiableError(
                    "vjp of a function returning a tuple a call returned, nested in its "
                    "output, is not supported yet", **canon.parsed.where(canon.parsed.tree),
                    hint="return the call's elements: a, b = h(x); return (a, b), c")
            sw = reverse(canon, wrt, lib=lib, each_output=True, outs=leaves)
            sw.out = canon.result
            meta.outputs = len(paths)
            if any(len(p) > 1 for p in paths):  # nested: where each leaf's cotangent is
                meta.paths = [list(p) for p in paths]
        else:
            sw = reverse(canon, wrt, has_aux, lib=lib)
        seeds = sw.seeds if outputs is not None else [sw.seed]
        bwd_body, residuals = _backward(sw, syntax.tuple_(sw.grads), seeds, params, keep)
        res = syntax.tuple_([syntax.load(r) for r in residuals])
        if has_aux:
            value = syntax.tuple_([sw.out, sw.result.elts[1], res])
        else:
            value = syntax.tuple_([sw.out, res])
        out_keep = {n.id for n in ([sw.out] if not isinstance(sw.out, syntax.Tuple)
                                   else sw.out.elts) if isinstance(n, syntax.Name)}
        fwd_body = optimize(sw.forward + [syntax.ret(value)], keep | set(residuals) | out_keep,
                            params)
        bwd_body = _copies_of_updated(bwd_body, residuals) + bwd_body
        entry = entry or f"{name}_vjp"
        bwd = f"{entry}_bwd"
        meta.bwd = bwd
        meta.residuals = residuals
        return Generated([syntax.function_def(entry, params, fwd_body),
                          syntax.function_def(bwd, seeds + residuals, bwd_body)],
                         entry, meta)
    if mode == "jacfwd":
        return _jacfwd(canon, wrt, has_aux, tuple_grads, lib, meta, why)
    if mode == "jacrev":
        return _jacrev(canon, wrt, has_aux, tuple_grads, lib, meta)
    raise ValueError(f"unknown mode {mode!r}")


def _callee_vjp(canon, wrt, lib, entry, ranks, meta) -> Generated:
    """A callee's reverse mode in two functions: ``entry`` returns its result and then the
    residuals (what the backward sweep reads) but its parameters, ``entry_bwd`` takes the result's
    cotangents and the residuals and returns the cotangents of the parameters ``wrt``.
    The caller keeps the residuals where it calls the callee: nothing is computed twice."""
    params = canon.params + canon.free
    keep = _keep(canon)
    sw = reverse(canon, wrt, lib=lib, each_output=True, ranks=ranks)
    grads = syntax.tuple_(sw.grads) if len(sw.grads) > 1 else sw.grads[0]
    seeds = set(sw.seeds)
    bwd_body, residuals = _backward(sw, grads, sw.seeds, params, keep)
    # what costs nothing to compute again (sizes, slices) is computed again, not kept
    recomputed, residuals = _rematerialized(sw.forward, residuals, params,
                                            _updated_in_place(bwd_body))
    if recomputed:
        bwd_body = optimize(recomputed + bwd_body, keep | set(residuals) | seeds,
                            set(residuals) | seeds)
    out = sw.out
    out_keep = {n.id for n in (out.elts if isinstance(out, syntax.Tuple) else [out])
                if isinstance(n, syntax.Name)}
    # the parameters among them the caller passes again: it has them
    value = syntax.tuple_([out] + [syntax.load(r) for r in residuals if r not in params])
    fwd_body = optimize(sw.forward + [syntax.ret(value)], keep | set(residuals) | out_keep,
                        params)
    copies = _copies_of_updated(bwd_body, residuals)
    meta.bwd = f"{entry}_bwd"
    meta.residuals = residuals
    return Generated([syntax.function_def(entry, params, fwd_body),
                      syntax.function_def(meta.bwd, sw.seeds + residuals, copies + bwd_body)],
                     entry, meta)


def _backward(sw, grads, seeds, params, keep) -> tuple[list, list]:
    """(the adjoint sweep as a backward function's body, returning ``grads``; the names
    of the forward sweep it reads, in order of first use, for readability)."""
    forward_names = set(params) | assigned_names(sw.forward)
    body = _optimize_adjoint(sw.adjoint + [syntax.ret(grads)], keep | forward_names
                             | set(seeds), forward_names | set(seeds))
    live = live_in(body)
    residuals = []
    for s in syntax.walk_statements(body):
        for n in syntax.names_loaded(s):
            if n in live and n in forward_names and n not in residuals and n not in seeds:
                residuals.append(n)
    return body, residuals


def _copies_of_updated(bwd_body, residuals) -> list:
    """A backward function may run many times with the same residuals (jacrev's basis
    directions): those it updates in place (restoring what the forward sweep overwrote)
    it copies first."""
    updated = _updated_in_place(bwd_body) & set(residuals)
    return [syntax.assign(r, syntax.call(syntax.load("snapshot"), [syntax.load(r)]))
            for r in residuals if r in updated]


def _rematerialized(forward, residuals, params, updated) -> tuple[list, list]:
    """(statements the backward function runs first, the residuals left): a residual the
    forward sweep computes cheaply from the parameters alone — an integer from sizes and
    integer constants (``b = x.shape[0]``, ``2 * b``), a slice of an array (``w[b:2 * b]``,
    a view) — is computed again rather than returned and passed back."""
    counts: dict = {}
    for st in syntax.walk_statements(forward):
        if isinstance(st, syntax.Assign) and isinstance(st.targets[0], syntax.Name):
            counts[st.targets[0].id] = counts.get(st.targets[0].id, 0) + 1
    defs, order = {}, {}
    for i, st in enumerate(forward):  # the function's own block only, in order
        if isinstance(st, syntax.Assign) and isinstance(st.targets[0], syntax.Name) and \
                counts[st.targets[0].id] == 1:
            defs[st.targets[0].id] = st.value
            order[st.targets[0].id] = i
    ints: set[str] = set()  # names known to hold an int
    shapes: set[str] = set()  # names holding an array's shape (a tuple of ints)
    cheap: set[str] = set()

    def integral(node) -> bool:
        if isinstance(node, syntax.Constant):
            return type(node.value) is int
        if isinstance(node, syntax.Name):
            return node.id in ints
        if isinstance(node, syntax.Subscript):
            value = node.value
            of_shape = (isinstance(value, syntax.Attribute) and value.attr == "shape") or (
                isinstance(value, syntax.Name) and value.id in shapes)
            return of_shape and integral(node.slice)
        if isinstance(node, syntax.Attribute):
            return node.attr in ("ndim", "size")
        if isinstance(node, syntax.BinOp) and syntax.operator(node) in ("+", "-", "*", "//"):
            return integral(node.left) and integral(node.right)
        return False

    def slice_of(node) -> bool:
        """An array's basic slice or element: a view, no computation."""
        if not (isinstance(node, syntax.Subscript) and isinstance(node.value, syntax.Name)):
            return False
        index = node.slice
        parts = index.elts if isinstance(index, syntax.Tuple) else [index]
        return all(integral(p) or (isinstance(p, syntax.Slice) and all(
            q is None or integral(q) for q in (p.lower, p.upper, p.step))) for p in parts)

    changed = True
    while changed:  # what the parameters alone give cheaply
        changed = False
        for name, value in defs.items():
            if name in cheap or name in updated or not all(
                    n in params or n in cheap for n in syntax.names_loaded(value)):
                continue
            if isinstance(value, syntax.Attribute) and value.attr == "shape":
                shapes.add(name)
            elif integral(value):
                ints.add(name)
            elif not slice_of(value):
                continue
            cheap.add(name)
            changed = True
    again = [r for r in residuals if r in cheap and r not in params]
    needed: set[str] = set()
    stack = list(again)
    while stack:  # and what they are computed from
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        stack.extend(m for m in syntax.names_loaded(defs[n]) if m in cheap)
    kept = [r for r in residuals if r not in again]
    for n in sorted(needed, key=order.get):
        for m in syntax.names_loaded(defs[n]):
            if m in params and m not in kept:
                kept.append(m)  # a parameter read: the caller passes it back
    return [syntax.assign(n, syntax.clone(defs[n])) for n in sorted(needed, key=order.get)], kept


def _updated_in_place(body) -> set[str]:
    """Names whose arrays ``body`` writes into or hands to a helper that updates in place."""
    out = set()
    for stmt in syntax.walk_statements(body):
        for node in syntax.walk(stmt):
            if isinstance(node, syntax.Assign) and isinstance(node.targets[0], syntax.Subscript):
                base = node.targets[0].value
                if isinstance(base, syntax.Name):
                    out.add(base.id)
            if isinstance(node, syntax.Call) and isinstance(node.func, syntax.Name) and \
                    rules.fact(node.func.id, "in_place") and node.args:
                rule = rules.lookup(node.func.id)
                changed = [0] + [rule.params.index(p) for p in rule.updates]
                out.update(node.args[k].id for k in changed if k < len(node.args)
                           and isinstance(node.args[k], syntax.Name))
    return out


def _stmts(text: str) -> list:
    """Statements of nabla's own (no line of the user's: the text's line numbers are not)."""
    body = list(syntax.parse_module(text).body)
    for stmt in body:
        for node in syntax.walk(stmt):
            for attr in ("lineno", "end_lineno"):
                if getattr(node, attr, None) is not None:
                    setattr(node, attr, None)
    return body


def _outputs(canon, has_aux: bool) -> int | None:
    """How many values the differentiated output has: None for one, k for a tuple of k."""
    out = canon.result.elts[0] if has_aux else canon.result
    if isinstance(out, syntax.Tuple):
        return len(out.elts)
    return tuple_length(canon, out)


def _leaves(canon, has_aux: bool) -> list[tuple]:
    """The paths of the differentiated output's leaves in its nested tuples: ``[()]`` for
    one array, ``[(0,), (1,)]`` for a pair, ``[(0, 0), (0, 1), (1,)]`` for ((a, b), c)."""
    paths = output_paths(canon)
    return [p[1:] for p in paths if p[:1] == (0,)] if has_aux else paths


def _leaf_atom(canon, path):
    """The atom at ``path`` in the returned nested tuples (None: inside a tuple a call
    returned)."""
    atom = canon.result
    for i in path:
        atom = tuple_element(canon, atom, i) if atom is not None else None
    return atom


def _nested(jacs, paths, tuple_grads: bool) -> str:
    """``jacs[o][a]`` (output leaf o at ``paths[o]``, argument a) nested as JAX nests them:
    the output's tuples outside, a tuple over the arguments for tuple argnums inside."""
    rows = [f"({', '.join(row)},)" if tuple_grads else row[0] for row in jacs]
    return nest_source(paths, rows)


def _suffix(paths, o: int) -> str:
    """What names output leaf ``o``'s Jacobian apart (nothing for a single output)."""
    return str(o) if paths != [()] else ""


def _at(path) -> str:
    return "".join(f"[{i}]" for i in path)


def jacfwd_vector(canon, wrt, has_aux, tuple_grads, vmapped: Generated) -> Generated:
    """The Jacobian in vector forward mode: one call of the jvp mapped over its tangents
    (``vmapped``, the vector form of ``vmap`` of the jvp with the primals unbatched), the
    tangents holding every basis direction of every argument on axis 0; the primal runs
    once. Column block ``a`` of the tangents of the output is the Jacobian for ``wrt[a]``."""
    name = canon.name
    params = canon.params + canon.free
    fresh = canon.namer.fresh
    paths = _leaves(canon, has_aux)
    n, both = fresh("n"), fresh("both")
    counts = [fresh(f"{p}_n") for p in wrt]
    lines = [f"{c} = basis_count({p})" for c, p in zip(counts, wrt)]
    lines.append(f"{n} = {' + '.join(counts)}")
    starts = [" + ".join(counts[:a]) or "0" for a in range(len(wrt))]
    dirs = [fresh(f"{p}_dirs") for p in wrt]
    for d, p, start in zip(dirs, wrt, starts):
        lines.append(f"{d} = basis_block({p}, {start}, {n})")
    lines.append(f"{both} = {vmapped.entry}({', '.join(canon.params + dirs + canon.free)})")
    jacs = [[None] * len(wrt) for _ in paths]
    for o, path in enumerate(paths):
        out, dots = f"{both}[0]{_at(path)}", f"{both}[1]{_at(path)}"
        for a, (p, start) in enumerate(zip(wrt, starts)):
            jacs[o][a] = fresh(f"{p}_jac{_suffix(paths, o)}")
            lines.append(f"{jacs[o][a]} = jac_block({dots}, {start}, {out}, {p})")
    value = _nested(jacs, paths, tuple_grads)
    lines.append(f"return ({value}, {both}[2])" if has_aux else f"return {value}")
    body = [syntax.comment("vector forward mode: every basis direction of "
                           f"{', '.join(wrt)} in one pass of the jvp (the directions on "
                           "axis 0 of the tangents), the primal computed once")]
    body += _stmts("\n".join(lines))
    entry = f"{name}_jacfwd"
    meta = Meta("jacfwd", params=canon.params, free=canon.free,
                free_sources=canon.free_sources, wrt=wrt, has_aux=has_aux,
                result_tree=canon.result_tree, own=1, form="vector", jvp=vmapped.entry)
    return Generated([syntax.function_def(entry, params, body)] + vmapped.functions, entry,
                     meta)


def _jacfwd(canon, wrt, has_aux, tuple_grads, lib, meta, why=None) -> Generated:
    """The Jacobian a column at a time: the jvp along each basis direction of an argument."""
    name = canon.name
    params = canon.params + canon.free
    jvp = _build(canon, "jvp", wrt, has_aux, False, lib, f"{name}_jvp")
    paths = _leaves(canon, has_aux)
    lines = []
    jacs = [[None] * len(wrt) for _ in paths]
    aux = None
    for a, p in enumerate(wrt):
        def call(direction, p=p):
            dots = [direction if q == p else f"zero_like({q})" for q in wrt]
            return f"{jvp.entry}({', '.join(canon.params + dots + canon.free)})"
        col = f"{p}_col"
        lines.append(f"{p}_first = {call(f'basis({p}, 0)')}")
        if has_aux and aux is None:
            aux = "aux"
            lines.append(f"aux = {p}_first[2]")
        cols = [f"{p}_first[1]{_at(path)}" for path in paths]
        for o in range(len(paths)):
            jac = f"{p}_jac{_suffix(paths, o)}"
            jacs[o][a] = jac
            lines.append(f"{jac} = jac_column(jac_like({cols[o]}, {p}), 0, {cols[o]})")
        lines.append(f"for j in range(1, basis_count({p})):")
        lines.append(f"    {col} = {call(f'basis({p}, j)')}[1]")
        for o, path in enumerate(paths):
            lines.append(f"    {jacs[o][a]} = jac_column({jacs[o][a]}, j, {col}{_at(path)})")
    value = _nested(jacs, paths, tuple_grads)
    lines.append(f"return ({value}, {aux})" if has_aux else f"return {value}")
    entry = f"{name}_jacfwd"
    comment = "column j of a Jacobian: the jvp along basis direction j"
    if why:
        comment += f" (not the vector forward mode: {why})"
    body = [syntax.comment(comment)]
    body += _stmts("\n".join(lines))
    meta = meta.but(jvp=jvp.entry, own=2)
    return Generated([syntax.function_def(entry, params, body)] + jvp.functions, entry, meta)


def _grad_forward(canon, mode, wrt, has_aux, tuple_grads, lib, meta, ranks=None) -> Generated:
    """The gradient in forward mode: the jvp along each basis direction of each argument
    (one pass for a scalar: ``ranks`` says which are), with no tape. ``mode="auto"``
    picks it for a scalar."""
    name = canon.name
    params = canon.params + canon.free
    jvp = _build(canon, "jvp", wrt, has_aux, False, lib, f"{name}_jvp")
    fresh = canon.namer.fresh  # names of the entry function: none of the user's
    out, one, aux, j = fresh("out"), fresh("one"), fresh("aux") if has_aux else None, fresh("j")
    lines = []
    grads = []
    for a, p in enumerate(wrt):
        def call(direction, p=p):
            dots = [direction if q == p else f"zero_like({q})" for q in wrt]
            return f"{jvp.entry}({', '.join(canon.params + dots + canon.free)})"
        first, g = fresh(f"{p}_first"), fresh(f"{p}_bar")
        lines.append(f"{first} = {call(f'basis({p}, 0)')}")
        if a == 0:
            lines.append(f"{out} = {first}[0]")
            if has_aux:
                lines.append(f"{aux} = {first}[2]")
            # a scalar float output, else the error grad gives in reverse mode
            lines.append(f"{one} = seed({out})")
        if ranks is not None and ranks.get(p) == 0:  # one direction: the derivative itself
            lines.append(f"{g} = {one} * {first}[1]")
        else:
            lines.append(f"{g} = jac_column(jac_like({out}, {p}), 0, {one} * {first}[1])")
            lines.append(f"for {j} in range(1, basis_count({p})):")
            lines.append(f"    {g} = jac_column({g}, {j}, {call(f'basis({p}, {j})')}[1])")
        grads.append(g)
    g = f"({', '.join(grads)},)" if tuple_grads else grads[0]
    if mode == "grad_forward":
        value = f"({g}, {aux})" if has_aux else g
    else:
        value = f"(({out}, {aux}), {g})" if has_aux else f"({out}, {g})"
    lines.append(f"return {value}")
    entry = f"{name}_{mode[:-len('_forward')]}"
    scalar = ranks is not None and all(ranks.get(p) == 0 for p in wrt)
    body = [syntax.comment(
        f"forward mode: the jvp along {wrt[0]}, no tape" if scalar and len(wrt) == 1 else
        "forward mode: the jvp along each direction of the arguments, no tape")]
    body += _stmts("\n".join(lines))
    meta = meta.but(jvp=jvp.entry, own=2, mode=mode)
    return Generated([syntax.function_def(entry, params, body)] + jvp.functions, entry, meta)


def _jacrev(canon, wrt, has_aux, tuple_grads, lib, meta) -> Generated:
    """The Jacobian a row at a time: the vjp of each basis direction of the output, after
    one forward sweep (of each output's, for a tuple, the others' cotangents zero)."""
    name = canon.name
    params = canon.params + canon.free
    outputs = _outputs(canon, has_aux)
    if outputs is not None and has_aux:
        raise NotDifferentiableError(
            "jacrev with has_aux of a function returning a tuple is not supported yet",
            **canon.parsed.where(canon.parsed.tree), hint="use jacfwd")
    vjp = _build(canon, "vjp", wrt, has_aux, False, lib, f"{name}_vjp")
    residuals = vjp.meta.residuals
    lines = [f"forward = {vjp.entry}({', '.join(params)})", "out = forward[0]"]
    lines.append(f"res = forward[{2 if has_aux else 1}]")
    if has_aux:
        lines.append("aux = forward[1]")
    res = "".join(f", res[{i}]" for i in range(len(residuals)))
    paths = [()] if outputs is None else _leaves(canon, has_aux)
    k = len(paths)
    outs = [f"out{_at(path)}" for path in paths]
    jacs = [[f"{p}_jac{_suffix(paths, o)}" for p in wrt] for o in range(k)]
    for o in range(k):
        for a, p in enumerate(wrt):
            lines.append(f"{jacs[o][a]} = jac_like({outs[o]}, {p})")
        i = "i" if outputs is None else f"i{o}"
        seeds = ", ".join(f"basis({outs[q]}, {i})" if q == o else f"zero_like({outs[q]})"
                          for q in range(k))
        bars = "bars" if outputs is None else f"bars{o}"  # one per loop: none carried
        lines.append(f"for {i} in range(basis_count({outs[o]})):")
        lines.append(f"    {bars} = {vjp.meta.bwd}({seeds}{res})")
        for a in range(len(wrt)):
            lines.append(f"    {jacs[o][a]} = jac_row({jacs[o][a]}, {i}, {bars}[{a}])")
    value = _nested(jacs, paths, tuple_grads)
    lines.append(f"return ({value}, aux)" if has_aux else f"return {value}")
    entry = f"{name}_jacrev"
    body = [syntax.comment("row i of a Jacobian: the vjp of basis direction i of the output")]
    body += _stmts("\n".join(lines))
    meta = meta.but(bwd=vjp.meta.bwd, residuals=residuals, own=3)
    return Generated([syntax.function_def(entry, params, body)] + vjp.functions, entry, meta)
