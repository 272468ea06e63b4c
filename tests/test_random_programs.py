"""Randomly generated programs mixing control flow: reverse and forward mode against central
finite differences, with Numba off and on.

A hypothesis strategy writes a small function ``prog(x, y, v, n)`` (x, y floats, v a float64
array of length 4, n a loop count 0..4) out of:

- assignments of smooth expressions, if/else blocks, conditional expressions, and/or/not
  conditions, ``for i in range(n)`` loops, counter-bounded ``while`` loops (``k += 1``;
  ``while k < n`` too), nested loops, break/continue under a condition, early returns
  (inside loops too);
- augmented assignments on scalars (``t += ...``, ``t -= ...``, ``t *= c`` with |c| <= 1,
  ``t /= (1.0 + u * u)``) at the top level and in loop bodies, and tuple assignments that
  read or rebind the names they set (``a, b = (expr, a)``, ``a, b = b, a``), right after an
  augmented assignment too;
- variables that start as an int literal (``v3 = 2``) and are later updated with floats;
- reads of the array argument (``v[1]``, ``v[i % 4]``, ``np.mean(v)``,
  ``np.sum(np.sin(v))``), other names for it (``w0 = v``: read, never written), and arrays
  the function makes (``w1 = x - v``, ``w1 = v * y``, ``w1 = np.sin(v) * x``) that are then
  updated in place (``w1 += v``, ``w1 *= 0.5``, ``w1[i % 4] = ...``) and read;
- writes into an array made with ``np.zeros`` (``h[i % 3] = ...``, in loops, nested loops
  and branches), and into one no derivative flows through (``c = np.ones(4)``,
  ``c[i % 4] = 0.5 * c[(i + 1) % 4] + 0.1 * i``), which expressions read like the others;
  calls to two helpers defined in the same generated module, one of them with a branch;
- sometimes, a last statement ``for i0 in range(n + 1):`` whose body ends with an
  unconditional ``return``: the return inside the loop is the function's only way out
  (conditional returns before it aside).

Every plain assignment keeps its value in [-1.5, 1.5] (tanh/sin squashing) and the updates
add or scale by bounded amounts, so the functions stay smooth and of moderate size and
finite differences are a reliable reference. No array the caller passed is ever written
(plain Python would change it), and an array updated in place has no second name (plain
Python's ``w += v`` changes every name of the array, where nabla rebinds ``w``: a known gap
this test does not draw). A value returned is never an int (grad rightly refuses one). The
module is written to a real file (nabla reads source) and imported under a unique name.

Each program is checked for: ``nabla.jit`` giving the function's own value; ``nabla.grad``
with respect to x, y and v against central differences; ``nabla.jvp``'s value and tangent
(tangents for x, y and v); and ``v`` unchanged by each call. No refusal is accepted.

Points that sit next to a branch flip are skipped: there the function has a kink or a jump,
which shows up as central and one-sided differences at steps 1e-5 and 1e-6 disagreeing
(along x, y, each element of v, and the jvp's direction). Inputs are drawn off simple values
(see _coordinate), where a branch can flip at the point alone, which no difference sees.

This test found six bugs, all fixed: a value read only after a loop with a ``break`` was
dropped; a loop with nothing to differentiate did not put back what it overwrote for earlier
loops' adjoints; copies merging a ``return`` value inside a loop read unset names under
Python; the cotangents of such values were not always set; and the optimizer was quadratic.
The augmented, tuple, int-start, array and return-in-loop shapes came from an audit that
found nabla wrong on such programs (tests/test_audit_regressions.py): run against the code
before those fixes, this generator finds a wrong gradient in about one program in ten.
"""

import ast
import importlib.util
import itertools
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fd import assert_close, numerical_grad, numerical_jvp
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import nabla

# The helpers every generated module defines; h2 has a branch, so calls reach control flow
# in a second function; h3 reads an array, h4 makes one, h5 returns a pair. Their values
# are in [-1.5, 1.5] when their arguments' are.
HELPERS = '''\
import numpy as np


def h1(a, b):
    return np.tanh(a * b) + 0.5 * np.sin(a)


def h2(a):
    if a > 0.3:
        return np.sin(a) * 0.8
    return np.tanh(a * a) - 0.2


def h3(a, w):
    return np.tanh(a) * np.mean(np.sin(w))


def h4(w, a):
    return np.sin(w) * a


def h5(a, b):
    return np.sin(a) * b, np.cos(a + b)
'''

