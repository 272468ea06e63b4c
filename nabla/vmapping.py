"""A vmap's call: its ``in_axes`` resolved against the arguments (one axis, or None, per
leaf of a pytree), the version of the vmap for those axes (a ``Function`` with ``axes``
set, which generates and runs the batched code), and its fast path (only the batch
sizes checked again).

>>> import numpy as np
>>> class V:  # what in_axes_per_argument reads of a vmap
...     batching = {"in_axes": (0, None)}
>>> in_axes_per_argument(V(), 2)
[0, None]
"""

from __future__ import annotations

import numpy as np

from . import arguments, fast_path, pytree, running
from .codegen import numba_cuda
from .errors import TransformInputError


# -- vmap ------------------------------------------------------------------------------
def in_axes_per_argument(f, nparams: int) -> list:
    in_axes = f.batching["in_axes"]
    if in_axes is None or (isinstance(in_axes, int) and not isinstance(in_axes, bool)):
        return [in_axes] * nparams
    if isinstance(in_axes, (tuple, list)):
        if len(in_axes) != nparams:
            raise TransformInputError(
                f"vmap: in_axes={in_axes!r} has {len(in_axes)} entries, but "
                f"{f.__name__} takes {nparams} argument{'s' if nparams != 1 else ''}",
                **f._where(), hint="give one entry per argument, or one int for all")
        return list(in_axes)
    raise TransformInputError(
        f"vmap: in_axes must be an int, None, or a tuple or list with one entry per "
        f"argument, not {in_axes!r}", **f._where(),
        hint="e.g. in_axes=0 or in_axes=(0, None)")


def vmap_axes(f, nparams: int) -> tuple:
    """One axis (or None) per parameter, before a call has shown the arguments."""
    if f.axes is not None:
        return f.axes
    axes = in_axes_per_argument(f, nparams)
    for i, a in enumerate(axes):
        if not (a is None or (isinstance(a, int) and not isinstance(a, bool))):
            raise TransformInputError(
                f"vmap: in_axes entry {a!r} for argument {i} is for a container; the "
                "source is known once the function is called", **f._where(),
                hint="call the function first, then read .source")
    return tuple(axes)


def call_vmap(f, args):
    # the fast path: arguments without containers, of types seen before; only the batch
    # sizes are checked again
    key = tuple(arguments.type_key(a) for a in args)
    fast = f._vmap_calls.get(key)
    if fast is not None:
        sub, batched, axis_size = fast
        sizes = {args[i].shape[ax] for i, ax in batched}
        if axis_size is not None:
            sizes.add(axis_size)
        if len(sizes) == 1:
            result = sub(*args)
            f._last = sub._last
            return result
    sub, leaves = vmap_resolve(f, args)
    plain = not any(pytree.is_container(a) for a in args) and all(
        isinstance(a, np.ndarray) or ax is None for a, ax in zip(args, sub.axes)) \
        and any(ax is not None for ax in sub.axes)
    if plain:
        f._vmap_calls[key] = (sub, [(i, ax) for i, ax in enumerate(sub.axes)
                                       if ax is not None], f.batching["axis_size"])
    result = sub(*leaves)
    f._last = sub._last
    if plain:
        enter_fast_vmap(f, sub, args)
    return result


def enter_fast_vmap(f, sub, args) -> None:
    """The fast path of a vmap: where its version ``sub`` has a fast path for these
    arguments (no containers: its leaves are the arguments), only the batch sizes are
    checked again before it is taken."""
    key = fast_path.fast_key(args)
    inner = sub._fast.get(key)
    if inner is None:
        return
    batched = [(i, ax) for i, ax in enumerate(sub.axes) if ax is not None]
    axis_size = f.batching["axis_size"]
    if axis_size is None:
        (i0, ax0), rest = batched[0], batched[1:]
    else:
        i0, ax0, rest = None, None, batched

    def fast(args):
        size = axis_size if i0 is None else args[i0].shape[ax0]
        for i, ax in rest:
            if args[i].shape[ax] != size:
                return f._call_slow(args)  # refused there, with the sizes named
        result = inner(args)
        f._last = sub._last
        return result

    f._fast_key = fast_path.fast_key_of(len(args))
    f._fast[key] = fast


