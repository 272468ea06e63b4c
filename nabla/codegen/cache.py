"""The on-disk cache of generated source, and loading generated modules.

An entry is a generated module (``<key>.py``) and what nabla needs to call
it (``<key>.json``). The key covers the user's source, what its free names
mean, the transform and its options, a hash of nabla's own source files, and
the versions of Python, NumPy and Numba. Numba's machine-code cache lives
beside the module (its ``__pycache__``), so a second process skips both the
transform and the compilation.

nabla runs what it reads here, so the cache is trusted as ``site-packages`` is
(``trust.py``): a directory is used only if it is the user's own and nobody
else can write to it, and an entry (Numba's files too) only if it carries an
HMAC made with the user's secret key. Writes are atomic (a temporary file,
then a rename); a damaged, foreign, unwritable or concurrently written cache is
skipped with a ``NablaWarning``, never fatal. ``clear_cache`` removes nabla's
own entries and nothing else.

An entry written, then read back (here in a cache directory of its own):

>>> import shutil, tempfile
>>> from nabla.config import config
>>> saved = config.cache, config.cache_dir
>>> config.cache, config.cache_dir = True, tempfile.mkdtemp()
>>> key = make_key("def f(x): return x * x", "grad")
>>> path = write(key, "def f_grad(x): return 2 * x", {"entry": "f_grad"})
>>> path == entry_dir() / f"{key}.py"
True
>>> read(key)[0]
'def f_grad(x): return 2 * x'
>>> sorted(read(key)[1])  # what nabla needs to call it, the key, and the signature
['entry', 'hmac', 'key']
>>> shutil.rmtree(config.cache_dir)
>>> config.cache, config.cache_dir = saved
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.util
import json
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numba
import numpy

from ..config import config
from ..errors import NablaWarning
from ..names import GENERATED_MODULE_PREFIX
from . import trust

# the layout and signing of entries; an older layout's directory is left alone (and emptied
# by clear_cache)
FORMAT = "2"
_OLD_FORMATS = ("1",)
# names nabla gives the files it writes: entries, their temporaries, and what Python and
# Numba write for them in __pycache__ (all named after the entry's key), with signatures
_ENTRY_FILE = re.compile(r"^[0-9a-f]{32}\.(py|json)$")
_TEMP_FILE = re.compile(r"^\.[0-9a-f]{32}\..*\.tmp$")
_PYCACHE_FILE = re.compile(r"^[0-9a-f]{32}\.")
_TAG = "CACHEDIR.TAG"  # marks nabla's directory for backup tools (bford.info/cachedir)


@functools.cache
def nabla_fingerprint() -> str:
    """A hash of nabla's own source files and of the versions generated code depends on."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    h.update(f"{sys.version}|{numpy.__version__}|{numba.__version__}|{FORMAT}".encode())
    return h.hexdigest()


def make_key(*parts) -> str:
    h = hashlib.sha256()
    h.update(nabla_fingerprint().encode())
    for p in parts:
        h.update(b"\0")
        h.update(repr(p).encode())
    return h.hexdigest()[:32]


def entry_dir() -> Path:
    return Path(config.cache_dir) / f"v{FORMAT}"


@functools.cache
def _scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="nabla-"))


_WARNED: set = set()


def _warn(message: str, once: str | None = None) -> None:
    if once is not None:
        if once in _WARNED:
            return
        _WARNED.add(once)
    warnings.warn(f"nabla cache: {message}; continuing without it", NablaWarning, stacklevel=3)


def _store() -> tuple[Path, bytes] | None:
    """(entry directory, signing key) when the cache is on and can be trusted; None means
    compile in memory (after a warning, once per directory, saying why)."""
    if not config.cache:
        return None
    root = Path(config.cache_dir)
    d = entry_dir()
    made = not root.exists()
    try:
        trust.make_private_dirs(d / "__pycache__")
    except OSError as e:
        _warn(f"cannot make {d} ({e.strerror or e})", once=f"make:{d}")
        return None
    if made:
        try:
            (root / _TAG).write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                                     "# nabla's cache of generated code: see nabla.clear_cache\n")
        except OSError:
            pass
    for p in (root, d, d / "__pycache__"):
        why = trust.dir_problem(p)
        if why is not None:
            _warn(f"{p} {why}, so nabla will not run code from it (the cache is as trusted "
                  "as site-packages: make it yours alone, chmod 700, or set NABLA_CACHE_DIR)",
                  once=f"dir:{p}")
            return None
    key = trust.secret_key(root)
    if key is None:
        _warn(f"cannot make or read a private signing key in {root}", once=f"key:{root}")
        return None
    return d, key