CONSTANTS = [0.5, -0.3, 0.7, 1.2, -1.1, 0.25, 2.0]
THRESHOLDS = [0.0, 0.2, -0.4, 0.6, -0.8, 0.35]
SCALES = [0.5, -0.3, 0.7, 0.9, -0.8, 1.0]  # |c| <= 1: t *= c shrinks t
V_TANGENT = np.array([0.3, -0.7, 0.5, 0.2])  # v's tangent in the jvp check


class _ProgramWriter:
    """Draws a program statement by statement. Scalar variables live in ``self.vars``, arrays
    the function made in ``self.owned``, names of the caller's array in ``self.aliases``; only
    the top level introduces new names (a name first set inside a branch or a loop body that
    may not run would be unbound after it), nested blocks reassign existing ones. An alias is
    never assigned again nor written; an owned array is only ever rebound to a new array."""

    def __init__(self, draw):
        self.draw = draw
        self.vars = ["x", "y"]
        self.int_starts = []  # names that may hold an int (also in self.vars)
        self.owned = []
        self.storable = []  # owned arrays made by arithmetic, which nabla may write into
        self.aliases = ["v"]
        self.lines = []
        self.fresh = itertools.count()
        self.counters = itertools.count()
        self.loop_depth = 0

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def coin(self):
        return self.draw(st.booleans())

    def var(self):
        return self.pick(self.vars)

    def target(self):
        """A scalar to update: now and then one that started as an int."""
        if self.int_starts and self.coin():
            return self.pick(self.int_starts)
        return self.var()

    def new_name(self, prefix="v"):
        return f"{prefix}{next(self.fresh)}"

    def arrays(self):
        return self.aliases + self.owned + ["c"]

    # -- expressions -------------------------------------------------------------------
    def array_read(self, loop_vars):
        a = self.pick(self.arrays())
        kind = self.pick(["elem", "index", "mean", "sum"] if loop_vars else
                         ["elem", "mean", "sum"])
        if kind == "elem":
            return f"{a}[{self.pick([1, 0, 3])}]"
        if kind == "index":
            return f"{a}[{self.pick(loop_vars)} % 4]"
        if kind == "mean":
            return f"np.mean({a})"
        return f"np.sum(np.sin({a}))"

    def leaf(self, loop_vars):
        kinds = ["var", "var", "const", "array"] + (["loopvar"] if loop_vars else [])
        kind = self.pick(kinds)
        if kind == "var":
            return self.var()
        if kind == "const":
            return repr(self.pick(CONSTANTS))
        if kind == "array":
            return self.array_read(loop_vars)
        return f"0.1 * {self.pick(loop_vars)}"

    def expr(self, depth, loop_vars):
        """A smooth expression, not necessarily bounded (it is squashed by the caller)."""
        if depth == 0 or self.coin():
            return self.leaf(loop_vars)
        a = self.expr(depth - 1, loop_vars)
        ops = ["+", "-", "*", "div", "sin", "cos", "tanh", "sq", "exp"]
        op = self.pick(ops + self.helper_forms())
        if op in ("+", "-", "*"):
            return f"({a} {op} {self.expr(depth - 1, loop_vars)})"
        if op == "div":
            v = self.var()
            return f"({a} / (1.0 + {v} * {v}))"
        if op in ("sin", "cos", "tanh"):
            return f"np.{op}({a})"
        if op == "sq":
            return f"({a}) ** 2"
        if op == "exp":
            return f"np.exp(np.tanh({a}))"
        if op == "h1":
            return f"h1({a}, {self.var()})"
        return f"h2({a})"

    def bounded(self, loop_vars, allow_ifexp=True):
        """An expression whose value is in [-1.5, 1.5] when every variable is."""
        forms = ["tanh", "sin", "cos", "mix", "ratio", "exp", "square", "decay", "h3"]
        forms += self.helper_forms()
        if allow_ifexp:
            forms.append("ifexp")
        form = self.pick(forms)
        if form in ("tanh", "sin", "cos"):
            return f"np.{form}({self.expr(2, loop_vars)})"
        if form == "mix":
            return f"0.5 * {self.var()} + 0.5 * np.tanh({self.expr(2, loop_vars)})"
        if form == "ratio":
            v = self.var()
            return f"{v} * {self.var()} / (1.0 + {v} * {v})"
        if form == "exp":
            return f"0.5 * np.exp(np.tanh({self.expr(2, loop_vars)}))"
        if form == "square":
            return f"0.5 * {self.var()} ** 2"
        if form == "decay":
            return f"{self.var()} * 0.9 + np.sin({self.expr(1, loop_vars)}) * 0.1"
        if form == "h1":
            return f"h1({self.expr(1, loop_vars)}, {self.var()})"
        if form == "h2":
            return f"h2({self.expr(1, loop_vars)})"
        if form == "h3":
            return f"h3({self.expr(1, loop_vars)}, {self.pick(self.arrays())})"
        a = self.bounded(loop_vars, allow_ifexp=False)
        b = self.bounded(loop_vars, allow_ifexp=False)
        return f"({a}) if {self.cond()} else ({b})"

    def helper_forms(self):
        return ["h1", "h2"]

    def may_be_int(self, node):
        """Whether an expression (ast) may have an int value: built by +, -, * and ** alone
        from int literals and names that started as one (and may still be one)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, int)
        if isinstance(node, ast.Name):
            return node.id in self.int_starts
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult,
                                                                 ast.Pow)):
            return self.may_be_int(node.left) and self.may_be_int(node.right)
        return False

    def returned(self, loop_vars):
        """An expression to return: a float (grad refuses an int output, rightly)."""
        e = self.expr(2, loop_vars)
        if self.may_be_int(ast.parse(e, mode="eval").body):
            return f"0.5 * ({e})"
        return e

    def cond(self, loop_vars=()):
        def compare(thresholds=THRESHOLDS):
            c = self.pick(thresholds)
            return f"{self.var()} {self.pick(['>', '<'])} {c!r}", c

        kind = self.pick(["cmp", "cmp", "and", "or", "not", "elements"])
        if kind == "elements":
            # two elements of arrays, one of them by a loop variable maybe (w0[1] < w0[i])
            a, b = self.pick(self.arrays()), self.pick(self.arrays())
            j = f"{self.pick(list(loop_vars))} % 4" if loop_vars and self.coin() else "3"
            return f"{a}[1] {self.pick(['>', '<'])} {b}[{j}]"
        first, c = compare()
        if kind == "cmp":
            return first
        if kind == "not":
            return f"not {first}"
        # two thresholds: `x > 0.0 or x < 0.0` differs from its value at x = 0.0 only at
        # that point, a kink no difference quotient sees
        second, _ = compare([t for t in THRESHOLDS if t != c])
        return f"{first} {kind} {second}"

    # -- statements --------------------------------------------------------------------
    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    def block(self, indent, nest, loop, loop_vars, lo=1, hi=2):
        hi = min(hi, 2)  # small programs: many of them in the time a big one takes
        for _ in range(self.draw(st.integers(lo, hi))):
            self.statement(indent, nest, loop, loop_vars)

    def augmented(self, indent, loop_vars):
        """``t op= ...`` on a scalar: adds a bounded amount, or scales by at most 1."""
        t = self.target()
        form = self.pick(["+=", "+=", "-=", "*=", "/="])
        if form in ("+=", "-="):
            amount = self.var() if self.coin() else self.bounded(loop_vars)
            self.emit(indent, f"{t} {form} {self.pick([0.5, 0.3])!r} * {amount}")
        elif form == "*=":
            self.emit(indent, f"{t} *= {self.pick(SCALES)!r}")
        else:
            u = self.var() if self.coin() else self.array_read(loop_vars)
            self.emit(indent, f"{t} /= (1.0 + {u} * {u})")
        return t

    def tuple_assign(self, indent, nest, loop_vars, a=None):
        """A tuple assignment reading or rebinding the names it sets."""
        a = a or self.target()
        others = [u for u in self.vars if u != a]
        form = self.pick(["keep", "keep", "swap", "two", "rotate", "call"])
        if form == "rotate" and len(others) >= 2:
            # three names, each set from another: a, b, c = b, c, a
            b, c = self.draw(st.permutations(others))[:2]
            self.emit(indent, f"{a}, {b}, {c} = {b}, {c}, {a}")
            if {a, b, c} & set(self.int_starts):
                self.int_starts.extend(u for u in (a, b, c) if u not in self.int_starts)
            return
        if form == "rotate":
            form = "swap"
        new = None
        if form != "swap" and nest == 0 and self.coin():
            b = new = self.new_name()
        else:
            b = self.pick(others)
        if form == "keep":
            rhs = self.bounded(loop_vars)
            if self.coin():
                self.emit(indent, f"{a}, {b} = ({rhs}, {a})")
            else:
                self.emit(indent, f"{b}, {a} = ({a}, {rhs})")
            if a in self.int_starts and b not in self.int_starts:
                self.int_starts.append(b)  # b may now hold a's int
        elif form == "swap":
            self.emit(indent, f"{a}, {b} = {b}, {a}")
            for u, w in ((a, b), (b, a)):
                if u in self.int_starts and w not in self.int_starts:
                    self.int_starts.append(w)
        elif form == "call":
            # the pair a function returns, read from the names it sets
            self.emit(indent, f"{a}, {b} = h5({self.expr(1, loop_vars)}, {a})")
        else:
            self.emit(indent, f"{a}, {b} = ({self.bounded(loop_vars)}, "
                              f"{self.bounded(loop_vars)})")
        if new is not None:
            self.vars.append(new)

    def new_array(self, indent):
        """A new top-level array name: one the function makes (returned), or a name for ``v``
        (None)."""
        w = self.new_name("w")
        if self.coin() and self.coin():
            self.emit(indent, f"{w} = {self.pick(self.aliases)}")
            self.aliases.append(w)
            return None
        a = self.pick(self.arrays())
        s = self.var()
        form = self.pick(["sub", "mul", "sin", "tanh", "call"])
        if form == "sub":
            self.emit(indent, f"{w} = {s} - {a}")
        elif form == "mul":
            self.emit(indent, f"{w} = {a} * {s}")
        elif form == "sin":
            self.emit(indent, f"{w} = np.sin({a}) * {s}")
        else:
            # a call's result: nabla refuses writes into it (it may be a view), so no
            # element of it is ever written
            if form == "tanh":
                self.emit(indent, f"{w} = np.tanh({a} + {s})")
            else:
                self.emit(indent, f"{w} = h4({a}, {s})")
            self.owned.append(w)
            return w
        self.owned.append(w)
        self.storable.append(w)
        return w

    def array_update(self, indent, loop_vars, w=None):
        """An update of an array the function made: in place, by element, or rebinding."""
        w = w or self.pick(self.owned)
        a = self.pick(self.arrays())
        forms = ["+=", "+=", "-=", "*=", "+=s", "rebind"]
        if w in self.storable:
            forms += ["store", "store+="]
        same = [u for u in self.owned if u != w and (u in self.storable) == (w in self.storable)]
        if same:
            forms.append("swap")
        form = self.pick(forms)
        if form == "+=":
            self.emit(indent, f"{w} += {a}")
        elif form == "-=":
            self.emit(indent, f"{w} -= 0.5 * np.sin({a})")
        elif form == "*=":
            self.emit(indent, f"{w} *= {self.pick(SCALES)!r}")
        elif form == "+=s":
            self.emit(indent, f"{w} += 0.5 * np.tanh({self.expr(1, loop_vars)})")
        elif form in ("store", "store+="):
            i = f"{self.pick(loop_vars)} % 4" if loop_vars and self.coin() else "2"
            if form == "store":
                self.emit(indent, f"{w}[{i}] = {self.bounded(loop_vars)}")
            else:
                self.emit(indent, f"{w}[{i}] += 0.5 * {self.bounded(loop_vars)}")
        elif form == "swap":
            # two arrays the function made trade names (each still has only one)
            u = self.pick(same)
            self.emit(indent, f"{w}, {u} = {u}, {w}")
        else:
            self.emit(indent, f"{w} = np.sin({a}) * {self.var()}")

    def statement(self, indent, nest, loop, loop_vars):
        """loop: None outside loops, else (kind, continue_allowed, break_allowed) of the
        innermost loop."""
        kinds = ["assign", "assign", "if", "aug", "aug", "tuple"]
        if nest < 2:
            kinds += ["for", "while"]
        if nest == 0:
            kinds += ["array", "array", "int"]
        if self.owned:
            kinds += ["array_update", "array_update"]
        if loop is not None:
            if loop[2]:
                kinds.append("break")
            if loop[1]:
                kinds.append("continue")
        if loop_vars:
            kinds += ["store", "cstore"]
        kinds.append("return")
        kind = self.pick(kinds)

        if kind == "cstore":  # a write no derivative flows through, read by derivatives
            i = self.pick(loop_vars)
            if self.coin():  # read just before the write: the adjoint needs the old value
                self.emit(indent, f"{self.target()} += 0.3 * np.tanh({self.var()} * "
                          f"c[{i} % 4])")
            if self.coin():
                self.emit(indent, f"c[{i} % 4] = 0.5 * c[({i} + 1) % 4] + 0.1 * {i}")
            else:
                self.emit(indent, f"c[{i} % 4] += 0.25")
        elif kind == "store":
            i = self.pick(loop_vars)
            if self.coin():
                self.emit(indent, f"h[{i} % 3] = 0.5 * h[{i} % 3] + 0.5 * np.tanh("
                          f"{self.expr(1, loop_vars)})")
            else:
                self.emit(indent, f"h[{i} % 3] += 0.3 * np.tanh({self.expr(1, loop_vars)})")
        elif kind == "aug":
            t = self.augmented(indent, loop_vars)
            if self.coin():
                self.tuple_assign(indent, nest, loop_vars, t)
        elif kind == "tuple":
            self.tuple_assign(indent, nest, loop_vars)
        elif kind == "array":
            w = self.new_array(indent)
            if w is not None and self.coin():
                # read an element, then update the array in place: the read must see the
                # old value (w0 = x - v; s2 = w0[1]; w0 += v)
                if self.coin():
                    t = self.new_name()
                    self.emit(indent, f"{t} = np.tanh({w}[{self.pick([1, 2])}] * "
                                      f"{self.var()})")
                    self.vars.append(t)
                self.array_update(indent, loop_vars, w)
        elif kind == "array_update":
            self.array_update(indent, loop_vars)
        elif kind == "int":
            t = self.new_name()
            self.emit(indent, f"{t} = {self.pick([2, 1])}")
            self.vars.append(t)
            self.int_starts.append(t)
        elif kind == "assign" and self.loop_depth and self.coin():
            # an update that reads the variable it writes
            target = self.target()
            e = self.expr(1, loop_vars)
            if self.coin():
                self.emit(indent, f"{target} = {target} * 0.9 + np.sin({e}) * 0.1")
            else:
                self.emit(indent, f"{target} = 0.5 * {target} + 0.5 * np.tanh({e})")
        elif kind == "assign":
            rhs = self.bounded(loop_vars)
            if nest == 0 and self.coin():
                target = self.new_name()
                self.vars.append(target)
            else:
                target = self.target()
            self.emit(indent, f"{target} = {rhs}")
        elif kind == "if":
            self.emit(indent, f"if {self.cond(loop_vars)}:")
            self.block(indent + 1, nest + 1, loop, loop_vars)
            if self.coin():
                self.emit(indent, "else:")
                self.block(indent + 1, nest + 1, loop, loop_vars)
        elif kind == "for" and nest == 0 and self.coin():
            # a loop that runs at least once and sets a new variable first thing: the
            # variable is read after the loop (its last iteration's value)
            i = f"i{len(loop_vars)}"
            self.emit(indent, f"for {i} in range(n + 1):")
            target = self.new_name()
            self.emit(indent + 1, f"{target} = {self.bounded(loop_vars + [i])}")
            self.vars.append(target)
            self.loop_depth += 1
            self.block(indent + 1, nest + 1, ("for", True, True), loop_vars + [i], 1, 2)
            self.loop_depth -= 1
        elif kind == "for":
            i = f"i{len(loop_vars)}"
            self.emit(indent, f"for {i} in range({self.pick(['n', 'n', '2'])}):")
            self.loop_depth += 1
            self.block(indent + 1, nest + 1, ("for", True, True), loop_vars + [i], 1, 3)
            self.loop_depth -= 1
        elif kind == "while":
            k = f"k{next(self.counters)}"
            self.emit(indent, f"{k} = 0")
            header = self.pick(["cond first", "counter first", "count to n"])
            if header == "cond first":
                self.emit(indent, f"while ({self.cond(loop_vars)}) and {k} < 5:")
            elif header == "counter first":
                self.emit(indent, f"while {k} < 4 and ({self.cond(loop_vars)}):")
            else:
                self.emit(indent, f"while {k} < n:")
            # the counter must move before any `continue`, or the loop never ends
            first = self.coin()
            if first:
                self.emit(indent + 1, f"{k} += 1")
            self.loop_depth += 1
            self.block(indent + 1, nest + 1, ("while", first, True), loop_vars + [k], 1, 3)
            self.loop_depth -= 1
            if not first:
                self.emit(indent + 1, f"{k} += 1")
        elif kind in ("break", "continue"):
            self.emit(indent, f"if {self.cond(loop_vars)}:")
            self.emit(indent + 1, kind)
        else:
            self.emit(indent, f"if {self.cond(loop_vars)}:")
            self.emit(indent + 1, f"return {self.returned(loop_vars)}")

    def program(self):
        self.emit(1, "h = np.zeros(3)")
        self.emit(1, "c = np.ones(4)")  # nothing differentiates it; the loops write it
        for _ in range(self.draw(st.integers(2, 5))):
            self.statement(1, 0, None, [])
        if self.draw(st.integers(0, 3)) == 0:
            # the loop always runs and always returns: its return is the only way out (no
            # break or continue of its own, or the function could fall off its end)
            self.emit(1, "for i0 in range(n + 1):")
            self.loop_depth += 1
            self.block(2, 1, ("for", False, False), ["i0"], 0, 2)
            self.loop_depth -= 1
            self.emit(2, f"return {self.returned(['i0'])}")
        elif self.coin():
            self.emit(1, f"return {self.expr(2, [])} + 0.3 * np.sum(np.sin(h))")
        else:
            self.emit(1, f"return {self.returned([])}")
        return HELPERS + "\n\ndef prog(x, y, v, n):\n" + "\n".join(self.lines) + "\n"


def _coordinate(offset):
    """A float in [-1.5, 1.5] away from every simple value: a multiple of 1e-4 plus an
    offset of its own. Simple values (0.0, 0.5, x == y, x == -v[0], which hypothesis likes)
    sit on kinks no difference quotient sees: ``if x > 0.0`` after ``x = 0.5 * x ** 2``
    takes one branch at 0.0 and the other everywhere around it."""
    return st.integers(-15000, 14999).map(lambda i: (i + offset) * 1e-4)


@st.composite
def programs(draw):
    src = _ProgramWriter(draw).program()
    x = draw(_coordinate(0.318))
    y = draw(_coordinate(0.577))
    v = np.array([draw(_coordinate(offset)) for offset in (0.141, 0.414, 0.732, 0.236)])
    n = draw(st.integers(0, 4))
    return src, x, y, v, n


_DIR = Path(tempfile.mkdtemp(prefix="nabla-random-programs-"))
_COUNT = itertools.count()


def _load(src):
    name = f"_nabla_random_prog_{next(_COUNT)}"
    path = _DIR / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.prog


def _directions():
    """The directions the kink filter looks along: x, y, each element of v, and the jvp's."""
    out = [(1.0, 0.0, np.zeros(4)), (0.0, 1.0, np.zeros(4))]
    out += [(0.0, 0.0, np.eye(4)[j]) for j in range(4)]
    out.append((1.0, 0.5, V_TANGENT))
    return out


