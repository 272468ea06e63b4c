"""Exercises in automatic differentiation: check a derivative written by hand against nabla's.

``check(mine, fun)`` runs your derivative ``mine`` and nabla's on a few seeded random
inputs and compares them. Where they differ and you wrote your derivative line by line,
naming adjoints ``x_bar`` (reverse mode) or tangents ``x_dot`` (forward mode) as nabla's
generated code does, it also runs both step by step (``sys.settrace``; nabla's
generated Python, not Numba) and names the first of your lines whose variable's value
disagrees with nabla's variable of the same name. ``docs/exercises/`` holds problems to
practise on.

>>> import numpy as np
>>> from nabla.exercises import check
>>> def f(x, y):
...     z = x * y
...     return np.sin(z)
>>> def f_grad(x, y):
...     z = x * y
...     out_bar = 1.0
...     z_bar = out_bar * np.cos(z)
...     x_bar = z_bar * y
...     y_bar = -z_bar * x      # a sign error
...     return x_bar, y_bar
>>> verdict = check(f_grad, f, argnums=(0, 1))
>>> verdict.ok, verdict.name, verdict.line_text
(False, 'y_bar', 'y_bar = -z_bar * x      # a sign error')
>>> print(verdict.message)  # doctest: +ELLIPSIS
f_grad differs from nabla.grad(f, argnums=(0, 1)) on 4 of 4 inputs
  the gradient with respect to y: max |error| ... at x=..., y=...
...
  line 6 of f_grad: y_bar = -z_bar * x      # a sign error: your y_bar is ..., nabla's ...
...
>>> check(lambda x, y: (np.cos(x * y) * y, np.cos(x * y) * x), f, argnums=(0, 1)).ok
True

``check`` returns a ``Verdict`` (true when the derivatives agree; ``print`` it for the
message) and never raises for a mistake of yours: a derivative that raises
``NotImplementedError`` (an exercise's stub) is reported as not written yet, one that
raises anything else by the line that raised. ``Verdict.assert_ok()`` raises an
``AssertionError`` with the message instead.
"""

from __future__ import annotations

import copy
import inspect
import linecache
import math
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import hooks, pytree
from .config import config
from .names import GENERATED_MODULE_PREFIX

MODES = ("grad", "jvp", "hvp", "vmap_grad", "value")
_DERIVATIVE = re.compile(r"_(bar|dot)(_|$)")
_VERSION = re.compile(r"_\d+(?=_|$)")  # nabla's x_bar_2, v_1_bar: versions of x_bar, v_bar


@dataclass
class Verdict:
    """What ``check`` found. ``ok``: your derivative agrees with nabla's on every input;
    ``status``: ``"ok"``, ``"not written"`` (it raises ``NotImplementedError``),
    ``"raised"`` (it raises something else) or ``"wrong"``; ``message``: what differs, for
    people. Where a line of yours is to blame: ``line`` (its number in its file),
    ``line_text``, ``name`` (its variable), ``yours`` and ``nabla`` (the two values)."""

    ok: bool
    status: str
    message: str
    max_error: float = 0.0
    line: int | None = None
    line_text: str | None = None
    name: str | None = None
    yours: object = None
    nabla: object = None
    inputs: tuple | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def assert_ok(self) -> Verdict:
        """Raise ``AssertionError(message)`` unless ``ok``; return the verdict."""
        if not self.ok:
            raise AssertionError(self.message)
        return self