def vmap_resolve(f, args):
    """The version of this vmap for arguments like ``args`` (one in_axes entry per leaf,
    checked against them), and the arguments' leaves."""
    nparams = f._nparams()
    if len(args) != nparams:
        raise TransformInputError(
            f"{f.__name__} takes {nparams} argument{'s' if nparams != 1 else ''}, "
            f"got {len(args)}", **f._where(), hint="pass every argument positionally")
    per_arg = in_axes_per_argument(f, nparams)
    trees, leaves, axes, owners = [], [], [], []
    for i, (a, entry) in enumerate(zip(args, per_arg)):
        part, tree = pytree.flatten(a)
        trees.append(tree)
        leaves.extend(part)
        axes.extend(leaf_axes(f, entry, tree, i))
        owners.extend([i] * len(part))
    trees = tuple(trees)
    nested = any(t != pytree.LEAF for t in trees)
    inner = f.inner
    chain = inner
    while nested and chain is not None:
        if chain.mode == "vmap":
            raise TransformInputError(
                f"{f._described()} with tuples, lists or dicts as arguments is not "
                "supported yet", **f._where(), hint="pass the arrays as separate arguments")
        chain = chain.inner
    size = None
    axis_size = f.batching["axis_size"]
    for leaf, ax, i in zip(leaves, axes, owners):
        if ax is None:
            continue
        nd = np.ndim(leaf)
        if nd == 0:
            raise TransformInputError(
                f"vmap: argument {i} of {f.__name__} is a scalar; it has no axis {ax} "
                "to map over", **f._where(), hint="give it in_axes None")
        if not -nd <= ax < nd:
            raise TransformInputError(
                f"vmap: in_axes {ax} for argument {i} of {f.__name__}, which has "
                f"{nd} dimension{'s' if nd != 1 else ''}", **f._where(),
                hint=f"use an axis between {-nd} and {nd - 1}")
        n = np.shape(leaf)[ax]
        if size is None:
            size, first = n, i
        elif n != size:
            raise TransformInputError(
                f"vmap got mismatched batch sizes: argument {first} of {f.__name__} "
                f"has {size} along its mapped axis, argument {i} has {n}",
                **f._where(), hint="map over axes of the same length")
    if size is None and axis_size is None:
        raise TransformInputError(
            f"vmap of {f.__name__}: no argument is batched (every in_axes is None) "
            "and no axis_size is given", **f._where(),
            hint="batch an argument, or pass axis_size=n")
    if size is not None and axis_size is not None and size != axis_size:
        raise TransformInputError(
            f"vmap: axis_size={axis_size} but argument {first} of {f.__name__} has "
            f"{size} along its mapped axis", **f._where(),
            hint="leave axis_size out when an argument is batched")
    key = (trees if nested else None, tuple(axes))
    sub = f._by_axes.get(key)
    if sub is None:
        fun = inner if inner is not None else f.fun
        if nested and inner is not None:  # per-example gradients of pytrees
            fun = inner._flat_version(trees)
        sub = type(f)(fun, "vmap")
        sub._positional = 0  # called with every leaf
        sub.batching = f.batching
        sub.axes = tuple(axes)
        sub.trees = trees if nested else None
        f._by_axes[key] = sub
    return sub, leaves


def leaf_axes(f, entry, tree, i: int) -> list:
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
            return [a for k, t in zip(tree[1], tree[2]) for a in leaf_axes(f,
                entry[k], t, i)]
    elif isinstance(entry, (tuple, list)):
        kids = pytree.children(tree) if kind in ("tuple", "list", "namedtuple", "dataclass") \
            else None
        if kids is None or len(kids) != len(entry):
            bad = "a tuple or list of axes needs a tuple or list argument of its length"
        else:
            return [a for e, (_, t) in zip(entry, kids) for a in leaf_axes(f, e, t, i)]
    else:
        bad = "axes are ints or None"
    raise TransformInputError(
        f"vmap: in_axes entry {entry!r} does not fit argument {i} of {f.__name__} "
        f"({pytree.describe(tree)}): {bad}", **f._where(),
        hint="give an int (or None) for the whole argument, or its structure of axes")


def compile_ptx(f, *args, cc=(8, 0)) -> str:
    """The PTX of the kernel that ``f`` (a ``vmap(..., target="cuda")``) runs for ``args``,
    compiled without a GPU: a kernel that compiles here compiles for the device."""

    sub, leaves = vmap_resolve(f, args)
    variant, readers = sub._prepare(leaves)
    allargs = list(leaves) + [r() for r in readers]
    runner = running.cuda_runner(sub, variant, allargs)
    f._last = sub._last = variant  # .source shows the kernel
    return numba_cuda.kernel_ptx(runner, allargs, cc)
