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

# how a result's rank follows from the arguments' ranks (transforms/ranks.py reads them):
RANKS = {
    "elementwise": "the broadcast of all arguments' ranks (np.sin, np.where, abs)",
    "first": "the first argument's (np.zeros_like(x), np.copy(x))",
    "second": "the second argument's (broadcast_like(v, like), expand_reduced(g, like, axis))",
    "scalar": "0 (len, float, int, and every function of math)",
    "whole": "0 when called with the array alone (np.sum(x), np.max(x))",
    "axis": "the first argument's minus one, along a constant axis (reduce_sum(x, 0))",
    "shape": "the length of its shape argument (np.zeros((n, m)))",
    "product": "a matrix product's (np.dot, np.matmul)",
}
# how vmap's vector form maps a call over a batch on axis 0 (transforms/batching.py):
BATCHINGS = {
    "elementwise": "the operands lined up (batch_lift, batch_pair), then the call itself",
    "last_axis": "as elementwise, along the leading axes (np.cross of stacks of 3-vectors)",
    "same_shape": "the call itself, on its batched first argument",
    "like_shaped": "``batched``(v, like) for a batched v and an unbatched like",
    "example_reduction": "``batched``(x): each example reduced (np.sum -> batch_sum)",
    "reduced_back": "expand_reduced(g, like, None): each example's value spread over its "
                    "example of ``like`` (batch_expand, batch_broadcast_like)",
    "summed_to": "unbroadcast(v, like): the call itself for a batched v and like of one "
                 "rank in each example; each example summed (batch_sum) to a scalar like",
    "vector_dot": "the cotangent (v) of a dot product of two vectors in each example: v "
                  "times the other vector (the factor not in ``nondiff``), lined up as an "
                  "elementwise product",
    "axis_reduction": "the call with its constant axis moved past the batch axis",
    "product": "a matrix product: each example's, the batch axis kept apart",
}
_IN_PLACE = ("accumulator", "state")

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
    # -- effects: what a call does besides returning a value
    fresh: bool = False  # returns a new array (or a scalar) no other name holds
    # may return a view of its first argument (np.reshape, x.T): it shows later writes into
    # that argument's array
    view: bool = False
    # updates its first argument in place and returns it: "accumulator" (a cotangent, which
    # nothing else may see change: copied first where it may be shared) or "state" (an array
    # of the program's own: a tape, a log, an array whose writes are undone)
    in_place: str | None = None
    # parameters besides the first whose arrays an in_place call changes too (pop_writes
    # undoes writes into its array and shortens its log)
    updates: tuple = ()
    impure: bool = False  # changes state (a draw, a log, a check): never dropped as dead code
    # may raise for some arguments (math's domain and range errors, a division by zero in
    # Python, integers to negative powers): never computed ahead of a loop that may not run
    raises: bool = False
    # defined for every finite argument (raises, where it does, only on an infinity or an
    # overflow): its array form may compute it ahead of a loop for elements the loop reads
    # (tables.py), where Numba's math gives the same inf or NaN
    total: bool = False
    # parameters read only for their shape (tape_entry's tape): a loop writing into an array
    # passed there does not read its values
    shape_only: tuple = ()
    integral: bool = False  # an int for int arguments (len, round, math.floor)
    # -- its values: every element this constant (zero_like: 0.0), or the values of this
    # parameter, in an array of its own (snapshot: "x"); unroll.py reads them
    fill: float | None = None
    copy_of: str | None = None
    # the call computed where its arguments are known when the code is read (ints, and
    # tuples as their elements): len(params) of a tuple is its count, min(2, 3) is 2
    fold: object = None
    # -- the rank of its result in one example, from its arguments' (see RANKS)
    rank: str | None = None
    # the parameter whose shape the result has, whatever the others' (unbroadcast(v, like)):
    # the shape classes of the transforms read it (no broadcast_like of a like-shaped value)
    shaped_like: str | None = None
    # the parameter the call broadcasts to ``shaped_like``'s shape, when its other
    # parameters are None (expand_reduced(g, like, None) is g everywhere): in an elementwise
    # operation with a value of that shape, the parameter alone gives the same values
    broadcast_of: str | None = None
    # -- how vmap's vector form maps it over a batch (see BATCHINGS; None: the loop form),
    # and the helper a call with batched operands becomes (np.sum -> batch_sum)
    batching: str | None = None
    batched: str | None = None
    # -- spellings: for array arguments (math.sin -> np.sin), and in device code (np.sin ->
    # math.sin; None: device code has none)
    array_form: str | None = None
    device: str | None = None
    # why it has no derivative, and what to do (message, hint): ``{fn}`` is its first
    # argument as written (compiled code called through opaque_call)
    no_derivative: tuple | None = None
    # the parameters an inactive call makes its values from (np.full's fill value), or a
    # function of the bound arguments naming them: one that depends on a differentiated
    # input is refused with ``no_derivative`` (the result would carry no derivative)
    values_from: object = ()
    doc: str = ""

    @property
    def new_array(self) -> bool:
        """Its result is a new array (or a scalar) that shares memory with no argument."""
        return self.fresh or (self.elementwise and self.kind in ("diff", "zero"))

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
    # facts that follow from others: a function of math takes and returns scalars, and
    # raises outside its domain; an elementwise function's rank is its arguments'
    # broadcast, and NumPy's map over a batch
    if kw.get("rank") is None and spelling.startswith("math."):
        kw["rank"] = "scalar"
    if spelling.startswith("math."):  # ValueError or OverflowError
        kw.setdefault("raises", True)
    if kw.get("rank") is None and kw.get("elementwise"):
        kw["rank"] = "elementwise"
    if kw.get("batching") is None and kw.get("elementwise") and spelling.startswith("np."):
        kw["batching"] = "elementwise"
    if kw.get("rank") is not None and kw["rank"] not in RANKS:
        raise ValueError(f"{spelling}: unknown rank rule {kw['rank']!r}")
    if kw.get("batching") is not None and kw["batching"] not in BATCHINGS:
        raise ValueError(f"{spelling}: unknown batching rule {kw['batching']!r}")
    if kw.get("in_place") is not None and kw["in_place"] not in _IN_PLACE:
        raise ValueError(f"{spelling}: in_place is one of {_IN_PLACE}")
    rule = Rule(spelling=spelling, params=tuple(names), defaults=defaults, **kw)
    RULES[spelling] = rule
    if not isinstance(objs, tuple):
        objs = (objs,)
    for obj in objs:
        if obj is not None:
            _BY_OBJECT.setdefault(id(obj), (obj, spelling))
    return rule


