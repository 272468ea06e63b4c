"""nabla's imports run one way: from the API down to the ground floor, with no cycle
(imports inside functions count too: a lazy import that dodges a cycle is one)."""

import ast
from pathlib import Path

import nabla

PACKAGE = Path(nabla.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set) -> set:
    """The nabla modules ``path`` imports, anywhere in it."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from . import x`` imports the module x; ``from .m import f`` the module m
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def import_graph() -> dict:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def find_cycle(graph: dict):
    """A cycle of the graph as a list of modules, or None."""
    state: dict = {}
    stack: list = []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if n.startswith(m + ".") or m.startswith(n + "."):
                continue  # a package and its own modules (its __init__ re-exports them)
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_is_read():
    graph = import_graph()
    assert "nabla.api" in graph and "nabla.function" in graph["nabla.api"]


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_nothing_below_the_api_imports_it():
    graph = import_graph()
    importers = sorted(m for m, deps in graph.items() if "nabla.api" in deps
                       and floor(m) < floor("nabla.api"))
    assert importers == []


# the floors, top down (docs/design.md): a module imports only from its own floor or below
FLOORS = [
    ("the API", lambda m: m in ("nabla", "nabla.api", "nabla.saved", "nabla.dask",
                                "nabla.program", "nabla.nn", "nabla.optim", "nabla.lazy",
                                "nabla.creation", "nabla.show", "nabla.html",
                                "nabla.__main__", "nabla.exercises")),
    ("Function", lambda m: m == "nabla.function"),
    ("calling", lambda m: m in ("nabla.pipeline", "nabla.running", "nabla.arguments",
                                "nabla.vmapping", "nabla.fast_path", "nabla.chunks",
                                "nabla.shipping", "nabla.stages")),
    ("the passes", lambda m: m.startswith(("nabla.frontend", "nabla.transforms"))),
    ("codegen", lambda m: m.startswith("nabla.codegen")),
    ("rules", lambda m: m.startswith("nabla.rules")),
    ("the ground floor", lambda m: True),
]


def floor(module: str) -> int:
    """0 for the ground floor, higher up the stack."""
    for i, (_, member) in enumerate(FLOORS):
        if member(module):
            return len(FLOORS) - 1 - i
    raise AssertionError(module)


def test_imports_only_go_down():
    up = [f"{a} imports {b}" for a, deps in sorted(import_graph().items())
          for b in sorted(deps) if floor(b) > floor(a)]
    assert up == []
