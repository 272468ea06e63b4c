"""Generate docs/api.md, the API reference, from nabla's public names and their docstrings.

    python docs/api_reference.py           # rewrite docs/api.md
    python docs/api_reference.py --check   # exit 1 if docs/api.md is stale, or a public
                                           # name has no docstring of its own

The public names are ``nabla.__all__`` and those of the submodules in ``MODULES`` (their
``__all__``, else the public names they define). Each gets its signature and the first
paragraph of its docstring; NumPy's functions under nabla's name (``nabla.sin``) get
NumPy's. A class's or function's docstring must be its own (a class inheriting one does
not count), and an object's (``nabla.config``) its class's.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
API_MD = HERE / "api.md"
MODULES = ["nabla", "nabla.nn", "nabla.optim", "nabla.dask", "nabla.exercises"]

HEADER = """\
# API reference

Generated from the docstrings by `python docs/api_reference.py`; do not edit by hand
(run it again after changing a public name or its docstring: `tests/test_api_reference.py`
fails while this file is stale). Each entry gives the signature and the first paragraph
of the docstring; `help(nabla.grad)` has the rest. The README's table is the overview.
"""


class _Text:
    """An annotation written as text (``from __future__ import annotations``), shown bare."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def public_names(module) -> list[str]:
    """``module.__all__``, else the public names ``module`` defines itself."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return sorted(n for n, v in vars(module).items() if not n.startswith("_")
                  and getattr(v, "__module__", None) == module.__name__)


def from_numpy(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "numpy"


def own_doc(obj) -> str | None:
    """The docstring ``obj`` has of its own (or its class's, for an instance), else None."""
    if (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)
            or from_numpy(obj)):
        cls = obj if inspect.isclass(obj) else None
    else:
        cls = type(obj)  # an object, as nabla.config: its class says what it is
    if cls is not None:
        doc = cls.__dict__.get("__doc__")
        if doc and dataclasses.is_dataclass(cls) and doc.startswith(cls.__name__ + "("):
            doc = None  # the text @dataclass makes up, not a docstring
    else:
        doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc and doc.strip() else None


def first_paragraph(doc: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", doc.strip()) if p.strip()]
    # NumPy's ufuncs (and np.where) start with their signature: the paragraph after it
    if len(paragraphs) > 1 and re.fullmatch(r"[\w.]+\(.*\)(\s*->.*)?(\s*--)?",
                                            paragraphs[0].strip(), flags=re.S):
        paragraphs = paragraphs[1:]
    return " ".join(line.strip() for line in paragraphs[0].splitlines())


def signature(obj) -> str | None:
    """``(x, axis=-1)``, annotations shown bare, without memory addresses; None if none."""
    target = obj
    if not (inspect.isclass(obj) or callable(obj)):
        return None
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None

    def bare(annotation):
        if isinstance(annotation, str):
            return _Text(annotation)
        return annotation
    params = [p.replace(annotation=bare(p.annotation)) for p in sig.parameters.values()]
    sig = sig.replace(parameters=params, return_annotation=bare(sig.return_annotation))
    return re.sub(r" at 0x[0-9a-fA-F]+", "", str(sig))


def entry(module_name: str, name: str, obj) -> tuple[str, bool]:
    """(the markdown of one public name, whether it has a docstring)."""
    qual = f"{module_name}.{name}"
    lines = [f"### `{qual}`", ""]
    doc = own_doc(obj)
    sig = signature(obj)
    if inspect.isclass(obj) and not from_numpy(obj):
        what = "exception" if issubclass(obj, BaseException) else "class"
        sig = (sig or "").removesuffix(" -> None")
        code = f"{what} {qual}{sig}"
    elif inspect.isclass(obj) or callable(obj):
        code = f"{qual}{sig or '(...)'}"
    else:
        cls = type(obj)
        code = f"{qual}: {cls.__module__}.{cls.__qualname__}"
        if dataclasses.is_dataclass(cls):
            fields = ", ".join(f"{f.name}: {f.type}" for f in dataclasses.fields(cls))
            code += f"  # fields: {fields}"
    lines += ["```python", code, "```", ""]
    if from_numpy(obj):
        numpy_name = f"numpy.{getattr(obj, '__name__', name)}"
        lines.append(f"NumPy's `{numpy_name}` under nabla's name. "
                     + (first_paragraph(doc) if doc else ""))
    elif doc:
        lines.append(first_paragraph(doc))
    else:
        lines.append("*(no docstring)*")
    lines.append("")
    return "\n".join(lines), doc is not None


def _anchor(title: str, used: dict) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, ``-1`` (``-2``, ...)
    after the first heading that makes it (``nabla.Array`` and ``nabla.array``)."""
    base = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
    n = used.get(base, 0)
    used[base] = n + 1
    return base if n == 0 else f"{base}-{n}"


def collect() -> tuple[str, list[str]]:
    """(the text of docs/api.md, the public names without a docstring of their own)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sections, missing, toc = [], [], []
    used: dict = {}  # anchors, in the order of the headings
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names = public_names(module)
        entries = []
        for name in names:
            text, documented = entry(module_name, name, getattr(module, name))
            entries.append(text)
            if not documented:
                missing.append(f"{module_name}.{name}")
        summary = own_doc(module)
        toc.append(f"- [`{module_name}`](#{_anchor(module_name, used)}) ({len(names)} names)")
        index = " · ".join(f"[`{n}`](#{_anchor(f'`{module_name}.{n}`', used)})" for n in names)
        sections.append("\n".join([f"## {module_name}", "",
                                   first_paragraph(summary) if summary else "", "",
                                   index, "", *entries]))
    text = HEADER + "\n" + "\n".join(toc) + "\n\n" + "\n".join(sections)
    text = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
    return text, missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/api.md is stale or a docstring is missing")
    args = parser.parse_args(argv)
    text, missing = collect()
    for name in missing:
        print(f"api_reference: {name} has no docstring", file=sys.stderr)
    if args.check:
        current = API_MD.read_text() if API_MD.exists() else ""
        if current != text:
            print(f"api_reference: {API_MD.relative_to(ROOT)} is stale: run "
                  "python docs/api_reference.py", file=sys.stderr)
            return 1
        return 1 if missing else 0
    API_MD.write_text(text)
    print(f"wrote {API_MD.relative_to(ROOT)}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
