"""Refusals: each names its class (also a built-in's subclass), its place in this
file (line, and column where there is a node), shows the line and gives a hint.
Refusals are lazy (the first call or ``.source``), and call-time refusals leave
the caller's arrays alone."""

import functools
import inspect
import math
import operator

import numpy as np
import pytest

import nabla

HERE = __file__


def place(fn, marker):
    """(line, column) of the first occurrence of ``marker`` in ``fn``'s source."""
    lines, first = inspect.getsourcelines(fn)
    for i, text in enumerate(lines):
        if marker in text:
            return first + i, text.index(marker)
    raise AssertionError(f"{marker!r} not in the source of {fn.__name__}")


def check(err, cls, builtin, fn=None, marker=None, col=True, hint_words=()):
    """``err`` is a ``cls`` (and a ``builtin``), located at ``marker`` in ``fn``."""
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    assert isinstance(err, nabla.NablaError) and isinstance(err, builtin)
    assert isinstance(err.hint, str) and len(err.hint) > 10, err.hint
    for w in hint_words:
        assert w in err.hint, (w, err.hint)
    text = str(err)
    assert err.hint in text and err.message in text
    if fn is None:
        return
    assert err.filename == HERE
    if marker is None:  # no node: the function's first line
        assert err.lineno == fn.__code__.co_firstlineno
        return
    line, c = place(fn, marker)
    assert err.lineno == line, (err.lineno, line, text)
    assert err.line is not None and err.line.strip() in text
    assert f"{HERE}:{line}" in text
    if col:
        assert err.col == c, (err.col, c, text)


def refused(fn, cls, *, mode="grad", args=(1.0,)):
    """The error of transforming ``fn``: lazily, by ``.source`` and by the first call alike."""
    transform = getattr(nabla, mode)
    f = transform(fn)  # creating it never raises
    with pytest.raises(cls) as by_source:
        _ = f.source
    with pytest.raises(cls) as by_call:
        transform(fn)(*args)
    assert str(by_source.value) == str(by_call.value)
    return by_call.value


# -- no source ---------------------------------------------------------------------------
def test_builtin_has_no_source():
    f = nabla.grad(math.sin)
    with pytest.raises(nabla.NoSourceError) as e:
        f(1.0)
    check(e.value, nabla.NoSourceError, TypeError)
    assert "sin" in e.value.message


def test_lambda_has_no_source():
    square = lambda x: x * x  # noqa: E731
    err = refused(square, nabla.NoSourceError)
    assert err.filename == HERE
    assert err.lineno == place(test_lambda_has_no_source, "square = lambda")[0]
    check(err, nabla.NoSourceError, TypeError, hint_words=("def",))


def test_exec_function_has_no_source():
    namespace = {}
    exec("def made(x):\n    return x * 2.0\n", namespace)
    err = refused(namespace["made"], nabla.NoSourceError)
    check(err, nabla.NoSourceError, TypeError)
    assert "made" in err.message and err.lineno == 1


