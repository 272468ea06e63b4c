"""vmap over Dask arrays: the batch runs chunk by chunk, each chunk through nabla's own
compiled vmap, and the results come back as Dask arrays, lazily.

``nabla.vmap(f)(x)`` with a ``dask.array.Array`` among the batched arguments builds one
task per chunk of the batch axis; each calls the vmap on that chunk's NumPy blocks (its
vector or loop form, on the ``target`` the vmap names: ``"cpu"`` or ``"parallel"``).
Which scheduler runs the tasks is Dask's business: with no ``dask.distributed.Client``,
threads of this process (compiled code releases the GIL); with one, its workers, which
receive the vmap pickled by its source (``shipping``) and compile it once each, or read
it from a disk cache they share. ``vmap`` below also chunks NumPy arguments:

>>> import numpy as np, dask.array as da, nabla
>>> def energy(x):
...     return np.sum(x * x)
>>> x = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(4, 2))
>>> g = nabla.vmap(nabla.grad(energy))(x)  # nothing has run per example yet
>>> g.chunks
((4, 2), (2,))
>>> g[5].compute()
array([20., 22.])
>>> vmap(nabla.grad(energy), chunk_size=2)(np.ones((5, 2))).chunks
((2, 2, 1), (2,))
"""

from __future__ import annotations

from . import api
from .chunks import call
from .errors import TransformInputError


class Vmap:
    """``nabla.dask.vmap(fun, ...)``: ``nabla.vmap(fun, ...)`` whose batched NumPy arguments
    are cut into Dask chunks of ``chunk_size`` examples (None: two chunks per thread of
    the Dask client's workers, or of this machine without a client); Dask arrays keep
    their chunks unless ``chunk_size`` is given. Calls return Dask arrays:
    ``.compute()`` them, or reduce them first (``.sum(axis=0)``)."""

    def __init__(self, fun, in_axes=0, out_axes=0, chunk_size=None, target="cpu"):
        if chunk_size is not None and (not isinstance(chunk_size, int)
                                       or isinstance(chunk_size, bool) or chunk_size < 1):
            raise TransformInputError(f"nabla.dask.vmap: chunk_size must be a positive int "
                                      f"or None, not {chunk_size!r}", hint="e.g. chunk_size=10_000")
        self.function = api.vmap(fun, in_axes=in_axes, out_axes=out_axes, target=target)
        self.chunk_size = chunk_size
        self.__name__ = self.function.__name__

    def __repr__(self) -> str:
        return f"<nabla.dask.vmap of {self.function._described()}>"

    @property
    def source(self) -> str:
        return self.function.source

    def __call__(self, *args):
        return call(self.function, args, self.chunk_size)


def vmap(fun=None, in_axes=0, out_axes=0, chunk_size=None, target="cpu"):
    """``nabla.vmap`` over chunks that Dask schedules (see ``Vmap``)."""
    if fun is None:
        return lambda f: Vmap(f, in_axes, out_axes, chunk_size, target)
    return Vmap(fun, in_axes, out_axes, chunk_size, target)


