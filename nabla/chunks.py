"""A vmap's call with Dask arrays among its arguments: one task per chunk of the batch
axis, each running the vmap itself on that chunk's NumPy blocks, and the outputs put
together as Dask arrays (lazily: nothing runs until they are computed). The outputs'
shapes come from a call on a batch of no examples. ``nabla.dask`` is the user's side.

>>> import numpy as np
>>> _batch_chunks([np.zeros((5, 2))], [(0, 0)], 5, chunk_size=2)
(2, 2, 1)
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

from . import pytree, vmapping
from .errors import NablaError, TransformInputError

# a "parallel" (or "cuda") chunk uses every core (the device) of its process: two at once
# on threads of one process would only compete, and Numba's workqueue threading layer
# aborts on concurrent parallel calls; such chunks take turns
_WHOLE_MACHINE = threading.Lock()


def is_dask_array(x) -> bool:
    t = type(x)
    return t.__name__ == "Array" and t.__module__.startswith("dask.array")


def has_dask_array(args) -> bool:
    return any(is_dask_array(leaf) for a in args for leaf in pytree.flatten(a)[0])


def default_chunk_size(n: int) -> int:
    """Two chunks per thread of the current client's workers (of this machine without
    one), so that every thread has work and a slow chunk does not hold up the end."""
    threads = _client_threads() or os.cpu_count() or 1
    return max(1, math.ceil(n / (2 * threads)))


def _client_threads() -> int | None:
    """The worker threads of the current dask.distributed client (None: no client)."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return sum(get_client().nthreads().values())
    except ValueError:  # no client
        return None


def call(f, args, chunk_size=None):
    """The vmap ``f`` of ``args``, some of them Dask arrays (or NumPy arrays to cut into
    chunks of ``chunk_size``): Dask arrays in the structure ``f`` returns."""
    import dask
    import dask.array as da

    sub, _ = vmapping.vmap_resolve(f, args)  # the arguments checked against in_axes
    parts = [pytree.flatten(a) for a in args]
    trees = [tree for _, tree in parts]
    leaves = [leaf for part, _ in parts for leaf in part]
    owners = [i for i, (part, _) in enumerate(parts) for _ in part]
    for leaf, i in zip(leaves, owners):
        if is_dask_array(leaf) and any(math.isnan(s) for s in leaf.shape):
            raise TransformInputError(
                f"vmap: argument {i} of {f.__name__} is a Dask array of unknown chunk sizes "
                f"(shape {leaf.shape})", **f._where(),
                hint="call .compute_chunk_sizes() on it first")
    batched = [(k, ax % np.ndim(leaf)) for k, (leaf, ax) in enumerate(zip(leaves, sub.axes))
               if ax is not None]
    size = np.shape(leaves[batched[0][0]])[batched[0][1]] if batched \
        else f.batching["axis_size"]
    # what the outputs are, from a call that runs no example (and refuses what nabla
    # cannot differentiate, before anything is built)
    out_leaves, out_tree, out_axes = _probe(f, leaves, trees, dict(batched), dask)
    chunks = _batch_chunks(leaves, batched, size, chunk_size)
    lengths = chunks or (size,)  # axis_size with no batched argument: one chunk
    blocks = [_blocks(da, dask, leaf, dict(batched).get(k), chunks)  # per chunk, or shared
              for k, leaf in enumerate(leaves)]
    run = dask.delayed(_run_chunk, pure=True, nout=len(out_leaves))
    tasks = [run(f, trees, *[b[c] if isinstance(b, list) else b for b in blocks])
             for c in range(len(lengths))]
    results = []
    for k, (probe, axis) in enumerate(zip(out_leaves, out_axes)):
        if axis is None:  # the same for every chunk
            results.append(da.from_delayed(tasks[0][k], probe.shape, dtype=probe.dtype))
            continue
        pieces = [da.from_delayed(task[k], probe.shape[:axis] + (n,) + probe.shape[axis + 1:],
                                  dtype=probe.dtype) for task, n in zip(tasks, lengths)]
        results.append(da.concatenate(pieces, axis=axis) if len(pieces) > 1 else pieces[0])
    return pytree.unflatten(out_tree, results)


