"""``nabla.Array``: a lazy, PyTorch-like array. Operations record a straight-line program
(one ``Node`` per operation, its shape and dtype inferred as it is recorded, so a
mismatch is refused at the user's line); a value is computed only when it is asked for
(``.numpy()``, printing, ``backward()``), by generated source that ``program`` compiles
once per program *structure* and runs.

>>> import nabla
>>> w = nabla.array([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> x = nabla.array([1.0, 0.5])
>>> y = nabla.sum(nabla.relu(w @ x) ** 2)  # recorded: nothing has run
>>> y.shape, y.dtype
((), dtype('float64'))
>>> y.backward()  # runs one compiled program: y and its gradient
>>> y
Array(29., requires_grad=True)
>>> w.grad
Array([[ 4.,  2.],
       [10.,  5.]])
>>> z = (w * w).sum()
>>> z.backward()
>>> w.grad()  # added to what was there, as PyTorch does; .grad() is the seed's spelling
Array([[ 6.,  6.],
       [16., 13.]])
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import weakref

import numpy as np

from .errors import NablaError

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep  # nabla's own files
# what computes values and gradients: nabla.program, which sets itself here when it is
# imported (it imports this module, and imports go one way)
engine = None


class _State(threading.local):
    grad_enabled = True  # False within no_grad (per thread)
    where = None  # the user's line every operation is recorded at, while nabla.nn runs


_state = _State()


def at_users_line(fn, *args):
    """``fn(*args)``, every operation it records placed at the user's line that called it
    (found once, not per operation: nabla.nn's layers and losses run this way)."""
    if _state.where is not None:
        return fn(*args)
    _state.where = user_line()
    try:
        return fn(*args)
    finally:
        _state.where = None


def at_own_lines(fn, *args):
    """``fn(*args)``, its operations placed at their own lines (a user's layer inside one
    of nabla.nn's)."""
    where, _state.where = _state.where, None
    try:
        return fn(*args)
    finally:
        _state.where = where


class ShapeError(NablaError, ValueError):
    """Operands whose shapes do not fit the operation, refused where it is recorded."""


class InPlaceError(NablaError, RuntimeError):
    """An update in place that would change what a recorded graph computes."""


class BackwardError(NablaError, RuntimeError):
    """``backward()`` where PyTorch refuses it too."""


def grad_enabled() -> bool:
    return _state.grad_enabled


class no_grad:
    """Within ``with nabla.no_grad():`` operations are computed without recording what
    ``backward()`` would need; a leaf that requires grad may be updated in place."""

    def __enter__(self):
        self._was = grad_enabled()
        _state.grad_enabled = False
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._was
        return False

    def __call__(self, fn):  # as a decorator
        def wrapped(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        wrapped.__name__ = getattr(fn, "__name__", "wrapped")
        return wrapped


def user_frame(depth: int = 1):
    """The innermost frame outside nabla (the user's code that called it)."""
    f = sys._getframe(depth)
    ours = _OURS
    while f is not None:
        code = f.f_code
        mine = ours.get(code)
        if mine is None:
            mine = ours[code] = code.co_filename.startswith(_PACKAGE)
        if not mine:
            return f
        f = f.f_back
    return None


_OURS: dict = {}  # code object -> whether it is nabla's


def user_line():
    """(file, line) of the innermost frame outside nabla."""
    f = user_frame(2)
    return (f.f_code.co_filename, f.f_lineno) if f is not None else (None, None)


_serials = itertools.count()


class Node:
    """One value of the recorded program: a leaf (``value`` given, ``op`` None) or an
    operation ``op`` of ``inputs`` (Nodes, or Python ints and floats) with ``attrs``."""

    __slots__ = ("op", "inputs", "attrs", "shape", "dtype", "value", "requires_grad",
                 "where", "freed", "owner", "consumers", "serial", "stopped", "__weakref__")

    def __init__(self, op, inputs, attrs, shape, dtype, value=None, requires_grad=False,
                 where=(None, None), stopped=False):
        self.op, self.inputs, self.attrs = op, inputs, attrs
        self.shape, self.dtype, self.value = shape, dtype, value
        self.requires_grad = requires_grad
        self.where = where
        self.freed = False  # its backward ran (and retain_graph was not asked for)
        self.serial = next(_serials)  # made after its inputs: an order to compute in
        self.owner = None  # a leaf: the Array whose .grad it accumulates into
        self.consumers = None  # a leaf that requires grad: the operations reading it
        # made under no_grad from Arrays that require grad: a constant to backward()
        self.stopped = stopped


class Array:
    """A lazy array; see the module's docstring."""

    __slots__ = ("_node", "_grad", "__weakref__")
    __array_priority__ = 1000
    __nabla_array__ = True  # the transforms take it as the NumPy array it computes

    def __init__(self, value, dtype=None, requires_grad: bool = False):
        v = np.array(value, dtype=dtype)
        if dtype is None and v.dtype.kind == "f" and v.dtype != np.float32:
            v = v.astype(np.float64)
        if requires_grad and v.dtype.kind != "f":
            raise NablaError("only arrays of floating point numbers can require gradients "
                             f"(got {v.dtype})", hint="pass dtype=nabla.float32 or float64")
        self._node = _leaf(v, requires_grad, self)
        self._grad = None

    @classmethod
    def _of(cls, node: Node) -> Array:
        a = object.__new__(cls)
        a._node = node
        a._grad = None
        return a

    # -- what it is ----------------------------------------------------------------------
    shape = property(lambda self: self._node.shape)
    dtype = property(lambda self: self._node.dtype)
    ndim = property(lambda self: len(self._node.shape))
    size = property(lambda self: int(np.prod(self._node.shape, dtype=np.int64)))
    requires_grad = property(lambda self: self._node.requires_grad)
    is_leaf = property(lambda self: self._node.op is None)

    def __len__(self) -> int:
        if not self._node.shape:
            raise TypeError("len() of a 0-d array")
        return self._node.shape[0]

    # -- its value ---------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The value, computed if it is not yet (a read-only NumPy array)."""
        node = self._node
        if node.value is None:
            engine.compute([node])
        return node.value

    def __array__(self, dtype=None, copy=None):
        v = self.numpy()
        if dtype is not None and v.dtype != dtype:
            return v.astype(dtype)
        return v.copy() if copy else v

    def item(self):
        return self.numpy().item()

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    def __repr__(self) -> str:
        text = repr(self.numpy())
        suffix = ", requires_grad=True" if self.requires_grad else ""
        return "Array" + text[len("array"):-1] + suffix + ")"

    def __str__(self) -> str:
        return str(self.numpy())

    def detach(self) -> Array:
        """The same value, cut from the recorded program (no gradient flows through)."""
        return Array._of(_leaf(self.numpy(), False, None))

    def source(self) -> str:
        """The generated source of the program that computes this array (after its
        ``backward()``: nabla's derivative of that program)."""
        return engine.source_of(self._node)

    __nabla_source__ = source  # nabla.source(array)

    # -- gradients -----------------------------------------------------------------------
    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (None before): an Array that can also
        be called, ``w.grad()``, as the original Nabla writes it."""
        g = self._grad
        if type(g) is np.ndarray:  # kept as an array by backward(); an Array when asked for
            g = self._grad = Grad._of(_leaf(g, False, None))
        return g

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
        else:
            g = value.numpy() if isinstance(value, Array) else np.asarray(value)
            self._grad = Grad._of(_leaf(g.astype(self.dtype), False, None))

    def grad_array(self):
        """The gradient as a read-only NumPy array (None before any backward())."""
        g = self._grad
        return g if g is None or type(g) is np.ndarray else g.numpy()

    def zero_grad(self) -> None:
        self._grad = None

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` of every leaf that requires grad
        (``gradient``: the cotangent, needed unless self is a scalar)."""
        engine.backward(self, gradient, retain_graph)

    # -- operators ---------------------------------------------------------------------
    def __add__(self, o): return _binary("add", self, o)
    def __radd__(self, o): return _binary("add", o, self)
    def __sub__(self, o): return _binary("sub", self, o)
    def __rsub__(self, o): return _binary("sub", o, self)
    def __mul__(self, o): return _binary("mul", self, o)
    def __rmul__(self, o): return _binary("mul", o, self)
    def __truediv__(self, o): return _binary("div", self, o)
    def __rtruediv__(self, o): return _binary("div", o, self)
    def __pow__(self, o): return _binary("pow", self, o)
    def __rpow__(self, o): return _binary("pow", o, self)
    def __matmul__(self, o): return _matmul(self, o)
    def __rmatmul__(self, o): return _matmul(o, self)
    def __neg__(self): return _unary("neg", self)
    def __pos__(self): return self
    def __abs__(self): return _unary("abs", self)
    def __lt__(self, o): return _binary("lt", self, o)
    def __le__(self, o): return _binary("le", self, o)
    def __gt__(self, o): return _binary("gt", self, o)
    def __ge__(self, o): return _binary("ge", self, o)
    def __eq__(self, o): return _binary("eq", self, o)  # elementwise, as NumPy
    def __ne__(self, o): return _binary("ne", self, o)
    __hash__ = object.__hash__

    def __iadd__(self, o): return self._update("add", o)
    def __isub__(self, o): return self._update("sub", o)
    def __imul__(self, o): return self._update("mul", o)
    def __itruediv__(self, o): return self._update("div", o)

    def _update(self, op, other):
        """``self op= other``: a leaf that requires grad gets a new value and stays a leaf
        (a parameter update); any other array is rebound to the recorded result."""
        node = self._node
        if node.op is None and node.requires_grad:
            if grad_enabled() and _reading(node):
                file, line = user_line()
                raise InPlaceError(
                    "a leaf Variable that requires grad is being used in an in-place "
                    "operation while a recorded graph that reads it has not run backward()",
                    filename=file, lineno=line,
                    hint="call backward() first, or update it inside `with nabla.no_grad():`")
            with no_grad():
                new = _binary(op, Array._of(_leaf(node.value, False, None)), other)
            value = new.numpy()
            if value.shape != node.shape:
                file, line = user_line()
                raise ShapeError(f"an in-place update of an array of shape {node.shape} "
                                 f"with a result of shape {value.shape}",
                                 filename=file, lineno=line)
            self._node = _leaf(value.astype(node.dtype), True, self, owned=True)
        else:
            self._node = _binary(op, self, other)._node
        return self

    def __getitem__(self, index):
        return _getitem(self, index)

    # -- methods, as NumPy's -------------------------------------------------------------
    def sum(self, axis=None, keepdims=False): return _reduce("sum", self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _reduce("mean", self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _reduce("max", self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _reduce("min", self, axis, keepdims)
    def clip(self, a_min, a_max): return _clip(self, a_min, a_max)
    def exp(self): return _unary("exp", self)
    def log(self): return _unary("log", self)
    def sin(self): return _unary("sin", self)
    def cos(self): return _unary("cos", self)
    def tanh(self): return _unary("tanh", self)
    def sqrt(self): return _unary("sqrt", self)
    def abs(self): return _unary("abs", self)
    def relu(self): return _binary("maximum", self, 0.0)
    def sigmoid(self): return 1.0 / (1.0 + (-self).exp())

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _reshape(self, tuple(int(s) for s in shape))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return _transpose(self, tuple(axes) if axes else None)

    T = property(lambda self: _transpose(self, None))

    def astype(self, dtype):
        return _cast(self, np.dtype(dtype))

    # -- NumPy's functions on Arrays: np.sin(a), np.sum(a), nabla.relu(a), ... ------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        op = _UFUNCS.get(name) or (name if name in _NP_UNARY else None)
        if method != "__call__" or kwargs or op is None:
            # anything else NumPy does, on the values (not recorded: no gradient)
            out = getattr(ufunc, method)(*_values(inputs), **_values(kwargs))
            _not_recorded(f"np.{name}" + ("" if method == "__call__" else f".{method}"),
                          (inputs, kwargs), out)
            return out
        return (_unary if len(inputs) == 1 else _binary)(op, *inputs) if op != "matmul" \
            else _matmul(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        impl = _FUNCTIONS.get(func.__name__)
        if impl is None:  # np.allclose, np.argmax, ...: on the values, not recorded
            out = func(*_values(args), **_values(kwargs))
            where = func.__module__.replace("numpy", "np", 1) if func.__module__ else "np"
            _not_recorded(f"{where}.{func.__name__}", (args, kwargs), out)
            return out
        return impl(*args, **kwargs)


class Grad(Array):
    """A gradient: an Array that returns itself when called (``w.grad()``)."""

    __slots__ = ()

    def __call__(self):
        return self


def _not_recorded(name: str, operands, result) -> None:
    """Refuse ``result``, ``name`` computed on the values of Arrays that require grad while
    gradients are recorded, where it holds floats: as a constant, their gradient would be
    silently lost (integers and booleans, np.argmax's or np.allclose's, have none to lose)."""
    floats = [x for x in (result if isinstance(result, tuple) else (result,))
              if np.asarray(x).dtype.kind in "fc"]
    if not floats or not _state.grad_enabled:
        return
    stack = [operands]
    while stack:
        x = stack.pop()
        if isinstance(x, Array) and x.requires_grad:
            file, line = user_line()
            raise NablaError(
                f"{name} is not recorded on a nabla.Array: the gradient through it would be "
                "lost", filename=file, lineno=line,
                hint="write it with the operations nabla.Array records (docs/imperative.md), "
                "or compute it on x.detach() or inside `with nabla.no_grad():` if no gradient "
                "should flow through it")
        if isinstance(x, (tuple, list)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())


def _values(obj):
    """``obj`` with every Array in it (in tuples, lists, dicts) replaced by its value."""
    if isinstance(obj, Array):
        return obj.numpy()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_values(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _values(v) for k, v in obj.items()}
    return obj


# -- recording -------------------------------------------------------------------------------
def _leaf(value: np.ndarray, requires_grad: bool, owner, owned: bool = False) -> Node:
    """A leaf holding ``value``, read-only; copied unless ``owned`` (a fresh array nobody
    else holds): the caller's array is never written through, nor read after it changes."""
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    flags = value.flags
    if not flags.c_contiguous or (flags.writeable and not owned):
        value = np.array(value, order="C")
        flags = value.flags
    flags.writeable = False
    node = Node(None, (), (), value.shape, value.dtype, value=value,
                requires_grad=requires_grad)
    if requires_grad:
        node.owner = weakref.ref(owner) if owner is not None else None
        node.consumers = []  # weak references to the operations reading it
    return node


def _operand(x):
    """A Node for an Array or a NumPy array; Python numbers stay numbers (weak dtype)."""
    if isinstance(x, Array):
        return x._node
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return x
    return _leaf(np.asarray(x), False, None)


def _record(op, operands, attrs, shape, dtype) -> Array:
    """The Array of operation ``op`` of ``operands``: the hot path of the imperative mode
    (its cost per operation is the recording overhead benchmarks/imperative.py prints)."""
    inputs = []
    recording = False
    for x in operands:
        node = x._node if type(x) is Array else _operand(x)
        if type(node) is Node and node.requires_grad:
            recording = True
        inputs.append(node)
    stopped = recording and not _state.grad_enabled
    recording = recording and _state.grad_enabled
    where = _state.where
    if where is None:  # the user's line (user_line, one call less: this runs per operation)
        f = user_frame(2)
        where = (f.f_code.co_filename, f.f_lineno) if f is not None else (None, None)
    node = Node(op, inputs, attrs, shape, dtype, None, recording, where, stopped)
    if recording:
        for i in inputs:
            if type(i) is Node and i.consumers is not None:
                readers = i.consumers
                if len(readers) > 64:  # forget the operations that are gone
                    readers[:] = [r for r in readers if r() is not None]
                readers.append(weakref.ref(node))
    a = object.__new__(Array)
    a._node = node
    a._grad = None
    return a


def _reading(leaf: Node) -> bool:
    """Whether an operation that has not run its backward still reads ``leaf``."""
    return any((c := r()) is not None and not c.freed for r in leaf.consumers)


def _shape_dtype(x):
    if isinstance(x, Array):
        return x._node.shape, x._node.dtype
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return (), type(x)  # a weak scalar: _result_type keeps the array's precision
    a = np.asarray(x)
    return a.shape, a.dtype


def _refuse(message, hint=None):
    file, line = user_line()
    raise ShapeError(message, filename=file, lineno=line, hint=hint)


_COMPARISONS = frozenset(("lt", "le", "gt", "ge", "eq", "ne"))


def _broadcast(sa: tuple, sb: tuple) -> tuple:
    """NumPy's broadcast of two shapes (its own function costs microseconds)."""
    if sa == sb:
        return sa
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    out = []
    for x, y in zip(sa, sb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError
    return tuple(out)


_RESULT_TYPES: dict = {}


def _result_type(da, db):
    """``np.result_type`` of two dtypes or Python number types (``int``, ``float``, weak as
    NumPy takes Python numbers: a float32 array times 2 is float32), remembered."""
    key = (da, db)
    out = _RESULT_TYPES.get(key)
    if out is None:
        out = _RESULT_TYPES[key] = np.result_type(*(
            d if isinstance(d, np.dtype) else d(0) for d in key))
    return out


def _result_types(dtypes: list) -> np.dtype:
    """``_result_type`` of several dtypes or Python number types."""
    out = dtypes[0] if isinstance(dtypes[0], np.dtype) else _result_type(dtypes[0], dtypes[0])
    for d in dtypes[1:]:
        out = _result_type(out, d)
    return out


def _binary(op, a, b) -> Array:
    ta, tb = type(a), type(b)
    if ta is Array and tb is Array:  # the common cases first, quickly
        na, nb = a._node, b._node
        sa, da, sb, db = na.shape, na.dtype, nb.shape, nb.dtype
    elif ta is Array and (tb is float or tb is int):
        na = a._node
        sa, da, sb, db = na.shape, na.dtype, (), tb
    elif tb is Array and (ta is float or ta is int):
        nb = b._node
        sa, da, sb, db = (), ta, nb.shape, nb.dtype
    else:
        (sa, da), (sb, db) = _shape_dtype(a), _shape_dtype(b)
    if sa == sb:
        shape = sa
    elif not sb:
        shape = sa
    elif not sa:
        shape = sb
    else:
        try:
            shape = _broadcast(sa, sb)
        except ValueError:
            _refuse(f"operands could not be broadcast together with shapes {sa} {sb}",
                    hint="make the sizes match, or 1 where an array should be repeated")
    if op in _COMPARISONS:
        dtype = _BOOL
    else:
        if da is db or (db is float and da.kind == "f") or (da is float and db.kind == "f"):
            dtype = da if db is float or da is db else db  # a float array's own precision
        else:
            dtype = _result_type(da, db)
        if op == "div" and dtype.kind in "biu":
            dtype = _FLOAT64
    return _record(op, (a, b), (), shape, dtype)


_BOOL = np.dtype(bool)
_FLOAT64 = np.dtype(np.float64)


def _unary(op, a) -> Array:
    shape, dtype = _shape_dtype(a)
    if op in _FLOAT_RESULTS and dtype.kind in "biu":
        dtype = _FLOAT64
    return _record(op, (a,), (), shape, dtype)


def _matmul(a, b) -> Array:
    if type(a) is Array and type(b) is Array:  # the common case, quickly
        na, nb = a._node, b._node
        sa, da, sb, db = na.shape, na.dtype, nb.shape, nb.dtype
        if len(sa) == 2 and len(sb) == 2 and da is db and sa[1] == sb[0]:
            return _record("matmul", (a, b), (), (sa[0], sb[1]), da)
    else:
        (sa, da), (sb, db) = _shape_dtype(a), _shape_dtype(b)
    if not sa or not sb:
        _refuse("matmul: an operand is a scalar", hint="use * to multiply by a scalar")
    inner_a, inner_b = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        _refuse(f"matmul: mismatch in its core dimension: shapes {sa} and {sb} "
                f"({inner_a} != {inner_b})", hint="the last axis of the left operand must "
                "match the first (or second to last) of the right one")
    try:
        batch = _broadcast(sa[:-2], sb[:-2])
    except ValueError:
        _refuse(f"matmul: the stacked shapes {sa} and {sb} do not broadcast")
    shape = batch + sa[-2:-1] + sb[-1:] if len(sb) > 1 else batch + sa[-2:-1]
    dtype = _result_type(da, db)
    # NumPy promotes mixed operands; compiled code multiplies arrays of one dtype
    a, b = (_cast(x, dtype) for x in (a, b))
    return _record("matmul", (a, b), (), shape, dtype)


def _cast(x, dtype):
    shape, have = _shape_dtype(x)
    if have == dtype:
        return x
    return _record("astype", [x], (dtype.name,), shape, dtype)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            _refuse(f"axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(int(ax) % ndim)
    return tuple(sorted(set(out)))


def _reduce(op, a, axis=None, keepdims=False) -> Array:
    shape, dtype = _shape_dtype(a)
    n = len(shape)
    if type(axis) is int and -n <= axis < n and (op not in ("max", "min") or shape[axis]) and \
            dtype.kind == "f":  # one axis of a float array, quickly
        ax = axis % n
        out = shape[:ax] + ((1,) if keepdims else ()) + shape[ax + 1:]
        return _record(op, (a,), (ax, bool(keepdims)), out, dtype)
    axes = _axes(axis, n)
    if op in ("max", "min") and any(shape[ax] == 0 for ax in axes):
        _refuse(f"{op} of an empty array")
    out = tuple(1 if d in axes else n for d, n in enumerate(shape)) if keepdims else \
        tuple(n for d, n in enumerate(shape) if d not in axes)
    if op == "mean" and dtype.kind in "biu":
        dtype = _FLOAT64
    attr = None if axis is None else (axes[0] if len(axes) == 1 else axes)
    return _record(op, (a,), (attr, bool(keepdims)), out, dtype)


def _reshape(a, shape) -> Array:
    size = int(np.prod(a.shape, dtype=np.int64))
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    new = tuple(size // known if s == -1 and known else s for s in shape)
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or \
            int(np.prod(new, dtype=np.int64)) != size:
        _refuse(f"cannot reshape an array of shape {a.shape} into shape {shape}")
    return _record("reshape", (a,), (new,), new, a.dtype)


def _transpose(a, axes) -> Array:
    n = a.ndim
    axes = tuple(reversed(range(n))) if axes is None else tuple(int(x) % n for x in axes)
    if sorted(axes) != list(range(n)):
        _refuse(f"transpose: axes {axes} do not match an array of dimension {n}")
    return _record("transpose", (a,), (axes,), tuple(a.shape[i] for i in axes), a.dtype)


def _getitem(a, index) -> Array:
    items = index if isinstance(index, tuple) else (index,)
    arrays, spec = [], []
    for it in items:
        if isinstance(it, (Array, np.ndarray, list)):
            value = it.numpy() if isinstance(it, Array) else np.asarray(it)
            if value.dtype.kind not in "iu":
                _refuse(f"indexing with an array of {value.dtype}",
                        hint="index with integers, slices or integer arrays")
            arrays.append(value)
            spec.append(("array", len(arrays) - 1))
        elif isinstance(it, slice):
            spec.append(("slice", (it.start, it.stop, it.step)))
        elif it is None or it is Ellipsis:
            spec.append(("none" if it is None else "ellipsis", None))
        elif isinstance(it, (int, np.integer)):
            spec.append(("int", int(it)))
        else:
            _refuse(f"an index of type {type(it).__name__}")
    meta = np.broadcast_to(np.zeros((), bool), a.shape)
    try:
        shape = meta[_index_value(spec, arrays)].shape
    except IndexError as e:
        _refuse(f"index out of range: {e}")
    return _record("getitem", (a, *[Array._of(_leaf(v, False, None)) for v in arrays]),
                   (tuple(spec),), shape, a.dtype)


def _index_value(spec, arrays):
    out = []
    for kind, v in spec:
        if kind == "array":
            out.append(arrays[v])
        elif kind == "slice":
            out.append(slice(*v))
        else:
            out.append({"none": None, "ellipsis": Ellipsis, "int": v}[kind])
    return tuple(out)


def _join(op, arrays, axis=0) -> Array:
    arrays = list(arrays)
    if not arrays:
        _refuse(f"{op} needs at least one array")
    shapes = [_shape_dtype(x)[0] for x in arrays]
    metas = [np.broadcast_to(np.zeros((), bool), s) for s in shapes]
    try:
        shape = (np.concatenate if op == "concatenate" else np.stack)(metas, axis=axis).shape
    except ValueError as e:
        _refuse(f"{op}: {e}")
    dtype = _result_types([_shape_dtype(x)[1] for x in arrays])
    return _record(op, arrays, (int(axis),), shape, dtype)


def _three(op, operands, dtype) -> Array:
    """Operation ``op`` of three operands that broadcast together (clip, where)."""
    shapes = [_shape_dtype(v)[0] for v in operands]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        _refuse(f"{op}: shapes {shapes[0]}, {shapes[1]} and {shapes[2]} do not broadcast")
    return _record(op, operands, (), shape, dtype)


def _clip(a, lo, hi) -> Array:
    return _three("clip", (a, lo, hi), _result_types([_shape_dtype(v)[1] for v in (a, lo, hi)]))


def where(condition, x, y) -> Array:
    """``x`` where ``condition``, else ``y`` (as ``np.where``)."""
    return _three("where", (condition, x, y),
                  _result_types([_shape_dtype(x)[1], _shape_dtype(y)[1]]))


_UFUNCS = {"add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "div",
           "divide": "div", "power": "pow", "negative": "neg", "absolute": "abs",
           "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tanh": "tanh",
           "sqrt": "sqrt", "maximum": "maximum", "minimum": "minimum", "less": "lt",
           "less_equal": "le", "greater": "gt", "greater_equal": "ge", "equal": "eq",
           "not_equal": "ne", "matmul": "matmul"}

# NumPy's elementwise functions of one argument the program writes as np.<name>(x)
_NP_UNARY = frozenset(("log1p", "expm1", "square", "arctan", "arcsin", "arccos", "sinh", "cosh",
                       "tan", "log2", "log10", "exp2", "reciprocal", "arctanh", "arcsinh",
                       "cbrt", "sign", "floor", "ceil"))
# the functions of one argument whose result is float for integer input too
_FLOAT_RESULTS = frozenset(("exp", "log", "sin", "cos", "tanh", "sqrt")) | (
    _NP_UNARY - {"sign", "floor", "ceil", "square"})

_FUNCTIONS = {
    "sum": lambda a, axis=None, keepdims=False: _reduce("sum", a, axis, keepdims),
    "mean": lambda a, axis=None, keepdims=False: _reduce("mean", a, axis, keepdims),
    "max": lambda a, axis=None, keepdims=False: _reduce("max", a, axis, keepdims),
    "amax": lambda a, axis=None, keepdims=False: _reduce("max", a, axis, keepdims),
    "min": lambda a, axis=None, keepdims=False: _reduce("min", a, axis, keepdims),
    "amin": lambda a, axis=None, keepdims=False: _reduce("min", a, axis, keepdims),
    "clip": lambda a, a_min, a_max: _clip(a, a_min, a_max),
    "where": where,
    "concatenate": lambda arrays, axis=0: _join("concatenate", arrays, axis),
    "stack": lambda arrays, axis=0: _join("stack", arrays, axis),
    "reshape": lambda a, shape: Array.reshape(a, shape),
    "transpose": lambda a, axes=None: _transpose(a, None if axes is None else tuple(axes)),
    "shape": lambda a: a.shape,
    "ndim": lambda a: a.ndim,
}