def check(mine, fun, mode: str = "grad", argnums=0, examples=None, *, in_axes=0,
          trials: int = 3, seed: int = 0, rtol: float = 1e-7, atol: float = 1e-9) -> Verdict:
    """Compare your derivative ``mine`` of ``fun`` with nabla's on seeded random inputs:
    a ``Verdict`` that says what differs, down to the first line of yours whose ``x_bar``
    or ``x_dot`` disagrees with nabla's variable of that name.

    ``mode`` says what ``mine`` computes:

    ``"grad"``       ``mine(*args)`` is ``nabla.grad(fun, argnums)(*args)`` (a tuple for
                     tuple ``argnums``)
    ``"jvp"``        ``mine(*primals, *tangents)`` is ``(fun(*primals), J · tangents)``,
                     a tangent per float argument, as ``nabla.jvp`` and its generated
                     ``fun_jvp(x, y, x_dot, y_dot)``
    ``"hvp"``        ``mine(*args, v)`` is the Hessian of ``fun`` with respect to argument
                     ``argnums`` (an int) times ``v``: ``nabla.jvp(nabla.grad(fun,
                     argnums), args, tangents)[1]`` with ``v`` that argument's tangent
    ``"vmap_grad"``  ``mine(*args)`` is ``nabla.vmap(nabla.grad(fun, argnums),
                     in_axes)(*args)``: per-example gradients of a batch
    ``"value"``      ``mine(*args)`` is ``fun(*args)``: ``fun`` is the reference itself
                     (any composition of nabla's transforms)

    ``examples`` gives the inputs: None (one float per parameter of ``fun``), a tuple of
    arguments (checked as given, then ``trials`` times with every float and float array
    in it drawn again, uniformly in [0.5, 2), from a generator seeded with ``seed``), a
    list of such tuples (checked as given), or a function of a NumPy ``Generator``
    returning a tuple (called ``trials`` times). Tangents and ``v`` are drawn from a
    normal distribution. Values agree within ``rtol`` and ``atol`` (``np.allclose``).
    nabla's side runs as Python (``nabla.config.jit`` is False during the check).
    """
    if mode not in MODES:
        raise ValueError(f"check: mode must be one of {MODES}, not {mode!r}")
    if mode == "hvp" and not isinstance(argnums, int):
        raise ValueError("check: mode='hvp' takes one argument number (argnums=0, 1, ...)")
    rng = np.random.default_rng(seed)
    inputs = _inputs(fun, examples, trials, rng)
    old_jit = config.jit
    config.jit = False
    try:
        case = _Case(mine, fun, mode, argnums, in_axes, rng)
        return case.run(inputs, rtol, atol)
    finally:
        config.jit = old_jit


# -- inputs -----------------------------------------------------------------------------
def _inputs(fun, examples, trials, rng) -> list:
    if examples is None:
        fn = fun._plain() if hasattr(fun, "_plain") else fun
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.default is inspect.Parameter.empty
                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        template = tuple(1.0 for _ in params)
        return [_redrawn(template, rng) for _ in range(max(trials, 1) + 1)]
    if callable(examples):
        return [_as_args(examples(rng)) for _ in range(max(trials, 1))]
    if isinstance(examples, list):
        return [_as_args(e) for e in examples]
    template = _as_args(examples)
    return [_redrawn(template, rng) for _ in range(trials)] + [template]


def _as_args(example) -> tuple:
    return tuple(example) if isinstance(example, tuple) else (example,)


