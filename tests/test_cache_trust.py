"""What nabla trusts, on disk and in a running process (issue 13): it runs only cache
entries it signed itself, in directories that are the user's alone; it never serves a
derivative of code that changed (a module edited on disk, a helper defined again, a
function reached through a dotted module path); and ``clear_cache`` deletes nothing
that nabla did not write."""

import importlib
import json
import os
import pickle
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import nabla
from nabla.codegen import cache as disk
from nabla.codegen import numba_cpu, trust
from nabla.config import Config

ROOT = str(Path(nabla.__file__).resolve().parent.parent)


def square_sum(x):
    return np.sum(x * x)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(nabla.config, "cache_dir", str(tmp_path / "cache"))
    disk._WARNED.clear()  # each test sees its own warnings
    return tmp_path / "cache"


def entries(cache: Path, suffix: str) -> list:
    return sorted((cache / f"v{disk.FORMAT}").glob(f"*{suffix}"))


# -- entries nabla did not write are never run -------------------------------------------
PLANTED = '''
import pathlib
pathlib.Path({marker!r}).write_text("planted code ran")


def square_sum_grad(x):
    return 2 * x
'''


def test_a_tampered_entry_is_not_run(own_cache, tmp_path, monkeypatch):
    """The attack the audit showed: replace an entry's module and recompute the bare hash
    its meta file carried. The entry's HMAC needs the user's key, so it is not run."""
    monkeypatch.setattr(nabla.config, "jit", False)
    x = np.array([1.0, -2.0])
    nabla.grad(square_sum)(x)
    (py,) = entries(own_cache, ".py")
    (meta_path,) = entries(own_cache, ".json")
    marker = tmp_path / "pwned"
    planted = PLANTED.format(marker=str(marker))
    py.write_text(planted)
    meta = json.loads(meta_path.read_text())
    import hashlib

    meta["hmac"] = hashlib.sha256(planted.encode()).hexdigest()  # what an attacker can make
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(nabla.NablaWarning, match="signature does not match"):
        g = nabla.grad(square_sum)(x)
    np.testing.assert_allclose(g, 2 * x)
    assert not marker.exists(), "nabla ran code it did not write"


class _Planted:
    def __reduce__(self):  # what unpickling a planted Numba cache file runs
        return (Path.write_text, (Path(os.environ["NABLA_TEST_MARKER"]), "pickle ran"))


def planted_sum(x):  # compiled by this test alone: Numba writes its files in its cache
    return np.sum(x * x * 0.5)


def test_a_planted_numba_cache_file_is_not_unpickled(own_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    marker = tmp_path / "pwned"
    monkeypatch.setenv("NABLA_TEST_MARKER", str(marker))
    x = np.array([1.0, -2.0])
    nabla.grad(planted_sum)(x)
    files = sorted(own_cache.rglob("*.nbi")) + sorted(own_cache.rglob("*.nbc"))
    assert files
    import numba

    for path in files:  # each a valid Numba file whose unpickling runs code
        path.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(_Planted()))
    (py,) = entries(own_cache, ".py")
    module = disk.module_name(py.stem, "_numba")
    monkeypatch.delitem(sys.modules, module)  # a new process, as far as Numba can tell
    with pytest.warns(nabla.NablaWarning, match="not signed"):
        g = nabla.grad(planted_sum)(x)
    np.testing.assert_allclose(g, x)
    assert not marker.exists(), "nabla let Numba unpickle a file it did not write"