def find_by_object(module) -> None:
    """Let each rule whose spelling names a function of ``module`` be found by that function
    too: generated code imports the helpers of ``nabla.runtime`` by name, and a transform
    of generated code (the jacfwd of a grad) reads ``reduce_sum`` as that object."""
    for spelling in RULES:
        obj = getattr(module, spelling, None)
        if callable(obj):
            _BY_OBJECT.setdefault(id(obj), (obj, spelling))


def _canonical(template: str) -> str:
    return ast.unparse(ast.parse(template, mode="eval"))


def lookup_object(obj) -> Rule | None:
    entry = _BY_OBJECT.get(id(obj))
    if entry is None or entry[0] is not obj:
        return None
    return RULES[entry[1]]


def lookup(spelling: str) -> Rule | None:
    return RULES.get(spelling)


def fact(spelling: str, name: str, default=None):
    """``lookup(spelling).<name>``, or ``default`` for a function without a rule.

    >>> fact("np.sum", "batched"), fact("index_add", "in_place"), fact("no_such", "fresh")
    ('batch_sum', 'accumulator', None)
    """
    rule = RULES.get(spelling)
    return default if rule is None else getattr(rule, name)


def array_spelling(spelling: str) -> str:
    """How a call is spelled for array arguments: ``math.sin`` -> ``np.sin``."""
    return fact(spelling, "array_form") or spelling


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
