"""Statements: assignments (to a name, to names unpacked from a tuple, into an array),
augmented assignments, and the renaming that names every value once.

``define`` gives a user's variable a new canonical name each time it is assigned
again (``a``, ``a_1``, ...) and ``emit`` appends one ``name = operation``
statement. A tuple is read element by element; an array may be written into only
when the function made it (its rule says ``new_array``), never an argument or a global:

>>> import numpy as np
>>> from nabla.transforms.normalize import normalize
>>> def f(x, y):
...     a, b = x, y
...     a += b
...     out = np.zeros(2)
...     out[0] = a
...     out[1] += b
...     return out
>>> print(normalize(f).to_source())
def f(x, y):
    a = x
    b = y
    a_1 = a + b
    out = np.zeros(2)
    out[0] = a_1
    t1 = out[1]
    t2 = t1 + b
    out[1] = t2
    return out
"""

from __future__ import annotations

from ... import rules, syntax
from ...errors import UnsupportedSyntaxError
from ...names import GENERATED_MODULE_PREFIX, reserved_names


class Statements:
    """Normalizer's statements (a mixin): ``statement`` dispatches each of the user's
    statements; blocks of control flow go to ``Flow``, expressions to ``Expressions``."""

    def emit(self, target: str, op) -> str:
        stmt = syntax.assign(target, op, lineno=self.lineno)
        # the column of the user's call this statement computes (or of its statement), so
        # that later passes refusing it point at the call
        col = getattr(op, "col_offset", None)
        stmt.col_offset = self.col if col is None else col
        self.body.append(stmt)
        self.note_shares(target, op)
        return target

    # -- which values may share memory (for augmented assignments) ------------
    def note_shares(self, target: str, op):
        """Record that ``target``'s value may share memory with what ``op`` reads: ``op`` a
        name, an element or a slice or an attribute (``x.T``) of one, or a call whose result
        may be (a view of) an argument."""
        if isinstance(op, syntax.Name):
            self.share(target, op.id)
        elif isinstance(op, (syntax.Subscript, syntax.Attribute)):
            if isinstance(op.value, syntax.Name):
                self.share(target, op.value.id)
        elif isinstance(op, syntax.Call) and not self.makes_new_array(op):
            for node in list(op.args) + [k.value for k in op.keywords] + [op.func]:
                base = node.value if isinstance(node, syntax.Attribute) else node
                if isinstance(base, syntax.Name):
                    self.share(target, base.id)

    def share(self, a: str, b: str):
        ra, rb = self.share_root(a), self.share_root(b)
        if ra != rb:
            self.aliases[ra] = rb

    def share_root(self, a: str) -> str:
        while a in self.aliases:
            a = self.aliases[a]
        return a

    def sharing(self, var: str) -> list[str]:
        """The current values of the user's other variables, read later, whose arrays may
        be ``var``'s (or parts of it); in a function the transformed one calls, also its
        parameters' values on entry (the caller's arrays), ``var``'s own among them."""
        current = self.versions.get(var)
        if current is None:
            return []
        root = self.share_root(current)
        later = {n for rest in self.rest for s in rest for n in syntax.names_loaded(s)}
        for outer in self.loops:
            later |= set(syntax.names_loaded(outer))
        out = [v for name, v in sorted(self.versions.items())
               if name != var and name in later and v != current
               and self.share_root(v) == root]
        if self.is_callee:  # the caller may read the arrays it passed: var's own included
            out += [p for p in self.param_values
                    if p not in out and self.share_root(p) == root]
        return out

    def define(self, user_name: str) -> str:
        """The canonical name for a new value of the user's variable ``user_name``."""
        if (user_name in self.versions or user_name in reserved_names()
                or user_name in self.user_names  # already a name (of another inlined call)
                or user_name in self.namer.temps):  # or a temporary's (an inlined
            #                                         callee's local spelled like one: t1)
            name = self.namer.fresh(user_name)
        else:
            name = user_name
            self.namer.take(name)
        self.versions[user_name] = name
        self.user_names[name] = user_name
        return name

    def statement(self, stmt):
        if isinstance(stmt, syntax.Assign):
            value = stmt.value
            targets = stmt.targets
            if len(targets) > 1:  # a = b = v: a = v, then b = a (Python's order)
                self.assign_to(targets[0], value)
                read = syntax.clone(targets[0])
                for node in syntax.walk(read):
                    if hasattr(node, "ctx"):
                        node.ctx = syntax.Load()
                for t in targets[1:]:
                    self.assign_to(t, syntax.clone(read))
                return
            self.assign_to(targets[0], value)
        elif isinstance(stmt, syntax.AnnAssign):
            if stmt.value is None:
                return
            self.assign_to(stmt.target, stmt.value)
        elif isinstance(stmt, syntax.AugAssign):
            if isinstance(stmt.target, syntax.Subscript):
                self.augmented_subscript(stmt)
                return
            if not isinstance(stmt.target, syntax.Name):
                self.refuse(UnsupportedSyntaxError, "this augmented assignment is not "
                            "supported", stmt, "write it as `a = a + b`")
            var = stmt.target.id
            partners = self.sharing(var)
            if not partners:  # no other variable read later holds its array: a new array
                value = syntax.BinOp(left=syntax.load(var), op=stmt.op, right=stmt.value)
                self.assign_to(syntax.store(var), value)
                return
            # NumPy changes the array in place, which the partners see; nabla makes a new
            # one: right where it is a scalar, or shares no memory with them (checked)
            right = self.atom(stmt.value)
            current = syntax.load(self.versions[var])
            for p in partners:
                current = syntax.load(self.emit(self.namer.temp(), syntax.call(
                    syntax.load("alone"), [current, syntax.load(p)])))
            name = self.define(var)
            self.emit(name, syntax.BinOp(left=current, op=stmt.op, right=right))
            self.fresh_arrays.add(name)
        elif isinstance(stmt, syntax.Expr):
            if syntax.is_const(stmt.value):
                return  # a string or a bare constant
            self.refuse(UnsupportedSyntaxError, "a statement whose value is thrown away has "
                        "no derivative", stmt, "assign its value or remove it")
        elif isinstance(stmt, syntax.Pass):
            return
        elif isinstance(stmt, syntax.If) and self.python_only(stmt.test):
            # generated code's `if in_python: name = None` (see runtime.in_python) gives names
            # some paths leave unset a value under Python only: they are names of the
            # function from its start, unset until assigned (the guard is made again)
            for s in stmt.body:
                if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name):
                    name = s.targets[0].id
                    self.versions.setdefault(name, name)
                    self.user_names.setdefault(name, name)
                    self.unset_names.add(self.versions[name])
            return
        elif isinstance(stmt, syntax.If):
            self.if_statement(stmt)
        elif isinstance(stmt, syntax.For):
            self.for_statement(stmt)
        elif isinstance(stmt, syntax.While):
            self.while_statement(stmt)
        elif isinstance(stmt, syntax.Return):
            self.refuse(UnsupportedSyntaxError, "this `return` is not supported here", stmt,
                        "return at the end of the function")
        else:
            self.refuse(UnsupportedSyntaxError, f"`{type(stmt).__name__}` statements are not "
                        "supported", stmt, "see the docs for the supported subset")

    def python_only(self, test) -> bool:
        """``if in_python:`` in a generated module (a user's own global of that name is a
        value like any other)."""
        return isinstance(test, syntax.Name) and test.id == "in_python" and \
            test.id not in self.versions and \
            self.parsed.fn.__module__.startswith(GENERATED_MODULE_PREFIX)

    def makes_new_array(self, op) -> bool:
        """Whether ``op``'s result is an array no other name holds, which the function may
        write into: an operator's, or a call's whose rule says so (a constructor, an
        elementwise function), or a user's function's that returns one; or an array of its
        own that a call updated in place and returned."""
        if isinstance(op, (syntax.BinOp, syntax.UnaryOp)):
            return True
        if not isinstance(op, syntax.Call):
            return False
        if isinstance(op.func, syntax.Name) and op.func.id in self.callees:
            return self.callees[op.func.id].fresh_result
        rule = rules.lookup(syntax.to_source(op.func))
        if rule is not None and rule.in_place is not None and op.args:
            # it updates its first argument and returns it: an array of the function's own
            # stays one (generated code's ``y = undo_writes(y, log, mark)``, vmapped)
            first = op.args[0]
            return isinstance(first, syntax.Name) and first.id in self.fresh_arrays
        return rule is not None and rule.new_array

    def assign_to(self, target, value):
        if isinstance(target, syntax.Name):
            if isinstance(value, (syntax.Tuple, syntax.List)):
                atoms = [self.atom(e) for e in value.elts]
                name = self.define(target.id)
                self.emit(name, syntax.tuple_(atoms))
                self.tuples[name] = atoms
                return
            op = self.operation(value)
            if isinstance(op, syntax.Name) and op.id in self.call_tuples:
                # the tuple a function returned: its elements are read where it returned
                self.versions[target.id] = op.id
                return
            name = self.define(target.id)
            self.emit(name, op)
            if self.makes_new_array(op):
                self.fresh_arrays.add(name)
            if isinstance(op, syntax.Name) and op.id in self.tuples:
                self.tuples[name] = self.tuples[op.id]
                for table in (self.dicts, self.kinds):
                    if op.id in table:
                        table[name] = table[op.id]
            return
        if isinstance(target, (syntax.Tuple, syntax.List)):
            if isinstance(value, (syntax.Tuple, syntax.List)):
                if len(value.elts) != len(target.elts):
                    self.refuse(UnsupportedSyntaxError, "unpacking needs as many values as "
                                "names", target, "match the number of names and values")
                # every value is read before any name is assigned: a, b = b, a
                self.unpack(target, [self.atom(e) for e in value.elts])
            else:
                self.unpack(target, self.atom(value))
            return
        if isinstance(target, syntax.Subscript) and self.dict_item(target, value):
            return
        if isinstance(target, syntax.Subscript):
            array = self.writable_array(target)
            index = self.index(target.slice)
            atom = self.atom(value)
            self.emit_store(array, index, atom)
            return
        self.refuse(UnsupportedSyntaxError, "this assignment target is not supported", target,
                    "assign to a plain name")

    def dict_item(self, target, value) -> bool:
        """``d["key"] = value`` into a dict of this function's: a new dict, the other
        values kept (nabla's dicts are values, read by key where they are used); False
        where ``target`` is no such item."""
        base, key = target.value, target.slice
        if not (isinstance(base, syntax.Name) and syntax.is_const(key)
                and isinstance(key.value, str)):
            return False
        current = self.versions.get(base.id)
        if self.kinds.get(current, (None,))[0] != "dict":
            return False
        if current in self.argument_tuples or (self.is_callee and current in self.param_values):
            self.refuse(UnsupportedSyntaxError, f"writing into {base.id!r}, a dict passed in, "
                        "would change the caller's dict, which nabla does not do", target,
                        "build a new dict in the function: e = {\"w\": ..., \"b\": "
                        f"{base.id}[\"b\"]}}")
        held = self.tuples.get(current)
        if any(v != base.id and self.tuples.get(n) is held for v, n in self.versions.items()) \
                or any(isinstance(e, syntax.Name) and e.id == current
                       for elements in self.tuples.values() for e in elements):
            self.refuse(UnsupportedSyntaxError, f"writing into {base.id!r}, a dict another "
                        "variable or container also holds, is not supported: nabla's dicts "
                        "are values, so that one would keep the old value", target,
                        "build the new dict under a name of its own")
        values = dict(self.dicts[current])
        values[key.value] = self.atom(value)
        order = sorted(values)
        elements = [values[k] for k in order]
        name = self.define(base.id)
        self.emit(name, syntax.tuple_(elements))
        self.tuples[name] = elements
        self.dicts[name] = dict(zip(order, elements))
        self.kinds[name] = ("dict", order)
        return True

    def unpack(self, target, value):
        """Assign the names of ``target`` (a tuple of names, or of such tuples) the elements
        of ``value``: a list of atoms, or one atom (a tuple known here, read element by
        element, or an array or a returned tuple, indexed)."""
        names = target.elts
        if not all(isinstance(n, (syntax.Name, syntax.Tuple, syntax.List)) for n in names):
            self.refuse(UnsupportedSyntaxError, "only names (or tuples of names) can be "
                        "unpacked into", target, "unpack into plain names")
        if isinstance(value, list):
            atoms = value
        elif isinstance(value, syntax.Tuple):
            atoms = list(value.elts)
        elif isinstance(value, syntax.Name) and value.id in self.tuples:
            atoms = self.tuples[value.id]
        else:
            atoms = []
            for i in range(len(names)):
                sub = syntax.Subscript(value=syntax.clone(value), slice=syntax.const(i),
                                       ctx=syntax.Load())
                atoms.append(syntax.load(self.emit(self.namer.temp(), sub)))
        if len(atoms) != len(names):
            self.refuse(UnsupportedSyntaxError, "unpacking needs as many values as names",
                        target, "match the number of names and values")
        for n, a in zip(names, atoms):
            if isinstance(n, (syntax.Tuple, syntax.List)):  # (a, b), c = ...
                self.unpack(n, a)
                continue
            if isinstance(a, syntax.Name) and a.id in self.vjp_closures:
                self.versions[n.id] = a.id  # a vjp function: called, never a value
                continue
            name = self.emit(self.define(n.id), a)
            if isinstance(a, syntax.Name) and a.id in self.tuples:
                self.tuples[name] = self.tuples[a.id]
                for table in (self.dicts, self.kinds):  # a dict read by key: d["w"]
                    if a.id in table:
                        table[name] = table[a.id]

    # -- writes into arrays --------------------------------------------------
    def writable_array(self, target):
        """The canonical name of the array ``target`` writes into; refuses writes into
        arguments, globals and views (they would change the caller's data)."""
        base = target.value
        if not isinstance(base, syntax.Name):
            self.refuse(UnsupportedSyntaxError, "only a name can be indexed on the left of "
                        "`=`", target, "index the array by its own name: a[i] = ...")
        name = self.versions.get(base.id)
        if name is None or name not in self.fresh_arrays:
            root = self.share_root(name) if name is not None else None
            local = [self.user_names.get(a, a) for a in sorted(self.fresh_arrays)
                     if self.share_root(a) == root and not any(
                         self.share_root(p) == root
                         for p in list(self.params_set) + self.param_values)]
            if local:  # b = a, then b[0] = ...: a would keep its old values
                self.refuse(UnsupportedSyntaxError, f"writing into {base.id!r}, a view or an "
                            f"alias of {local[0]!r}, is not supported: nabla's arrays are "
                            f"values, and {local[0]!r} would not change", target,
                            f"write into {local[0]!r} itself, or into a copy: {base.id} = "
                            f"np.copy({base.id})")
            what = ("an argument" if name in self.params_set else
                    "a global or closure value" if name is None else
                    "an array that may share memory with an argument (a view, an alias)")
            self.refuse(UnsupportedSyntaxError, f"writing into {base.id!r}, {what}, is not "
                        "supported: it would change the caller's data", target,
                        f"write into a copy made in the function: {base.id} = "
                        f"np.copy({base.id}), or build the array with np.zeros")
        return name

    def emit_store(self, array: str, index, atom):
        sub = syntax.Subscript(value=syntax.load(array), slice=index, ctx=syntax.Store())
        stmt = syntax.assign(sub, atom, lineno=self.lineno)
        stmt.col_offset = self.col
        self.body.append(stmt)

    def augmented_subscript(self, stmt):
        target = stmt.target
        read = syntax.Subscript(value=syntax.clone(target.value), slice=syntax.clone(
            target.slice), ctx=syntax.Load())
        if self.dict_item(target, syntax.BinOp(left=read, op=stmt.op, right=stmt.value)):
            return  # d["key"] += v
        array = self.writable_array(target)
        index = self.index(target.slice)
        old = syntax.Subscript(value=syntax.load(array), slice=syntax.clone(index),
                               ctx=syntax.Load())
        current = syntax.load(self.emit(self.namer.temp(), old))
        new = syntax.BinOp(left=current, op=stmt.op, right=self.atom(stmt.value))
        self.emit_store(array, index, syntax.load(self.emit(self.namer.temp(), new)))