def _redrawn(value, rng):
    """``value`` with every float and float array drawn again in [0.5, 2)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return float(rng.uniform(0.5, 2.0))
    if isinstance(value, np.floating):
        return type(value)(rng.uniform(0.5, 2.0))
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return rng.uniform(0.5, 2.0, value.shape).astype(value.dtype)
    if isinstance(value, (tuple, list)):
        return type(value)(_redrawn(v, rng) for v in value)
    if isinstance(value, dict):
        return {k: _redrawn(v, rng) for k, v in value.items()}
    return value


def _tangent(value, rng):
    """A random tangent for a float value, 0.0 for anything else."""
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, (float, np.floating)):
        return type(value)(rng.standard_normal())
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return rng.standard_normal(value.shape).astype(value.dtype)
    return 0.0


def _is_float(value) -> bool:
    return (isinstance(value, (float, np.floating)) and not isinstance(value, bool)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "f")


# -- the two sides ----------------------------------------------------------------------
class _Case:
    def __init__(self, mine, fun, mode, argnums, in_axes, rng):
        self.mine, self.fun, self.mode, self.argnums = mine, fun, mode, argnums
        self.rng = rng
        self.code = getattr(mine, "__code__", None)
        names = self.code.co_varnames if self.code is not None else ()
        bars = any("_bar" in n for n in names)
        dots = any("_dot" in n for n in names)
        t = {f.__name__: f for f in hooks.TRANSFORMS}
        self.fun_name = getattr(fun, "__name__", "fun")
        direction = "forward" if dots and not bars else "reverse"
        shown_args = "" if argnums == 0 else f", argnums={argnums!r}"
        grad_text = f"nabla.grad({self.fun_name}{shown_args}, mode={direction!r})"
        self.source_hint = None  # how to print nabla's code
        if mode == "grad":
            self.reference = t["grad"](fun, argnums=argnums, mode=direction)
            self.described = f"nabla.grad({self.fun_name}{shown_args})"
            self.source_hint = f"print({grad_text}.source)"
        elif mode == "jvp":
            self.reference = None
            self.described = f"nabla.jvp({self.fun_name}, primals, tangents)"
            self.source_hint = f"print(nabla.source({self.fun_name}, mode='jvp'))"
        elif mode == "hvp":
            self.reference = t["grad"](fun, argnums=argnums, mode="reverse")
            self.described = (f"nabla.jvp(nabla.grad({self.fun_name}{shown_args}), "
                              "args, tangents)")
        elif mode == "vmap_grad":
            self.reference = t["vmap"](t["grad"](fun, argnums=argnums, mode="reverse"),
                                       in_axes=in_axes)
            self.described = (f"nabla.vmap(nabla.grad({self.fun_name}{shown_args}), "
                              f"in_axes={in_axes!r})")
            self.source_hint = f"print({self.described}.source) after a call"
        else:
            self.reference = fun
            self.described = getattr(fun, "__qualname__", self.fun_name)
            if hasattr(fun, "source"):
                self.source_hint = f"print({self.fun_name}.source)"
        self.jvp = t["jvp"]
        self.mine_name = getattr(mine, "__name__", "your function")

    # the arguments each side is called with
    def draw(self, args):
        """What ``mine`` takes beside ``args``: tangents (jvp), ``v`` (hvp), or None."""
        if self.mode == "jvp":
            return tuple(_tangent(a, self.rng) for a in args)
        if self.mode == "hvp":
            return _tangent(args[self.argnums], self.rng)
        return None

    def mine_args(self, args, extra) -> tuple:
        if self.mode == "jvp":
            return args + tuple(t for a, t in zip(args, extra) if _is_float(a))
        if self.mode == "hvp":
            return args + (extra,)
        return args

    def expected(self, args, extra):
        """nabla's result."""
        if self.mode == "jvp":
            return self.jvp(self.fun, _copied(args), _copied(extra))
        if self.mode == "hvp":
            tangents = tuple(extra if i == self.argnums else _zero(a)
                             for i, a in enumerate(args))
            return self.jvp(self.reference, _copied(args), _copied(tangents))[1]
        return self.reference(*_copied(args))

    def labels(self, n: int, args) -> list[str]:
        if self.mode in ("grad", "vmap_grad"):
            fn = self.fun._plain() if hasattr(self.fun, "_plain") else self.fun
            try:
                params = list(inspect.signature(fn).parameters)
            except (TypeError, ValueError):
                params = []
            nums = self.argnums if isinstance(self.argnums, tuple) else (self.argnums,)
            if len(nums) == n and all(isinstance(i, int) and -len(params) <= i < len(params)
                                      for i in nums):
                what = ("the gradient" if self.mode == "grad" else
                        "the per-example gradients")
                return [f"{what} with respect to {params[i]}" for i in nums]
        if self.mode == "jvp" and n == 2:
            return ["the value", "the tangent"]
        if self.mode == "hvp" and n == 1:
            return ["the Hessian-vector product"]
        return [f"output {i + 1} of {n}" for i in range(n)]

    def param_names(self, args) -> list[str]:
        code = self.code
        if code is not None and code.co_argcount >= len(args):
            return list(code.co_varnames[:len(args)])
        return [f"arg{i}" for i in range(len(args))]

    # -- the run ---------------------------------------------------------------------------
    def run(self, inputs, rtol, atol) -> Verdict:
        where = _where(self.mine)
        failures = []
        worst = 0.0
        for args in inputs:
            extra = self.draw(args)
            mine_args = self.mine_args(args, extra)
            expected = self.expected(args, extra)
            try:
                got = self.mine(*_copied(mine_args))
            except NotImplementedError as e:
                line = _raising_line(e, self.code)
                at = f" (line {line[0]} of {where})" if line else ""
                return Verdict(False, "not written", (
                    f"{self.mine_name}{at} is not written yet: it raises "
                    f"NotImplementedError({str(e)!r}). Write your derivative in its place "
                    "and run the check again."), line=line[0] if line else None,
                    line_text=line[1] if line else None, inputs=mine_args)
            except Exception as e:  # noqa: BLE001 - the learner's error, reported
                line = _raising_line(e, self.code)
                at = f" at line {line[0]} of {where}: {line[1]}" if line else ""
                return Verdict(False, "raised", (
                    f"{self.mine_name} raised {type(e).__name__}: {e}{at}\n"
                    f"  on input {_show_args(self.param_names(mine_args), mine_args)}"),
                    line=line[0] if line else None, line_text=line[1] if line else None,
                    inputs=mine_args)
            problem = _compare(got, expected, rtol, atol)
            if problem is None:
                continue
            worst = max(worst, problem["error"])
            failures.append((args, extra, problem))
        if not failures:
            return Verdict(True, "ok", (
                f"{self.mine_name} agrees with {self.described} on {len(inputs)} input"
                f"{'s' if len(inputs) != 1 else ''}."))
        return self.explain(failures, len(inputs), worst, rtol, atol)

    def explain(self, failures, total, worst, rtol, atol) -> Verdict:
        args, extra, problem = failures[0]
        mine_args = self.mine_args(args, extra)
        names = self.param_names(mine_args)
        lines = [f"{self.mine_name} differs from {self.described} on {len(failures)} of "
                 f"{total} inputs"]
        if problem["kind"] == "structure":
            lines.append(f"  {problem['text']}")
        else:
            labels = self.labels(problem["count"], mine_args)
            label = labels[problem["leaf"]]
            lines.append(f"  {label}: {problem['text']} at "
                         f"{_show_args(names, mine_args)}")
            lines.append(f"      yours {_show(problem['yours'])}, nabla's "
                         f"{_show(problem['theirs'])}")
        verdict = Verdict(False, "wrong", "", max_error=worst, inputs=mine_args)
        lines += self.diagnose(args, extra, verdict, rtol, atol)
        verdict.message = "\n".join(lines)
        return verdict

    # -- line by line ----------------------------------------------------------------------
    def diagnose(self, args, extra, verdict, rtol, atol) -> list[str]:
        """Both sides again on ``mine_args``, traced: the first line of yours whose
        ``_bar`` or ``_dot`` variable disagrees with nabla's variable of that name."""
        if self.code is None:
            return []
        yours = _Recorder(lambda frame: frame.f_code is self.code)
        try:
            yours.run(self.mine, *_copied(self.mine_args(args, extra)))
        except Exception:  # noqa: BLE001 - it ran once already; a second run is best effort
            return []
        mine_frame = yours.frames[0] if yours.frames else None
        if mine_frame is None or not mine_frame.events:
            return ["  (name your adjoints x_bar or tangents x_dot, one line each, as "
                    "nabla's generated code does, and check() points at the first line "
                    "that differs)"]
        # nabla's generated code, on the same arguments
        nabla_rec = _Recorder(_generated)
        nabla_rec.run(self.expected, args, extra)
        candidates = _candidates(nabla_rec.frames)
        where = _where(self.mine)
        found = _first_disagreement(mine_frame, candidates, rtol, atol)
        out = []
        hint = [f"  (nabla's code: {self.source_hint})"] if self.source_hint else []
        own = [n for n in mine_frame.order if not _is_param(n, self.code)]
        if found is None:
            agreeing = [n for n in own if _key(n) in candidates]
            missing = [n for n in own if _key(n) not in candidates]
            if agreeing:
                out.append(f"  every variable of yours that nabla's code also has agrees "
                           f"with it ({', '.join(agreeing)})")
            if missing:
                out.append(f"  nabla's code has no variable named as these of yours, so "
                           f"they are not checked: {_at_lines(missing, mine_frame)}: look "
                           "there, and at what you return")
            else:
                out.append("  look at what you return")
            return out + hint
        step, name, lineno, mine_value, nabla_name, nabla_value, occurrence = found
        text = linecache.getline(self.code.co_filename, lineno).strip()
        verdict.line, verdict.line_text, verdict.name = lineno, text, name
        verdict.yours, verdict.nabla = mine_value, nabla_value
        out.append(f"  line {lineno} of {where}: {text}: your {name} is {_show(mine_value)}, "
                   f"nabla's {nabla_name} is {_show(nabla_value)}")
        most = _most_different(mine_value, nabla_value)
        if most:
            out.append(f"      ({most})")
        if occurrence:
            out.append(f"      (the {_ordinal(occurrence)} value {name} takes is the first "
                       "that differs from nabla's)")
        others = sorted(set(mine_frame.lines[name]) - {lineno})
        if others:
            out.append(f"      ({name} is also assigned at line"
                       f"{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})")
        earlier = [n for n in own if mine_frame.first_step[n] < step and n != name]
        before = [n for n in earlier if _key(n) in candidates]
        unchecked = [n for n in earlier if _key(n) not in candidates]
        if before:
            out.append(f"  the lines before it agree with nabla's ({', '.join(before)})")
        if unchecked:
            out.append(f"  nabla's code has no variable named as these of yours before it, so "
                       f"they are not checked: {_at_lines(unchecked, mine_frame)}: the "
                       "mistake may be there")
        return out + hint


