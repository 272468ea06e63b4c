"""The on-disk cache of generated source, and loading generated modules.

An entry is a generated module (``<key>.py``) and what nabla needs to call
it (``<key>.json``). The key covers the user's source, what its free names
mean, the transform and its options, a hash of nabla's own source files, and
the versions of Python, NumPy and Numba. Numba's machine-code cache lives
beside the module (its ``__pycache__``), so a second process skips both the
transform and the compilation.

Writes are atomic (a temporary file, then a rename); entries are checked
before use; a damaged, unwritable or concurrently written cache is skipped
with a ``NablaWarning``, never fatal.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from ..config import config
from ..errors import NablaWarning

FORMAT = "1"


@functools.cache
def nabla_fingerprint() -> str:
    """A hash of nabla's own source files and of the versions generated code depends on."""
    import numba
    import numpy

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


def _warn(message: str) -> None:
    warnings.warn(f"nabla cache: {message}; continuing without it", NablaWarning, stacklevel=3)


def _checksum(text: str, meta: dict) -> str:
    """A hash of the module text and of everything in ``meta`` but the hash itself: a
    damaged meta file (a changed parameter list, say) must not be trusted either."""
    rest = json.loads(json.dumps({k: v for k, v in meta.items() if k != "sha256"}))
    h = hashlib.sha256(text.encode())
    h.update(json.dumps(rest, sort_keys=True).encode())
    return h.hexdigest()


def read(key: str) -> tuple[str, dict] | None:
    """The cached (source text, meta) for ``key``, or None."""
    if not config.cache:
        return None
    d = entry_dir()
    py, meta_path = d / f"{key}.py", d / f"{key}.json"
    if not py.exists() or not meta_path.exists():
        return None
    try:
        text = py.read_text()
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict) or meta.get("key") != key or meta.get(
            "sha256"
        ) != _checksum(text, meta):
            raise ValueError("entry does not match its checksum")
        return text, meta
    except (OSError, ValueError, UnicodeDecodeError) as e:
        _warn(f"skipped damaged entry {py} ({e})")
        return None


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
    is off or cannot be written)."""
    meta = dict(meta, key=key)
    meta["sha256"] = _checksum(text, meta)
    if config.cache:
        d = entry_dir()
        try:
            d.mkdir(parents=True, exist_ok=True)
            py = d / f"{key}.py"
            _atomic_write(py, text)
            _atomic_write(d / f"{key}.json", json.dumps(meta, indent=1, sort_keys=True))
            return py
        except OSError as e:
            _warn(f"cannot write to {d} ({e})")
    path = _scratch_dir() / f"{key}.py"
    _atomic_write(path, text)
    return path


def module_name(key: str, suffix: str = "") -> str:
    return f"nabla_generated_{key}{suffix}"


def load_module(path: Path, name: str):
    """Import the generated module at ``path`` as ``name`` (registered in sys.modules,
    which Numba's cache needs to find it again in a later process)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def clear_cache() -> None:
    """Empty the on-disk cache (generated modules and Numba's machine code)."""
    d = Path(config.cache_dir)
    if d.exists():
        shutil.rmtree(d, ignore_errors=True)
