"""Calls of the user's own functions.

A function of the user's is normalized once, by a Normalizer of its own, into a
``Callee`` shared by every call site; generated code calls it by name (and its
derivatives as ``h_jvp``, ``h_vjp``). One passed a tuple, or returning nested
tuples, is read in place instead (*inlined*): its statements join the caller's,
its names made fresh, its parameters bound to the call's arguments:

>>> from nabla.transforms.normalize import normalize
>>> def h(a, b):
...     return a * b
>>> def norm2(p):
...     return p[0] * p[0] + p[1] * p[1]
>>> def f(x, y):
...     return h(x, y) + norm2((x, y))
>>> canon = normalize(f)
>>> print(canon.to_source())
def f(x, y):
    t1 = h(x, y)
    t2 = (x, y)
    t3 = x * x
    t4 = y * y
    t5 = t3 + t4
    t6 = t1 + t5
    return t6
>>> list(canon.callees)
['h']
"""

from __future__ import annotations

import numpy as np

from ... import custom, pytree, syntax
from ...errors import NotDifferentiableError, UnsupportedSyntaxError
from ...frontend.fence import fence
from ...frontend.parse import check_signature, parse_function, unwrap
from ...frontend.resolve import Resolver
from ...names import reserved_names
from ..control import desugar
from .records import Callee


