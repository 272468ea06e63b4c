"""What a transform generates: its functions (the entry first, then those of the
functions it calls), the entry's name, and what calling it needs to know (``Meta``).

>>> from nabla import syntax
>>> g = Generated([syntax.function_def("f_grad", ["x"], [syntax.ret(syntax.load("x"))])],
...               "f_grad", Meta("grad", params=["x"], wrt=["x"]))
>>> g.entry, g.own
('f_grad', 1)

``Meta`` travels with the module text in the disk cache, as JSON:

>>> Meta.from_json(g.meta.to_json()) == g.meta
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class Meta:
    """What calling a generated module needs to know beside its text. Every transform
    sets the first block; the others belong to the transforms that name them."""

    mode: str = "jit"  # the view generated: "grad", "vjp", "vmap", "grad_forward", ...
    params: list = field(default_factory=list)  # the user's parameters, in order
    free: list = field(default_factory=list)  # free values, passed after the parameters
    free_sources: list = field(default_factory=list)  # where each free value is read
    wrt: list = field(default_factory=list)  # the parameters differentiated
    has_aux: bool = False
    result_tree: list | None = None  # the result's structure (pytree's JSON form), if
    #                                  it is not an array or a plain tuple
    entry: str | None = None  # the function to call (set by the pipeline)
    float32: bool = False  # made for float32 arguments (set when the module is loaded)
    own: int | None = None  # how many of the functions are the view's own (None: as
    #                         ``Generated.own`` says), the callees' follow
    # vjp, jacrev
    bwd: str | None = None  # the backward function
    residuals: list | None = None  # what the forward function keeps for it, by name
    outputs: int | None = None  # vjp of a tuple output: how many elements
    # jvp
    tangents: list | None = None  # the tangent parameters
    # forward-mode grad, jacfwd: the jvp (or its vector form) called per direction
    jvp: str | None = None
    # vmap
    form: str | None = None  # "vector" or "loop" (jacfwd's vector form: "vector")
    target: str | None = None  # "cpu", "parallel" or "cuda"
    in_axes: list | None = None
    out_axes: list | None = None
    paths: list | None = None  # where each output leaf sits in the result
    example: str | None = None  # the loop form: the function of one example
    # a select (selects.py) computes both sides of a branch for every example: run as
    # Python, NumPy's warnings about the side an example does not take are silenced
    # (compiled, Numba never warns)
    quiet: bool = False

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Meta":
        """The meta a cache entry stored (keys nabla no longer writes are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def but(self, **changes) -> "Meta":
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)


@dataclass
class Generated:
    functions: list  # FunctionDefs, the entry first, then those of the functions it calls
    entry: str
    meta: Meta = field(default_factory=Meta)

    @property
    def own(self) -> int:
        """How many of ``functions`` are the function's own (not its callees')."""
        if self.meta.own is not None:
            return self.meta.own
        return 2 if self.meta.bwd is not None else 1