# -- comparing results ------------------------------------------------------------------
def _compare(got, expected, rtol, atol):
    """None if ``got`` agrees with ``expected``, else what differs (the first leaf)."""
    g_leaves, g_tree = pytree.flatten(got)
    e_leaves, e_tree = pytree.flatten(expected)
    if len(g_leaves) != len(e_leaves):
        return {"kind": "structure", "error": math.inf, "text": (
            f"you return {_describe(got)}, nabla returns {_describe(expected)}")}
    for i, (g, e) in enumerate(zip(g_leaves, e_leaves)):
        if g is None:
            return {"kind": "structure", "error": math.inf, "text": (
                f"you return None where nabla returns {_describe(e)} (a missing return?)")}
        try:
            ga = np.asarray(g, dtype=float)
        except (TypeError, ValueError):
            return {"kind": "structure", "error": math.inf,
                    "text": f"you return {g!r} where nabla returns {_describe(e)}"}
        ea = np.asarray(e, dtype=float)
        common = dict(kind="value", leaf=i, count=len(e_leaves), yours=g, theirs=e)
        if ga.shape != ea.shape:
            return dict(common, error=math.inf,
                        text=f"your shape {ga.shape}, nabla's shape {ea.shape}")
        if np.allclose(ga, ea, rtol=rtol, atol=atol, equal_nan=True):
            continue
        diff = np.abs(ga - ea)
        diff = np.where(np.isnan(diff), np.inf, diff)
        error = float(np.max(diff))
        at = ""
        if ga.ndim:
            idx = np.unravel_index(int(np.argmax(diff)), ga.shape)
            at = f" (at index {_index(idx)})"
            common["yours"], common["theirs"] = ga[idx], ea[idx]
        return dict(common, error=error, text=f"max |error| {error:.3g}{at}")
    return None


