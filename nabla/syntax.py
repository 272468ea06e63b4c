"""The one place that knows the AST library.

nabla's canonical AST is gast's (so that tools like beniget work on it).
Everything that builds nodes, parses templates or turns nodes back into text
goes through this module, so that a change in gast touches one file.

>>> to_source(parse_stmt("y = np.sin(x) * x"))
'y = np.sin(x) * x'
>>> to_source(substitute(parse_expr("g * np.cos(x)"), {"g": load("t1_bar"), "x": load("a")}))
't1_bar * np.cos(a)'
"""

from __future__ import annotations

import ast
import copy
import re

import gast

COMMENT_FUNC = "__nabla_comment__"


def parse_module(source: str) -> gast.Module:
    return gast.parse(source)


def increment_lineno(node, n: int) -> None:
    """Shift the line numbers of ``node`` and everything in it by ``n``."""
    gast.increment_lineno(node, n)


def parse_stmt(source: str) -> gast.stmt:
    body = gast.parse(source).body
    assert len(body) == 1, source
    return body[0]


def parse_expr(source: str) -> gast.expr:
    return gast.parse(source, mode="eval").body


def load(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def store(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)


def param(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None)


def const(value) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def tuple_(elts, ctx=None) -> gast.Tuple:
    return gast.Tuple(elts=list(elts), ctx=ctx or gast.Load())


def call(func: gast.expr, args=(), keywords=()) -> gast.Call:
    kws = [gast.keyword(arg=k, value=v) for k, v in keywords]
    return gast.Call(func=func, args=list(args), keywords=kws)


def assign(target: str | gast.expr, value: gast.expr, lineno: int | None = None) -> gast.Assign:
    if isinstance(target, str):
        target = store(target)
    node = gast.Assign(targets=[target], value=value, type_comment=None)
    if lineno is not None:
        node.lineno = lineno
    return node


def ret(value: gast.expr | None) -> gast.Return:
    return gast.Return(value=value)


def comment(text: str) -> gast.Expr:
    """A statement that codegen prints as ``# text``."""
    return gast.Expr(value=call(load(COMMENT_FUNC), [const(text)]))


def comment_text(node) -> str | None:
    """The text of a comment statement, or None if ``node`` is not one."""
    if (
        isinstance(node, gast.Expr)
        and isinstance(node.value, gast.Call)
        and isinstance(node.value.func, gast.Name)
        and node.value.func.id == COMMENT_FUNC
    ):
        return node.value.args[0].value
    return None


def function_def(name: str, params: list[str], body: list, defaults=()) -> gast.FunctionDef:
    args = gast.arguments(
        args=[param(p) for p in params],
        posonlyargs=[],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=list(defaults),
    )
    fields = dict(
        name=name, args=args, body=body, decorator_list=[], returns=None, type_comment=None
    )
    if "type_params" in gast.FunctionDef._fields:
        fields["type_params"] = []
    return gast.FunctionDef(**fields)


def clone(node):
    """A deep copy of ``node`` (a tree of gast nodes and lists); many times faster than
    ``copy.deepcopy``, which the optimizer would spend most of its time in."""
    if isinstance(node, list):
        return [clone(x) for x in node]
    if isinstance(node, gast.AST):
        new = node.__class__.__new__(node.__class__)
        d = new.__dict__
        for k, v in node.__dict__.items():
            d[k] = clone(v) if isinstance(v, (list, gast.AST)) else v
        return new
    return copy.deepcopy(node) if isinstance(node, (dict, set)) else node


class _Substituter(gast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.mapping:
            return clone(self.mapping[node.id])
        return node

    def visit_Call(self, node):
        # a called name is a helper, never a parameter: `keepdims(r, x, axis)` keeps its name
        if not isinstance(node.func, gast.Name):
            node.func = self.visit(node.func)
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        return node


def substitute(node, mapping: dict):
    """A copy of ``node`` with every loaded name in ``mapping`` replaced by a copy of its node."""
    return _Substituter(mapping).visit(clone(node))


def rename(node, mapping: dict[str, str]):
    """A copy of ``node`` with names (loads and stores) renamed by ``mapping``."""

    class _Renamer(gast.NodeTransformer):
        def visit_Name(self, n):
            if n.id in mapping:
                return gast.Name(id=mapping[n.id], ctx=n.ctx, annotation=None, type_comment=None)
            return n

    return _Renamer().visit(clone(node))


def names_loaded(node) -> list[str]:
    """Names read by ``node``, in order of appearance, with repeats. The target of an
    augmented assignment is read too (``s += x`` reads ``s``), though its context says
    Store."""
    out = []
    for n in gast.walk(node):
        if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            out.append(n.target.id)
        elif isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id != COMMENT_FUNC:
            out.append(n.id)
    return out


def names_stored(node) -> list[str]:
    return [
        n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    ]


def walk(node):
    return gast.walk(node)


def walk_statements(body, skip=None):
    r"""Every statement of ``body``, those nested in its ``if``/``for``/``while`` blocks
    included (but the statements of the block ``skip``), in textual order.

    >>> [to_source(s) for s in walk_statements([parse_stmt("if c:\n    y = 1")])]
    ['if c:\n    y = 1', 'y = 1']
    """
    for s in body:
        yield s
        if isinstance(s, (gast.If, gast.For, gast.While)):
            for block in (s.body, s.orelse):
                if block is not skip:
                    yield from walk_statements(block, skip)


_COMMENT_LINE = re.compile(r"^(\s*)" + COMMENT_FUNC + r"\((.*)\)$")


class _SignedBases(ast.NodeTransformer):
    """A negative number as the base of ``**`` or of an attribute, spelled ``-1``, as a
    negation: ``ast.unparse`` writes the constant -1 to the power i as ``-1 ** i``, which
    Python reads as ``-(1 ** i)``; the negation it writes ``(-1) ** i``."""

    @staticmethod
    def _signed(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and \
                repr(node.value).startswith("-"):
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-node.value))
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            node.left = self._signed(node.left)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.value = self._signed(node.value)
        return node


def to_source(node) -> str:
    """Python text of a gast node; comment statements become ``# ...`` lines.

    >>> to_source(binop(const(-1), "**", load("i")))
    '(-1) ** i'
    """
    tree = _SignedBases().visit(gast.gast_to_ast(node))
    if isinstance(tree, ast.expr):
        return ast.unparse(tree)
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    out = []
    for line in text.split("\n"):
        m = _COMMENT_LINE.match(line)
        if m:
            out.append(f"{m.group(1)}# {ast.literal_eval(m.group(2))}")
        else:
            out.append(line)
    return "\n".join(out)


def is_const(node) -> bool:
    return isinstance(node, gast.Constant)


# Node classes, re-exported so that other modules never import gast themselves.
Name = gast.Name
Constant = gast.Constant
Assign = gast.Assign
Return = gast.Return
Expr = gast.Expr
Call = gast.Call
BinOp = gast.BinOp
UnaryOp = gast.UnaryOp
Compare = gast.Compare
Attribute = gast.Attribute
Subscript = gast.Subscript
Slice = gast.Slice
Tuple = gast.Tuple
List = gast.List
FunctionDef = gast.FunctionDef
AsyncFunctionDef = gast.AsyncFunctionDef
Load = gast.Load
Store = gast.Store
NodeTransformer = gast.NodeTransformer
NodeVisitor = gast.NodeVisitor
AST = gast.AST
keyword = gast.keyword
If = gast.If
For = gast.For
While = gast.While
BoolOp = gast.BoolOp
IfExp = gast.IfExp
Pass = gast.Pass
Break = gast.Break
Continue = gast.Continue
AnnAssign = gast.AnnAssign
AugAssign = gast.AugAssign
Starred = gast.Starred
Dict = gast.Dict
And = gast.And
Or = gast.Or
Not = gast.Not
USub = gast.USub
MatMult = gast.MatMult  # the operator of ``a @ b``
Div = gast.Div  # ``a / b``
Pow = gast.Pow  # ``a ** b``

# Operators by their Python spelling, for the constructors below (each makes its operator
# node afresh, so that no two trees share one).
_BINARY = {"+": gast.Add, "-": gast.Sub, "*": gast.Mult, "/": gast.Div, "//": gast.FloorDiv,
           "%": gast.Mod, "**": gast.Pow, "@": gast.MatMult, "&": gast.BitAnd, "|": gast.BitOr,
           "^": gast.BitXor, "<<": gast.LShift, ">>": gast.RShift}
_UNARY = {"-": gast.USub, "+": gast.UAdd, "not": gast.Not, "~": gast.Invert}
_BOOLEAN = {"and": gast.And, "or": gast.Or}
_COMPARE = {"<": gast.Lt, "<=": gast.LtE, ">": gast.Gt, ">=": gast.GtE, "==": gast.Eq,
            "!=": gast.NotEq, "is": gast.Is, "is not": gast.IsNot, "in": gast.In,
            "not in": gast.NotIn}
# and back: each operator class has one spelling (binary and unary minus are two classes)
_SPELLING = {cls: sp for table in (_BINARY, _UNARY, _BOOLEAN, _COMPARE)
             for sp, cls in table.items()}
# the key each operator's derivative rule is registered under (nabla/rules/arithmetic.py)
_RULE_KEYS = {
    gast.Add: "BinOp.Add", gast.Sub: "BinOp.Sub", gast.Mult: "BinOp.Mult",
    gast.Div: "BinOp.Div", gast.FloorDiv: "BinOp.FloorDiv", gast.Mod: "BinOp.Mod",
    gast.Pow: "BinOp.Pow", gast.MatMult: "BinOp.MatMult", gast.BitAnd: "BinOp.BitAnd",
    gast.BitOr: "BinOp.BitOr", gast.BitXor: "BinOp.BitXor", gast.LShift: "BinOp.LShift",
    gast.RShift: "BinOp.RShift",
    gast.USub: "UnaryOp.USub", gast.UAdd: "UnaryOp.UAdd", gast.Not: "UnaryOp.Not",
    gast.Invert: "UnaryOp.Invert",
    gast.Lt: "Compare.Lt", gast.LtE: "Compare.LtE", gast.Gt: "Compare.Gt",
    gast.GtE: "Compare.GtE", gast.Eq: "Compare.Eq", gast.NotEq: "Compare.NotEq",
    gast.Is: "Compare.Is", gast.IsNot: "Compare.IsNot", gast.In: "Compare.In",
    gast.NotIn: "Compare.NotIn",
}


def binop(left, op: str, right) -> gast.BinOp:
    """``left op right``, the operator spelled as in Python (``"+"``, ``"@"``, ...).

    >>> to_source(binop(load("a"), "+", const(1.0)))
    'a + 1.0'
    """
    return gast.BinOp(left=left, op=_BINARY[op](), right=right)


def unaryop(op: str, operand) -> gast.UnaryOp:
    """``op operand``: ``"-"``, ``"+"``, ``"not"`` or ``"~"``."""
    return gast.UnaryOp(op=_UNARY[op](), operand=operand)


def boolop(op: str, values) -> gast.BoolOp:
    """``values`` joined by ``"and"`` or ``"or"``.

    >>> to_source(boolop("and", [compare(load("a"), "<", load("b")), unaryop("not", load("c"))]))
    'a < b and (not c)'
    """
    return gast.BoolOp(op=_BOOLEAN[op](), values=list(values))


def compare(left, op: str, right) -> gast.Compare:
    """``left op right`` for one comparison (``"<"``, ``"=="``, ...)."""
    return gast.Compare(left=left, ops=[_COMPARE[op]()], comparators=[right])


def _operator_node(node):
    if isinstance(node, (gast.BinOp, gast.UnaryOp, gast.BoolOp)):
        return node.op
    if isinstance(node, gast.Compare):
        return node.ops[0]
    raise TypeError(f"not an operation with an operator: {to_source(node)}")


def operator(node) -> str:
    """The Python spelling of the operator of a BinOp, UnaryOp, BoolOp or Compare (a
    chain of comparisons: its first), as ``binop`` and the others take it.

    >>> operator(parse_expr("a @ b")), operator(parse_expr("-a")), operator(parse_expr("a - b"))
    ('@', '-', '-')
    >>> operator(parse_expr("a is not None")), operator(parse_expr("a and b"))
    ('is not', 'and')
    """
    return _SPELLING[type(_operator_node(node))]


def rule_key(node) -> str:
    """The key of the derivative rule of a BinOp, UnaryOp or Compare (a chain of
    comparisons: of its first).

    >>> rule_key(parse_expr("a * b")), rule_key(parse_expr("-a")), rule_key(parse_expr("a < b"))
    ('BinOp.Mult', 'UnaryOp.USub', 'Compare.Lt')
    """
    if isinstance(node, gast.BoolOp):
        raise TypeError(f"`{operator(node)}` has no derivative rule")
    return _RULE_KEYS[type(_operator_node(node))]


def copy_location(new, old):
    """Give ``new`` (and its statements) ``old``'s line and column; returns ``new``."""
    for attr in ("lineno", "col_offset"):
        if hasattr(old, attr):
            setattr(new, attr, getattr(old, attr))
    return new


def literal(node):
    """The Python value of a constant expression (``1``, ``(0, 1)``, ``-2``, ``True``);
    ValueError for anything else."""
    return ast.literal_eval(to_source(node))
