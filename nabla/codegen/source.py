"""Generated functions → the text of a Python module.

The module imports only ``math``, ``numpy`` and the ``nabla.runtime``
helpers it uses; each function is rendered statement by statement so that
every generated line knows the user's line it comes from (``line_map``),
which is how an exception inside generated code names the primal line.

>>> from nabla import syntax
>>> f = syntax.function_def("f_grad", ["x"], [syntax.parse_stmt("x_bar = 2.0 * x"),
...                                           syntax.parse_stmt("return x_bar")])
>>> print(render_module([f], ["example"]).text)
# example
import numpy as np
<BLANKLINE>
<BLANKLINE>
def f_grad(x):
    x_bar = 2.0 * x
    return x_bar
<BLANKLINE>
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import syntax
from ..names import reserved_names


@dataclass
class RenderedModule:
    text: str
    line_map: dict[int, int] = field(default_factory=dict)  # generated line -> user's line


class _Float32Constants(syntax.NodeTransformer):
    """Float constants next to data become ``np.float32(c)``: Numba would promote
    ``float32_array * 0.01`` to float64 where NumPy keeps float32."""

    def _wrap(self, node):
        if isinstance(node, syntax.Constant) and isinstance(node.value, float):
            return syntax.call(syntax.parse_expr("np.float32"), [node])
        return node

    def visit_Assign(self, node):
        # s = 0.0, a seed's 1.0: NumPy gives float32 where it meets float32 data, Numba
        # would type the name float64 throughout
        self.generic_visit(node)
        if all(isinstance(t, syntax.Name) for t in node.targets):
            node.value = self._wrap(node.value)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        node.left = self._wrap(node.left)
        node.right = self._wrap(node.right)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        name = syntax.to_source(node.func)
        if name in ("np.where", "np.maximum", "np.minimum", "np.clip", "np.full_like"):
            node.args = [self._wrap(a) for a in node.args]
        return node


def maybe_unset(fdef) -> list[str]:
    """Local names that some path reads before assigning them, in order of first such read.

    Generated code copies values along every path of a branch or a loop (the copies that
    merge two versions of a variable), including paths where the user's program never set
    them; such a path never uses the copy, but Python raises on reading an unset name.

    A branch on a name ``c`` teaches what is set when ``c`` is true and when it is false,
    so that the adjoint's ``if c:`` mirroring the primal's reads what the primal set under
    it without a guard; the lesson holds until ``c`` is assigned again."""
    local = set()
    for n in syntax.walk(fdef):
        if isinstance(n, syntax.Name) and isinstance(n.ctx, syntax.Store):
            local.add(n.id)
    out: dict[str, None] = {}

    def read(node, defined):
        for name in syntax.names_loaded(node):
            if name in local and name not in defined:
                out.setdefault(name)

    def assigned(stmts):
        return {n for s in stmts for n in syntax.names_stored(s)}

    def forget(facts, names):
        for n in names:
            facts.pop(n, None)

    def visit(block, defined, facts):
        defined = set(defined)
        for s in block:
            if isinstance(s, syntax.If):
                read(s.test, defined)
                c = s.test.id if isinstance(s.test, syntax.Name) else None
                when = facts.get(c, (set(), set())) if c in defined else (set(), set())
                f1, f2 = dict(facts), dict(facts)
                d1 = visit(s.body, defined | when[0], f1)
                d2 = visit(s.orelse, defined | when[1], f2)
                a1, a2 = assigned(s.body), assigned(s.orelse)
                forget(facts, a1 | a2)
                # a lesson about a name set in one branch only holds wherever it is set
                for branch, others, learned in ((a1, a2, f1), (a2, a1, f2)):
                    for k, v in learned.items():
                        if k in branch and k not in others and k not in defined:
                            facts[k] = v
                if c is not None and c in defined:
                    facts[c] = (when[0] | d1, when[1] | d2)
                defined = d1 & d2
            elif isinstance(s, (syntax.For, syntax.While)):
                head = s.iter if isinstance(s, syntax.For) else s.test
                read(head, defined)
                forget(facts, assigned(s.body))  # the body may run again, or not at all
                inner = defined | (set(syntax.names_stored(s.target))
                                   if isinstance(s, syntax.For) else set())
                visit(s.body, inner, dict(facts))
            else:
                read(s, defined)
                stored = set(syntax.names_stored(s))
                forget(facts, stored)
                defined |= stored
        return defined

    visit(fdef.body, {a.id for a in fdef.args.args}, {})
    return list(out)


def _unset_guard(names):
    """``if in_python: name = None`` for ``names``: Numba prunes it (see runtime.in_python)."""
    guard = syntax.parse_stmt("if in_python:\n    pass")
    guard.body = [syntax.comment("set on some paths only: Python needs a value to copy")]
    guard.body += [syntax.assign(n, syntax.const(None)) for n in names]
    return guard


def render_function(fdef, float32: bool = False, first_line: int = 1):
    """Lines of one function and the user's line of each (None where unknown)."""
    body = fdef.body
    unset = maybe_unset(fdef)
    if unset:
        body = [_unset_guard(unset)] + list(body)
    if float32:
        body = [_Float32Constants().visit(syntax.clone(s)) for s in body]
    header = syntax.to_source(syntax.function_def(fdef.name, [a.id for a in fdef.args.args],
                                                  [syntax.parse_stmt("pass")]))
    lines = [header.split("\n")[0]]
    origins: list[int | None] = [None]
    pending: list[str] = []
    for stmt in body:
        text = syntax.to_source(stmt)
        is_comment = syntax.comment_text(stmt) is not None
        if is_comment:
            pending.extend("    " + line for line in text.split("\n"))
            continue
        own = text.split("\n")
        inner = _origins([stmt])
        if len(inner) != len(own):  # a layout the walk does not know: the statement's line
            inner = [getattr(stmt, "lineno", None)] * len(own)
        lines.extend(pending)
        origins.extend([inner[0]] * len(pending))
        pending = []
        lines.extend("    " + line for line in own)
        origins.extend(inner)
    lines.extend(pending)
    origins.extend([None] * len(pending))
    return lines, origins