def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        kind = "a tuple" if isinstance(value, tuple) else "a list"
        return f"{kind} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (int, float, np.number)):
        return "a number"
    return type(value).__name__


# -- tracing ----------------------------------------------------------------------------
class _Frame:
    """One call traced: every value its derivative variables took, in order."""

    def __init__(self, code, step):
        self.code = code
        self.events: list = []  # (step, lineno, name, value)
        self.order: list = []  # names in the order of their last assignment
        self.last_step: dict = {}
        self.first_step: dict = {}
        self.last_line: dict = {}
        self.lines: dict = {}  # name -> the lines that assign it
        self.final: dict = {}
        self._prev: dict = {}
        self._line = code.co_firstlineno

    def seen(self, frame, step):
        for name, value in frame.f_locals.items():
            if not _DERIVATIVE.search(name):
                continue
            prev = self._prev.get(name)
            if prev is not None and prev[0] is value and not (
                    isinstance(value, np.ndarray) and not np.array_equal(value, prev[1])):
                continue
            kept = _kept(value)
            self._prev[name] = (value, kept)
            self.events.append((step, self._line, name, kept))
            self.final[name] = kept
            self.last_step[name] = step
            self.first_step.setdefault(name, step)
            self.last_line[name] = self._line
            self.lines.setdefault(name, []).append(self._line)
        self._line = frame.f_lineno

    def close(self):
        self.order = sorted(self.final, key=lambda n: self.last_step[n])


