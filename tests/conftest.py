"""Shared test setup: a private cache directory, the two execution modes every
derivative is checked in (Numba off, and Numba in "strict" mode, where code
nabla emits can never silently fall back to Python), and a count of Numba
compilations printed at the end of the run.

The suite runs in parallel under pytest-xdist (``-n auto`` in pyproject.toml's
addopts; ``-n 0`` runs it in one process). Each worker is a separate process that
imports this file, so each gets its own cache directory and its own compilation
count; the workers' counts are summed on the controller for the summary line."""

import os
import shutil
import tempfile

# A private cache directory per process. A worker inherits the controller's
# environment, and with it the controller's NABLA_CACHE_DIR, which the marker tells
# apart from a directory the person running the tests chose (that one is kept, and
# then shared). Workers sharing a directory would be safe for correctness (nabla's
# writes are atomic), but each would find entries the others wrote: what a test
# transforms and compiles, and the compilation count, would depend on scheduling.
_OURS = "NABLA_TEST_OWN_CACHE_DIR"
_CACHE = None
if os.environ.get("NABLA_CACHE_DIR") in (None, os.environ.get(_OURS)):
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    _CACHE = tempfile.mkdtemp(prefix=f"nabla-test-cache-{_worker}-")
    os.environ["NABLA_CACHE_DIR"] = os.environ[_OURS] = _CACHE

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


def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.hasplugin("xdist"):
        # pyproject.toml's addopts pass -n auto: where pytest-xdist is not installed, or
        # is turned off with -p no:xdist, take the option and run in this one process.
        # (_addoption, as pytest-xdist itself does: addoption refuses a lowercase -n.)
        parser.getgroup("xdist")._addoption(
            "-n", "--numprocesses", dest="numprocesses", default=None,
            help="ignored: pytest-xdist is not active, the tests run in one process")


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the count to the controller
        workeroutput["numba_compilations"] = _compilations["count"]


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown without the plugin
def pytest_testnodedown(node, error):
    _compilations["count"] += getattr(node, "workeroutput", {}).get("numba_compilations", 0)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"Numba compilations: {_compilations['count']}")


def pytest_unconfigure(config):
    if _CACHE is not None:  # ours, made above: nothing reads it after the run
        shutil.rmtree(_CACHE, ignore_errors=True)


def _arrays_in(value, out):
    """Every NumPy array in ``value`` (nested tuples, lists and dicts)."""
    if isinstance(value, np.ndarray):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _arrays_in(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _arrays_in(v, out)
    return out


def _leaves_arguments_alone(call, what):
    """``call`` checked to leave every array it is given (arguments, tangents,
    cotangents) as it found it: generated code never writes into the caller's arrays."""
    def checked(*args, **kwargs):
        arrays = _arrays_in((args, kwargs), [])
        before = [a.copy() for a in arrays]
        result = call(*args, **kwargs)
        for a, b in zip(arrays, before):
            if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
                raise AssertionError(f"{what} changed an array it was given: {b} became {a}")
        return result
    return checked


@pytest.fixture(autouse=True)
def _arguments_are_never_written(monkeypatch):
    """Every test guards it: a call of a nabla.Function (grad, jit, vmap, ...), of the
    generated code behind nabla.jvp (primals and tangents), nabla.vjp, and the function
    vjp returns (cotangents) leaves the arrays it gets unchanged. (nabla.jvp and
    nabla.vjp themselves stay as they are: user code calls them, and nabla recognizes
    them by identity.)"""
    from nabla import api, function, running

    monkeypatch.setattr(function.Function, "__call__", _leaves_arguments_alone(
        function.Function.__call__, "a nabla.Function"))
    monkeypatch.setattr(running, "call", _leaves_arguments_alone(running.call,
                                                                 "generated code"))
    monkeypatch.setattr(function.VJPFunction, "__call__", _leaves_arguments_alone(
        function.VJPFunction.__call__, "vjp's function"))
    monkeypatch.setattr(api, "run_vjp", _leaves_arguments_alone(api.run_vjp, "nabla.vjp"))


@pytest.fixture(autouse=True)
def _reverse_mode_unless_marked(request, monkeypatch):
    """Most of the suite's grad tests were written for reverse mode, which mode="auto"
    (the default) no longer picks for a single scalar argument: there it is pinned to
    reverse mode, so that reverse mode stays tested on scalar functions. Tests marked
    ``auto_mode`` (tests/test_modes.py) see the default itself."""
    if request.node.get_closest_marker("auto_mode") is None:
        monkeypatch.setattr(nabla.arguments, "AUTO_FORWARD_SCALARS", 0)