def _origins(block) -> list:
    """The user's line of each printed line of ``block``, as ``ast.unparse`` lays it out:
    a compound statement's header, then its blocks; a comment takes the line of the
    statement after it in its block."""
    out, pending = [], 0
    for stmt in block:
        if syntax.comment_text(stmt) is not None:
            pending += 1
            continue
        own = getattr(stmt, "lineno", None)
        if isinstance(stmt, (syntax.For, syntax.While)):
            lines = [own] + _origins(stmt.body)
            if stmt.orelse:
                lines += [own] + _origins(stmt.orelse)
        elif isinstance(stmt, syntax.If):
            lines = [own] + _origins(stmt.body)
            orelse = stmt.orelse
            while len(orelse) == 1 and isinstance(orelse[0], syntax.If):  # elif
                lines += [getattr(orelse[0], "lineno", own)] + _origins(orelse[0].body)
                orelse = orelse[0].orelse
            if orelse:
                lines += [own] + _origins(orelse)
        else:
            lines = [own]
        out += [lines[0]] * pending + lines
        pending = 0
    return out + [None] * pending


def render_module(functions, header: list[str], float32: bool = False,
                  mapped: int | None = None) -> RenderedModule:
    """The module's text; the line map covers the first ``mapped`` functions (all by
    default): the others, generated from the user's other functions, have lines of
    their own files."""
    used = set()
    for f in functions:
        for node in syntax.walk(f):
            if isinstance(node, syntax.Name):
                used.add(node.id)
        if maybe_unset(f):
            used.add("in_python")
    helpers = sorted(n for n in used if n in reserved_names()
                     and n not in ("np", "math", "numba", "nabla", syntax.COMMENT_FUNC))
    lines = [f"# {h}" for h in header]
    if "math" in used:
        lines.append("import math")
        lines.append("")
    lines.append("import numpy as np")
    if helpers:
        lines.append("")
        lines.append(f"from nabla.runtime import {', '.join(helpers)}")
    line_map: dict[int, int] = {}
    for k, f in enumerate(functions):
        lines.extend(["", ""])
        flines, origins = render_function(f, float32=float32)
        for line, origin in zip(flines, origins):
            lines.append(line)
            if origin is not None and (mapped is None or k < mapped):
                line_map[len(lines)] = origin
    return RenderedModule(text="\n".join(lines) + "\n", line_map=line_map)


def _split(text: str):
    """(header comments, runtime helpers imported, imports math, the functions' text)."""
    lines = text.split("\n")
    first_def = next(i for i, line in enumerate(lines) if line.startswith("def "))
    head = lines[:first_def]
    comments = [line for line in head if line.startswith("#")]
    helpers = set()
    for line in head:
        if line.startswith("from nabla.runtime import "):
            helpers |= {h.strip() for h in line[len("from nabla.runtime import "):].split(",")}
    return comments, helpers, "import math" in head, "\n".join(lines[first_def:])


def merge_modules(outer: str, inner: str) -> str:
    """The module ``outer`` with ``inner``'s functions appended, as ``inner`` wrote them
    (comments included), the imports of both at the top."""
    comments, helpers, uses_math, body = _split(outer)
    _, inner_helpers, inner_math, inner_body = _split(inner)
    helpers = sorted(helpers | inner_helpers)
    lines = list(comments)
    if uses_math or inner_math:
        lines += ["import math", ""]
    lines.append("import numpy as np")
    if helpers:
        lines += ["", f"from nabla.runtime import {', '.join(helpers)}"]
    return "\n".join(lines + ["", "", ""]) + body.rstrip("\n") + "\n\n\n" + inner_body
