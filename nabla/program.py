"""What ``nabla.Array`` records, as a program: the nodes a result depends on, in order,
written as a Python function of the program's inputs (the arrays already computed, and
the Python floats it was given), named after the user's variables where the calling
frame shows them, with a comment per recorded line. A program is made, transformed and
compiled once per *structure* (operations, shapes, dtypes; not values), so that the
second step of a training loop runs compiled code and nothing else.

Forward values run the program as NumPy code (small programs) or through ``nabla.jit``;
``backward()`` runs ``nabla.value_and_grad`` of it with respect to the leaves that
require grad, and adds the gradients into their ``.grad``.

>>> import nabla
>>> w = nabla.ones((2,), requires_grad=True)
>>> loss = nabla.sum(nabla.tanh(w * 3.0))
>>> print(loss.source(), end="")  # doctest: +ELLIPSIS
def program(w, c1):
    # <doctest ...>:1: loss = nabla.sum(nabla.tanh(w * 3.0))
    t1 = w * c1
    t2 = np.tanh(t1)
    loss = np.sum(t2)
    return loss
"""

from __future__ import annotations

import hashlib
import keyword
import linecache
import sys
import weakref

import numpy as np

from . import api
from . import lazy as _lazy
from .config import config
from .lazy import Array, BackwardError, Node, user_frame

_lazy.engine = sys.modules[__name__]

_programs: dict = {}  # structure key -> Program
_FLOAT64 = np.dtype(np.float64)


_SMALL = 8  # programs of fewer operations run as NumPy code, never compiled


def _serial(node: Node) -> int:
    return node.serial


_TEMPLATES = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
    "pow": "{0} ** {1}", "matmul": "{0} @ {1}", "neg": "-{0}", "abs": "np.abs({0})",
    "exp": "np.exp({0})", "log": "np.log({0})", "sin": "np.sin({0})", "cos": "np.cos({0})",
    "tanh": "np.tanh({0})", "sqrt": "np.sqrt({0})", "maximum": "np.maximum({0}, {1})",
    "minimum": "np.minimum({0}, {1})", "lt": "{0} < {1}", "le": "{0} <= {1}",
    "gt": "{0} > {1}", "ge": "{0} >= {1}", "eq": "{0} == {1}", "ne": "{0} != {1}",
    "where": "np.where({0}, {1}, {2})",
}


class Program:
    """One structure's generated function, and its compiled forms (made when needed)."""

    def __init__(self, text: str, name: str, key: tuple):
        self.text = text
        filename = f"<nabla program {hashlib.sha256(repr(key).encode()).hexdigest()[:16]}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        namespace = {"np": np}
        exec(compile(text, filename, "exec"), namespace)
        self.fn = namespace[name]
        self.jitted = None
        self.derivative = None  # nabla.value_and_grad of fn, made at the first backward


