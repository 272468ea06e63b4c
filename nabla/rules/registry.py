"""The rules table: for each function nabla knows, how generated code spells
it and how to differentiate it.

A rule is data. Its derivative is a few lines of Python template, written in
the names of the function's parameters, plus ``g`` (the cotangent of the
output), ``out`` (the output) and ``<param>_dot`` (a parameter's tangent):

>>> import numpy as np
>>> r = lookup_object(np.sin)
>>> r.spelling, r.params, r.vjp["x"], r.jvp["x"]
('np.sin', ('x',), 'g * np.cos(x)', 'x_dot * np.cos(x)')

``vjp[p]`` is the cotangent that flows into parameter ``p``; ``jvp[p]`` is the
part of the output's tangent that comes from ``p``'s tangent (the parts are
added). A transform never names ``np.sin``: it looks rules up here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .. import syntax

# spelling -> Rule, and Python object -> spelling
RULES: dict[str, Rule] = {}
# spelling -> function(bound atoms) -> a template to use instead, or None (see ``deflower``)
LOWERINGS: dict = {}
_BY_OBJECT: dict[int, tuple[object, str]] = {}


@dataclass(frozen=True)
class Rule:
    spelling: str  # how generated code calls it: "np.sin", "reduce_sum", "BinOp.Add"
    params: tuple[str, ...]  # parameter names, in positional order
    defaults: dict = field(default_factory=dict)  # parameter -> default (a Python constant)
    jvp: dict = field(default_factory=dict)  # parameter -> tangent template
    vjp: dict = field(default_factory=dict)  # parameter -> cotangent template
    # "diff": differentiable through jvp/vjp; "zero": piecewise constant (derivative 0);
    # "inactive": the output never carries a derivative (shapes, constructors);
    # "random": a draw; its arguments must not be active.
    kind: str = "diff"
    elementwise: bool = False  # output shape = broadcast of the inputs' shapes
    seq: str | None = None  # parameter that is a literal sequence (np.stack((a, b)))
    seq_vjp: str | None = None  # cotangent of element {i} of the sequence
    seq_jvp: str | None = None  # tangent of the output given "seq_dot", the tangents' tuple
    # parameters read only for a shape, an index or ties: their derivative is zero
    nondiff: tuple = ()
    # the whole tangent in one template (every "<param>_dot", zeros for inactive ones),
    # used instead of the sum of ``jvp``'s parts (in-place updates of a tangent array)
    jvp_all: str | None = None
    doc: str = ""

    def bind(self, args: list, kwargs: dict) -> dict:
        """Map call arguments (already atoms) to parameter names; raises TypeError."""
        if len(args) > len(self.params):
            raise TypeError(f"{self.spelling} takes at most {len(self.params)} arguments")
        bound = dict(zip(self.params, args))
        for k, v in kwargs.items():
            if k not in self.params:
                raise TypeError(f"{self.spelling} has no argument {k!r} that nabla supports")
            if k in bound:
                raise TypeError(f"{self.spelling} got {k!r} twice")
            bound[k] = v
        missing = [p for p in self.params if p not in bound and p not in self.defaults]
        if missing:
            raise TypeError(f"{self.spelling} is missing {', '.join(missing)}")
        return bound


def defrule(objs, spelling: str, params: str, **kw) -> Rule:
    """Register a rule for ``objs`` (one object or a tuple of aliases), spelled ``spelling``.

    ``params`` is a signature like ``"x, axis=None, keepdims=False"``.
    """
    names, defaults = [], {}
    for part in [p.strip() for p in params.split(",") if p.strip()]:
        if "=" in part:
            name, default = (s.strip() for s in part.split("=", 1))
            defaults[name] = eval(default, {})  # noqa: S307 - constants we wrote
        else:
            name = part
        names.append(name)
    for key in ("jvp", "vjp"):  # canonical text: the parser drops redundant parentheses
        if key in kw:
            kw[key] = {p: _canonical(t) for p, t in kw[key].items()}
    if kw.get("jvp_all"):
        kw["jvp_all"] = _canonical(kw["jvp_all"])
    rule = Rule(spelling=spelling, params=tuple(names), defaults=defaults, **kw)
    RULES[spelling] = rule
    if not isinstance(objs, tuple):
        objs = (objs,)
    for obj in objs:
        if obj is not None:
            _BY_OBJECT.setdefault(id(obj), (obj, spelling))
    return rule


def _canonical(template: str) -> str:
    return ast.unparse(ast.parse(template, mode="eval"))


def lookup_object(obj) -> Rule | None:
    entry = _BY_OBJECT.get(id(obj))
    if entry is None or entry[0] is not obj:
        return None
    return RULES[entry[1]]


def lookup(spelling: str) -> Rule | None:
    return RULES.get(spelling)


def spelling_of(obj) -> str | None:
    entry = _BY_OBJECT.get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


def deflower(spelling: str, fn) -> None:
    """Rewrite calls of ``spelling`` before differentiation, in the primal too.

    ``fn(bound)`` gets the call's arguments (atoms, by parameter name, defaults
    filled in as constants) and returns a template in those names, or None to
    keep the call. Used for NumPy forms Numba lacks:
    ``np.mean(x, axis=0)`` becomes ``reduce_mean(x, axis)``.
    """
    LOWERINGS[spelling] = fn


def constant_value(node, default=None):
    """The value of a constant atom; ``default`` when ``node`` is not a constant."""
    if syntax.is_const(node):
        return node.value
    return default
