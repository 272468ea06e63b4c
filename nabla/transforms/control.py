"""Structured control flow: ``break``, ``continue`` and early ``return`` become
flags, and loops over arrays become loops over ``range``, so that every loop
body runs to its end and the function has one ``return``.

This runs on the user's syntax tree, before the canonical form. A loop that
can stop early becomes a ``while`` loop with its own counter (so the loop
variable keeps Python's value after the loop):

>>> from nabla import syntax
>>> from nabla.names import Namer
>>> tree = syntax.parse_module('''
... def f(x):
...     for i in range(10):
...         if x > 3.0:
...             break
...         x = x * 2.0
...     return x
... ''').body[0]
>>> print(syntax.to_source(desugar(tree, Namer({"x", "i", "f"}))))
def f(x):
    stop = False
    k = 0
    while k < 10 and (not stop):
        i = k
        k = k + 1
        if x > 3.0:
            stop = True
        if not stop:
            x = x * 2.0
    return x
"""

from __future__ import annotations

from .. import syntax
from ..errors import UnsupportedSyntaxError


def _contains(stmts, kinds, into_loops: bool) -> bool:
    """Whether ``stmts`` hold a statement of one of the classes ``kinds``."""
    for s in stmts:
        if isinstance(s, kinds):
            return True
        if isinstance(s, syntax.If):
            if _contains(s.body, kinds, into_loops) or _contains(s.orelse, kinds, into_loops):
                return True
        if isinstance(s, (syntax.For, syntax.While)) and into_loops:
            if _contains(s.body, kinds, into_loops):
                return True
    return False


def _always_returns(stmts) -> bool:
    for s in stmts:
        if isinstance(s, syntax.Return):
            return True
        if isinstance(s, syntax.If) and _always_returns(s.body) and _always_returns(s.orelse):
            return True
    return False


def _returns_in_loops(stmts) -> bool:
    for s in stmts:
        if isinstance(s, (syntax.For, syntax.While)) and _contains(s.body, syntax.Return, True):
            return True
        if isinstance(s, syntax.If) and (_returns_in_loops(s.body)
                                         or _returns_in_loops(s.orelse)):
            return True
    return False


def _not_any(flags: list[str]):
    terms = [syntax.parse_expr(f"not {f}") for f in flags]
    if len(terms) == 1:
        return terms[0]
    return syntax.parse_expr(" and ".join(f"(not {f})" for f in flags))


def _assign(name: str, value, like=None):
    node = syntax.assign(name, value)
    if like is not None:
        syntax.copy_location(node, like)
    return node


def _names_only(target) -> bool:
    """Whether ``target`` is a name, or a tuple (or list) of such targets."""
    if isinstance(target, (syntax.Tuple, syntax.List)):
        return all(_names_only(e) for e in target.elts)
    return isinstance(target, syntax.Name)


