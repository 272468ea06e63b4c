"""Lines of reverse-mode source over lines of primal source, for the golden functions.

Comments and blank lines are not counted; a function's lines are its ``def`` and
body. The module measured is the one a call with the golden examples' arguments runs
(``nabla.source(f, *args, mode="grad", ...)``), in reverse mode. The aim: a median of at
most 3.0.

Run: python benchmarks/source_size.py
"""

import inspect
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from golden_functions import EXAMPLES, GOLDEN  # noqa: E402

import nabla  # noqa: E402


def code_lines(text: str) -> int:
    lines = [ln.strip() for ln in text.split("\n")]
    return sum(1 for ln in lines if ln and not ln.startswith("#") and not ln.startswith('"""'))


def function_lines(module_text: str, name: str) -> int:
    """Lines of the function ``name`` in a generated module."""
    lines = module_text.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"def {name}("))
    end = start + 1
    while end < len(lines) and (not lines[end] or lines[end].startswith((" ", "#"))):
        end += 1
    return code_lines("\n".join(lines[start:end]))


def main() -> None:
    ratios = []
    print(f"{'function':16} {'primal':>6} {'grad':>6} {'ratio':>6}")
    for name, (fun, argnums) in sorted(GOLDEN.items()):
        primal = code_lines(inspect.getsource(fun))
        g = nabla.grad(fun, argnums=argnums, mode="reverse")
        grad = function_lines(nabla.source(g, *EXAMPLES[name]), f"{name}_grad")
        ratios.append(grad / primal)
        print(f"{name:16} {primal:6d} {grad:6d} {grad / primal:6.2f}")
    print(f"median ratio: {statistics.median(ratios):.2f} (aim: <= 3.0)")


if __name__ == "__main__":
    main()