class Callees:
    """Normalizer's calls of the user's functions (a mixin): ``user_call`` calls a
    shared ``Callee`` (``callee`` reads it once) or reads the function in place
    (``inline``)."""

    def user_call(self, fn, node):
        """A call to a function of the user's: a call of its generated function, shared by
        every call site (read in place instead when it is passed a tuple or returns nested
        tuples, which generated functions do not pass)."""
        if (getattr(fn, "__module__", None) or "").startswith(("nabla.runtime", "nabla.checks")):
            self.refuse(NotDifferentiableError, f"the generated code being differentiated "
                        f"calls {fn.__name__}(), which has no derivative rule yet", node,
                        "differentiate the function in one transform (e.g. hessian, or jvp "
                        "of grad instead of grad of grad)")
        self.refuse_call_form(fn, node)
        node = self.bound_call(fn, node)
        if any(isinstance(a, (syntax.Tuple, syntax.List, syntax.Dict)) or (
                isinstance(a, syntax.Name) and self.versions.get(a.id) in self.tuples)
                for a in node.args):
            return self.inline(fn, node)
        atoms = [self.atom(a) for a in node.args]
        if any(isinstance(a, syntax.Name) and a.id in self.tuples for a in atoms):
            return self.inline(fn, node, atoms)  # a call's dict or tuple passed on: h(h(x))
        callee = self.callee(fn, node)
        if callee is None:
            return self.inline(fn, node, atoms)
        return self.callee_call(callee, fn, node, atoms)

    def callee_call(self, callee, fn, node, atoms=None):
        """The call of a shared callee (of the user's ``fn``): its arguments (``atoms``,
        where they are read already), then its free values as this code reads them."""
        nparams = len(callee.canon.params)
        if len(node.args) != nparams:
            self.refuse(NotDifferentiableError, f"{fn.__name__}() takes {nparams} "
                        f"arguments, got {len(node.args)}", node, "pass every argument")
        args = [self.atom(a) for a in node.args] if atoms is None else atoms
        where = syntax.to_source(node.func)
        free = []
        for name, source in zip(callee.canon.free, callee.canon.free_sources):
            free.append(syntax.load(self.free_value(
                ("callee", id(fn), name), f"{where}/{source}", base=name)))
        self.callees[callee.spelling] = callee
        self.namer.take(callee.spelling)
        return self.shared_result(callee, syntax.call(syntax.load(callee.spelling),
                                                      args + free))

    def callee(self, fn, node, wrapper=None, rule: bool = False):
        """The shared Callee of ``fn`` (normalized on first use); None when its result is
        a nested tuple. ``wrapper``: the custom_jvp, custom_vjp or checkpoint object
        wrapping ``fn`` (its callee is not ``fn``'s own). ``rule``: a function of a
        custom rule, only ever run (its result may be a nested tuple)."""
        key = id(fn) if wrapper is None and not rule else ("rule" if rule else "wrapped",
                                                          id(wrapper or fn))
        known = self.shared.get(key)
        if known is not None:
            return known if known != "inline" else None
        parsed = parse_function(fn)
        check_signature(parsed)
        reader = type(self)(parsed, self.shared, self.stack)
        canon = reader.run()
        result = canon.result
        if not rule and isinstance(result, syntax.Tuple) and any(
                isinstance(e, syntax.Tuple) or (isinstance(e, syntax.Name)
                                                and e.id in reader.tuples)
                for e in result.elts):
            self.shared[key] = "inline"
            return None
        taken = {c.spelling for c in self.shared.values() if isinstance(c, Callee)}
        spelling = fn.__name__
        k = 1
        while spelling in taken or spelling in reserved_names():
            k += 1
            spelling = f"{fn.__name__}_{k}"
        canon.name = spelling
        outputs = len(result.elts) if isinstance(result, syntax.Tuple) else None
        fresh = isinstance(result, syntax.Name) and result.id in reader.fresh_arrays
        callee = Callee(fn=fn, spelling=spelling, canon=canon, outputs=outputs,
                        fresh_result=fresh, checkpointed=isinstance(wrapper, custom.Checkpoint))
        if isinstance(wrapper, (custom.CustomVJP, custom.CustomJVP)):
            callee.custom = wrapper
        self.shared[key] = callee
        return callee

    def checkpoint_made(self, node):
        """The checkpoint ``nabla.checkpoint(h)`` (an expression) makes of the user's ``h``."""
        if len(node.args) != 1 or node.keywords:
            self.refuse(UnsupportedSyntaxError, "nabla.checkpoint() takes one function", node,
                        "write nabla.checkpoint(h)(x)")
        kind, fn = self.resolve_callee(node.args[0])
        if kind != "user":
            self.refuse(NotDifferentiableError, f"nabla.checkpoint() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        return custom.checkpoint(fn)

    def custom_call(self, obj, node):
        """A call of a custom_jvp, custom_vjp or checkpoint function: a callee like a
        function of the user's (its body, the primal), which knows the callees of its
        rule's functions; their free values are read here, as its own are."""
        fn = obj.rule_fun  # compiled code: a function of text calling it
        name = obj.__name__
        if isinstance(obj, custom.CustomVJP) and obj.fwd is None:
            self.refuse(NotDifferentiableError, f"{name}() is a nabla.custom_vjp without its "
                        "rule", node, f"define it: {name}.defvjp(fwd, bwd)")
        if isinstance(obj, custom.CustomJVP) and obj.jvp is None:
            self.refuse(NotDifferentiableError, f"{name}() is a nabla.custom_jvp without its "
                        "rule", node, f"define it: @{name}.defjvp on the rule")
        self.refuse_call_form(fn, node)
        node = self.bound_call(fn, node)
        if any(isinstance(a, (syntax.Tuple, syntax.List, syntax.Dict)) or (
                isinstance(a, syntax.Name) and self.versions.get(a.id) in self.tuples)
                for a in node.args):
            self.refuse(NotDifferentiableError, f"{name}() is a nabla.{obj.kind}: it takes "
                        "arrays and numbers, not tuples", node,
                        "pass the tuple's elements as arguments of their own")
        callee = self.callee(fn, node, wrapper=obj)
        if callee is None:
            self.refuse(NotDifferentiableError, f"{name}() is a nabla.{obj.kind}: it returns "
                        "an array, a number or a flat tuple of them", node,
                        "return the values of the nested tuple one by one")
        where = syntax.to_source(node.func)
        roles = ("fwd", "bwd") if isinstance(obj, custom.CustomVJP) else \
            ("jvp", "lin") if isinstance(obj, custom.CustomJVP) else ()
        if not callee.rules and id(callee) not in self.reading_rules:
            # a rule's function may call the function itself: that call is only run
            self.reading_rules.add(id(callee))
            try:
                for role in roles:
                    rule_callee = self.callee(unwrap(getattr(obj, f"rule_{role}")), node,
                                              rule=True)
                    if role == "lin" and rule_callee.outputs is not None:
                        self.refuse(NotDifferentiableError, f"the jvp rule of {name}() "
                                    "returns a tuple as the output's tangent", node,
                                    f"return one array or number as the tangent, as {name}() "
                                    "returns one")
                    callee.rules[role] = rule_callee
            finally:
                self.reading_rules.discard(id(callee))
        free = {}
        for role, rule_callee in callee.rules.items():
            free[role] = [syntax.load(self.free_value(
                ("callee", id(rule_callee.fn), n), f"{where}.rule_{role}/{source}", base=n))
                for n, source in zip(rule_callee.canon.free, rule_callee.canon.free_sources)]
            self.namer.take(rule_callee.spelling)
        self.rule_free[callee.spelling] = free
        return self.callee_call(callee, fn, node)

    def shared_result(self, callee, call):
        """The value of a call of a shared function: the call itself, or for a tuple, a name
        whose elements are read right there."""
        if callee.outputs is None:
            return call
        # a returned tuple is read element by element, right where it is returned
        whole = self.emit(self.namer.temp(), call)
        self.call_tuples[whole] = callee.outputs
        tree = callee.canon.result_tree
        if tree is not None and tree[0] != "tuple":  # a dict, a list, a namedtuple
            self.kinds[whole] = (tree[0],) + tuple(tree[1])
        elements = []
        for i in range(callee.outputs):
            sub = syntax.Subscript(value=syntax.load(whole), slice=syntax.const(i),
                                   ctx=syntax.Load())
            elements.append(syntax.load(self.emit(self.namer.temp(), sub)))
        self.tuples[whole] = elements
        if tree is not None and tree[0] == "dict":
            self.dicts[whole] = dict(zip(tree[1][0], elements))
        if tree is not None and tree[0] == "namedtuple":  # its fields read by name: r.a
            self.dicts[whole] = dict(zip(pytree.json_class(tree)._fields, elements))
        return syntax.load(whole)

    def refuse_call_form(self, fn, node):
        """What no call of a function of the user's may be: recursive."""
        if fn in self.stack:
            self.refuse(NotDifferentiableError, f"{fn.__name__}() calls itself (recursion), "
                        "which nabla cannot differentiate", node,
                        "write the recursion as a loop")

    def bound_call(self, fn, node):
        """``node``, a call of the user's ``fn``, with every argument by position: keyword
        arguments in their places, and the parameters not passed given their default
        values (read as constants: numbers, booleans, None, tuples of them)."""
        defaults = getattr(fn, "__defaults__", None) or ()
        if not node.keywords and not defaults:
            return node
        code = fn.__code__
        params = list(code.co_varnames[:code.co_argcount])
        if len(node.args) > len(params):
            return node  # refused with the count where it is read
        slots = list(node.args) + [None] * (len(params) - len(node.args))
        for k in node.keywords:
            if k.arg not in params:
                self.refuse(UnsupportedSyntaxError, f"{fn.__name__}() has no parameter "
                            f"{k.arg!r}", node, f"name one of {', '.join(params)}")
            i = params.index(k.arg)
            if slots[i] is not None:
                self.refuse(UnsupportedSyntaxError, f"{fn.__name__}() gets {k.arg!r} twice",
                            node, "pass it once, by position or by name")
            slots[i] = k.value
        first_default = len(params) - len(defaults)
        for i, a in enumerate(slots):
            if a is None:
                if i < first_default:
                    self.refuse(NotDifferentiableError, f"{fn.__name__}() is missing "
                                f"{params[i]!r}", node, "pass every parameter without a "
                                "default value")
                slots[i] = self.default_value(fn, params[i], defaults[i - first_default], node)
        return syntax.copy_location(syntax.call(syntax.clone(node.func), slots), node)

    def default_value(self, fn, param, value, node):
        """The default value of ``fn``'s parameter ``param``, as a constant in the code."""
        if isinstance(value, tuple):
            return syntax.tuple_([self.default_value(fn, param, v, node) for v in value])
        if isinstance(value, np.generic) and value.ndim == 0:
            value = value.item()
        if value is None or isinstance(value, (bool, int, float, complex)):
            return syntax.const(value)
        self.refuse(NotDifferentiableError, f"the default value of {fn.__name__}()'s "
                    f"parameter {param!r} is {type(value).__name__}: nabla reads default "
                    "values as constants in the code (numbers, booleans, None, tuples of "
                    "them)", node, f"pass {param} at this call")

    def inline(self, fn, node, atoms=None):
        """Normalize a call to a function of the user's by reading its source in place: its
        statements join the caller's, its names made fresh, its parameters bound to the
        call's arguments (or to ``atoms``), its free values read at every call like the
        caller's."""
        self.refuse_call_form(fn, node)
        if atoms is None:
            node = self.bound_call(fn, node)
        args = list(atoms) if atoms is not None else []
        for a in node.args if atoms is None else []:
            if isinstance(a, (syntax.Tuple, syntax.List)):  # read element-wise in the callee
                elements = [self.atom(e) for e in a.elts]
                name = self.emit(self.namer.temp(), syntax.tuple_(elements))
                self.tuples[name] = elements
                args.append(syntax.load(name))
            else:
                args.append(self.atom(a))
        passed = {a.id: self.tuples[a.id] for a in args
                  if isinstance(a, syntax.Name) and a.id in self.tuples}
        callee = parse_function(fn)
        check_signature(callee)
        params = [p.id for p in callee.tree.args.args]
        if len(params) != len(args):
            self.refuse(NotDifferentiableError, f"{fn.__name__}() takes {len(params)} "
                        f"arguments, got {len(args)}", node, "pass every argument")
        # self.parsed is still the caller's here: a refusal names the caller's file
        # at the callee's line (callee.where would name the callee's own)
        fence(callee.tree, self.parsed.where)
        self.namer.avoid({n.id for n in syntax.walk(callee.tree) if isinstance(n, syntax.Name)})
        tree = desugar(callee.tree, self.namer, callee.where)
        saved = (self.parsed, self.resolver, self.versions, self.tuples, self.path, self.rest,
                 self.loops, self.params_set, self.lineno, self.col, len(self.body))
        call_line, call_col = self.lineno, self.col
        self.path = self.path + [syntax.to_source(node.func)]
        self.parsed, self.resolver = callee, Resolver(fn)
        self.versions, self.tuples, self.loops = {}, passed, []
        saved_unset, self.unset_names = self.unset_names, set()  # the callee's own
        saved_callee = (self.is_callee, self.param_values)
        self.params_set = set(params)
        self.rest = []
        self.stack.append(fn)
        try:
            for p, a in zip(params, args):
                if isinstance(a, syntax.Name):
                    self.versions[p] = a.id
                else:
                    self.emit(self.define(p), a)
            self.is_callee, self.param_values = True, [self.versions[p] for p in params]
            stmts = list(tree.body)
            if stmts and isinstance(stmts[0], syntax.Expr) and syntax.is_const(stmts[0].value):
                stmts = stmts[1:]
            if not stmts or not isinstance(stmts[-1], syntax.Return) or stmts[-1].value is None:
                self.refuse(UnsupportedSyntaxError, f"{fn.__name__}() must end with a "
                            "`return` of a value", tree, "return the value")
            for i, stmt in enumerate(stmts[:-1]):
                self.lineno, self.col = stmt.lineno, getattr(stmt, "col_offset", None)
                self.rest.append(stmts[i + 1:])
                self.statement(stmt)
                self.rest.pop()
            self.lineno = stmts[-1].lineno
            returned = self.atom(stmts[-1].value)
            value = self.spelled_out(returned)
        finally:
            self.stack.pop()
            self.unset_names = saved_unset
            self.is_callee, self.param_values = saved_callee
            inner_tuples = self.tuples
            (self.parsed, self.resolver, self.versions, self.tuples, self.path, self.rest,
             self.loops, self.params_set, self.lineno, self.col, start) = saved
        # the inlined statements speak for the call's line in comments and errors
        for stmt in self.body[start:]:
            for n in syntax.walk(stmt):
                if isinstance(n, syntax.AST) and hasattr(n, "lineno") and isinstance(
                        n, (syntax.Assign, syntax.If, syntax.For, syntax.While)):
                    n.lineno, n.col_offset = call_line, call_col
        for name, elements in inner_tuples.items():  # canonical names are unique
            self.tuples.setdefault(name, elements)
        if isinstance(value, syntax.Tuple):
            name = self.emit(self.namer.temp(), value)
            self.tuples[name] = list(value.elts)
            for table in (self.dicts, self.kinds):  # a dict returned is read by key
                if isinstance(returned, syntax.Name) and returned.id in table:
                    table[name] = table[returned.id]
            return syntax.load(name)
        return value