class _Desugar:
    def __init__(self, namer, where):
        self.namer = namer
        self.where = where
        self.returned: str | None = None
        self.result: str | None = None

    def refuse(self, message, node, hint):
        raise UnsupportedSyntaxError(message, **self.where(node), hint=hint)

    def function(self, tree):
        body = list(tree.body)
        last_return = body and isinstance(body[-1], syntax.Return)
        early = _contains(body[:-1] if last_return else body, syntax.Return, True)
        if not early:
            tree.body = self.block(body, None)[0]
            return tree
        if not _returns_in_loops(body):
            # returns only in branches: move the code after each branch into the branches
            # that fall through, so every path ends in its own return
            self.result = self.namer.fresh("result")
            new = self.block(self.nest(body), None)[0]
            final = syntax.ret(syntax.load(self.result))
            syntax.copy_location(final, body[-1])
            tree.body = new + [final]
            return tree
        self.returned = self.namer.fresh("returned")
        self.result = self.namer.fresh("result")
        new, _ = self.block(body, None)
        first = _assign(self.returned, syntax.const(False), body[0])
        final = syntax.ret(syntax.load(self.result))
        syntax.copy_location(final, body[-1])
        tree.body = [first] + new + [final]
        return tree

    def nest(self, stmts):
        out = []
        for idx, s in enumerate(stmts):
            if isinstance(s, syntax.Return):
                out.append(s)
                return out
            if isinstance(s, syntax.If) and _contains([s], syntax.Return, True):
                rest = stmts[idx + 1:]
                body = self.nest(s.body + ([] if _always_returns(s.body) else rest))
                orelse = self.nest(s.orelse + ([] if _always_returns(s.orelse) else rest))
                new = syntax.If(test=s.test, body=body or [syntax.Pass()], orelse=orelse)
                out.append(syntax.copy_location(new, s))
                return out
            out.append(s)
        return out

    def block(self, stmts, loop):
        """(new statements, flags that may be set on leaving them early)."""
        out = []
        for idx, s in enumerate(stmts):
            if isinstance(s, syntax.Return):
                if self.returned is None and self.result is None:  # a plain function's return
                    out.append(s)
                    return out, set()
                if self.returned is None:  # one of the returns of nested branches
                    value = s.value if s.value is not None else syntax.const(None)
                    out.append(_assign(self.result, value, s))
                    return out, set()
                value = s.value if s.value is not None else syntax.const(None)
                out.append(_assign(self.result, value, s))
                out.append(_assign(self.returned, syntax.const(True), s))
                return out, {self.returned}
            if isinstance(s, (syntax.Break, syntax.Continue)):
                word = "break" if isinstance(s, syntax.Break) else "continue"
                if loop is None:
                    self.refuse(f"`{word}` outside a loop", s, "remove it")
                flag = loop[word]
                out.append(_assign(flag, syntax.const(True), s))
                return out, {flag}
            if isinstance(s, syntax.If):
                body, f1 = self.block(s.body, loop)
                orelse, f2 = self.block(s.orelse, loop)
                new_if = syntax.If(test=s.test, body=body or [syntax.Pass()], orelse=orelse)
                syntax.copy_location(new_if, s)
                out.append(new_if)
                flags = f1 | f2
            elif isinstance(s, (syntax.For, syntax.While)):
                out.extend(self.loop(s))
                flags = {self.returned} if self.returned and _contains(
                    s.body, syntax.Return, True) else set()
            else:
                out.append(s)
                flags = set()
            if flags and idx + 1 < len(stmts):
                rest, f3 = self.block(stmts[idx + 1:], loop)
                if rest:
                    guard = syntax.If(test=_not_any(sorted(flags)), body=rest, orelse=[])
                    syntax.copy_location(guard, stmts[idx + 1])
                    out.append(guard)
                return out, flags | f3
            if flags:
                return out, flags
        return out, set()

    def loop(self, s):
        is_for = isinstance(s, syntax.For)
        if s.orelse:
            self.refuse(f"`{'for' if is_for else 'while'} ... else` is not supported", s,
                        "set a flag in the loop and test it after")
        pre = []
        if is_for:
            pre, s = self.range_form(s)
        exits_early = _contains(s.body, (syntax.Break, syntax.Return), False) or (
            self.returned is not None and _contains(s.body, syntax.Return, True))
        if exits_early and getattr(s, "checkpoint", False):
            self.refuse("a loop over nabla.checkpointed_range cannot break or return early",
                        s, "loop over range(), or compute the whole range")
        has_continue = _contains(s.body, syntax.Continue, False)
        ctx = {"break": None, "continue": None}
        if exits_early:
            ctx["break"] = self.namer.fresh("stop")
        if has_continue:
            ctx["continue"] = self.namer.fresh("skip")
        body, _ = self.block(s.body, ctx)
        if has_continue:
            body = [_assign(ctx["continue"], syntax.const(False), s)] + body
        if not exits_early:
            s.body = body or [syntax.Pass()]
            return pre + [s]
        flags = [ctx["break"]] + ([self.returned] if self.returned else [])
        flags = [f for f in flags if f]
        pre.append(_assign(ctx["break"], syntax.const(False), s))
        if is_for:
            # for i in range(a, b, c) with an early exit: a while loop with its own counter
            target, (start, stop, step) = s.target, s.iter.args
            counter = self.namer.fresh("k")
            pre.append(_assign(counter, start, s))
            if syntax.is_const(step) and step.value > 0:
                cond = syntax.compare(syntax.load(counter), "<", stop)
            elif syntax.is_const(step) and step.value < 0:
                cond = syntax.compare(syntax.load(counter), ">", stop)
            else:
                cond = syntax.call(syntax.load("range_continues"),
                                   [syntax.load(counter), stop, step])
            head = [_assign(target.id, syntax.load(counter), s),
                    _assign(counter, syntax.binop(syntax.load(counter), "+", step), s)]
            test = syntax.boolop("and", [cond, _not_any(flags)])
            loop = syntax.While(test=test, body=head + body, orelse=[])
        else:
            test = syntax.boolop("and", [s.test, _not_any(flags)])
            loop = syntax.While(test=test, body=body, orelse=[])
        syntax.copy_location(loop, s)
        return pre + [loop]

    def range_form(self, s):
        """``for ... in`` range / an array / enumerate / zip → (statements before,
        ``for name in range(a, b, c)`` with atoms-or-expressions a, b, c)."""
        it = s.iter
        pre = []
        body_head = []
        func = it.func.id if isinstance(it, syntax.Call) and isinstance(
            it.func, syntax.Name) else None
        if isinstance(it, syntax.Call) and (func == "checkpointed_range" or isinstance(
                it.func, syntax.Attribute) and it.func.attr == "checkpointed_range"):
            # nabla.checkpointed_range: a range whose reverse mode keeps checkpoints only
            s.checkpoint = True
            func = "range"
        if func == "range" and not it.keywords:
            args = list(it.args)
            if len(args) == 1:
                args = [syntax.const(0), args[0], syntax.const(1)]
            elif len(args) == 2:
                args = [args[0], args[1], syntax.const(1)]
            if not isinstance(s.target, syntax.Name):
                self.refuse("a `for` over `range` needs a plain name", s.target,
                            "write `for i in range(...)`")
            s.iter = syntax.call(syntax.load("range"), args)
            return pre, s
        if func == "enumerate" and len(it.args) == 1:
            if not isinstance(s.target, syntax.Tuple) or len(s.target.elts) != 2 or \
                    not isinstance(s.target.elts[0], syntax.Name):
                self.refuse("`for i, x in enumerate(a)` needs two names", s.target,
                            "write `for i, x in enumerate(a)`")
            seqs, names = [it.args[0]], [s.target.elts[1]]
            index = s.target.elts[0]
            inner = it.args[0]
            if isinstance(inner, syntax.Call) and isinstance(inner.func, syntax.Name) and \
                    inner.func.id == "zip" and inner.args and not inner.keywords:
                # for i, (a, b) in enumerate(zip(x, y))
                if not isinstance(names[0], syntax.Tuple) or \
                        len(names[0].elts) != len(inner.args):
                    self.refuse("`for i, (a, b) in enumerate(zip(x, y))` needs one name per "
                                "sequence", s.target, "unpack into as many names as sequences")
                seqs, names = list(inner.args), list(names[0].elts)
        elif func == "zip" and it.args:
            if not isinstance(s.target, syntax.Tuple) or len(s.target.elts) != len(it.args):
                self.refuse("`for a, b in zip(x, y)` needs one name per sequence", s.target,
                            "unpack into as many names as sequences")
            seqs, names = list(it.args), list(s.target.elts)
            index = None
        else:
            seqs, names, index = [it], [s.target], None
        if not all(_names_only(n) for n in names):
            self.refuse("loop targets must be names, or tuples of names", s.target,
                        "unpack inside the loop")
        seq_names = []
        for q in seqs:
            if isinstance(q, syntax.Name):
                seq_names.append(q.id)
            else:
                n = self.namer.fresh("seq")
                pre.append(_assign(n, q, s))
                seq_names.append(n)
        index_name = index.id if index is not None else self.namer.fresh("k")
        lengths = [syntax.call(syntax.load("len"), [syntax.load(n)]) for n in seq_names]
        stop = lengths[0] if len(lengths) == 1 else syntax.call(syntax.load("min"), lengths)
        for n, q in zip(names, seq_names):
            element = syntax.copy_location(syntax.Subscript(
                value=syntax.load(q), slice=syntax.load(index_name), ctx=syntax.Load()), s)
            if isinstance(n, syntax.Name):
                body_head.append(_assign(n.id, element, s))
            else:  # for (a, b) in pairs: the element, then unpacked as `a, b = element` is
                whole = self.namer.fresh("item")
                body_head.append(_assign(whole, element, s))
                unpack = syntax.Assign(targets=[syntax.clone(n)], value=syntax.load(whole),
                                       type_comment=None)
                syntax.copy_location(unpack, s)
                body_head.append(unpack)
        new = syntax.For(target=syntax.store(index_name),
                         iter=syntax.call(syntax.load("range"),
                                          [syntax.const(0), stop, syntax.const(1)]),
                         body=body_head + list(s.body), orelse=[], type_comment=None)
        syntax.copy_location(new, s)
        return pre, new


def desugar(tree, namer, where=None):
    """``tree`` (a user's FunctionDef) with structured control flow only."""
    def _where(node):
        return dict(lineno=getattr(node, "lineno", None), col=getattr(node, "col_offset", None))
    return _Desugar(namer, where or _where).function(tree)