class _Recorder:
    """Run a function under ``sys.settrace``, recording the frames ``wanted(code)``."""

    def __init__(self, wanted):
        self.wanted = wanted
        self.frames: list[_Frame] = []
        self.step = 0

    def run(self, fn, *args):
        old = sys.gettrace()

        def global_trace(frame, event, arg):
            if event != "call" or not self.wanted(frame):
                return None
            record = _Frame(frame.f_code, self.step)
            self.frames.append(record)
            self.step += 1
            record.seen(frame, self.step)

            def local_trace(frame, event, arg):
                if event in ("line", "return"):
                    self.step += 1
                    record.seen(frame, self.step)
                    if event == "return":
                        record.close()
                return local_trace
            return local_trace

        sys.settrace(global_trace)
        try:
            return fn(*args)
        finally:
            sys.settrace(old)
            for record in self.frames:
                record.close()


def _generated(frame) -> bool:
    """Whether ``frame`` runs code nabla generated."""
    return frame.f_globals.get("__name__", "").startswith(GENERATED_MODULE_PREFIX)


def _kept(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, dict)):
        return copy.deepcopy(value)
    return value


def _key(name: str) -> str:
    """``x_bar`` for nabla's ``x_bar_2`` and ``v_1_bar`` for ``v_bar``: one variable."""
    return _VERSION.sub("", name)


def _candidates(frames) -> dict:
    """key -> [(nabla's name, value, [its values in order] or None)], best first: the
    outermost call's variables, then each other function's, stacked over its calls."""
    out: dict = {}
    if not frames:
        return out
    entry, rest = frames[0], frames[1:]
    merged: dict = {}
    for step, _, name, value in entry.events:
        merged.setdefault(_key(name), []).append((step, name, value))
    for key, seq in merged.items():
        last = max(seq, key=lambda s: s[0])
        out.setdefault(key, []).append((last[1], last[2], _dedupe([v for _, _, v in seq])))
    by_function: dict = {}
    for f in rest:
        by_function.setdefault(f.code.co_name, []).append(f)
    for calls in by_function.values():
        names = {n for f in calls for n in f.final}
        for name in sorted(names, key=lambda n: calls[-1].last_step.get(n, -1)):
            values = [f.final[name] for f in calls if name in f.final]
            entries = out.setdefault(_key(name), [])
            if len(values) > 1:  # a function of one example, called per example (vmap)
                stacked = _stacked(values)
                if stacked is not None:
                    entries.append((name, stacked, None))
            entries.append((name, values[-1], None))
    return out


def _stacked(values):
    """The values one per example, stacked; None where their shapes differ (only the last
    one is then compared)."""
    try:
        return np.stack([np.asarray(v) for v in values])
    except ValueError:
        return None


def _dedupe(values: list) -> list:
    out: list = []
    for v in values:
        if out and _same(out[-1], v):
            continue
        out.append(v)
    return out


