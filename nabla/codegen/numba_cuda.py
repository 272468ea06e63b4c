"""``vmap(..., target="cuda")``: the loop form's function of one example as
``numba.cuda`` device functions, and a kernel that runs one example per thread.

The kernel module is generated from the loop form's Python module (what runs with
JIT off) at the first call, because what it needs is known only then:

* each tape (``x_tape = tape_like(x, n)`` in reverse-mode code) becomes
  ``cuda.local.array(N, dtype)`` when its length is a compile-time constant (a
  literal, or module constants: their values are baked in and re-checked at every
  call), else a row of a global scratch array of shape ``(batch, T)`` that the
  host allocates, with ``T`` computed from the unbatched arguments before launch
  (kernels cannot size local arrays at run time or allocate memory);
* the dtypes of the tapes and of the outputs come from running the function of
  one example once in Python (the *probe*).

Per-example inputs and outputs are scalars (or tuples of scalars); unbatched
scalars are kernel arguments and unbatched arrays read-only kernel arguments.
What fits none of this is refused with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from .. import pytree, rules, runtime, syntax
from ..errors import NablaError, NotDifferentiableError
from ..names import TABLE, reserved_names
from .cache import load_module
from .numba_cpu import numba_errors

# runtime helpers with a scalar device version below
_DEVICE_HELPERS = ("seed", "zero_like", "one_like", "snapshot", "tape_entry", "range_len",
                   "range_continues", "basis", "basis_count", "jac_like", "jac_column",
                   "jac_row", "broadcast_like", "unbroadcast")


def _helpers_source(float32: bool) -> str:
    one, zero = ("np.float32(1.0)", "np.float32(0.0)") if float32 else ("1.0", "0.0")
    return f'''
@cuda.jit(device=True, inline="always")
def seed(out):
    return {one}


@cuda.jit(device=True, inline="always")
def zero_like(x):
    return {zero}


@cuda.jit(device=True, inline="always")
def one_like(x):
    return {one}


@cuda.jit(device=True, inline="always")
def snapshot(x):
    return x


# a scalar's tape entry: a scalar has one shape
@cuda.jit(device=True, inline="always")
def tape_entry(x, tape):
    return x


@cuda.jit(device=True, inline="always")
def range_len(start, stop, step):
    if step > 0:
        n = (stop - start + step - 1) // step
    else:
        n = (start - stop - step - 1) // (-step)
    return n if n > 0 else 0


@cuda.jit(device=True, inline="always")
def range_continues(k, stop, step):
    return k < stop if step > 0 else k > stop


# broadcasting between scalars is the identity
@cuda.jit(device=True, inline="always")
def broadcast_like(t, like):
    return t


@cuda.jit(device=True, inline="always")
def unbroadcast(g, like):
    return g


# Jacobians of scalars (jacfwd and jacrev of a function of one example)
@cuda.jit(device=True, inline="always")
def basis(x, j):
    return {one}


@cuda.jit(device=True, inline="always")
def basis_count(x):
    return 1


@cuda.jit(device=True, inline="always")
def jac_like(a, x):
    return {zero}


@cuda.jit(device=True, inline="always")
def jac_column(jac, j, col):
    return col


@cuda.jit(device=True, inline="always")
def jac_row(jac, i, row):
    return row
'''


@dataclass
class Tape:
    name: str  # the tape's variable in the function of one example
    size_src: str  # the length, as source over the entry's parameters
    needs: list  # the parameters the length reads
    dtype: object = None
    constant: int | None = None  # the length, when it is known at kernel build time
    scratch: str | None = None  # the global scratch parameter, when it is not


@dataclass
class Plan:
    text: str
    kernel: str
    example: str
    tapes: list
    out_dtypes: list
    params: list  # the generated entry's: the user's parameters, then the free values
    batched: list  # the parameters with a batch axis
    paths: list  # where each output sits in the (nested) tuple the function returns
    baked: dict = field(default_factory=dict)  # free value name -> value built into it

    def stale(self, args) -> bool:
        """Whether a module constant baked into the kernel has changed since."""
        return any(not np.array_equal(args[self.params.index(n)], v)
                   for n, v in self.baked.items())


def unavailable_reason() -> str | None:
    """Why kernels cannot run here (None when a GPU or the simulator is available)."""
    try:
        from numba import cuda
    except ImportError:  # pragma: no cover - numba always has a cuda module
        return "numba.cuda cannot be imported"
    try:
        if cuda.is_available():
            return None
    except Exception as e:  # noqa: BLE001 - a missing driver raises many things
        return f"no CUDA driver ({type(e).__name__})"
    return "no CUDA GPU was found"


def _refuse(fn_name: str, message: str, hint: str):
    raise NotDifferentiableError(f"vmap(..., target='cuda') of {fn_name}: {message}", hint=hint)


def _example0(a):
    """Example 0 of a batched argument, on the host."""
    if on_device_array(a):
        return a[0:1].copy_to_host()[0]
    return a[0]


def plan(variant, args: list, fn_name: str, described: str = "vmap") -> Plan:
    """The kernel module for the loop-form module ``variant``, for arguments like ``args``
    (the generated entry's parameters: the user's, then the free values)."""
    meta = variant.meta
    params = meta.params + meta.free
    frees = meta.free
    batched = [p for p, a in zip(meta.params, meta.in_axes) if a is not None]
    example = meta.example
    float32 = bool(meta.float32)
    module = syntax.parse_module(variant.text)
    functions = [f for f in module.body if isinstance(f, syntax.FunctionDef)
                 and f.name != meta.entry]
    for p, a in zip(params, args):
        if p in batched and np.ndim(a) != 1:
            _refuse(fn_name, f"argument {p!r} has {np.ndim(a) - 1} dimensions per example; "
                    "each thread takes scalars", "batch scalars (one per example), or use "
                    "target='parallel' for arrays")
    tapes = []
    entry_fn = next(f for f in functions if f.name == example)
    for f in functions:
        for st in syntax.walk_statements(f.body):
            if not (isinstance(st, syntax.Assign) and isinstance(st.value, syntax.Call)):
                continue
            called = syntax.to_source(st.value.func)
            if called == "tape_like":
                tapes.append(_tape(f, entry_fn, st, params, batched, frees, args, fn_name))
            elif called in ("tape_push", "write_log", "log_write"):
                _refuse(fn_name, f"{called}() in {f.name}: a tape that grows at run time (a "
                        "while loop, or writes into arrays)", "use a for loop over a range "
                        "of known length, or target='parallel'")
    # the probe: the function of one example, in Python, on example 0
    probe_args = [_example0(a) if p in batched else a for p, a in zip(params, args)]
    outs = _probe(variant, tapes, probe_args, example, fn_name)
    baked = {}
    for t in tapes:
        if t.constant is not None:
            for n in t.needs:
                baked[n] = args[params.index(n)]
    text = _render(functions, tapes, example, params, batched, described, float32, len(outs))
    return Plan(text=text, kernel=f"{example}_kernel", example=example, tapes=tapes,
                out_dtypes=outs, params=params, batched=batched,
                paths=[tuple(p) for p in meta.paths], baked=baked)


def _tape(f, entry_fn, st, params, batched, frees, args, fn_name) -> Tape:
    name = st.targets[0].id
    size = st.value.args[1]
    # the statements the length depends on: straight-line code before the tape
    needed = set(syntax.names_loaded(size))
    stmts = []
    top = f.body
    idx = next((i for i, s in enumerate(top) if s is st), None)
    if idx is None:
        _refuse(fn_name, f"the tape {name} in {f.name} is made inside a loop or a branch",
                "use target='parallel' for nested loops whose lengths vary")
    for s in reversed(top[:idx]):
        stored = set(syntax.names_stored(s))
        if stored & needed:
            if not isinstance(s, syntax.Assign):
                _refuse(fn_name, f"the length of the tape {name} in {f.name} is computed in "
                        "a loop or a branch", "compute trip counts from the arguments")
            stmts.insert(0, s)
            needed = (needed - stored) | set(syntax.names_loaded(s.value))
    fparams = [a.id for a in f.args.args]
    leftover = needed - set(fparams) - reserved_names()
    if leftover:
        _refuse(fn_name, f"the length of the tape {name} in {f.name} reads {sorted(leftover)}",
                "compute trip counts from the arguments")
    body = "\n".join(syntax.to_source(s) for s in stmts)
    src = (body + "\n" if body else "") + f"__size__ = {syntax.to_source(size)}"
    needs = sorted(needed & set(fparams))
    if f is not entry_fn and needs:
        _refuse(fn_name, f"the tape {name} of {f.name} (a function it calls) has a length "
                "known only at run time", "make the trip count a literal or a module "
                "constant, or use target='parallel'")
    # the parameters of the function of one example are the entry's, in order
    if f is entry_fn:
        for n in needs:
            if n in batched:
                _refuse(fn_name, f"the length of the tape {name} depends on {n!r}, which is "
                        "batched: each thread would need a tape of its own length",
                        "pass the trip count unbatched (in_axes None)")
    tape = Tape(name=name, size_src=src, needs=needs)
    if all(n in frees for n in needs):  # literals and module constants: known now
        values = {n: args[params.index(n)] for n in needs}
        tape.constant = int(_eval_size(src, values))
    return tape


def _eval_size(src: str, values: dict):
    scope = {"np": np, "math": math, **{n: getattr(runtime, n) for n in runtime.__all__}}
    scope.update(values)
    exec(compile(src, "<nabla tape length>", "exec"), scope)  # noqa: S102 - our own source
    return scope["__size__"]


def _probe(variant, tapes, probe_args, example, fn_name) -> list:
    """Run the function of one example in Python, recording its tapes' dtypes; the dtypes
    of its outputs (which must be scalars)."""
    fns = variant.python_functions()
    fn = fns[example]
    recorded = {}
    module_globals = fn.__globals__
    original = module_globals.get("tape_like")

    def recording(x, n, inexact=False):
        tape = original(x, n, inexact)
        recorded.setdefault(len(recorded), tape.dtype)
        return tape
    module_globals["tape_like"] = recording
    try:
        out = fn(*probe_args)
    finally:
        module_globals["tape_like"] = original
    for i, t in enumerate(tapes):
        t.dtype = recorded.get(i, np.dtype(np.float64))
    leaves = list(out) if isinstance(out, tuple) else [out]
    dtypes = []
    for leaf in leaves:
        if np.ndim(leaf) != 0 or isinstance(leaf, tuple):
            _refuse(fn_name, f"its output for one example is {type(leaf).__name__} of shape "
                    f"{np.shape(leaf)}; each thread returns scalars",
                    "return a scalar or a tuple of scalars, or use target='parallel'")
        dtypes.append(np.asarray(leaf).dtype)
    return dtypes


def _render(functions, tapes, example, params, batched, described, float32, nouts) -> str:
    by_name = {t.name: t for t in tapes}
    scratch = []
    out_fns = []
    for f in functions:
        f = syntax.clone(f)
        f.body = _untabulate(f.body)  # a thread allocates no tables: each read is the call
        for st in syntax.walk_statements(f.body):
            if isinstance(st, syntax.Assign) and isinstance(st.value, syntax.Call) and \
                    syntax.to_source(st.value.func) == "tape_like":
                t = by_name[st.targets[0].id]
                dt = f"numba.{np.dtype(t.dtype).name}"
                if t.constant is not None:
                    st.value = syntax.parse_expr(
                        f"cuda.local.array({max(t.constant, 1)}, {dt})")
                else:
                    t.scratch = f"{t.name}_scratch"
                    scratch.append(t)
                    st.value = syntax.load(t.scratch)
        _DeviceCalls().visit(f)
        if f.name == example:
            f.args.args.extend(syntax.param(t.scratch) for t in scratch)
        out_fns.append(f)
    lines = [f"# {described}: the CUDA kernel generated by nabla; do not edit",
             "# one example per thread; tapes in local memory where their length is known "
             "when compiling, else in a global scratch row per thread",
             "import math", "", "import numba", "import numpy as np", "from numba import cuda",
             _helpers_source(float32)]
    for f in out_fns:
        lines += ["", "@cuda.jit(device=True)", syntax.to_source(f)]
    outs = [f"out{k}" for k in range(nouts)]
    scratch_params = [t.scratch for t in scratch]
    call_args = [f"{p}[b]" if p in batched else p for p in params]
    call_args += [f"{s}[b]" for s in scratch_params]
    kernel = [
        "", "", "@cuda.jit",
        f"def {example}_kernel({', '.join(params + outs + scratch_params)}):",
        "    b = cuda.grid(1)",
        "    if b < out0.shape[0]:",
        f"        one = {example}({', '.join(call_args)})",
    ]
    if nouts == 1:
        kernel.append("        out0[b] = one")
    else:
        kernel += [f"        out{k}[b] = one[{k}]" for k in range(nouts)]
    return "\n".join(lines + kernel) + "\n"


def _untabulate(body: list) -> list:
    """``body`` with each read of a table transforms/tables.py made (``names.TABLE``) the
    call again, the table's statement dropped.

    >>> body = [syntax.parse_stmt(s) for s in ["exp_q_table = np.exp(q[:k, :d])",
    ...                                         "y = exp_q_table[i, j] * 2.0"]]
    >>> [syntax.to_source(s) for s in _untabulate(body)]
    ['y = np.exp(q[i, j]) * 2.0']
    """
    tables = {}
    for s in syntax.walk_statements(body):
        if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name) and \
                TABLE.search(s.targets[0].id) and isinstance(s.value, syntax.Call) and \
                len(s.value.args) == 1 and isinstance(s.value.args[0], syntax.Subscript):
            tables[s.targets[0].id] = s.value

    class _Back(syntax.NodeTransformer):
        def visit_Subscript(self, node):
            self.generic_visit(node)
            if not (isinstance(node.value, syntax.Name) and node.value.id in tables):
                return node
            call = syntax.clone(tables[node.value.id])
            call.args[0].slice = syntax.clone(node.slice)
            return call

    def block(stmts):
        out = []
        for s in stmts:
            if isinstance(s, syntax.Assign) and isinstance(s.targets[0], syntax.Name) and \
                    s.targets[0].id in tables:
                continue
            if isinstance(s, (syntax.If, syntax.For, syntax.While)):
                s.body, s.orelse = block(s.body), block(s.orelse)
                if isinstance(s, syntax.For):
                    s.iter = _Back().visit(s.iter)
                else:
                    s.test = _Back().visit(s.test)
                out.append(s)
            else:
                out.append(_Back().visit(s))
        return out

    return block(body) if tables else body


class _DeviceCalls(syntax.NodeTransformer):
    """NumPy scalar functions as ``math`` ones; refuse helpers that need arrays."""

    def visit_Call(self, node):
        self.generic_visit(node)
        name = syntax.to_source(node.func)
        device = rules.fact(name, "device")
        if device is not None:
            node.func = syntax.parse_expr(device)
        elif rules.fact(name, "no_derivative") is not None:  # compiled CPU code
            raise NotDifferentiableError(
                f"vmap(..., target='cuda'): the function of one example calls "
                f"{syntax.to_source(node.args[0])}(), compiled code for the CPU, which a GPU "
                "kernel cannot run", hint="use target='parallel', or write it in Python")
        elif name in reserved_names() and name not in _DEVICE_HELPERS and \
                name not in ("np.float32", "np.float64") and not name.startswith("math."):
            raise NotDifferentiableError(
                f"vmap(..., target='cuda'): the function of one example calls {name}(), "
                "which works on arrays; each thread works on scalars",
                hint="keep per-example values scalar, or use target='parallel'")
        return node


def on_device_array(a) -> bool:
    """Whether ``a`` lives on the GPU (``__cuda_array_interface__``, or the simulator's
    stand-in for device arrays)."""
    return not isinstance(a, np.ndarray) and (hasattr(a, "__cuda_array_interface__")
                                              or hasattr(a, "copy_to_host"))


class Runner:
    """Runs a planned kernel: copies NumPy inputs to the device (device arrays stay), sizes
    the scratch tapes, launches one thread per example, returns NumPy results (device
    arrays when the inputs were on the device)."""

    def __init__(self, plan_: Plan, path, module_name: str):
        self.plan = plan_
        module = load_module(path, module_name, plan_.text)
        self.kernel = getattr(module, plan_.kernel)
        self.scratch = [t for t in plan_.tapes if t.scratch is not None]

    def __call__(self, args):
        from numba import cuda

        params = self.plan.params
        on_device = any(on_device_array(a) for a in args)
        size = None
        kargs = []
        for p, a in zip(params, args):
            if p in self.plan.batched:
                size = a.shape[0] if size is None else size
            if isinstance(a, np.ndarray):
                kargs.append(cuda.to_device(np.ascontiguousarray(a)))
            else:
                kargs.append(a)
        outs = [cuda.device_array(size, dtype=dt) for dt in self.plan.out_dtypes]
        scratch = []
        for t in self.scratch:
            values = {n: args[params.index(n)] for n in t.needs}
            n = max(int(_eval_size(t.size_src, values)), 1)
            scratch.append(cuda.device_array((size, n), dtype=t.dtype))
        if size:
            threads = 128
            blocks = (size + threads - 1) // threads
            try:
                self.kernel[blocks, threads](*kargs, *outs, *scratch)
            except numba_errors() as e:
                first = str(e).strip().splitlines()
                raise NablaError(
                    "vmap(..., target='cuda'): Numba cannot compile the kernel "
                    f"({first[0] if first else type(e).__name__})",
                    hint="keep the function of one example on scalars (and unbatched "
                    "arrays it only reads), or use target='parallel'") from e
        results = outs if on_device else [o.copy_to_host() for o in outs]
        return pytree.nest_values(self.plan.paths, results)


def check_supported(fn_name: str) -> None:
    reason = unavailable_reason()
    if reason is not None:
        raise NablaError(
            f"vmap(..., target='cuda') of {fn_name} cannot run: {reason}",
            hint="run on a machine with a CUDA GPU and numba-cuda (pip install "
            "'nabla-ad[cuda]'), set NUMBA_ENABLE_CUDASIM=1 before importing numba for its "
            "simulator, or set nabla.config.jit = False to run the batch as a Python loop")


def kernel_ptx(runner: Runner, allargs: list, cc=(8, 0)) -> str:
    """The PTX of ``runner``'s kernel for the arguments ``allargs`` (free values included),
    compiled without a GPU (numba-cuda with its CUDA toolkit wheels installed). Raises what
    a GPU's compiler would: a kernel that compiles here compiles for the device."""
    from numba import cuda
    from numba.cuda import dispatcher

    sig = []
    for p, a in zip(runner.plan.params, allargs):
        sig.append(numba.typeof(np.ascontiguousarray(a)) if isinstance(a, np.ndarray)
                   or p in runner.plan.batched else numba.typeof(a))
    sig += [numba.typeof(np.empty(1, dt)) for dt in runner.plan.out_dtypes]
    sig += [numba.typeof(np.empty((1, 1), t.dtype)) for t in runner.scratch]

    class _Device:  # device functions ask the current device for its compute capability
        compute_capability = cc

    current = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: _Device()
    try:
        ptx, _ = cuda.compile_ptx(runner.kernel.py_func, tuple(sig), cc=cc)
    finally:
        dispatcher.get_current_device = current
    return ptx
