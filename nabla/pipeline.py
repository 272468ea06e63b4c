"""The generated module of one call pattern of a ``Function``: the passes, in order.

A variant is keyed by everything the generated code depends on (the user's source and
what its names reach, the transform and its options, the dtypes' flavour); a key the
disk cache holds is read back (``codegen.cache``), else the function is made::

    normalize      the user's function (or the inner transform's generated code) in
                   canonical form                          transforms/normalize.py
    build          the transform's generated functions     transforms/views.py
                   (vmap: transforms/batching.py; jacfwd's vector form: views + batching)
    own_updates    in-place updates of shared arrays copied transforms/ownership.py
    render         module text, comments, line map         codegen/source.py
    write          the cache entry, signed                  codegen/cache.py
"""

from __future__ import annotations

from . import arguments, pytree, running
from .codegen import cache as disk
from .codegen.source import merge_modules, render_module
from .errors import TransformOutputError
from .frontend.parse import source_lines
from .frontend.resolve import reach
from .transforms.batching import Options, VectorFormUnavailable
from .transforms.normalize import normalize
from .transforms.ownership import own_updates
from .transforms.views import build, jacfwd_vector


def variant(f, float32: bool, active: tuple, ranks: tuple | None = None,
            forward: bool | None = None, arg_ranks: tuple | None = None) -> running.Variant:
    """The generated module of ``f`` for one call pattern, made once per ``Function``.

    ``active``: the differentiated arguments (vmap: one axis or None each); ``ranks``
    (vmap, jacfwd): the number of dimensions of each argument in one example; ``forward``
    (grad, value_and_grad): forward mode (None: as ``mode`` says without arguments to look
    at: reverse unless mode="forward"); ``arg_ranks`` (reverse-mode grad): the number of
    dimensions of each argument, which tell the transform which values are scalars."""
    if forward is None:
        forward = f.direction == "forward"
    if f.mode not in ("grad", "value_and_grad"):
        forward = False
    if forward or f.mode not in ("grad", "value_and_grad") or f.inner is not None:
        arg_ranks = None
    vkey = (float32, active, ranks, forward, arg_ranks)
    made = f._variants.get(vkey)
    if made is not None:
        return made
    inner = inner_variant(f, float32, ranks) if f.inner is not None else None
    key = cache_key(f, inner, float32, active, ranks, forward, arg_ranks)
    hit = disk.read(key)
    if hit is not None:
        text, meta = hit
        line_map = {int(k): v for k, v in meta.pop("line_map").items()}
        path = disk.entry_dir() / f"{key}.py"
    else:
        text, meta, line_map = generate(f, inner, float32, active, ranks, forward, arg_ranks)
        path = disk.write(key, text, dict(meta, line_map=line_map))
    made = running.Variant(text=text, path=path, meta=dict(meta, float32=float32),
                           line_map=line_map, name=f.__name__, key=key)
    f._variants[vkey] = made
    return made


def generate(f, inner, float32, active, ranks, forward, arg_ranks) -> tuple:
    """(module text, meta, line map): the passes, in order."""
    canon = normalize(f._plain(), f.trees) if inner is None else normalize_generated(inner)
    gen = transform(f, canon, inner, float32, active, ranks, forward, arg_ranks)
    # generated code never updates in place an array another name or the caller holds
    gen.functions = [own_updates(fn) for fn in gen.functions]
    comment = header(f, canon, float32, active, gen.meta, forward)
    rendered = render_module(gen.functions, comment, float32=float32, mapped=gen.own)
    text = rendered.text
    if f.mode == "vmap" and gen.meta.get("form") == "loop" and inner is not None:
        # the loop form calls the inner transform's functions: as it wrote them
        text = merge_modules(text, inner.text)
    return text, dict(gen.meta, entry=gen.entry), rendered.line_map


def transform(f, canon, inner, float32, active, ranks, forward, arg_ranks):
    """The transform's generated functions (a ``views.Generated``) for ``canon``."""
    if f.mode == "vmap":
        b = f.batching
        options = Options(in_axes=active, out_axes=b["out_axes"], axis_size=b["axis_size"],
                          target=b["target"],
                          example=inner.meta["entry"] if inner is not None else None,
                          ranks=ranks)
        return build(canon, "vmap", [], options=options)
    wrt = [canon.params[i] for i in active]
    why = None
    if f.mode == "jacfwd":
        gen, why = vector_jacfwd(f, canon, float32, active, ranks)
        if gen is not None:
            return gen
    return build(canon, f"{f.mode}_forward" if forward else f.mode, wrt, f.has_aux,
                 isinstance(f.argnums, tuple), options=why,
                 ranks=None if arg_ranks is None else dict(zip(canon.params, arg_ranks)))