def _finite_differences(f, x, y, v, n, eps):
    """d/dx, d/dy, d/dv (4) and the jvp along (1, 0.5, V_TANGENT): seven numbers."""
    args = [x, y, v, n]
    return np.concatenate([
        [numerical_grad(f, args, 0, eps), numerical_grad(f, args, 1, eps)],
        numerical_grad(f, args, 2, eps),
        [float(numerical_jvp(f, args, [1.0, 0.5, V_TANGENT, None], eps))]])


def _one_sided(f, x, y, v, n, h):
    """Second-order forward and backward differences along each of _directions()."""
    out = []
    for dx, dy, dv in _directions():
        def at(t, dx=dx, dy=dy, dv=dv):
            return float(f(x + t * dx, y + t * dy, v + t * dv, n))
        f0 = at(0.0)
        out.append(((-3 * f0 + 4 * at(h) - at(2 * h)) / (2 * h),
                    (3 * f0 - 4 * at(-h) + at(-2 * h)) / (2 * h)))
    return np.array(out).T


def _no_crash(what, call):
    """``call()``; an exception is a failure."""
    # Re-raised from one place: the traceback of an error in generated code points into a
    # cache file named per program, which hypothesis would take for a flaky failure.
    try:
        return call()
    except Exception as e:
        message = f"nabla.{what} raised {type(e).__name__}: {e}"
    raise AssertionError(message)