class Recorded:
    """The program computing ``outputs`` from the recorded graph: its nodes in order, its
    parameters (nodes with values, and Python floats) and its structure key."""

    def __init__(self, outputs: list, through_values: bool, cotangent=None):
        self.outputs = outputs
        # the nodes computed here, and where the program starts (nodes with values), found
        # from the outputs; nodes are made in an order where inputs come first (this walk and
        # the key below run at every backward(): kept lean)
        seen, inner = set(), []
        stack = list(outputs)
        while stack:
            node = stack.pop()
            serial = node.serial
            if serial in seen:
                continue
            seen.add(serial)
            if node.stopped and node.value is None and through_values:
                compute([node])  # made under no_grad: a constant of the derivative
            if node.value is not None and (node.op is None or not (
                    through_values and node.requires_grad)):
                continue
            if node.freed and through_values:
                raise BackwardError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed)",
                    filename=node.where[0], lineno=node.where[1],
                    hint="pass retain_graph=True to the first backward() to call it again")
            inner.append(node)
            for i in node.inputs:
                if type(i) is Node and i.serial not in seen:
                    stack.append(i)
        inner.sort(key=_serial)
        self.order: list = []  # (node, the references of its inputs)
        params: list = []  # Nodes with values, or NumPy float scalars
        self.params = params
        index: dict = {}  # serial -> ("p", k) or ("n", k)
        parts: list = []
        for node in inner:
            refs = []
            for i in node.inputs:
                if type(i) is Node:
                    ref = index.get(i.serial)
                    if ref is None:  # a parameter (computed nodes come before their use)
                        ref = index[i.serial] = ("p", len(params))
                        params.append(i)
                        parts.append((i.shape, i.dtype, i.requires_grad))
                    refs.append(ref)
                elif isinstance(i, float):  # a parameter, of the dtype it combines with
                    # (NumPy keeps a float32 array's precision with a Python float; compiled
                    # code would promote both to float64)
                    dtype = node.dtype if node.dtype.kind == "f" else _FLOAT64
                    refs.append(("p", len(params)))
                    params.append(dtype.type(i))
                    parts.append(dtype)
                else:  # ints and bools: literals of the program
                    refs.append(("i", i))
            refs = tuple(refs)
            index[node.serial] = ("n", len(self.order))
            self.order.append((node, refs))
            parts.append((node.op, node.attrs, refs, node.shape, node.dtype))
        for n in outputs:  # an output that is a parameter itself (a leaf asked for)
            if n.serial not in index:
                index[n.serial] = ("p", len(params))
                params.append(n)
                parts.append((n.shape, n.dtype, n.requires_grad))
        self._index = index
        parts.append(("out", tuple(index[n.serial] for n in outputs), cotangent is not None))
        self.key = tuple(parts)  # hashable: the programs' dictionary key

    def names(self, frame) -> tuple[list, list]:
        """Names of the parameters and of the nodes: the user's variable names where the
        frame holds an Array of that node, else p1, c1 (floats), t1, ..."""
        known = {}
        if frame is not None:
            for scope in (frame.f_locals, frame.f_globals):
                for name, value in list(scope.items()):
                    if name.startswith("_") or not name.isidentifier() or \
                            keyword.iskeyword(name):
                        continue
                    if isinstance(value, Array):
                        known.setdefault(id(value._node), name)
                    elif not isinstance(value, type) and callable(
                            getattr(value, "named_parameters", None)):  # an nn.Module
                        for sub, p in value.named_parameters(f"{name}."):
                            known.setdefault(id(p._node), sub.replace(".", "_"))
        used = {"np", "program"}

        def fresh(base):
            name, k = base, 1
            while name in used:
                k += 1
                name = f"{base}_{k}"
            used.add(name)
            return name

        params, counts = [], {"p": 0, "c": 0, "t": 0}

        def numbered(letter):
            counts[letter] += 1
            return fresh(f"{letter}{counts[letter]}")

        for p in self.params:
            user = known.get(id(p)) if isinstance(p, Node) else None
            params.append(fresh(user) if user else numbered("p" if isinstance(p, Node)
                                                            else "c"))
        nodes = []
        for node, _ in self.order:
            user = known.get(id(node))
            nodes.append(fresh(user) if user else numbered("t"))
        return params, nodes

    def text(self, frame, cotangent: bool = False) -> str:
        params, nodes = self.names(frame)

        def ref(r):
            kind, v = r
            if kind == "p":
                return params[v]
            if kind == "n":
                return nodes[v]
            return f"({v!r})" if isinstance(v, (int, float)) and v < 0 else repr(v)

        lines = [f"def program({', '.join(params + (['cotangent'] if cotangent else []))}):"]
        last = None
        for (node, refs), name in zip(self.order, nodes):
            if node.where != last and node.where[0] is not None:
                last = node.where
                said = linecache.getline(node.where[0], node.where[1]).strip()
                lines.append(f"    # {node.where[0]}:{node.where[1]}: {said}")
            lines.append(f"    {name} = {expression(node, [ref(r) for r in refs])}")
        outs = [ref(self._index[n.serial]) for n in self.outputs]
        if cotangent:
            lines.append(f"    return np.sum({outs[0]} * cotangent)")
        else:
            returned = outs[0] if len(outs) == 1 else '(' + ', '.join(outs) + ',)'
            lines.append(f"    return {returned}")
        return "\n".join(lines) + "\n"

    def args(self) -> list:
        return [p.value if isinstance(p, Node) else p for p in self.params]


def expression(node: Node, xs: list) -> str:
    """The source of one recorded operation on the inputs named ``xs``."""
    op, attrs = node.op, node.attrs
    template = _TEMPLATES.get(op)
    if template is not None:
        return template.format(*xs)
    if op in _lazy._NP_UNARY:
        return f"np.{op}({xs[0]})"
    if op == "clip":
        return f"np.clip({xs[0]}, {xs[1]}, {xs[2]})"
    if op in ("sum", "mean", "max", "min"):
        axis, keepdims = attrs
        extra = ("" if axis is None else f", axis={axis!r}") + \
            (", keepdims=True" if keepdims else "")
        return f"np.{op}({xs[0]}{extra})"
    if op == "reshape":  # compiled code reshapes contiguous arrays only: copy a view first
        source = node.inputs[0]
        x = f"np.copy({xs[0]})" if isinstance(source, Node) and source.op in (
            "transpose", "getitem") else xs[0]
        return f"np.reshape({x}, {attrs[0]!r})"
    if op == "transpose":
        return f"np.transpose({xs[0]}, {attrs[0]!r})"
    if op == "astype":
        return f"{xs[0]}.astype(np.{attrs[0]})"
    if op in ("concatenate", "stack"):
        return f"np.{op}(({', '.join(xs)},), axis={attrs[0]})"
    if op == "getitem":
        parts = []
        for kind, v in attrs[0]:
            if kind == "array":
                parts.append(xs[1 + v])
            elif kind == "slice":
                parts.append(":".join("" if s is None else str(s) for s in v[:2]) +
                             ("" if v[2] is None else f":{v[2]}"))
            else:
                parts.append({"none": "None", "ellipsis": "...", "int": str(v)}[kind])
        return f"{xs[0]}[{', '.join(parts)}]"
    raise AssertionError(op)


