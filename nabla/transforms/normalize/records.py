"""What normalization hands to the transforms: ``Canonical``, a function in canonical
form, and ``Callee``, a function of the user's that it calls (normalized once and
shared by every call site, called by name in generated code). A callee's ``rule``
differentiates the parameters its result depends on differentiably, not one read for
its shape only:

>>> import numpy as np
>>> from nabla.transforms.normalize import normalize
>>> def h(x, y):
...     return x * np.ones_like(y)
>>> def f(x, y):
...     return h(x, y) + 1.0
>>> canon = normalize(f)
>>> print(canon.to_source())
def f(x, y):
    t1 = h(x, y)
    t2 = t1 + 1.0
    return t2
>>> callee = canon.callees["h"]
>>> print(callee.canon.to_source())
def h(x, y):
    t1 = np.ones_like(y)
    t2 = x * t1
    return t2
>>> callee.rule.params, callee.rule.nondiff, callee.outputs
(('x', 'y'), ('y',), None)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ... import rules, syntax
from ...errors import NotDifferentiableError
from ...frontend.parse import ParsedFunction
from ...names import Namer
from ..activity import ShapeClasses, analyse


@dataclass
class Canonical:
    """A function in canonical form, and what the transforms need to know of it."""

    name: str
    params: list[str]  # the user's parameters (as named in generated code)
    free: list[str]  # free numbers and arrays, extra parameters of generated code
    free_sources: list[str]  # how each free value is found: the user's name for it
    body: list  # Assign statements; ``lineno`` is the user's line
    result: object  # an atom, or a Tuple of atoms
    result_lineno: int
    parsed: ParsedFunction
    namer: Namer
    user_names: dict[str, str] = field(default_factory=dict)  # canonical name -> user's name
    # spelling -> Callee, for the user's functions this one calls
    callees: dict = field(default_factory=dict)
    # canonical name -> length, for the tuples those functions return (read element-wise)
    call_tuples: dict = field(default_factory=dict)
    # the structure of the result when it holds dicts, lists or namedtuples (JSON: nested
    # lists, see ``result_tree``); generated code returns them as nested tuples
    result_tree: object = None
    # spelling of a custom_jvp / custom_vjp callee -> {role ("fwd", "bwd", "lin", "jvp"):
    # the names of its rule function's free values here, passed after its arguments}
    rule_free: dict = field(default_factory=dict)

    def to_source(self) -> str:
        fdef = syntax.function_def(
            self.name, self.params + self.free, self.body + [syntax.ret(self.result)]
        )
        return syntax.to_source(fdef)

    def line_text(self, lineno: int | None) -> str:
        return self.parsed.line(lineno).strip()


@dataclass
class Callee:
    """A function of the user's that the function calls, normalized once and shared by
    every call site: generated code calls it as ``spelling(args..., free...)`` and
    calls its derivatives ``spelling_jvp`` / ``spelling_vjp``."""

    fn: object
    spelling: str  # its name in the generated module
    canon: Canonical
    outputs: int | None  # the length of the tuple it returns; None for one value
    fresh_result: bool  # it returns an array it created (the caller may write into it)
    # reverse mode recomputes it from its arguments instead of keeping its residuals
    # (nabla.checkpoint)
    checkpointed: bool = False
    # a custom_jvp or custom_vjp (nabla.custom): the object, and the callees of its rule's
    # functions by role ("fwd", "bwd"; "jvp" and "lin", the jvp rule's output tangent)
    custom: object = None
    rules: dict = field(default_factory=dict)

    @functools.cached_property
    def shapes(self):
        """Which of its names provably share a shape (ShapeClasses)."""
        return ShapeClasses(self.canon)

    @functools.cached_property
    def rule(self):
        """A rule whose differentiable parameters are those the result depends on
        differentiably (a parameter read for its shape only is not one)."""
        params = tuple(self.canon.params + self.canon.free)
        if self.custom is not None:  # the rule's: every argument but the nondiff ones
            user = self.canon.params
            diff = [p for i, p in enumerate(user) if i not in self.custom.nondiff_argnums]
            return rules.Rule(spelling=self.spelling, params=params, kind="diff",
                              jvp={p: "" for p in diff}, vjp={p: "" for p in diff},
                              nondiff=tuple(p for p in params if p not in diff),
                              doc=f"{self.fn.__name__}(), a {self.custom.kind} of the user's")
        result = self.canon.result
        outs = result.elts if isinstance(result, syntax.Tuple) else [result]
        names = [o.id for o in outs if isinstance(o, syntax.Name)]
        # a parameter whose value reaches a call without a derivative for it (a draw, a
        # helper with no rule in that direction) is neither differentiable nor a shape: a
        # caller differentiating it is refused, never given a derivative that misses a path
        try:
            activity, blocked = analyse(self.canon, list(params), names), []
        except NotDifferentiableError:  # which parameters it is, one analysis each
            activity = analyse(self.canon, list(params), names, check=False)
            blocked = [p for p in params if self._blocked(p, names)]
        diff = [p for p in params if p not in blocked and (activity.active(p) or any(
            isinstance(o, syntax.Name) and o.id == p for o in outs))]
        return rules.Rule(spelling=self.spelling, params=params, kind="diff",
                          jvp={p: "" for p in diff}, vjp={p: "" for p in diff},
                          nondiff=tuple(p for p in params if p not in diff and p not in blocked),
                          doc=f"{self.fn.__name__}(), a function of the user's")

    def _blocked(self, param: str, outputs: list) -> bool:
        try:
            analyse(self.canon, [param], outputs)
        except NotDifferentiableError:
            return True
        return False
