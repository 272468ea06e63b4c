"""Shared test setup: a private cache directory, the two execution modes every
derivative is checked in (Numba off, and Numba in "strict" mode, where code
nabla emits can never silently fall back to Python), and a count of Numba
compilations printed at the end of the run."""

import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix="nabla-test-cache-")
os.environ.setdefault("NABLA_CACHE_DIR", _CACHE)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nabla  # noqa: E402

_compilations = {"count": 0}


def _count_compilations():
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover
        return

    class _Listener(event.Listener):
        def on_start(self, ev):
            _compilations["count"] += 1

        def on_end(self, ev):
            pass

    event.register("numba:compile", _Listener())


_count_compilations()


@pytest.fixture(params=[False, "strict"], ids=["python", "numba"])
def jit_mode(request):
    """Run the test with Numba off, then with Numba in strict mode."""
    old = nabla.config.jit
    nabla.config.jit = request.param
    yield request.param
    nabla.config.jit = old


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"Numba compilations: {_compilations['count']}")