def test_a_world_writable_cache_directory_is_not_trusted(own_cache, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", False)
    x = np.array([1.0, -2.0])
    nabla.grad(square_sum)(x)
    own_cache.chmod(0o777)
    with pytest.warns(nabla.NablaWarning, match="can be written by other users") as caught:
        np.testing.assert_allclose(nabla.grad(square_sum)(x), 2 * x)
        np.testing.assert_allclose(nabla.jit(square_sum)(x), np.sum(x * x))
    assert len([w for w in caught if "other users" in str(w.message)]) == 1  # once
    assert len(entries(own_cache, ".py")) == 1, "nabla wrote into an untrusted directory"


def test_an_entry_of_another_user_is_skipped(own_cache, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", False)
    x = np.array([1.0, -2.0])
    nabla.grad(square_sum)(x)
    (py,) = entries(own_cache, ".py")
    real = os.lstat
    other = os.getuid() + 1

    def foreign(path, *a, **k):  # the entry's files now belong to another user
        st = real(path, *a, **k)
        if Path(path).name.startswith(py.stem):
            fields = list(st)
            fields[stat.ST_UID] = other
            return os.stat_result(fields)
        return st

    monkeypatch.setattr(trust.os, "lstat", foreign)
    with pytest.warns(nabla.NablaWarning, match="belongs to another user"):
        np.testing.assert_allclose(nabla.grad(square_sum)(x), 2 * x)


def test_an_entry_not_readable_is_reported_so(own_cache, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", False)
    x = np.array([1.0, -2.0])
    nabla.grad(square_sum)(x)
    (py,) = entries(own_cache, ".py")
    real = Path.read_text

    def unreadable(self, *a, **k):
        if self == py:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", unreadable)
    with pytest.warns(nabla.NablaWarning, match="not readable by you"):
        np.testing.assert_allclose(nabla.grad(square_sum)(x), 2 * x)


def private_sum(x):  # compiled by this test alone: Numba writes its files in its cache
    return np.sum(x * x * 0.25)


def test_the_cache_is_private(own_cache, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    nabla.grad(private_sum)(np.array([1.0, 2.0]))
    for d in (own_cache, own_cache / f"v{disk.FORMAT}",
              own_cache / f"v{disk.FORMAT}" / "__pycache__"):
        assert stat.S_IMODE(os.lstat(d).st_mode) == 0o700, d
    assert stat.S_IMODE(os.lstat(own_cache / "key").st_mode) == 0o600
    for path in entries(own_cache, ".py") + entries(own_cache, ".json"):
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600, path
    numba_files = sorted(own_cache.rglob("*.nbi")) + sorted(own_cache.rglob("*.nbc"))
    assert numba_files
    for path in numba_files:
        assert disk.sealed(path)


def test_the_default_location_follows_xdg():
    assert Config.from_environment({"XDG_CACHE_HOME": "/data/c"}).cache_dir == "/data/c/nabla"
    home = os.path.expanduser("~")
    assert Config.from_environment({}).cache_dir == os.path.join(home, ".cache", "nabla")
    assert Config.from_environment({"NABLA_CACHE_DIR": "/x", "XDG_CACHE_HOME": "/y"}
                                   ).cache_dir == "/x"


# -- clear_cache deletes only what nabla wrote -------------------------------------------
def kept_sum(x):  # compiled by this test alone: Numba writes its files in its cache
    return np.sum(x * x * 2.0)


def test_clear_cache_keeps_what_it_did_not_write(tmp_path, monkeypatch):
    """NABLA_CACHE_DIR=~/projects/x must not lose the project."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "model.py").write_text("print('mine')\n")
    (project / "notes.txt").write_text("mine\n")
    project.chmod(0o700)
    monkeypatch.setattr(nabla.config, "cache_dir", str(project))
    monkeypatch.setattr(nabla.config, "jit", "strict")
    nabla.grad(kept_sum)(np.array([1.0, 2.0]))
    assert any(project.rglob("*.nbi"))
    (project / f"v{disk.FORMAT}" / "README").write_text("someone else's file\n")
    nabla.clear_cache()
    left = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
    assert left == ["key", "notes.txt", "src", "src/model.py", f"v{disk.FORMAT}",
                    f"v{disk.FORMAT}/README"]


# -- Ctrl-C during a compile -------------------------------------------------------------
def test_an_interrupt_swallowed_during_a_compile_is_raised_after_it():
    import signal
    import time

    def swallowing_compile():  # what an LLVM callback interrupted by Ctrl-C does
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(2)
        except KeyboardInterrupt:
            pass
        return "compiled"

    with pytest.raises(KeyboardInterrupt):
        numba_cpu.keep_interrupts(swallowing_compile)()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert numba_cpu.keep_interrupts(lambda: "compiled")() == "compiled"


def test_generated_functions_compile_with_interrupts_kept(own_cache, monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    g = nabla.grad(square_sum)
    g(np.array([1.0, 2.0]))
    compiled = g._last.numba_functions()
    assert all(hasattr(d._compile_for_args, "__wrapped__") for d in compiled.values())


# -- derivatives of code that changed ----------------------------------------------------
def _module(directory: Path, name: str, text: str):
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    importlib.invalidate_caches()
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n, m in sys.modules.items()
                 if str(getattr(m, "__file__", "") or "").startswith(str(tmp_path))]:
        del sys.modules[name]


def test_a_file_edited_after_import_is_refused(on_path, jit_mode):
    mod = _module(on_path, "edited_after_import", """
        def f(x):
            return x * x
        """)
    assert nabla.grad(mod.f)(3.0) == 6.0
    (on_path / "edited_after_import.py").write_text("def f(x):\n    return x * x * x\n")
    with pytest.raises(nabla.StaleSourceError, match="changed since it was imported") as e:
        nabla.grad(mod.f)(3.0)
    assert "reload" in str(e.value)
    mod = importlib.reload(mod)
    assert nabla.grad(mod.f)(3.0) == 27.0


def test_a_helper_edited_after_import_is_refused(on_path):
    helpers = _module(on_path, "stale_helpers", """
        def h(x):
            return x * x
        """)
    user = _module(on_path, "stale_user", """
        import stale_helpers

        def f(x):
            return stale_helpers.h(x) + x
        """)
    (on_path / "stale_helpers.py").write_text("def h(x):\n    return x * x * x\n")
    with pytest.raises(nabla.StaleSourceError):
        nabla.grad(user.f)(3.0)
    assert helpers.h(3.0) == 9.0  # the process still runs the old code


def test_a_helper_defined_again_is_followed(on_path, jit_mode):
    """A helper redefined after a derivative exists (a notebook cell run again): the
    derivative follows the function its function now calls, on the fast path too."""
    mod = _module(on_path, "redefined_helper", """
        import numpy as np

        def helper(x):
            return np.sin(x)

        def fh(x):
            return helper(x) * 2.0
        """)
    other = _module(on_path, "redefined_helper_new", """
        def helper(x):
            return x * x
        """)
    g = nabla.grad(mod.fh)
    for _ in range(3):  # slow, then fast
        assert g(0.5) == pytest.approx(2 * np.cos(0.5))
    mod.helper = other.helper
    assert mod.fh(0.5) == 0.5
    for _ in range(3):
        assert g(0.5) == pytest.approx(2.0)
    out, back = nabla.vjp(mod.fh, 0.5)
    assert back(1.0)[0] == pytest.approx(2.0)
    assert nabla.jvp(mod.fh, (0.5,), (1.0,))[1] == pytest.approx(2.0)


def test_a_redefined_helper_is_followed_inside_nested_transforms(on_path, jit_mode):
    mod = _module(on_path, "nested_redefined", """
        def helper(x):
            return x * x

        def f(x):
            return helper(x) * x
        """)
    other = _module(on_path, "nested_redefined_new", """
        def helper(x):
            return x
        """)
    h = nabla.grad(nabla.grad(mod.f))
    assert h(2.0) == pytest.approx(12.0)  # d2/dx2 x^3 = 6x
    mod.helper = other.helper
    assert h(2.0) == pytest.approx(2.0)  # d2/dx2 x^2


PACKAGE_USER = '''
import json, sys
sys.path.insert(0, {here!r})
import pkg.sub.mod
import nabla


def f(x):
    return pkg.sub.mod.h(x) * x


print(json.dumps([f(3.0), nabla.grad(f)(3.0)]))
'''


def test_a_function_reached_through_a_dotted_module_path_is_in_the_key(tmp_path):
    """``pkg.sub.mod.h`` edited between two processes sharing a cache: the second
    differentiates the new h (the key looked one attribute deep, and served the old)."""
    mod = tmp_path / "pkg" / "sub"
    mod.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (mod / "__init__.py").write_text("")
    (mod / "mod.py").write_text("def h(x):\n    return x * x\n")
    (tmp_path / "user.py").write_text(PACKAGE_USER.format(here=str(tmp_path)))
    env = dict(os.environ, NABLA_CACHE_DIR=str(tmp_path / "cache"), NABLA_JIT="0",
               PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1")

    def run():
        proc = subprocess.run([sys.executable, str(tmp_path / "user.py")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    assert run() == [27.0, 27.0]
    (mod / "mod.py").write_text("def h(x):\n    return x * x * x\n")
    assert run() == [81.0, 108.0]


def test_source_matches_its_code_for_every_function_in_the_suite():
    """No false alarms: every plain function of the test suite's modules, read from its
    file, compiles to the code it runs (the check behind StaleSourceError)."""
    from nabla.frontend.parse import source_matches

    here = Path(__file__).parent
    checked = 0
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if not path.startswith(str(here)) and not path.startswith(ROOT + "/nabla"):
            continue
        for value in list(vars(module).values()):
            if not callable(value) or not hasattr(value, "__code__") or \
                    hasattr(value, "__wrapped__") or value.__code__.co_filename != path:
                continue
            import inspect

            try:
                text = "".join(inspect.getsourcelines(value)[0])
            except (OSError, TypeError):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert source_matches(value, text) is not False, value.__qualname__
            checked += 1
    assert checked > 50
