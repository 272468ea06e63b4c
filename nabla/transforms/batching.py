"""Batching (``vmap``): the function of one example rewritten for a batch of them.

Two forms, both plain source (``nabla.vmap(f).source``):

* the **vector form** rewrites the canonical body so that every batched value
  carries the batch on axis 0: elementwise operations line their operands up
  (``batch_lift``, ``batch_pair``), reductions reduce each example
  (``batch_sum``), indexing shifts past the batch axis (``x[:, i]``), unbatched
  values stay unbatched, and a variable that is batched anywhere is batched
  everywhere (``batch_broadcast`` where an unbatched value is assigned to it);
  A branch on a batched value becomes both sides and ``np.where`` where the
  examples are arrays and nothing transforms the code further (selects.py);
* the **loop form** calls the function of one example for each example and
  writes the results into batches (``batch_like``, ``batch_set``). It is
  used where the vector form does not apply: control flow on batched values,
  batched values written into arrays the function allocates (every
  reverse-mode tape is one), a batched ``range``, calls of other functions,
  and any operation without a batching rule here. ``target="parallel"`` runs
  its loop with ``prange``.

jacfwd's vector forward mode (``Options.directions``) maps the jvp over its
tangents with the vector form only: there calls of the user's functions get
batched versions of their own (``_Versions``) and batched values may be
written into arrays, and where the vector form does not apply
``VectorFormUnavailable`` is raised (jacfwd keeps its loop over directions).

The batch axis is moved to the front on entry (``batch_first``, from
``in_axes``) and to ``out_axes`` on exit (``batch_to``), so no rule does axis
arithmetic of its own.

Mapped over ``x`` (not ``w``), ``g``'s vector form lines ``np.sin(x)`` up with
``w`` (it cannot tell their ranks) and sums each example; ``views.build`` is the
way in:

>>> import numpy as np
>>> from nabla import syntax
>>> from nabla.transforms.normalize import normalize
>>> from nabla.transforms.views import build
>>> def g(x, w):
...     y = np.sin(x) * w
...     return np.sum(y)
>>> over_x = Options(in_axes=(0, None), out_axes=0, axis_size=None, target="cpu")
>>> print(syntax.to_source(build(normalize(g), "vmap", [], options=over_x).functions[0]))
def g_vmap(x, w):
    # the vector form: each batched value carries the batch on its axis 0
    y = batch_lift(np.sin(x), w) * w
    return batch_sum(y)
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import pytree, rules, syntax
from ..errors import TransformInputError, TransformOutputError
from ..names import GENERATED_MODULE_PREFIX
from .generated import Generated, Meta
from .optimize import optimize
from .ranks import example_ranks, rank, spelling, tuple_element, tuple_length, user_callee
from .selects import NOTE, select_branch


@dataclass
class Options:
    in_axes: tuple  # per parameter of the function: an int (negative allowed) or None
    out_axes: object  # a prefix of the output's structure: int, None, tuple, list, dict
    axis_size: int | None
    target: str  # "cpu", "parallel" or "cuda"
    # the loop form calls this function of one example, already generated (the entry of
    # an inner transform's module, which the module of the vmap then includes) instead of
    # generating one from the canonical form
    example: str | None = None
    # the number of dimensions of each parameter in one example, when the arguments of a
    # call are known: operands then line up without helpers where their ranks tell
    ranks: tuple | None = None
    # jacfwd's vector forward mode (the jvp mapped over its tangents): calls of the user's
    # functions get batched versions of their own, batched values may be written into
    # arrays, and where the vector form does not apply it raises VectorFormUnavailable
    # instead of falling back to the loop form (jacfwd then keeps its loop over directions)
    directions: bool = False


class VectorFormUnavailable(Exception):
    """The vector form does not apply; ``reason`` says where (for the source's comment)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _NeedsLoop(VectorFormUnavailable):
    pass


# -- what is batched -----------------------------------------------------------------------
def batched_names(canon, batched_params, calls=None, elems: dict | None = None) -> set[str]:
    """Names whose value depends on a batched parameter (through data or control flow),
    flow-insensitively: a name batched anywhere is batched everywhere.

    ``calls(callee, pattern)`` (jacfwd's vector form) says which elements of what a call
    of the user's function returns are batched, given which arguments are; ``elems``
    then receives them per name, and an element read from such a tuple is batched only
    when that element is."""
    batched = set(batched_params)
    elems = {} if elems is None else elems

    def call_reads(value, target):
        """The names a call's (or an element's) value depends on, or None: the usual."""
        if calls is None or not isinstance(target, syntax.Name):
            return None
        if user_callee(canon, value) is not None:
            pattern = tuple(bool(set(syntax.names_loaded(a)) & batched) for a in value.args)
            flags = calls(canon.callees[value.func.id], pattern)
            elems[target.id] = flags
            return set(syntax.names_loaded(value)) if any(flags) else set()
        if isinstance(value, syntax.Subscript) and isinstance(value.value, syntax.Name) \
                and value.value.id in elems and syntax.is_const(value.slice) \
                and isinstance(value.slice.value, int):
            flags = elems[value.value.id]
            i = value.slice.value
            return {value.value.id} if i >= len(flags) or flags[i] else set()
        return None

    def visit(body, control: bool) -> bool:
        changed = False
        for s in body:
            if isinstance(s, syntax.If):
                c = control or bool(set(syntax.names_loaded(s.test)) & batched)
                changed |= visit(s.body, c) | visit(s.orelse, c)
            elif isinstance(s, syntax.For):
                c = control or bool(set(syntax.names_loaded(s.iter)) & batched)
                if c:
                    for n in syntax.names_stored(s.target):
                        if n not in batched:
                            batched.add(n)
                            changed = True
                changed |= visit(s.body, c)
            elif isinstance(s, syntax.While):
                c = control or bool(set(syntax.names_loaded(s.test)) & batched)
                changed |= visit(s.body, c)
            elif isinstance(s, syntax.Assign):
                target = s.targets[0]
                reads = call_reads(s.value, target)
                if reads is None:
                    reads = set(syntax.names_loaded(s.value))
                if isinstance(target, syntax.Subscript):  # a write: the array is batched
                    reads |= set(syntax.names_loaded(target.slice))
                    names = syntax.names_loaded(target.value)
                else:
                    names = syntax.names_stored(target)
                if control or reads & batched:
                    for n in names:
                        if n not in batched:
                            batched.add(n)
                            changed = True
        return changed

    while True:
        before = {k: list(v) for k, v in elems.items()}
        if not visit(canon.body, False) and elems == before:
            return batched


# -- the output's leaves and their axes --------------------------------------------------------
def output_paths(canon) -> list[tuple]:
    """The paths (indices into nested tuples) of the leaves of the function's output."""

    def walk(atom, tree, path):
        if tree is not None:
            if tree[0] == "leaf":
                return [path]
            return [p for i, child in enumerate(tree[2])
                    for p in walk(tuple_element(canon, atom, i), child, path + (i,))]
        if isinstance(atom, syntax.Tuple):
            n = len(atom.elts)
        else:
            n = tuple_length(canon, atom)
        if n is None:
            return [path]
        return [p for i in range(n) for p in walk(tuple_element(canon, atom, i), None, path + (i,))]

    return walk(canon.result, canon.result_tree, ())


def leaf_axes(prefix, canon, paths, what: str = "out_axes") -> list:
    """``prefix`` (JAX's pytree prefix of the output's structure) as one axis per leaf."""
    tree = canon.result_tree

    def axis_at(path):
        node, t, atom = prefix, tree, canon.result
        for i in path:
            if node is None or isinstance(node, int):
                return node
            if isinstance(node, dict):
                keys = t[1][0] if t is not None and t[0] == "dict" else None
                if keys is None or sorted(node) != sorted(keys):
                    raise TransformInputError(
                        f"vmap: {what}={prefix!r} does not match the output's structure",
                        hint="give a dict of axes only for a dict output, with its keys")
                node = node[keys[i]]
            elif isinstance(node, (tuple, list)):
                n = len(t[2]) if t is not None else None
                if n is None:
                    n = len(atom.elts) if isinstance(atom, syntax.Tuple) else \
                        tuple_length(canon, atom)
                if n != len(node):
                    raise TransformInputError(
                        f"vmap: {what}={prefix!r} has {len(node)} entries where the output "
                        f"has {n}", hint="give one axis per output, or one int for all")
                node = node[i]
            else:
                raise TransformInputError(f"vmap: {what} must be an int, None, or a tuple, "
                                          f"list or dict of them, not {node!r}")
            t = t[2][i] if t is not None else None
            atom = tuple_element(canon, atom, i)
        if node is None or (isinstance(node, int) and not isinstance(node, bool)):
            return node
        raise TransformInputError(f"vmap: {what}={prefix!r} is deeper than the output "
                                  "or not made of ints and None",
                                  hint="give one int (or None) per output")
    return [axis_at(p) for p in paths]


def _index(expr: str, path) -> str:
    return expr + "".join(f"[{i}]" for i in path)


def nest_source(paths, leaves: list[str]) -> str:
    """Nested tuple source with the expressions ``leaves`` at ``paths``."""
    def source(v):
        if isinstance(v, str):
            return v
        return "(" + ", ".join(source(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return source(pytree.nest_values(paths, leaves))


# -- building -----------------------------------------------------------------------------
def build_vmap(canon, opts: Options, lib, entry: str | None, build):
    """The Generated functions of ``vmap(canon)``; ``build`` is ``views.build``."""

    params = canon.params + canon.free
    batched = [p for p, a in zip(canon.params, opts.in_axes) if a is not None]
    entry = entry or f"{canon.name}_vmap"
    paths = output_paths(canon)
    out_axes = leaf_axes(opts.out_axes, canon, paths)
    versions = _Versions(set(canon.callees) | {entry}) if opts.directions else None
    elems: dict = {}
    names = batched_names(canon, batched, versions.flags if versions else None, elems)
    leaf_batched = [_leaf_is_batched(canon, p, names) for p in paths]
    for path, axis, b in zip(paths, out_axes, leaf_batched):
        if axis is None and b:
            where = f" {_index('output', path)}" if path else ""
            raise TransformOutputError(
                f"vmap of {canon.name}: out_axes=None for the output{where}, which depends "
                "on the batched arguments", **canon.parsed.where(canon.parsed.tree),
                hint="give that output an axis (e.g. out_axes=0)")
    meta = Meta("vmap", params=canon.params, free=canon.free, free_sources=canon.free_sources,
                result_tree=canon.result_tree, in_axes=list(opts.in_axes),
                out_axes=list(out_axes), paths=[list(p) for p in paths], target=opts.target)
    fresh = canon.namer.fresh  # names of the entry function: none of the user's
    prologue = []
    for p, a in zip(canon.params, opts.in_axes):
        if a not in (None, 0):
            prologue.append(f"{p} = batch_first({p}, {a})")
    size = fresh("size")
    if batched:
        prologue.append(f"{size} = batch_size({batched[0]})")
    else:
        prologue.append(f"{size} = {int(opts.axis_size)}")
    # unbatched parameters the function makes batched (a loop-carried value) get a batch
    widened = [f"{p} = batch_broadcast({p}, {size})" for p in params
               if p in names and p not in batched]

    reason = None
    if opts.target == "cpu":
        try:
            known = dict(zip(canon.params, opts.ranks)) if opts.ranks else {}
            ranks = example_ranks(canon, known, versions.ranks if versions else None)
            # a branch may become a select where nothing transforms this code further
            # (the ranks of a call's arguments are known): differentiating np.where of
            # both sides would multiply the other side's infinities by zero
            body = _vectorize(canon, set(names), size, fresh, paths, out_axes, leaf_batched,
                              ranks, versions, elems, selects=opts.ranks is not None)
            comment = ("the vector form: each batched value carries the batch on its axis 0")
            stmts = [syntax.comment(comment)] + _parse(prologue + widened) + body
            keep = set(canon.user_names) | set(params) | {size}
            stmts = optimize(stmts, keep, params)
            meta.form = "vector"
            meta.quiet = any(NOTE in (syntax.comment_text(s) or "")
                             for s in syntax.walk_statements(stmts))
            functions = [syntax.function_def(entry, params, stmts)]
            if versions is not None:
                functions += versions.functions
                meta.own = 1
            return Generated(functions, entry, meta)
        except _NeedsLoop as e:
            if opts.directions:
                raise
            reason = e.reason

    # the loop form: the function of one example, called for each
    if opts.example is not None:
        fn, functions = opts.example, []
    else:
        example = build(canon, "jit", [], lib=lib, entry=canon.name)
        fn, functions = example.entry, example.functions
    first, out, b, one = fresh("first"), fresh("out"), fresh("b"), fresh("one")

    def args(i):
        return ", ".join([f"{p}[{i}]" if p in batched else p for p in canon.params]
                         + canon.free)
    lines = list(prologue)
    lines.append(f"{first} = {fn}({args(0)})")
    outs = [f"{out}{k if len(paths) > 1 else ''}" for k in range(len(paths))]
    live = [k for k, axis in enumerate(out_axes) if axis is not None]
    parallel = opts.target == "parallel"
    for k in live:
        lines.append(f"{outs[k]} = batch_like({_index(first, paths[k])}, {size})")
        lines.append(f"{outs[k]}[0] = {_index(first, paths[k])}" if parallel else
                     f"{outs[k]} = batch_set({outs[k]}, 0, {_index(first, paths[k])})")
    if parallel:
        # Numba drops an exception raised in a parallel loop's thread (the example's row is
        # left unwritten): each example that fitted says so, and those that did not run
        # again after the loop, one by one, where an error raises (batch_set checks shapes)
        done = fresh("done")
        lines.append(f"{done} = np.zeros({size}, np.bool_)")
        lines.append(f"for {b} in prange(1, {size}):")
        lines.append(f"    {one} = {fn}({args(b)})")
        depth = "    "
        for k in live:
            lines.append(f"{depth}if batch_fits({_index(one, paths[k])}, {outs[k]}):")
            depth += "    "
        lines += [f"{depth}{outs[k]}[{b}] = {_index(one, paths[k])}" for k in live]
        lines.append(f"{depth}{done}[{b}] = True")
        lines.append(f"for {b} in range(1, {size}):")
        lines.append(f"    if not {done}[{b}]:")
        lines.append(f"        {one} = {fn}({args(b)})")
        lines += [f"        {outs[k]} = batch_set({outs[k]}, {b}, {_index(one, paths[k])})"
                  for k in live]
    else:
        lines.append(f"for {b} in range(1, {size}):")
        lines.append(f"    {one} = {fn}({args(b)})")
        lines += [f"    {outs[k]} = batch_set({outs[k]}, {b}, {_index(one, paths[k])})"
                  for k in live]
    leaves = []
    for k, axis in enumerate(out_axes):
        if axis is None:
            leaves.append(_index(first, paths[k]))
        elif axis == 0:
            leaves.append(outs[k])
        else:
            leaves.append(f"batch_to({outs[k]}, {axis})")
    lines.append(f"return {nest_source(paths, leaves)}")
    why = f"the loop form ({reason})" if reason else "the loop form"
    if parallel:
        why = ("the loop form, its examples run in parallel (prange); any that raised there "
               "or did not fit run again after, where the error is raised")
    stmts = [syntax.comment(f"{why}: {fn} on each example")] + _parse("\n".join(lines))
    meta.form = "loop"
    meta.own = 2
    meta.example = fn
    return Generated([syntax.function_def(entry, params, stmts)] + functions, entry, meta)


def _parse(lines) -> list:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    return list(syntax.parse_module(text).body) if text.strip() else []


def _leaf_is_batched(canon, path, names) -> bool:
    atom = canon.result
    for i in path:
        el = tuple_element(canon, atom, i)
        if el is None:  # an element of a tuple a call returned: batched with the tuple
            break
        atom = el
    if isinstance(atom, syntax.Name):
        return atom.id in names
    if isinstance(atom, syntax.Tuple):
        return any(n in names for n in syntax.names_loaded(atom))
    return False


# -- the vector form ------------------------------------------------------------------------
def _vectorize(canon, batched: set, size: str, fresh, paths, out_axes, leaf_batched,
               ranks: dict, versions=None, elems=None, selects: bool = False) -> list:
    """The canonical body with batching rules applied; raises _NeedsLoop. ``selects``:
    a branch on a batched value may become both sides and ``np.where`` (selects.py)."""
    out = _Vectorizer(canon, batched, size, ranks, versions, elems, selects).block(canon.body)
    result = None
    leaves = []
    for path, axis, b in zip(paths, out_axes, leaf_batched):
        atom = canon.result
        for i in path:
            atom = tuple_element(canon, atom, i) if atom is not None else None
        if isinstance(atom, (syntax.Name, syntax.Constant)):
            leaf = syntax.to_source(atom)
        else:  # an element of a tuple a call returned
            if result is None:
                result = fresh("result")
                out.append(syntax.assign(result, syntax.clone(canon.result)))
            leaf = _index(result, path)
        if axis is not None and not b:
            leaf = f"batch_broadcast({leaf}, {size})"
        if axis not in (None, 0):
            leaf = f"batch_to({leaf}, {axis})"
        leaves.append(leaf)
    out.extend(_parse(f"return {nest_source(paths, leaves)}"))
    return out


class _Versions:
    """The batched versions of the user's functions a vector form calls (jacfwd's vector
    forward mode): one per callee and pattern of batched arguments (and their ranks),
    each the callee's own vector form, returning its unbatched results unbatched."""

    def __init__(self, taken):
        self.taken = set(taken)  # names the module already holds
        self.made: dict[tuple, str] = {}
        self.functions: list = []

    def flags(self, callee, pattern) -> list[bool]:
        """Which elements of what ``callee`` returns are batched (one for a single value)."""
        canon = callee.canon
        params = canon.params + canon.free
        names = batched_names(canon, [p for p, b in zip(params, pattern) if b], self.flags)
        return [_leaf_is_batched(canon, (i,) if callee.outputs is not None else (), names)
                for i in range(callee.outputs or 1)]

    def ranks(self, callee, arg_ranks) -> list:
        """The per-example ranks of the elements of what ``callee`` returns."""
        canon = callee.canon
        known = dict(zip(canon.params + canon.free, arg_ranks))
        ranks = example_ranks(canon, known, self.ranks)
        atoms = [tuple_element(canon, canon.result, i) for i in range(callee.outputs)] \
            if callee.outputs is not None else [canon.result]
        return [rank(a, ranks, canon) if a is not None else None for a in atoms]

    def version(self, callee, pattern, arg_ranks) -> str:
        """The name of ``callee``'s batched version for this pattern, made on first use."""
        key = (callee.spelling, tuple(pattern), tuple(arg_ranks))
        if key in self.made:
            return self.made[key]
        canon = callee.canon
        params = canon.params + canon.free
        batched = [p for p, b in zip(params, pattern) if b]
        name, k = f"{callee.spelling}_vmap", 1
        while name in self.taken:
            k += 1
            name = f"{callee.spelling}_vmap_{k}"
        self.taken.add(name)
        self.made[key] = name
        slot = len(self.functions)
        self.functions.append(None)  # the caller's version comes before its callees'
        elems: dict = {}
        names = batched_names(canon, batched, self.flags, elems)
        paths = output_paths(canon)
        leaf_batched = [_leaf_is_batched(canon, p, names) for p in paths]
        out_axes = [0 if b else None for b in leaf_batched]
        size = canon.namer.fresh("size")
        prologue = [f"{size} = batch_size({batched[0]})"]
        prologue += [f"{p} = batch_broadcast({p}, {size})" for p in params
                     if p in names and p not in batched]
        ranks = example_ranks(canon, dict(zip(params, arg_ranks)), self.ranks)
        body = _vectorize(canon, set(names), size, canon.namer.fresh, paths, out_axes,
                          leaf_batched, ranks, self, elems)
        keep = set(canon.user_names) | set(params) | {size}
        stmts = optimize(_parse(prologue) + body, keep, params)
        self.functions[slot] = syntax.function_def(name, params, stmts)
        return name


def _elements_only(index) -> bool:
    """Whether ``index`` takes one element along each axis it names (no slice, None or
    Ellipsis)."""
    parts = index.elts if isinstance(index, syntax.Tuple) else [index]
    return not any(isinstance(p, syntax.Slice) or (syntax.is_const(p) and (
        p.value is None or p.value is Ellipsis)) for p in parts)


class _Vectorizer:
    def __init__(self, canon, batched: set, size: str, ranks: dict, versions=None,
                 elems=None, selects: bool = False):
        self.canon = canon
        self.selects = selects
        self.defined = set(canon.params) | set(canon.free)  # names assigned so far
        self.loops = 0  # how many loops the statement at hand is in
        self.batched = batched
        self.size = size
        self.ranks = ranks
        self.versions = versions  # _Versions: calls and batched writes allowed (jacfwd)
        self.elems = elems or {}  # tuple a call returned -> which elements are batched
        # arrays the function writes into: an element read of one is a copy (see expr)
        self.written = {st.targets[0].value.id for st in syntax.walk_statements(canon.body)
                        if isinstance(st, syntax.Assign)
                        and isinstance(st.targets[0], syntax.Subscript)
                        and isinstance(st.targets[0].value, syntax.Name)}

    def rank(self, node):
        return rank(node, self.ranks, self.canon)

    def where(self, node) -> str:
        line = getattr(node, "lineno", None)
        fn = self.canon.parsed.fn
        if (getattr(fn, "__module__", None) or "").startswith(GENERATED_MODULE_PREFIX):
            # the inner transform's code: the line of yours it comes from
            lines = self.canon.parsed.lines
            text = lines.get(line, "").strip() if line else ""
            if len(text) > 48:
                text = text[:45] + "..."
            return f"`{text}` of {fn.__name__}" if text else f"{fn.__name__}"
        return f"line {line}" if line else "a statement"

    def is_b(self, node) -> bool:
        return isinstance(node, syntax.Name) and node.id in self.batched

    def block(self, body) -> list:
        out = []
        for s in body:
            if syntax.comment_text(s) is not None:
                out.append(s)
            elif isinstance(s, (syntax.If, syntax.For, syntax.While)):
                head = s.iter if isinstance(s, syntax.For) else s.test
                if self.value_batched(head) and isinstance(s, syntax.If) and self.selects:
                    made = select_branch(self, s)
                    if isinstance(made, str):
                        raise _NeedsLoop(f"{made} at {self.where(s)}")
                    out.extend(made)
                    continue
                if self.value_batched(head):
                    what = {syntax.If: "a branch on a batched value",
                            syntax.For: "a loop over a batched range",
                            syntax.While: "a loop on a batched condition"}[type(s)]
                    raise _NeedsLoop(f"{what} at {self.where(s)}")
                s = syntax.clone(s)
                loop = not isinstance(s, syntax.If)
                self.loops += loop
                s.body, s.orelse = self.block(s.body), self.block(s.orelse)
                self.loops -= loop
                out.append(s)
            elif isinstance(s, syntax.Assign):
                out.append(self.assign(s))
                self.defined |= set(syntax.names_stored(s.targets[0]))
            elif isinstance(s, (syntax.Break, syntax.Continue, syntax.Pass)):
                out.append(s)
            else:
                raise _NeedsLoop(f"{type(s).__name__} at {self.where(s)}")
        return out

    def assign(self, s):
        target = s.targets[0]
        if isinstance(target, syntax.Subscript):
            array = target.value
            reads = set(syntax.names_loaded(s.value)) | set(syntax.names_loaded(target.slice))
            if not self.is_b(array):
                return s
            if set(syntax.names_loaded(target.slice)) & self.batched or (
                    reads & self.batched and self.versions is None):
                raise _NeedsLoop(f"a batched value written into an array at {self.where(s)}")
            new = syntax.clone(s)
            new.targets[0].slice = self.shifted_index(target.slice)
            if self.is_b(s.value):  # each example's value into its own example
                slot = syntax.Subscript(value=syntax.clone(array), slice=syntax.clone(
                    target.slice), ctx=syntax.Load())
                mine, theirs = self.rank(s.value), self.rank(slot)
                if mine is None or theirs is None or mine < theirs:
                    new.value = syntax.call(syntax.load("batch_pair"), [
                        syntax.clone(s.value), syntax.Subscript(
                            value=syntax.clone(array), slice=self.shifted_index(target.slice),
                            ctx=syntax.Load())])
                elif mine > theirs:
                    raise _NeedsLoop(f"a write of a larger value into an array at "
                                     f"{self.where(s)}")
            elif reads & self.batched:
                raise _NeedsLoop(f"a batched value written into an array at {self.where(s)}")
            return new
        if not isinstance(target, syntax.Name):
            raise _NeedsLoop(f"an assignment to {syntax.to_source(target)} at "
                             f"{self.where(s)}")
        value = self.expr(s.value, s)
        if target.id in self.batched and not self.holds_batch(s.value):
            value = syntax.call(syntax.load("batch_broadcast"), [value,
                                                                syntax.load(self.size)])
        new = syntax.assign(target.id, value, lineno=getattr(s, "lineno", None))
        return syntax.copy_location(new, s)

    def value_batched(self, node) -> bool:
        return any(n in self.batched for n in syntax.names_loaded(node))

    def holds_batch(self, node) -> bool:
        """Whether the value ``node`` computes has a batch axis (an element of a tuple has
        its own: a tuple may hold batched and unbatched values)."""
        if isinstance(node, syntax.Subscript) and self._is_tuple_name(node.value):
            try:
                i = syntax.literal(node.slice)
            except ValueError:
                raise _NeedsLoop("a tuple indexed by a variable") from None
            flags = self.elems.get(node.value.id)
            if flags is not None and isinstance(i, int) and i < len(flags):
                return flags[i]
            el = tuple_element(self.canon, node.value, i) if isinstance(i, int) else None
            if el is None:
                return self.value_batched(node)
            return self.value_batched(el)
        return self.value_batched(node)

    def shifted_index(self, index):
        elts = list(index.elts) if isinstance(index, syntax.Tuple) else [index]
        full = syntax.parse_expr("x[:, 0]").slice.elts[0]
        return syntax.tuple_([full] + [syntax.clone(e) for e in elts])

    def lined_up(self, operands):
        """Operands of an elementwise operation: batched ones lifted to meet the others."""
        unbatched = [o for o in operands if not self.is_b(o) and not syntax.is_const(o)]
        batched = [o for o in operands if self.is_b(o)]
        out = []
        for o in operands:
            if not self.is_b(o):
                out.append(o)
                continue
            lifted = o
            mine = self.rank(o)
            for u in unbatched:
                theirs = self.rank(u)
                if mine is None or theirs is None or theirs > mine:
                    lifted = syntax.call(syntax.load("batch_lift"), [lifted, syntax.clone(u)])
            for other in batched:
                theirs = self.rank(other)
                if other.id != o.id and (mine is None or theirs is None or theirs > mine):
                    lifted = syntax.call(syntax.load("batch_pair"),
                                         [lifted, syntax.clone(other)])
            out.append(lifted)
        return out

    def expr(self, node, stmt):
        if not self.value_batched(node):
            return syntax.clone(node)
        if isinstance(node, syntax.Name):
            return syntax.clone(node)
        if isinstance(node, syntax.BinOp):
            if syntax.operator(node) == "@":
                return self.product(node.left, node.right, "@", stmt)
            left, right = self.lined_up([node.left, node.right])
            return syntax.BinOp(left=left, op=node.op, right=right)
        if isinstance(node, syntax.UnaryOp):
            if syntax.operator(node) in ("not", "~"):
                raise _NeedsLoop(f"`not` of a batched value at {self.where(stmt)}")
            return syntax.clone(node)
        if isinstance(node, syntax.Compare):
            if len(node.ops) != 1 or syntax.operator(node) in ("is", "is not", "in", "not in"):
                raise _NeedsLoop(f"a comparison of batched values at {self.where(stmt)}")
            left, right = self.lined_up([node.left, node.comparators[0]])
            return syntax.Compare(left=left, ops=node.ops, comparators=[right])
        if isinstance(node, syntax.Tuple):
            return syntax.clone(node)
        if isinstance(node, syntax.Subscript):
            if not self.is_b(node.value):
                raise _NeedsLoop(f"indexing with a batched index at {self.where(stmt)}")
            if self.value_batched(node.slice):
                raise _NeedsLoop(f"indexing with a batched index at {self.where(stmt)}")
            if self._is_tuple_name(node.value):
                return syntax.clone(node)  # an element of a tuple of values
            new = syntax.clone(node)
            new.slice = self.shifted_index(node.slice)
            if isinstance(node.value, syntax.Name) and node.value.id in self.written and (
                    self.rank(node) == 0 or (self.rank(node) is None
                                             and _elements_only(node.slice))):
                # an element of each example is a view of the batch (y[:, 0]): a copy,
                # which the array's later writes leave as it was, as NumPy's scalar is
                return syntax.call(syntax.load("snapshot"), [new])
            return new
        if isinstance(node, syntax.Call):
            return self.call(node, stmt)
        raise _NeedsLoop(f"{syntax.to_source(node)} at {self.where(stmt)}")

    def product(self, a, b, how: str, stmt):
        """``a @ b`` (or np.dot, np.matmul) with one operand batched: a vector per example
        against an unbatched vector or matrix is one product over the batch."""
        ra, rb = self.rank(a), self.rank(b)
        where = self.where(stmt)
        if self.is_b(a) and self.is_b(b):
            raise _NeedsLoop(f"a product of two batched values at {where}")

        def mul(x, y):
            if how == "@":
                return syntax.binop(x, "@", y)
            return syntax.call(syntax.parse_expr(how), [x, y])
        if self.is_b(a) and ra == 1 and rb in (1, 2):
            return mul(syntax.clone(a), syntax.clone(b))  # (batch, n) @ (n, m)
        if self.is_b(b) and rb == 1 and ra in (1, 2):  # A x = x A^T, one row per example
            other = syntax.clone(a) if ra == 1 else syntax.call(syntax.parse_expr(
                "np.transpose"), [syntax.clone(a)])
            return mul(syntax.clone(b), other)
        raise _NeedsLoop(f"a matrix product of a batched matrix (or of unknown ranks) at "
                         f"{where}")

    def _is_tuple_name(self, node) -> bool:

        return isinstance(node, syntax.Name) and tuple_length(self.canon, node) is not None

    def call(self, node, stmt):
        spelled = spelling(node)
        args = list(node.args)
        kw = {k.arg: k.value for k in node.keywords}
        callee = user_callee(self.canon, node)
        if callee is not None and self.versions is not None and not kw:
            pattern = [self.value_batched(a) for a in args]
            if any(p and not self.is_b(a) for p, a in zip(pattern, args)):
                raise _NeedsLoop(f"{spelled}() of a batched expression at {self.where(stmt)}")
            name = self.versions.version(callee, pattern, [self.rank(a) for a in args])
            return syntax.call(syntax.load(name), [syntax.clone(a) for a in args])
        how = rules.fact(spelled, "batching")
        if how == "like_shaped" and len(args) == 2 and not kw and self.versions is not None:
            v, like = args
            if self.is_b(v) and not self.value_batched(like):
                if self.rank(like) == 0:  # like the helper itself: v, for a scalar like
                    return syntax.clone(v)
                return syntax.call(syntax.load(rules.fact(spelled, "batched")), [v, like])
            if self.is_b(like) and not self.is_b(v):
                return syntax.clone(node)  # NumPy lines v up with each example's end
            if self.is_b(v) and self.is_b(like):
                pair = v if self.rank(v) == self.rank(like) is not None else syntax.call(
                    syntax.load("batch_pair"), [v, like])
                return syntax.call(syntax.load(spelled), [pair, like])
        if how in ("elementwise", "last_axis") and not kw:
            return syntax.call(syntax.parse_expr(spelled), self.lined_up(args))
        if how == "same_shape" and args and self.is_b(args[0]) and not any(
                self.value_batched(a) for a in args[1:]) and not any(
                self.value_batched(v) for v in kw.values()):
            return syntax.clone(node)
        if how == "product" and len(args) == 2 and not kw:
            return self.product(args[0], args[1], spelled, stmt)
        if how == "example_reduction" and len(args) == 1 and not kw:
            return syntax.call(syntax.load(rules.fact(spelled, "batched")), [args[0]])
        if how == "vector_dot" and len(args) == 3 and not kw and self.rank(args[0]) == 0 \
                and self.rank(args[1]) == 1 and self.rank(args[2]) == 1:
            rule = rules.lookup(spelled)
            g, other = args[0], next(a for p, a in zip(rule.params[1:], args[1:])
                                     if p not in rule.nondiff)
            lined = self.lined_up([g, other])
            return syntax.binop(lined[0], "*", lined[1])
        if how == "summed_to" and len(args) == 2 and not kw and self.is_b(args[0]):
            v, like = args
            rv, rl = self.rank(v), self.rank(like)
            if self.is_b(like) and rv is not None and rv == rl:
                return syntax.clone(node)  # the batch axes line up, as every other axis
            if rl == 0 and rv is not None:  # each example's value summed to a scalar
                return syntax.clone(v) if rv == 0 else syntax.call(syntax.load("batch_sum"),
                                                                   [v])
        if how == "reduced_back" and len(args) in (2, 3) and not kw and all(
                syntax.is_const(a) and a.value is None for a in args[2:]):
            g, like = args[0], args[1]
            if not self.is_b(g):
                return syntax.clone(node)  # one value, spread over every example's like
            if self.is_b(like):
                return syntax.call(syntax.load("batch_expand"), [g, like])
            if self.rank(like) == 0:
                return syntax.clone(g)
            return syntax.call(syntax.load("batch_broadcast_like"), [g, like])
        if how == "axis_reduction" and len(args) == 2 and not kw and self.is_b(args[0]) \
                and syntax.is_const(args[1]) and isinstance(args[1].value, int):
            axis = args[1].value
            return syntax.call(syntax.load(spelled),
                               [args[0], syntax.const(axis + 1 if axis >= 0 else axis)])
        raise _NeedsLoop(f"{spelled}() of a batched value at {self.where(stmt)}")