def _unchanged(v, v0, what):
    assert np.array_equal(v, v0), f"{what} changed its array argument v: {v0} -> {v}"


def _check(program):
    src, x, y, v, n = program
    note(f"prog({x!r}, {y!r}, np.array({v.tolist()!r}), {n!r}) with\n{src}")
    f = _load(src)
    v0 = v.copy()
    value = f(x, y, v, n)
    _unchanged(v, v0, "prog itself")  # the generator's promise
    assume(np.isfinite(value))
    fd = _finite_differences(f, x, y, v, n, 1e-6)
    coarse = _finite_differences(f, x, y, v, n, 1e-5)
    forward, backward = _one_sided(f, x, y, v, n, 1e-5)
    # A branch flips at the point or within a step of it: the function has a kink or a jump
    # there (central differences alone miss a kink exactly at the point).
    assume(np.all(np.isfinite(fd)))
    for other in (coarse, forward, backward):
        assume(np.all(np.abs(fd - other) <= 1e-6 * (1 + np.abs(fd))))
    note(f"finite differences (d/dx, d/dy, d/dv, jvp): {fd}")

    out = _no_crash("jit", lambda: nabla.jit(f)(x, y, v, n))
    _unchanged(v, v0, "nabla.jit")
    assert_close(out, value, rtol=1e-12, atol=1e-12)

    gx, gy, gv = _no_crash("grad", lambda: nabla.grad(f, argnums=(0, 1, 2))(x, y, v, n))
    _unchanged(v, v0, "nabla.grad")
    assert_close(gx, fd[0], rtol=1e-5, atol=1e-6)
    assert_close(gy, fd[1], rtol=1e-5, atol=1e-6)
    assert_close(gv, fd[2:6], rtol=1e-5, atol=1e-6)

    out, out_dot = _no_crash("jvp", lambda: nabla.jvp(f, (x, y, v, n),
                                                      (1.0, 0.5, V_TANGENT, 0)))
    _unchanged(v, v0, "nabla.jvp")
    assert_close(out, value, rtol=1e-12, atol=1e-12)
    assert_close(out_dot, fd[6], rtol=1e-5, atol=1e-6)


_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
           HealthCheck.filter_too_much, HealthCheck.data_too_large]
# The suite draws the same programs every run (derandomized), so that it passes or fails
# the same way on every machine; NABLA_FUZZ=500 draws 500 new ones each run instead, to hunt.
_FUZZ = int(os.environ.get("NABLA_FUZZ", "0"))


@pytest.mark.parametrize("jit_mode", [False], indirect=True, ids=["python"])
@settings(max_examples=_FUZZ or 100, derandomize=not _FUZZ, deadline=None, database=None,
          print_blob=True, suppress_health_check=_HEALTH)
@given(program=programs())
def test_random_programs(jit_mode, program):
    _check(program)


@pytest.mark.parametrize("jit_mode", ["strict"], indirect=True, ids=["numba"])
@settings(max_examples=max(_FUZZ // 20, 6), derandomize=not _FUZZ, deadline=None,
          database=None, print_blob=True, suppress_health_check=_HEALTH)
@given(program=programs())
def test_random_programs_compiled(jit_mode, program):
    _check(program)
