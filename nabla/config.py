"""``nabla.config``: whether and how generated code is compiled and cached.

Each field can be set from the environment at import (``NABLA_JIT``,
``NABLA_CACHE``, ``NABLA_CACHE_DIR``, ``NABLA_VERBOSE``; the cache directory defaults to
``$XDG_CACHE_HOME/nabla`` or ``~/.cache/nabla``) and changed at any time;
``jit`` is read at every call.

>>> c = Config.from_environment({"NABLA_JIT": "strict", "NABLA_CACHE": "0"})
>>> c.jit, c.cache
('strict', False)
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _parse_jit(text: str):
    t = text.strip().lower()
    if t == "strict":
        return "strict"
    return t not in ("0", "false", "no", "off", "")


def _parse_bool(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off", "")


def default_cache_dir(env=None) -> str:
    """``$XDG_CACHE_HOME/nabla``, else ``~/.cache/nabla``.

    >>> default_cache_dir({"XDG_CACHE_HOME": "/data/cache"})
    '/data/cache/nabla'
    """
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nabla")


@dataclass
class Config:
    """``nabla.config``: ``jit`` (True, False or "strict"), ``cache``, ``cache_dir`` and
    ``verbose`` (a compile of more than ~2 s says what it compiles, on stderr)."""

    jit: bool | str = True  # True, False or "strict"
    cache: bool = True
    cache_dir: str = ""  # set from the environment (default_cache_dir)
    # a Numba compile of more than ~2 s says, once, on stderr, what it compiles
    verbose: bool = True

    @classmethod
    def from_environment(cls, env=None) -> Config:
        env = os.environ if env is None else env
        c = cls(cache_dir=default_cache_dir(env))
        if "NABLA_JIT" in env:
            c.jit = _parse_jit(env["NABLA_JIT"])
        if "NABLA_CACHE" in env:
            c.cache = _parse_bool(env["NABLA_CACHE"])
        if env.get("NABLA_CACHE_DIR"):
            c.cache_dir = env["NABLA_CACHE_DIR"]
        if "NABLA_VERBOSE" in env:
            c.verbose = _parse_bool(env["NABLA_VERBOSE"])
        return c

    def __setattr__(self, name, value):
        if name == "jit" and value not in (True, False, "strict"):
            raise ValueError("nabla.config.jit must be True, False or 'strict'")
        object.__setattr__(self, name, value)


config = Config.from_environment()
