"""Calls of NumPy and math functions, and of array methods, by the rules table.

A method becomes the NumPy function it means (``METHODS``: ``x.sum(axis=0)`` is
``np.sum(x, axis=0)``). The arguments are bound to the rule's parameters and passed
by position; a form Numba lacks is *lowered* by the rule's template to a
``nabla.runtime`` helper (``np.sum(x, axis=0)`` → ``reduce_sum(x, 0)``), and the
template is normalized in turn. ``np.array`` of a list of values is ``array_of``:

>>> import numpy as xp
>>> from nabla.transforms.normalize import normalize
>>> def f(x):
...     y = xp.exp(x).sum(axis=0)
...     return xp.array([y, 1.0])
>>> print(normalize(f).to_source())
def f(x):
    t1 = np.exp(x)
    y = reduce_sum(t1, 0)
    t2 = array_of((y, 1.0))
    return t2
"""

from __future__ import annotations

from ... import custom, hooks, pytree, rules, syntax
from ...errors import NotDifferentiableError, UnsupportedSyntaxError

# x.method(...) -> the NumPy function it means (x becomes the first argument)
METHODS = {
    "sum": "np.sum", "mean": "np.mean", "prod": "np.prod", "max": "np.max", "min": "np.min",
    "var": "np.var", "std": "np.std", "cumsum": "np.cumsum", "dot": "np.dot",
    "reshape": "np.reshape", "ravel": "np.ravel", "flatten": "np.ravel", "squeeze": "np.squeeze",
    "copy": "np.copy", "astype": "astype", "transpose": "np.transpose", "clip": "np.clip",
    "round": "np.round", "argmax": "np.argmax", "argmin": "np.argmin", "trace": "np.trace",
}


