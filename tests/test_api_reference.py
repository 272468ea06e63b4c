"""docs/api.md is what docs/api_reference.py generates from the code as it is now: every
public name, with its signature and a docstring of its own."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

import nabla

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "api_reference.py"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("nabla_test_api_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(ref):
    return ref.collect()


def test_api_md_is_current(ref, generated):
    text, _ = generated
    assert ref.API_MD.read_text() == text, (
        "docs/api.md is stale: run python docs/api_reference.py")


def test_every_public_name_appears(ref, generated):
    text, _ = generated
    for name in nabla.__all__:
        assert f"### `nabla.{name}`\n" in text, name
    for module in (nabla.nn, nabla.optim, nabla.dask):
        names = ref.public_names(module)
        assert names
        for name in names:
            assert f"### `{module.__name__}.{name}`\n" in text, name
    assert "### `nabla.dask.vmap`\n" in text  # nabla.dask has no __all__: what it defines
    assert "### `nabla.grad`\n\n```python\nnabla.grad(fun=None, argnums=0" in text


def test_every_public_name_has_a_docstring(generated):
    _, missing = generated
    assert missing == [], f"public names without a docstring of their own: {missing}"


def test_what_counts_as_a_docstring(ref):
    def bare(x):
        return x

    class Base:
        """Base."""

    class Child(Base):
        level = 1  # no docstring of its own

    @dataclasses.dataclass
    class Settings:
        level: int = 0

    assert ref.own_doc(bare) is None
    assert ref.own_doc(Child) is None and ref.own_doc(Base) == "Base."
    assert ref.own_doc(Settings) is None and ref.own_doc(Settings()) is None
    assert ref.own_doc(nabla.config).startswith("``nabla.config``")
    assert ref.first_paragraph(ref.own_doc(nabla.sin)) == "Trigonometric sine, element-wise."
    assert ref.signature(nabla.grad).startswith("(fun=None, argnums=0, has_aux: bool = False")


def test_check_exits_nonzero_when_stale(ref, tmp_path, monkeypatch, capsys):
    assert ref.main(["--check"]) == 0
    stale = tmp_path / "api.md"
    stale.write_text(ref.API_MD.read_text() + "\nedited by hand\n")
    monkeypatch.setattr(ref, "API_MD", stale)
    monkeypatch.setattr(ref, "ROOT", tmp_path)
    assert ref.main(["--check"]) == 1
    assert "is stale" in capsys.readouterr().err