def _wraps(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return fn(x)
    return wrapper


def _tag(fn):
    fn.tagged = True
    return fn


@_wraps
def wrapped(x):
    return x * x


@_tag
def tagged(x):
    return x * x


def test_wrapper_is_refused():
    err = refused(wrapped, nabla.NoSourceError)
    check(err, nabla.NoSourceError, TypeError, hint_words=("undecorated",))
    assert "wrapper" in err.message


def test_decorator_returning_the_function_is_accepted(jit_mode):
    assert nabla.grad(tagged)(3.0) == pytest.approx(6.0)


# -- unsupported syntax ------------------------------------------------------------------
def with_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def with_with(x):
    with np.errstate(all="ignore"):
        y = x * 2.0
    return y


def with_yield(x):
    yield x * 2.0


G = 1.0


def with_global(x):
    global G
    G = x
    return x


def _outer():
    c = 1.0

    def with_nonlocal(x):
        nonlocal c
        c = x
        return x
    return with_nonlocal


with_nonlocal = _outer()


def with_class(x):
    class Box:
        pass
    return x


def with_listcomp(x):
    return np.sum(np.array([v * 2.0 for v in x]))


def with_genexp(x):
    return sum(v for v in x)


def with_del(x):
    y = x * 2.0
    del y
    return x


async def with_async(x):
    return x


def with_star_def(*xs):
    return xs[0]


def with_kwargs_def(x, **options):
    return x


def with_star_call(x):
    return np.add(*x)


def with_lambda(x):
    double = lambda v: 2.0 * v  # noqa: E731
    return double(x)


@pytest.mark.parametrize("fn, marker", [
    (with_try, "try:"),
    (with_with, "with np"),
    (with_yield, "yield x"),
    (with_global, "global G"),
    (with_nonlocal, "nonlocal c"),
    (with_class, "class Box"),
    (with_listcomp, "[v * 2.0"),
    (with_genexp, "(v for v"),
    (with_del, "del y"),
    (with_async, "async def"),
    (with_star_def, "xs"),
    (with_kwargs_def, "options"),
    (with_star_call, "*x"),
    (with_lambda, "lambda v"),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_unsupported_syntax(fn, marker):
    err = refused(fn, nabla.UnsupportedSyntaxError)
    check(err, nabla.UnsupportedSyntaxError, SyntaxError, fn, marker)
    # SyntaxError's own fields agree (tools that show SyntaxErrors show ours right)
    assert err.offset == err.col + 1 and err.text == err.line


# -- calls with no rule and no source ----------------------------------------------------
def calls_methodcaller(x):
    return operator.methodcaller("sum")(x)


def calls_ufunc_without_rule(x):
    return np.sum(np.frexp(x)[0])


def calls_eval(x):
    return eval("x * 2.0")


def calls_vectorize(x):
    return np.sum(np.vectorize(math.sin)(x))


def calls_reduce(x):
    return functools.reduce(operator.add, x)


def calls_argument(x, fn):
    return fn(x)


@pytest.mark.parametrize("fn, marker, name, hint_word", [
    (calls_methodcaller, "operator.methodcaller", "methodcaller", "NumPy"),
    (calls_ufunc_without_rule, "np.frexp", "np.frexp", "NumPy"),
    (calls_eval, 'eval("', "eval", "expression"),
    (calls_vectorize, "np.vectorize", "vectorize", "NumPy"),
    (calls_reduce, "functools.reduce", "functools.reduce", "np.sum"),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_call_without_rule(fn, marker, name, hint_word):
    err = refused(fn, nabla.NotDifferentiableError, args=(np.ones(3),))
    check(err, nabla.NotDifferentiableError, TypeError, fn, marker, hint_words=(hint_word,))
    assert name in err.message


def test_callable_argument_is_refused_where_it_is_called():
    x = np.ones(3)
    with pytest.raises(nabla.NotDifferentiableError) as e:
        nabla.grad(calls_argument)(x, np.sin)
    check(e.value, nabla.NotDifferentiableError, TypeError, calls_argument, "fn(x)",
          hint_words=("NumPy",))
    assert "fn" in e.value.message and "argument" in e.value.message
    with pytest.raises(nabla.NotDifferentiableError):
        _ = nabla.grad(calls_argument).source


# -- mutation ----------------------------------------------------------------------------
W = np.ones(3)


def writes_element(x):
    x[0] = 1.0
    return np.sum(x)


def adds_into_slice(x):
    x[1:] += 2
    return np.sum(x)


def writes_global(x):
    W[0] = np.sum(x)
    return np.sum(W * x)


@pytest.mark.parametrize("fn, marker", [
    (writes_element, "x[0] = 1.0"),
    (adds_into_slice, "x[1:] += 2"),
    (writes_global, "W[0] ="),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_mutation_is_refused(fn, marker):
    x = np.arange(3.0)
    err = refused(fn, nabla.UnsupportedSyntaxError, args=(x,))
    check(err, nabla.UnsupportedSyntaxError, SyntaxError, fn, marker)
    np.testing.assert_array_equal(x, np.arange(3.0))
    np.testing.assert_array_equal(W, np.ones(3))


# -- randomness --------------------------------------------------------------------------
def random_with_active_mean(x):
    return np.sum(np.random.normal(x, 1.0))


def test_random_with_active_argument():
    err = refused(random_with_active_mean, nabla.NotDifferentiableError, args=(np.ones(3),))
    check(err, nabla.NotDifferentiableError, TypeError, random_with_active_mean,
          "np.random.normal", hint_words=("standard_normal",))
    assert "np.random.normal" in err.message


# -- arguments and outputs (call time) ---------------------------------------------------
def vector_out(x):
    return x * 2.0


def integer_out(x):
    return x.shape[0]


def times(x, n):
    return np.sum(x) * n


def test_grad_of_array_output(jit_mode):
    x = np.arange(3.0)
    f = nabla.grad(vector_out)
    with pytest.raises(nabla.TransformOutputError) as e:
        f(x)
    check(e.value, nabla.TransformOutputError, TypeError, vector_out, hint_words=("scalar",))
    assert "scalar" in e.value.message
    np.testing.assert_array_equal(x, np.arange(3.0))


def test_grad_of_integer_output():
    x = np.arange(3.0)
    with pytest.raises(nabla.TransformOutputError) as e:
        nabla.grad(integer_out)(x)
    check(e.value, nabla.TransformOutputError, TypeError, integer_out)
    np.testing.assert_array_equal(x, np.arange(3.0))


def test_grad_with_respect_to_integer_argument():
    f = nabla.grad(times, argnums=1)
    x = np.arange(3.0)
    with pytest.raises(nabla.TransformInputError) as e:
        f(x, 2)
    check(e.value, nabla.TransformInputError, TypeError, times, hint_words=("float",))
    assert "argument 1" in e.value.message and "integer" in e.value.message
    np.testing.assert_array_equal(x, np.arange(3.0))


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_out_of_range(argnums):
    f = nabla.grad(times, argnums=argnums)  # lazy
    with pytest.raises(nabla.TransformInputError) as e:
        _ = f.source
    check(e.value, nabla.TransformInputError, TypeError, times, hint_words=("argnums",))
    with pytest.raises(nabla.TransformInputError):
        f(np.ones(2), 2.0)


@pytest.mark.parametrize("arg", [np.ones(3, dtype=complex), 1.0 + 2.0j, np.complex64(1)],
                         ids=["array", "python", "numpy-scalar"])
def test_complex_argument(arg):
    before = np.copy(arg)
    with pytest.raises(nabla.TransformInputError) as e:
        nabla.grad(times)(arg, 2.0)
    check(e.value, nabla.TransformInputError, TypeError, times)
    assert "complex" in e.value.message and "argument 0" in e.value.message
    np.testing.assert_array_equal(arg, before)


# -- errors inside generated code --------------------------------------------------------
def mismatched(W, x):
    y = W @ x
    return np.sum(y)


def test_error_in_generated_code_names_the_user_line(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", False)
    with pytest.raises(ValueError) as e:  # NumPy's own error passes through
        nabla.grad(mismatched)(np.ones((2, 3)), np.ones(4))
    line, _ = place(mismatched, "y = W @ x")
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert f"{HERE}:{line}" in notes and "y = W @ x" in notes


def mismatched_elementwise(x, y):
    z = x * y
    return np.sum(z)


def test_error_in_compiled_code_names_the_function(monkeypatch):
    monkeypatch.setattr(nabla.config, "jit", "strict")
    with pytest.raises(ValueError) as e:
        nabla.grad(mismatched_elementwise)(np.ones(2), np.ones(3))
    notes = "\n".join(getattr(e.value, "__notes__", []))
    # compiled code names no line: the same call run as Python names it
    line = mismatched_elementwise.__code__.co_firstlineno + 1
    assert f"run as Python, the same call raises ValueError at {HERE}:{line}: z = x * y" in notes