class Calls:
    """Normalizer's calls (a mixin): ``call`` sends each call where it belongs (the
    user's functions to ``Callees``, transforms to ``Nested``) and makes the others
    from their rules."""

    def call(self, node):
        op = self._call(node)
        if isinstance(op, syntax.Call) and op is not node and getattr(node, "col_offset",
                                                                        None) is not None:
            op.col_offset = node.col_offset
        return op

    def _call(self, node):
        """What the call ``node`` is, by its callee: a transform, a function of the user's,
        or a function with a rule (a method is one)."""
        func = node.func
        for a in node.args:
            if isinstance(a, syntax.Starred):
                self.refuse(UnsupportedSyntaxError, "star-arguments are not supported", a,
                            "pass the arguments one by one")
        for k in node.keywords:
            if k.arg is None:
                self.refuse(UnsupportedSyntaxError, "`**kwargs` in calls are not supported",
                            node, "pass the keyword arguments one by one")
        if isinstance(func, syntax.Call) and self.resolve_callee(func.func) == (
                "maker", custom.checkpoint):
            return self.custom_call(self.checkpoint_made(func), node)
        if isinstance(func, syntax.Call) and self.resolve_callee(func.func)[0] == "transform":
            # nabla.grad(f)(x): a transform made in place
            return self.transformed_call(self.transform_made(func), node)
        kind, what = self.resolve_callee(func)
        args = list(node.args)
        if kind == "nfunction":  # a nabla.Function of the user's module
            return self.transformed_call(what, node)
        if kind == "transform":
            if what is hooks.jvp:
                return self.jvp_call(node)
            if what is hooks.vjp:
                return self.vjp_call(node)
            self.refuse(NotDifferentiableError, f"nabla.{what.__name__}() called here "
                        "is not supported inside a function being transformed", node,
                        "call nabla.jvp(f, primals, tangents), or a transform applied to a "
                        "function: nabla.grad(f)(x)")
        if kind == "method":
            if what not in METHODS:
                self.refuse(NotDifferentiableError, f"method .{what}() has no derivative rule",
                            node, f"use one of {', '.join(sorted(METHODS))}, or a NumPy "
                            "function")
            spelling = METHODS[what]
            args = [func.value] + args
            if what == "reshape" and len(args) > 2:
                args = [args[0], syntax.tuple_(args[1:])]
            if what == "transpose" and len(args) > 2:
                args = [args[0], syntax.tuple_(args[1:])]
            if what == "flatten" and len(args) == 1 and not node.keywords:
                # a copy, where ravel may give a view: np.copy(np.ravel(x))
                flat = syntax.call(syntax.parse_expr("np.ravel"), [self.atom(args[0])])
                return syntax.call(syntax.parse_expr("np.copy"), [
                    syntax.load(self.emit(self.namer.temp(), flat))])
        elif kind == "function":
            spelling = what
        elif kind == "const" and what in rules.RULES:  # a cast: np.float32(x)
            spelling = what
        elif kind == "user":
            return self.user_call(what, node)
        elif kind == "custom":
            return self.custom_call(what, node)
        elif kind == "opaque":  # compiled code: called through a free value, never read
            dotted = syntax.to_source(func)
            base = dotted.split(".")[-1]
            base = base if base.endswith("_compiled") else f"{base}_compiled"
            fn = self.free_value(("opaque", dotted), dotted, base=base)
            spelling, args = "opaque_call", [syntax.load(fn)] + args
        elif kind == "other" and pytree.is_namedtuple_class(what):
            return self.namedtuple_made(what, node)
        elif kind == "local" and self.versions.get(what) in self.vjp_closures:
            return self.vjp_fun_call(self.vjp_closures[self.versions[what]], node)
        elif kind == "local":
            param = what in [a.id for a in self.parsed.tree.args.args]
            self.refuse(NotDifferentiableError, f"{what}() calls "
                        f"{'an argument' if param else 'a local value'}: nabla cannot see "
                        "which function that is, so it has no derivative rule and no source "
                        "to read", node,
                        "call the function directly by its module-level name (a `def` nabla "
                        "can read, or a NumPy function), or pass its result instead")
        else:
            name = syntax.to_source(func)
            hint = ("use a NumPy or math function nabla has a rule for (see the docs), or "
                    "write the computation in Python in a function of your own")
            if name in ("eval", "exec"):
                hint = "write the expression out in the function"
            elif "vectorize" in name:
                hint = "write the elementwise function with NumPy operations on arrays"
            elif "reduce" in name:
                hint = "use np.sum, np.prod or a NumPy reduction"
            self.refuse(NotDifferentiableError, f"{name}() has no derivative rule and no "
                        "source nabla can read", node, hint)
        return self.rule_call(spelling, args, node)

    def namedtuple_made(self, cls, node):
        """``Out(a, b=y)`` of a namedtuple class: a tuple of the fields' values, read by
        field name (``r.a``), and returned as an ``Out`` again."""
        name = cls.__name__
        if pytree.importable_class(cls) is not cls:
            self.refuse(UnsupportedSyntaxError, f"the namedtuple {name} is defined inside a "
                        "function: its results could not be given back as one", node,
                        f"define {name} at module level")
        fields = list(cls._fields)
        if len(node.args) > len(fields):
            self.refuse(NotDifferentiableError, f"{name}() takes {len(fields)} fields, "
                        f"{len(node.args)} given", node, f"pass {', '.join(fields)}")
        values = dict(zip(fields, node.args))
        for k in node.keywords:
            if k.arg not in fields or k.arg in values:
                self.refuse(NotDifferentiableError, f"{name}() has no field {k.arg!r} to "
                            "give here", k.value, f"pass {', '.join(fields)}")
            values[k.arg] = k.value
        elements = []
        for f in fields:
            if f in values:
                elements.append(self.atom(values[f]))
            elif f in cls._field_defaults and type(cls._field_defaults[f]) in (int, float,
                                                                                 bool):
                elements.append(syntax.const(cls._field_defaults[f]))
            else:
                self.refuse(NotDifferentiableError, f"{name}() is missing its field {f!r}",
                            node, f"pass every field: {', '.join(fields)}")
        made = self.emit(self.namer.temp(), syntax.tuple_(elements))
        self.tuples[made] = elements
        self.dicts[made] = dict(zip(fields, elements))
        self.kinds[made] = ("namedtuple", cls.__module__, cls.__qualname__)
        return syntax.load(made)

    def constant_rows(self, e):
        """A nested list or tuple of constants as nested lists of constants."""
        if isinstance(e, (syntax.List, syntax.Tuple)):
            return syntax.List(elts=[self.constant_rows(x) for x in e.elts], ctx=syntax.Load())
        return self.atom(e)

    def array_row(self, e):
        """An element of an array literal. A nested list that is not all constants becomes
        an array of its own first (``np.array([[a, b], [c, d]])`` is an array of two rows),
        so that each derivative rule sees one level: rows, then their elements."""
        if isinstance(e, (syntax.List, syntax.Tuple)) and not _constant(e):
            row = syntax.tuple_([self.array_row(x) for x in e.elts])
            return syntax.load(self.emit(self.namer.temp(),
                                         syntax.call(syntax.load("array_of"), [row])))
        return self.atom(e)

    def known_value(self, expr):
        """The value of ``expr`` where it is known when the code is read: an int constant,
        a tuple (its elements, as atoms), or a call whose rule can ``fold`` known
        arguments (``len(params)``); else None."""
        if syntax.is_const(expr) and type(expr.value) is int:
            return expr.value
        if isinstance(expr, syntax.Name) and self.versions.get(expr.id) in self.tuples:
            return tuple(self.tuples[self.versions[expr.id]])
        if isinstance(expr, syntax.Call) and not expr.keywords:
            kind, spelling = self.resolve_callee(expr.func)
            rule = rules.lookup(spelling) if kind == "function" else None
            if rule is not None and rule.fold is not None and expr.args:
                values = [self.known_value(a) for a in expr.args]
                if None not in values:
                    try:
                        return rule.fold(*values)
                    except TypeError:  # max(t) of a tuple of arrays: known only when it runs
                        return None
        return None

    def rule_call(self, spelling, args, node):
        """A call of ``spelling``, a function with a rule, on ``args`` (expressions) and
        ``node``'s keywords: bound to the rule's parameters, lowered where the rule says."""
        # a call the rule computes from what is known here: len(params) of a tuple (a
        # loop over it is unrolled, see Flow)
        if rules.fact(spelling, "fold") is not None:
            known = self.known_value(node)
            if type(known) is int:
                return syntax.const(known)
        # np.array / np.asarray get their own meaning
        if spelling in ("np.array", "np.asarray"):
            if not args:
                self.refuse(NotDifferentiableError, f"{spelling}() needs an argument", node,
                            "pass the values")
            first = args[0]
            if isinstance(first, (syntax.List, syntax.Tuple)) and _constant(first) and any(
                    isinstance(e, (syntax.List, syntax.Tuple)) for e in first.elts):
                # a matrix of constants: the literal as written (Numba reads nested lists)
                return syntax.call(syntax.parse_expr("np.array"), [self.constant_rows(first)])
            if isinstance(first, (syntax.List, syntax.Tuple)):
                items = [self.array_row(e) for e in first.elts]
                if all(syntax.is_const(i) for i in items):
                    return syntax.call(syntax.parse_expr("np.array"),
                                       [syntax.List(elts=items, ctx=syntax.Load())])
                return syntax.call(syntax.load("array_of"), [syntax.tuple_(items)])
            inner = self.atom(first)
            if spelling == "np.asarray":
                return inner
            return syntax.call(syntax.parse_expr("np.copy"), [inner])
        if spelling in ("max", "min") and not node.keywords and len(args) != 2:
            return self.builtin_extremum(spelling, args, node)
        rule = rules.lookup(spelling)
        atoms_args = []
        for i, a in enumerate(args):
            if rule.seq is not None and i == rule.params.index(rule.seq):
                if not isinstance(a, (syntax.Tuple, syntax.List)):
                    atom = self.atom(a)
                    if isinstance(atom, syntax.Name) and atom.id in self.tuples:
                        atoms_args.append(syntax.tuple_(self.tuples[atom.id]))
                        continue
                    self.refuse(NotDifferentiableError, f"{spelling}() needs a literal tuple "
                                "or list of arrays here", a, "write the sequence out: "
                                f"{spelling}((a, b), ...)")
                atoms_args.append(syntax.tuple_([self.atom(e) for e in a.elts]))
            else:
                atoms_args.append(self.atom(a))
        kwargs = {k.arg: self.atom(k.value) for k in node.keywords}
        try:
            bound = rule.bind(atoms_args, kwargs)
        except TypeError as e:
            self.refuse(NotDifferentiableError, str(e), node,
                        f"call {spelling} with the arguments nabla supports: "
                        f"{', '.join(rule.params)}")
        lower = rules.LOWERINGS.get(spelling)
        if lower is not None:
            full = {p: bound.get(p, syntax.const(rule.defaults.get(p))) for p in rule.params}
            template = lower(full)
            if template is not None:
                expr = syntax.substitute(syntax.parse_expr(template), full)
                if syntax.to_source(expr.func if isinstance(expr, syntax.Call) else expr) \
                        == spelling:
                    self.refuse(NotDifferentiableError, f"this form of {spelling}() is not "
                                "supported", node, "see the docs for the supported arguments")
                return self.operation_of_template(expr, node)
        return self.make_call(spelling, rule, bound)

    def builtin_extremum(self, spelling, args, node):
        """Python's ``max(a, b, c)`` as ``max(max(a, b), c)``; ``max(t)`` of a tuple as the
        same over its elements. ``max(x)`` of an array (over its first axis) is refused."""
        if len(args) == 1:
            atom = self.atom(args[0])
            if not (isinstance(atom, syntax.Name) and self.tuples.get(atom.id)):
                what = "largest" if spelling == "max" else "smallest"
                self.refuse(NotDifferentiableError, f"{spelling}() of one argument takes the "
                            f"{what} of its items one by one, which nabla reads only for a "
                            "tuple", node, f"for an array's {what} element use "
                            f"np.{spelling}(x); for two values, {spelling}(a, b)")
            atoms = list(self.tuples[atom.id])
        else:
            atoms = [self.atom(a) for a in args]
        if not atoms:
            self.refuse(NotDifferentiableError, f"{spelling}() needs an argument", node,
                        "pass the values")
        rule = rules.lookup(spelling)
        value = atoms[0]
        for a in atoms[1:]:
            if value is not atoms[0]:
                value = syntax.load(self.emit(self.namer.temp(), value))
            value = self.make_call(spelling, rule, {"x": value, "y": a})
        return value

    # -- lowerings -----------------------------------------------------------
    def operation_of_template(self, expr, node):
        """Normalize an expression produced by a lowering (its names are atoms already)."""
        if isinstance(expr, syntax.Call):
            spelling = syntax.to_source(expr.func)
            rule = rules.lookup(spelling)
            if rule is None:
                raise AssertionError(f"lowering produced {spelling}, which has no rule")
            args = [a if self.is_atom(a) or isinstance(a, syntax.Tuple)
                    else self.template_atom(a, node) for a in expr.args]
            kwargs = {k.arg: (k.value if self.is_atom(k.value)
                              else self.template_atom(k.value, node)) for k in expr.keywords}
            return self.make_call(spelling, rule, rule.bind(args, kwargs))
        if isinstance(expr, syntax.Attribute):
            return syntax.Attribute(value=self.template_atom(expr.value, node), attr=expr.attr,
                                    ctx=syntax.Load())
        if isinstance(expr, syntax.BinOp):  # a lowering to an expression: max + log(...)
            return syntax.BinOp(left=self.template_atom(expr.left, node), op=expr.op,
                                right=self.template_atom(expr.right, node))
        if isinstance(expr, syntax.UnaryOp):
            return syntax.UnaryOp(op=expr.op, operand=self.template_atom(expr.operand, node))
        return expr

    def template_atom(self, expr, node):
        if self.is_atom(expr):
            return expr
        return syntax.load(self.emit(self.namer.temp(), self.operation_of_template(expr, node)))

    @staticmethod
    def make_call(spelling, rule, bound):
        # positional for the leading parameters given, keywords never needed after binding
        args = []
        for p in rule.params:
            if p in bound:
                args.append(bound[p])
            else:
                break
        rest = [(p, bound[p]) for p in rule.params[len(args):] if p in bound]
        return syntax.call(syntax.parse_expr(spelling), args, rest)


def _constant(node) -> bool:
    """Whether ``node`` is a constant, or a (nested) list or tuple of constants."""
    if isinstance(node, (syntax.List, syntax.Tuple)):
        return all(_constant(e) for e in node.elts)
    return syntax.is_const(node) or (isinstance(node, syntax.UnaryOp) and
                                     syntax.is_const(node.operand))
