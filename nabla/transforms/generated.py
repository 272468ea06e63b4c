"""What a transform generates: its functions (the entry first, then those of the
functions it calls), the entry's name, and what calling it needs to know (``meta``).

>>> from nabla import syntax
>>> g = Generated([syntax.function_def("f_grad", ["x"], [syntax.ret(syntax.load("x"))])],
...               "f_grad")
>>> g.entry, g.own
('f_grad', 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Generated:
    functions: list  # FunctionDefs, the entry first, then those of the functions it calls
    entry: str
    meta: dict = field(default_factory=dict)

    @property
    def own(self) -> int:
        """How many of ``functions`` are the function's own (not its callees')."""
        return self.meta.get("own", 2 if "bwd" in self.meta else 1)
