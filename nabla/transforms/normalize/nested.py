"""Transforms called in the user's code: ``nabla.grad(g)(x)``, a ``nabla.Function``
of the user's module, ``nabla.jvp(g, primals, tangents)``, ``nabla.vjp(g, x)``.

Each is a call of the generated function of that transform, a callee like the
user's own functions (shared by every call; its free values read as ``g`` reads
them). ``nabla.vjp``'s forward sweep is read in place, and the backward function it
returns is a callee called with the residuals:

>>> import nabla
>>> from nabla.transforms.normalize import normalize
>>> def g(x):
...     return x * x
>>> def f(x):
...     return nabla.grad(g)(x) * x
>>> print(normalize(f).to_source())
def f(x):
    t1 = g_grad(x)
    t2 = t1 * x
    return t2
"""

from __future__ import annotations

from ... import hooks, pytree, syntax
from ...errors import NotDifferentiableError, UnsupportedSyntaxError


class Nested:
    """Normalizer's transforms in the user's code (a mixin): ``transform_made`` makes
    the nabla.Function an expression like ``nabla.grad(g, argnums=1)`` means;
    ``generated_call`` calls a generated function as a callee."""

    def transform_made(self, node):
        """The nabla.Function ``nabla.grad(f, argnums=1)`` (an expression) makes: ``f`` a
        function of the user's (or a nabla.Function), the options constants."""
        kind, what = self.resolve_callee(node.func)
        if kind != "transform" or what in (hooks.jvp, hooks.vjp):
            self.refuse(NotDifferentiableError, f"{syntax.to_source(node.func)}(...) called "
                        "here has no derivative rule and no source nabla can read", node,
                        "call a function by its name, or a transform applied to one: "
                        "nabla.grad(f)(x)")
        if len(node.args) != 1 or not isinstance(node.args[0], (syntax.Name,
                                                                 syntax.Attribute)):
            self.refuse(UnsupportedSyntaxError, f"nabla.{what.__name__}() here needs the "
                        "function to transform as its one positional argument", node,
                        f"write nabla.{what.__name__}(f, argnums=...)")
        fkind, fn = self.resolve_callee(node.args[0])
        if fkind not in ("user", "nfunction", "custom"):
            self.refuse(NotDifferentiableError, f"nabla.{what.__name__}() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        options = {}
        for k in node.keywords:
            try:
                options[k.arg] = syntax.literal(k.value)
            except ValueError:
                self.refuse(UnsupportedSyntaxError, f"the option {k.arg}= of nabla."
                            f"{what.__name__}() here must be a constant", k.value,
                            "write the value out: argnums=(0, 1)")
        try:
            made = what(fn, **options)
        except TypeError as e:
            self.refuse(UnsupportedSyntaxError, str(e), node, "see the options in the docs")
        made._spelled = syntax.to_source(node.args[0])
        return made

    def transformed_call(self, made, node):
        """A call of a nabla.Function: a call of its generated entry function (float64
        flavour), transformed like a function of the user's and shared by every call."""
        if node.keywords:
            self.refuse(UnsupportedSyntaxError, "keyword arguments in calls to transformed "
                        "functions are not supported", node, "pass them by position")
        if made.batching is not None and made.batching["target"] == "cuda":
            self.refuse(NotDifferentiableError, "a vmap with target='cuda' runs as a kernel: "
                        "it cannot be called inside a function being transformed", node,
                        "call it outside, or use target='cpu' or 'parallel' here")
        variant = made._readable_variant(False)
        spelled = getattr(made, "_spelled", None) or syntax.to_source(node.func)
        tree = pytree.returned_tree(variant.meta, made.block_tree(len(variant.meta.wrt)))
        return self.generated_call(variant, list(node.args), [], spelled, node, tree)

    def jvp_call(self, node):
        """``nabla.jvp(f, (x, n), (v, 0))``: the tangent of a literal ``0`` marks an argument
        not differentiated (an integer); the others are differentiated."""
        if len(node.args) != 3 or not all(isinstance(a, (syntax.Tuple, syntax.List))
                                          for a in node.args[1:]):
            self.refuse(UnsupportedSyntaxError, "nabla.jvp() here needs a function and two "
                        "literal tuples: nabla.jvp(f, (x, y), (v, 0))", node,
                        "write the primals and tangents out as tuples")
        primals, tangents = node.args[1].elts, node.args[2].elts
        if len(primals) != len(tangents):
            self.refuse(UnsupportedSyntaxError, "nabla.jvp() here gets as many tangents as "
                        "primals", node, "pass one tangent per primal (0 for an integer)")
        has_aux = False
        for k in node.keywords:
            if k.arg != "has_aux":
                self.refuse(UnsupportedSyntaxError, f"nabla.jvp() has no option {k.arg}=",
                            node, "use has_aux=True or nothing")
            has_aux = bool(syntax.literal(k.value))
        fkind, fn = self.resolve_callee(node.args[0])
        if fkind not in ("user", "nfunction"):
            self.refuse(NotDifferentiableError, f"nabla.jvp() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        made = hooks.jvp_function(fn, has_aux)
        active = tuple(i for i, t in enumerate(tangents)
                       if not (syntax.is_const(t) and isinstance(t.value, int)))
        variant = made._variant(False, active)
        return self.generated_call(variant, list(primals), [tangents[i] for i in active],
                                   syntax.to_source(node.args[0]), node)

    def vjp_call(self, node):
        """``out, back = nabla.vjp(g, x, y)``: the forward sweep of g's vjp read in place;
        ``back`` stands for its backward function, called as ``back(ct)``."""
        if node.keywords or len(node.args) < 2 or any(
                isinstance(a, syntax.Starred) for a in node.args):
            self.refuse(UnsupportedSyntaxError, "nabla.vjp() here needs a function and its "
                        "arguments, with no options: out, back = nabla.vjp(g, x, y)", node,
                        "pass the arguments one by one; has_aux is not supported here")
        fkind, fn = self.resolve_callee(node.args[0])
        if fkind not in ("user", "nfunction"):
            self.refuse(NotDifferentiableError, f"nabla.vjp() here is applied to "
                        f"{syntax.to_source(node.args[0])}, which is not a function nabla can "
                        "read", node.args[0], "apply it to a function defined with `def`")
        primals = node.args[1:]
        made = hooks.vjp_function(fn, False)
        variant = made._variant(False, tuple(range(len(primals))))
        functions = variant.python_functions()
        spelled = syntax.to_source(node.args[0])
        atoms = [self.atom(a) for a in primals]
        free = self.generated_free(variant, functions[variant.meta.entry], spelled)
        forward = self.inline(functions[variant.meta.entry], node, atoms + free)
        out, residuals = self.tuples[forward.id]
        closure = self.namer.fresh(f"{spelled.replace('.', '_')}_vjp_fun")
        self.vjp_closures[closure] = (functions[variant.meta.bwd], residuals)
        pair = self.namer.temp()
        self.tuples[pair] = [out, syntax.load(closure)]
        return syntax.load(pair)

    def vjp_fun_call(self, closure, node):
        bwd, residuals = closure
        if len(node.args) != 1 or node.keywords:
            self.refuse(UnsupportedSyntaxError, "a vjp function takes one cotangent", node,
                        "call it as back(ct)")
        elements = self.tuples[residuals.id] if isinstance(residuals, syntax.Name) else []
        callee = self.callee(bwd, node)
        self.callees[callee.spelling] = callee
        self.namer.take(callee.spelling)
        call = syntax.call(syntax.load(callee.spelling),
                           [self.atom(node.args[0])] + [syntax.clone(e) for e in elements])
        return self.shared_result(callee, call)

    def generated_free(self, variant, fn, spelled) -> list:
        """The free values a generated function takes, read as its user function reads
        them (``spelled`` is how this code names that function)."""
        return [syntax.load(self.free_value(("callee", id(fn), name), f"{spelled}/{source}",
                                            base=name))
                for name, source in zip(variant.meta.free, variant.meta.free_sources)]

    def generated_call(self, variant, args, tangents, spelled, node, tree=None):
        """A call of a transform's generated entry function: shared, or read in place
        where it returns nested tuples (an aux, a Jacobian per output); ``tree``: its
        result's structure (dicts read by key)."""
        fn = variant.python_functions()[variant.meta.entry]
        callee = self.callee(fn, node)
        n = len(variant.meta.params)
        if len(args) != n:
            self.refuse(NotDifferentiableError, f"{spelled} takes {n} arguments, got "
                        f"{len(args)}", node, "pass every argument")
        atoms = [self.atom(a) for a in args + tangents]
        for a in atoms:
            if isinstance(a, syntax.Name) and a.id in self.tuples:
                self.refuse(NotDifferentiableError, f"{spelled} is called here with a tuple, "
                            "list or dict argument, which a transform called inside a "
                            "function does not take yet", node, "pass its arrays as separate "
                            "arguments, or call the transform outside the function")
        free = self.generated_free(variant, fn, spelled)
        if callee is None:
            result = self.inline(fn, node, atoms + free)
        else:
            self.callees[callee.spelling] = callee
            self.namer.take(callee.spelling)
            result = self.shared_result(callee, syntax.call(syntax.load(callee.spelling),
                                                            atoms + free))
        self.label(result, tree)
        return result

    def label(self, atom, tree) -> None:
        """Mark the tuples of ``atom`` that are dicts or lists in ``tree`` (the JSON form
        of ``Canonical.result_tree``) so: ``r["key"]`` reads them."""
        if tree is None or tree[0] == "leaf" or not isinstance(atom, syntax.Name) or \
                atom.id not in self.tuples:
            return
        kind, extra, children = tree
        elements = self.tuples[atom.id]
        if kind == "dict":
            self.kinds[atom.id] = ("dict", list(extra[0]))
            self.dicts[atom.id] = dict(zip(extra[0], elements))
        elif kind == "list":
            self.kinds[atom.id] = ("list",)
        for element, child in zip(elements, children):
            self.label(element, child)
