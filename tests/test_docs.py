"""The documents whose code runs: every python block of docs/tutorial.md runs, in order,
and the output blocks under them are what they print (generated source, numbers).

After a deliberate change to what nabla generates, rewrite the output blocks with
``python docs/snippets.py --update docs/tutorial.md`` and read the diff. The machinery is
docs/snippets.py; the figure's measures are docs/plots.py's (its plot needs matplotlib,
these tests do not)."""

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

import nabla

DOCS = Path(__file__).resolve().parent.parent / "docs"
RUNNABLE = ["tutorial.md"]  # documents in docs/ whose python blocks run


def _load(name):
    """docs/<name>.py as a module (docs/ is not a package)."""
    module_name = f"nabla_docs_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


snippets = _load("snippets")


@pytest.fixture
def python_mode(monkeypatch):
    """Numba off: the same generated code, run as Python (the output is the same)."""
    monkeypatch.setattr(nabla.config, "jit", False)


@pytest.mark.auto_mode  # the documents show grad's default mode="auto" at work
@pytest.mark.parametrize("name", RUNNABLE)
def test_the_output_shown_is_what_the_code_prints(name, python_mode):
    try:
        problems = snippets.check(DOCS / name)
    except snippets.CellError as e:
        pytest.fail(f"{e}\n(a python block of docs/{name} failed: fix the block, or nabla)",
                    pytrace=False)
    assert not problems, (
        "\n\n".join(problems) + f"\n\ndocs/{name} does not show what its code prints. If "
        f"what nabla generates changed deliberately, run\n    python docs/snippets.py "
        f"--update docs/{name}\nand read the diff.")


# -- the machinery, on a small document ----------------------------------------------
DOCUMENT = """\
# A test

```python
import numpy as np
import nabla

def cube(x):
    y = x * x
    return y * x
```

Text between.

```python
print(nabla.grad(cube)(2.0))
print(nabla.source(cube, 2.0, mode="jvp").splitlines()[0])
```

```text
stale
```

```python
quiet = 1
```

```text
this block should not be here
```

```python
print(quiet + 1)
```
"""


def test_functions_defined_in_blocks_have_source_at_the_documents_lines(python_mode):
    namespace = {"__name__": "__snippets__"}
    snippets.run(DOCUMENT, "notes.md", namespace)
    cube = namespace["cube"]
    assert cube.__code__.co_filename == "notes.md"
    assert cube.__code__.co_firstlineno == 7  # the document's line of the def
    assert inspect.getsource(cube).startswith("def cube(x):\n    y = x * x")


def test_check_finds_every_difference_and_update_fixes_them(tmp_path, python_mode):
    path = tmp_path / "notes.md"
    path.write_text(DOCUMENT)
    problems = snippets.check(path)
    assert len(problems) == 3, problems
    assert "notes.md:20: the output shown is not what the block at line 15 prints" in \
        problems[0]
    assert "+12.0" in problems[0] and "-stale" in problems[0]
    assert "prints nothing, yet an output block follows" in problems[1]
    assert "prints output the document does not show" in problems[2]

    assert snippets.update(path)
    text = path.read_text()
    assert snippets.check(path) == []
    assert not snippets.update(path)  # nothing left to change
    assert "```text\n12.0\n# nabla.jvp(cube) — " in text
    assert "notes.md:7;" in text  # the header names the document's line of the def
    assert "this block should not be here" not in text
    assert text.endswith("```python\nprint(quiet + 1)\n```\n\n```text\n2\n```\n")


def test_a_block_that_raises_names_its_line(tmp_path):
    path = tmp_path / "broken.md"
    path.write_text("Intro\n\n```python\nx = 1\n1 / 0\n```\n")
    with pytest.raises(snippets.CellError, match=r"broken\.md:4: .*ZeroDivisionError"):
        snippets.check(path)


def test_blocks_and_their_output_blocks():
    found = snippets.cells(DOCUMENT)
    assert [c.code.start + 1 for c in found] == [3, 14, 23, 31]
    assert [c.output is not None for c in found] == [False, True, True, False]
    with pytest.raises(ValueError, match="never closed"):
        snippets.blocks("```python\nx = 1\n")


# -- the figure's measures (docs/plots.py, without matplotlib) -------------------------
def test_checkpointing_keeps_about_the_square_root_of_the_tape(python_mode):
    plots = _load("plots")
    n, size = 400, 10
    kept = plots.kept_bytes(plots.logistic, n, size)
    kept_checkpointed = plots.kept_bytes(plots.logistic_checkpointed, n, size)
    assert n * size * 8 <= kept < n * size * 8 + 1000  # the tape, and the arguments
    assert kept_checkpointed < 2 * 20 * size * 8 + 1000  # ~sqrt(n) checkpoints
    peak = plots.peak_bytes(plots.logistic, n, size)
    peak_checkpointed = plots.peak_bytes(plots.logistic_checkpointed, n, size)
    assert peak >= n * size * 8
    assert peak_checkpointed < peak / 4