def _batch_chunks(leaves, batched, size, chunk_size) -> tuple | None:
    """The chunk lengths along the batch: the first batched Dask array's, else cut by
    ``chunk_size`` (None where no argument is batched)."""
    if not batched:
        return None
    if chunk_size is None:
        for k, ax in batched:
            if is_dask_array(leaves[k]):
                return leaves[k].chunks[ax]
        chunk_size = default_chunk_size(size)
    return tuple(min(chunk_size, size - s) for s in range(0, size, chunk_size)) or (0,)


def _blocks(da, dask, leaf, ax, chunks):
    """A batched leaf as its list of blocks, one per chunk (the batch axis chunked as
    ``chunks``, every other axis whole); an unbatched one as one value that the tasks
    share (a NumPy array goes to each worker once, not once per chunk)."""
    if ax is None:
        if is_dask_array(leaf):
            return leaf.rechunk(-1).to_delayed().ravel()[0]
        if isinstance(leaf, np.ndarray):
            return dask.delayed(leaf, pure=True)
        return leaf
    want = tuple(chunks if d == ax else (n,) for d, n in enumerate(np.shape(leaf)))
    if is_dask_array(leaf):
        x = leaf if leaf.chunks == want else leaf.rechunk(want)
    else:
        x = da.from_array(np.asarray(leaf), chunks=want)
    return list(x.to_delayed().ravel())


def _probe(f, leaves, trees, batched: dict, dask):
    """(output leaves, output structure, batch axis of each output leaf) of ``f`` on the
    arguments, learned from a call on a batch of none (arguments of the right shapes and
    dtypes, nothing computed); where that call fails, from a call on the first example."""
    try:
        with np.errstate(all="ignore"):
            out = f(*_rebuild(trees, empty_batch(leaves, batched)))
        first = False
    except NablaError:
        raise  # a refusal: the same for every chunk
    except Exception:  # a batch of none the function cannot take: one example
        out = f(*_rebuild(trees, first_example(dask, leaves, batched)))
        first = True
    out_leaves, out_tree = pytree.flatten(out)
    out_leaves = [np.asarray(x) for x in out_leaves]
    entry = f.batching["out_axes"]
    axes = vmapping.leaf_axes(f, entry, out_tree, 0) if pytree.is_container(entry) \
        else [entry] * len(out_leaves)
    axes = [None if a is None else a % max(x.ndim, 1) for a, x in zip(axes, out_leaves)]
    if first:
        out_leaves = [x if a is None else np.take(x, [], axis=a)
                      for x, a in zip(out_leaves, axes)]
    return out_leaves, out_tree, axes


def empty_batch(leaves, batched: dict) -> list:
    """The leaves with no examples (Dask arrays as zeros of their shapes: nothing is
    computed)."""
    out = []
    for k, leaf in enumerate(leaves):
        if is_dask_array(leaf):
            shape = list(leaf.shape)
            if k in batched:
                shape[batched[k]] = 0
            out.append(np.zeros(shape, leaf.dtype))
        elif k in batched:
            out.append(np.take(np.asarray(leaf), [], axis=batched[k]))
        else:
            out.append(leaf)
    return out


def first_example(dask, leaves, batched: dict) -> list:
    """The leaves with the first example only, computed (and the unbatched Dask ones)."""
    one = [x[tuple(slice(0, 1) if d == batched[k] else slice(None) for d in range(x.ndim))]
           if k in batched else x for k, x in enumerate(leaves)]
    return list(dask.compute(*one))


def _rebuild(trees, leaves) -> list:
    args, at = [], 0
    for tree in trees:
        n = pytree.num_leaves(tree)
        args.append(pytree.unflatten(tree, list(leaves[at:at + n])))
        at += n
    return args


def _run_chunk(f, trees, *leaves):
    """One task: the vmap ``f`` on one chunk's blocks; the output's leaves."""
    if f.batching["target"] == "cpu":
        out = f(*_rebuild(trees, leaves))
    else:
        with _WHOLE_MACHINE:
            out = f(*_rebuild(trees, leaves))
    return tuple(np.asarray(x) for x in pytree.flatten(out)[0])