def _signature(signing_key: bytes, key: str, text: str, meta: dict) -> str:
    """An HMAC of the module text and of everything in ``meta`` but the signature itself: a
    changed meta file (a changed parameter list, say) must not be trusted either."""
    rest = json.loads(json.dumps({k: v for k, v in meta.items() if k != "hmac"}))
    return trust.sign(signing_key, "nabla entry", key, text, json.dumps(rest, sort_keys=True))


def read(key: str) -> tuple[str, dict] | None:
    """The cached (source text, meta) for ``key``, or None."""
    store = _store()
    if store is None:
        return None
    d, signing_key = store
    py, meta_path = d / f"{key}.py", d / f"{key}.json"
    if not py.exists() or not meta_path.exists():
        return None
    for path in (py, meta_path):
        why = trust.file_problem(path)
        if why is not None:
            _warn(f"skipped entry {path}: it {why}")
            return None
    try:
        text = py.read_text()
        meta = json.loads(meta_path.read_text())
    except PermissionError:
        _warn(f"skipped entry {py}: not readable by you")
        return None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        _warn(f"skipped damaged entry {py} ({e})")
        return None
    if not isinstance(meta, dict) or meta.get("key") != key or not isinstance(
            meta.get("hmac"), str) or not hmac.compare_digest(
            meta["hmac"], _signature(signing_key, key, text, meta)):
        _warn(f"skipped entry {py}: its signature does not match (nabla did not write it "
              "with your key, or it changed since), so it is not run")
        return None
    return text, meta


def _atomic_write(path: Path, data: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write(key: str, text: str, meta: dict) -> Path:
    """Store an entry; returns the path of the module file (a scratch file if the cache
    is off, cannot be trusted or cannot be written)."""
    meta = dict(meta, key=key)
    store = _store()
    if store is not None:
        d, signing_key = store
        meta["hmac"] = _signature(signing_key, key, text, meta)
        try:
            py = d / f"{key}.py"
            _atomic_write(py, text)
            _atomic_write(d / f"{key}.json", json.dumps(meta, indent=1, sort_keys=True))
            return py
        except OSError as e:
            _warn(f"cannot write to {d} ({e})")
    path = _scratch_dir() / f"{key}.py"
    _atomic_write(path, text)
    return path


def seal(path) -> None:
    """Sign a file written into the cache by another tool (Numba's machine code), in a
    ``.sig`` file beside it."""
    store = _store()
    path = Path(path)
    if store is None or path.parent != store[0] / "__pycache__":
        return
    try:
        tag = trust.sign(store[1], "nabla file", path.name, path.read_bytes())
        _atomic_write(path.with_name(path.name + ".sig"), tag)
    except OSError:
        pass


def sealed(path) -> bool:
    """Whether ``path`` (Numba's machine code in the cache) is the user's own, and carries
    the signature ``seal`` gave it. Files outside the cache directory are Numba's own
    business (True)."""
    store = _store()
    path = Path(path)
    if store is None or path.parent != store[0] / "__pycache__":
        return True
    sig = path.with_name(path.name + ".sig")
    if trust.file_problem(path) is not None or trust.file_problem(sig) is not None:
        return False
    try:
        return trust.verify(store[1], sig.read_text(), "nabla file", path.name,
                            path.read_bytes())
    except OSError:
        return False


def in_store(path) -> bool:
    """Whether ``path`` is an entry of the trusted cache (Numba may cache beside it)."""
    store = _store()
    return store is not None and Path(path).parent == store[0]


def module_name(key: str, suffix: str = "") -> str:
    return f"{GENERATED_MODULE_PREFIX}{key}{suffix}"


def load_module(path: Path, name: str, text: str | None = None):
    """Import the generated module at ``path`` as ``name`` (registered in sys.modules,
    which Numba's cache needs to find it again in a later process). ``text``: the module's
    source as nabla checked it (the file is not read again)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        if text is None:
            text = Path(path).read_text()
        exec(compile(text, str(path), "exec"), module.__dict__)  # noqa: S102 - our own code
    except BaseException:
        del sys.modules[name]
        raise
    return module


def clear_cache() -> None:
    """Remove nabla's cache entries (generated modules, their meta files, Numba's machine
    code for them and its signatures) from the cache directory, and the directories nabla
    made for them once empty; nothing else there is touched. The signing key stays."""
    root = Path(config.cache_dir)
    for fmt in (FORMAT, *_OLD_FORMATS):
        d = root / f"v{fmt}"
        pycache = d / "__pycache__"
        for folder, pattern in ((pycache, _PYCACHE_FILE), (pycache, _TEMP_FILE),
                                (d, _ENTRY_FILE), (d, _TEMP_FILE)):
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for n in names:
                p = folder / n
                if pattern.match(n) and not p.is_dir():
                    try:
                        p.unlink()
                    except OSError:
                        pass
        for folder in (pycache, d):
            try:
                folder.rmdir()  # only when empty: another tool's files keep it
            except OSError:
                pass