def cache_key(f, inner, float32, active, ranks, forward, arg_ranks) -> str:
    """Everything the generated code depends on: the user's source and what its names
    reach (or the inner transform's key), the transform and its options, the dtypes'
    flavour. The functions the names reach are watched from here on (``f._watch``)."""
    options = None if f.batching is None else repr((sorted(f.batching.items()), ranks))
    if f.mode == "jacfwd" and ranks is not None:
        options = repr(("ranks", ranks))
    if inner is not None:
        return disk.make_key(inner.key, f.mode, active, f.has_aux,
                             isinstance(f.argnums, tuple), float32, options, forward)
    fn = f._plain()
    src = "".join(source_lines(fn)[0])
    trees = None if f.trees is None else [pytree.describe(t) for t in f.trees]
    reached = reach(fn)
    f._watch(reached.bindings)
    return disk.make_key(src, fn.__code__.co_filename, reached.described, f.mode, active,
                         f.has_aux, isinstance(f.argnums, tuple), float32, trees, options,
                         forward, *(() if arg_ranks is None else (arg_ranks,)))


def readable_variant(f, float32: bool, forward: bool | None = None):
    """The generated module other transforms read. A vmap with a parallel or cuda
    target is read in its cpu form (the same values, in source the transforms read)."""
    if f.batching is not None and f.batching["target"] != "cpu":
        f = cpu_twin(f)
    return variant(f, float32, f._default_active(), forward=forward)


def inner_variant(f, float32: bool, ranks: tuple | None = None):
    """The inner transform's generated module for arguments like these. A vmap knows
    the ranks of the examples: a grad with mode="auto" inside it differentiates a
    single scalar in forward mode, as it would called on one example."""
    inner = f.inner
    forward = None
    if ranks is not None and inner.mode == "jacfwd" and f.batching is not None \
            and f.batching["target"] != "cuda":
        # the examples' ranks let the jacfwd run in vector forward mode (on the CPU: a
        # kernel allocates no arrays)
        return variant(inner, float32, inner._default_active(), ranks)
    if ranks is not None and inner.mode in ("grad", "value_and_grad") and \
            inner.direction == "auto":
        active = inner._default_active()
        forward = (len(active) <= arguments.AUTO_FORWARD_SCALARS
                   and all(ranks[i] == 0 for i in active))
    return readable_variant(inner, float32, forward)


def cpu_twin(f):
    """The cpu form of a vmap with a parallel or cuda target."""
    twin = f._flat.get("cpu")
    if twin is None:
        twin = type(f)(f.inner if f.inner is not None else f.fun, "vmap")
        twin.batching = dict(f.batching, target="cpu")
        twin.axes, twin.trees = f.axes, f.trees
        f._flat["cpu"] = twin
    return twin


def vector_jacfwd(f, canon, float32: bool, active: tuple, ranks):
    """jacfwd in vector forward mode (its Generated, None) — the jvp's generated code
    mapped over its tangents in the vector form of vmap, the primals unbatched — or
    (None, why not) where the vector form does not apply (or the arguments' ranks are
    not known: another transform reads this one)."""
    if ranks is None:  # the per-direction loop, its comment as it always was
        return None, None
    jv = f._flat.get("jvp")
    if jv is None:
        jv = type(f)(f.inner if f.inner is not None else f.fun, "jvp", has_aux=f.has_aux)
        jv.trees = f.trees
        f._flat["jvp"] = jv
    inner = variant(jv, float32, active)
    jcanon = normalize_generated(inner)
    ntan = len(inner.meta["tangents"])
    jcanon.params = jcanon.params + jcanon.free[:ntan]
    jcanon.free = jcanon.free[ntan:]
    nprim = len(inner.meta["params"])
    options = Options(in_axes=(None,) * nprim + (0,) * ntan,
                      out_axes=(None, 0, None) if f.has_aux else (None, 0),
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
    return jacfwd_vector(canon, wrt, f.has_aux, isinstance(f.argnums, tuple),
                         vmapped), None


def header(f, canon, float32: bool, active: tuple, meta: dict,
           forward: bool = False) -> list[str]:
    """The comment lines atop a generated module: what made it, from where, for what."""
    fn = f._plain()
    lines = [f"{f._described()} — generated by nabla from "
             f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}; do not edit"]
    if f.mode == "vmap":
        axes = ", ".join(f"{p} (axis {a})" for p, a in zip(canon.params, active)
                         if a is not None)
        axes = axes or f"nothing (axis_size={f.batching['axis_size']})"
        lines.append(f"batches over: {axes}; the {meta['form']} form, target "
                     f"{f.batching['target']!r}")
    elif f.mode != "jit":
        names = ", ".join(canon.params[i] for i in active) or "nothing"
        reverse = f.mode in ("grad", "value_and_grad", "vjp", "jacrev") and not forward
        lines.append(f"differentiates with respect to: {names} "
                     f"({'reverse' if reverse else 'forward'} mode)")
        if f.mode in ("grad", "value_and_grad"):
            if f.direction == "auto":
                lines.append(
                    'mode="auto" chose it (forward mode differentiates a single scalar '
                    f'argument); mode="{"reverse" if forward else "forward"}" asks for the '
                    "other")
            else:
                lines.append(f'mode="{f.direction}" asked for it')
    lines.append("for float32 arguments: constants are float32" if float32
                 else "for float64 arguments")
    return lines


def normalize_generated(inner: running.Variant):
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
