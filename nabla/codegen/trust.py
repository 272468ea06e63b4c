"""Whether the on-disk cache may be trusted: nabla runs the code it reads there.

The cache is as trusted as ``site-packages``. nabla uses a cache directory only
if it belongs to the current user and nobody else can write to it (nabla makes
its own directories ``0700``), and runs an entry only if it carries a valid
HMAC made with the user's secret key (``key``, made ``0600`` in the cache
directory at first use): an entry nabla did not write itself is never run, and
a copy of another user's cache is compiled again rather than trusted.

>>> key = b"k" * 32
>>> tag = sign(key, "entry.py", b"print('hi')")
>>> verify(key, tag, "entry.py", b"print('hi')"), verify(key, tag, "entry.py", b"print('pwned')")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

KEY_FILE = "key"
_POSIX = hasattr(os, "getuid")


def sign(key: bytes, *parts) -> str:
    """An HMAC-SHA256 of ``parts`` (strings or bytes), each length-prefixed."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        data = p.encode() if isinstance(p, str) else bytes(p)
        mac.update(len(data).to_bytes(8, "little"))
        mac.update(data)
    return mac.hexdigest()


def verify(key: bytes, tag, *parts) -> bool:
    return isinstance(tag, str) and hmac.compare_digest(tag, sign(key, *parts))


def dir_problem(path: Path) -> str | None:
    """Why the directory ``path`` cannot be trusted, or None: it must be a directory (not
    a link to one) of the current user that no one else can write to."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a directory (a link, or a file)"
    return _owner_problem(st)


def file_problem(path: Path) -> str | None:
    """Why the file ``path`` cannot be trusted, or None."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return _owner_problem(st)


def _owner_problem(st) -> str | None:
    if not _POSIX:  # no owners or modes to check: the user profile's permissions decide
        return None
    if st.st_uid != os.getuid():
        return "belongs to another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "can be written by other users"
    return None


def make_private_dirs(path: Path) -> None:
    """``path`` and its missing parents, made ``0700`` (existing ones are left as they
    are, and then checked by ``dir_problem``)."""
    missing = []
    p = Path(path)
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:  # made by another process meanwhile
            pass


def secret_key(root: Path) -> bytes | None:
    """The user's key for signing cache entries, in ``root`` (made at first use, 0600);
    None when it cannot be made, read, or trusted (readable by other users too)."""
    path = Path(root) / KEY_FILE
    if not path.exists():
        # written whole under a temporary name, then linked in: another process reads
        # either no key or a whole one
        tmp = Path(root) / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            os.link(tmp, path)
        except FileExistsError:  # another process made it first: use theirs
            pass
        except OSError:
            return None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    if file_problem(path) is not None:
        return None
    if _POSIX and os.lstat(path).st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return None  # others could sign entries with it
    try:
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) >= 16 else None