def _same(a, b) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return a is b


def _agrees(a, b, rtol, atol) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        np.broadcast_shapes(a.shape, b.shape)
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    except (TypeError, ValueError):
        return False


def _first_disagreement(mine: _Frame, candidates: dict, rtol, atol):
    """(step, name, line, your value, nabla's name, nabla's value, which value) of the first
    assignment of yours that disagrees with nabla, or None."""
    found = []
    merged: dict = {}
    for step, lineno, name, value in mine.events:
        merged.setdefault(name, []).append((step, lineno, value))
    for name, seq in merged.items():
        options = candidates.get(_key(name))
        if not options:
            continue
        final = seq[-1][2]
        if any(_agrees(final, v, rtol, atol) for _, v, _ in options):
            continue
        nabla_name, nabla_value, nabla_seq = options[0]
        step, lineno, value, occurrence = seq[-1][0], seq[-1][1], final, 0
        # the same number of values on both sides: the first that differs
        mine_seq = _dedupe_events(seq)
        if nabla_seq is not None and len(nabla_seq) == len(mine_seq) > 1:
            for i, ((s, ln, v), w) in enumerate(zip(mine_seq, nabla_seq)):
                if not _agrees(v, w, rtol, atol):
                    step, lineno, value, nabla_value, occurrence = s, ln, v, w, i + 1
                    break
        found.append((step, name, lineno, value, nabla_name, nabla_value, occurrence))
    if not found:
        return None
    step, name, lineno, value, nabla_name, nabla_value, occurrence = min(
        found, key=lambda f: f[0])
    return step, name, lineno, value, nabla_name, nabla_value, occurrence


def _dedupe_events(seq) -> list:
    out: list = []
    for s, ln, v in seq:
        if out and _same(out[-1][2], v):
            continue
        out.append((s, ln, v))
    return out


def _is_param(name, code) -> bool:
    return name in code.co_varnames[:code.co_argcount]


# -- showing things ---------------------------------------------------------------------
def _copied(args):
    return copy.deepcopy(args)


def _zero(value):
    return np.zeros_like(value) if isinstance(value, np.ndarray) else 0.0


def _where(fn) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__name__", "your function")
    path = code.co_filename
    return Path(path).name if not path.startswith("<") else fn.__name__


def _raising_line(error, code):
    """(line, text) of the deepest frame of ``code``'s file in ``error``'s traceback."""
    if code is None:
        return None
    found = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == code.co_filename:
            found = lineno
    if found is None:
        return None
    return found, linecache.getline(code.co_filename, found).strip()


def _show(value, short: bool = False) -> str:
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        return f"{float(value):.6g}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"{float(value):.6g}"
        if short and value.size > 6:
            return f"<an array of shape {value.shape}: Verdict.inputs holds it>"
        return np.array2string(value, precision=4, threshold=8, edgeitems=2,
                               separator=", ").replace("\n", " ")
    return repr(value)


def _show_args(names, args) -> str:
    return ", ".join(f"{n}={_show(a, short=True)}" for n, a in zip(names, args))


def _index(idx) -> str:
    idx = tuple(int(i) for i in idx)
    return str(idx[0]) if len(idx) == 1 else str(idx)


def _most_different(a, b) -> str:
    """Where arrays ``a`` and ``b`` (of one shape) differ most, for people."""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return ""
    if a.shape != b.shape:
        return f"your shape {a.shape}, nabla's shape {b.shape}" if a.ndim and b.ndim else ""
    if a.size < 2:
        return ""
    diff = np.abs(a - b)
    diff = np.where(np.isnan(diff), np.inf, diff)
    idx = np.unravel_index(int(np.argmax(diff)), a.shape)
    return f"most different at index {_index(idx)}: yours {a[idx]:.6g}, nabla's {b[idx]:.6g}"


def _at_lines(names, frame) -> str:
    return ", ".join(f"{n} (line {frame.last_line[n]})" for n in names)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


__all__ = ["check", "Verdict"]