def _program(rec: Recorded, cotangent: bool = False) -> Program:
    prog = _programs.get(rec.key)
    if prog is None:
        prog = _programs[rec.key] = Program(rec.text(user_frame(), cotangent), "program",
                                            rec.key)
    return prog


def compute(nodes: list) -> None:
    """Give ``nodes`` their values: run the program that computes them."""
    rec = Recorded(nodes, through_values=False)
    prog = _program(rec)
    if len(rec.order) < _SMALL or not config.jit:
        out = prog.fn(*rec.args())
    else:
        if prog.jitted is None:
            prog.jitted = api.jit(prog.fn)
        out = prog.jitted(*rec.args())
    for node, value in zip(nodes, out if len(nodes) > 1 else (out,)):
        node.value = _frozen(np.asarray(value, dtype=node.dtype))


def _frozen(v: np.ndarray) -> np.ndarray:
    v.flags.writeable = False
    return v


def backward(arr: Array, gradient, retain_graph: bool) -> None:
    node = arr._node
    if not node.requires_grad:
        raise BackwardError("element 0 of tensors does not require grad and does not have "
                            "a grad_fn", filename=node.where[0], lineno=node.where[1],
                            hint="make a leaf it depends on with requires_grad=True")
    if gradient is None and node.shape != ():
        raise BackwardError(f"grad can be implicitly created only for scalar outputs (this "
                            f"one has shape {node.shape})", filename=node.where[0],
                            lineno=node.where[1],
                            hint="pass the cotangent: y.backward(gradient=...)")
    if node.op is None:  # a leaf: d leaf / d leaf (a copy: the caller's array stays theirs)
        _accumulate(node, np.ones(node.shape, node.dtype) if gradient is None
                    else np.array(gradient, node.dtype))
        return
    cot = None
    if gradient is not None:
        cot = np.asarray(gradient.numpy() if isinstance(gradient, Array) else gradient,
                         dtype=node.dtype)
        if cot.shape != node.shape:
            raise BackwardError(f"the gradient has shape {cot.shape}, the output {node.shape}",
                                filename=node.where[0], lineno=node.where[1])
    rec = Recorded([node], through_values=True, cotangent=cot)
    wrt = tuple(k for k, p in enumerate(rec.params)
                if isinstance(p, Node) and p.op is None and p.requires_grad)
    prog = _program(rec, cotangent=cot is not None)
    if prog.derivative is None:
        prog.derivative = api.value_and_grad(prog.fn, argnums=wrt)
    value, grads = prog.derivative(*rec.args() + ([cot] if cot is not None else []))
    if cot is None and node.value is None:
        node.value = _frozen(np.asarray(value, dtype=node.dtype))
    for k, g in zip(wrt, grads):
        _accumulate(rec.params[k], g)
    if not retain_graph:
        for n, _ in rec.order:
            n.freed = True
    _last_backward[node] = prog


_last_backward = weakref.WeakKeyDictionary()  # node -> the program its backward ran


def _accumulate(leaf: Node, g) -> None:
    """Add ``g`` (a fresh array: nabla's, not the caller's) into the gradient of the Array
    that owns ``leaf``, if it is still alive."""
    owner = leaf.owner() if leaf.owner is not None else None
    if owner is None:
        return
    if type(g) is not np.ndarray or g.dtype != leaf.dtype or g.shape != leaf.shape:
        g = np.asarray(g, dtype=leaf.dtype).reshape(leaf.shape)  # fresh from the derivative
    had = owner.grad_array()
    if had is not None:
        g = had + g
    g.flags.writeable = False  # fresh, ours: the Array made of it when asked for shares it
    owner._grad = g


def source_of(node: Node) -> str:
    """The program computing ``node`` (and, after its backward, nabla's derivative of it)."""
    prog = _last_backward.get(node)
    if prog is not None:
        return (f"{prog.text}\n\n# and its derivative, as backward() ran it:\n"
                f"{prog.derivative.source}")
    rec = Recorded([node], through_values=False)
    return rec.text(user_frame())
