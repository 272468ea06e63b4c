"""A ``nabla.Function`` sent to another process (a Dask worker, a multiprocessing pool):
pickled by what it is — the user's function, the transform and its options — never by
compiled code, and made again there once per process, so that a worker running many
tasks of one derivative transforms and compiles it once (or reads both from a disk cache
it shares with others).

The user's function itself is pickled as Python pickles functions (by reference to an
importable module; Dask's cloudpickle sends a script's functions by value, renaming their
file ``<dynamic-code>``). nabla reads its source, so the name and text of its file travel
with it: the worker gives the function (and the functions it reaches, sent with it) its
file's name back, and reads that text where the file is not there (a worker on another
machine). A text that does not say what the function runs is refused there, as a changed
file is here (``StaleSourceError``), never differentiated.

>>> import pickle, numpy as np, nabla
>>> g = nabla.vmap(nabla.relu)  # a function importable everywhere
>>> h = pickle.loads(pickle.dumps(g))
>>> h is not g, h._described(), pickle.loads(pickle.dumps(g)) is h
(True, 'nabla.vmap(relu)', True)
>>> h(np.array([-1.0, 2.0])) + 0.0
array([0., 2.])
"""

from __future__ import annotations

import linecache
import types
import uuid
from collections import OrderedDict

from . import hooks
from .errors import NablaError

# token -> the Function made from it in this process (the most recent few hundred)
_made: OrderedDict = OrderedDict()
_KEEP = 256
_MAX_SOURCE = 1 << 20  # files larger than this are not sent (the worker must have them)
_SENT_BY_VALUE = "<dynamic-code>"  # the file name cloudpickle gives what it sends by value


def token(f) -> str:
    """The name of ``f`` across processes: random, drawn at its first pickle."""
    return f.__dict__.setdefault("_token", uuid.uuid4().hex)


def reduce(f):
    """What ``Function.__reduce__`` returns: ``made_again`` and its one argument."""
    spec = dict(token=token(f), fun=f._given, mode=f.mode, argnums=f.argnums,
                has_aux=f.has_aux, direction=f.direction, batching=f.batching,
                sources=_sources(f))
    return made_again, (spec,)


def made_again(spec):
    """The Function ``spec`` describes: made once per process and token."""
    f = _made.get(spec["token"])
    if f is not None:
        _made.move_to_end(spec["token"])
        return f
    for filename, text in spec["sources"].items():
        _install_source(filename, text)
        _relocate(spec["fun"], filename, set())
    f = hooks.function_type(spec["fun"], spec["mode"], argnums=spec["argnums"],
                            has_aux=spec["has_aux"], direction=spec["direction"])
    f.batching = spec["batching"]
    f._token = spec["token"]
    _made[spec["token"]] = f
    while len(_made) > _KEEP:
        _made.popitem(last=False)
    return f


def _sources(f) -> dict:
    """{file name: text} of the file holding the user's function, where it can be read."""
    try:
        code = getattr(f._plain(), "__code__", None)
    except NablaError:  # refused when it is called, there and here alike
        return {}
    if code is None:
        return {}
    lines = linecache.getlines(code.co_filename)
    text = "".join(lines)
    if not lines or len(text) > _MAX_SOURCE:
        return {}
    return {code.co_filename: text}


def _relocate(obj, filename: str, seen: set) -> None:
    """Give ``obj``, a function cloudpickle sent by value, and those its globals and closure
    hold that came with it, the name of the file they were defined in."""
    fn = getattr(obj, "__func__", obj)  # a bound method's function
    if not isinstance(fn, types.FunctionType) or id(fn) in seen or \
            fn.__code__.co_filename != _SENT_BY_VALUE:
        return
    seen.add(id(fn))
    fn.__code__ = fn.__code__.replace(co_filename=filename)
    for value in list(fn.__globals__.values()) + [c.cell_contents for c in fn.__closure__ or ()]:
        _relocate(value, filename, seen)


def _install_source(filename: str, text: str) -> None:
    """Make ``text`` what ``inspect`` reads for ``filename`` in this process, unless the
    file here already says it."""
    if _file_text(filename) == text:
        return
    # an entry without a modification time is never checked against the disk
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)


def _file_text(filename: str) -> str | None:
    """The text of ``filename`` here (None: no such file, or unreadable)."""
    try:
        with open(filename, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None
