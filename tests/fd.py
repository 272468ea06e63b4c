"""Central finite differences, the reference every derivative is checked against."""

import numpy as np


def numerical_grad(f, args, argnum=0, eps=1e-6):
    """d f(*args) / d args[argnum] by central differences (f scalar-valued)."""
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else a for a in args]
    x = args[argnum]
    if np.ndim(x) == 0:
        def at(v):
            a = list(args)
            a[argnum] = v
            return float(f(*a))
        return (at(float(x) + eps) - at(float(x) - eps)) / (2 * eps)
    g = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    for i in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += eps
        minus[i] -= eps
        a = list(args)
        a[argnum] = plus.reshape(x.shape)
        fp = f(*a)
        a[argnum] = minus.reshape(x.shape)
        fm = f(*a)
        g.reshape(-1)[i] = (fp - fm) / (2 * eps)
    return g


def numerical_jvp(f, args, tangents, eps=1e-6):
    """d/de f(args + e * tangents) at e = 0 by central differences."""
    plus = [a + eps * t if t is not None else a for a, t in zip(args, tangents)]
    minus = [a - eps * t if t is not None else a for a, t in zip(args, tangents)]
    return (np.asarray(f(*plus), dtype=np.float64) - np.asarray(f(*minus), dtype=np.float64)) / (
        2 * eps
    )


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


def numerical_jacobian(f, args, argnum=0, eps=1e-6):
    """d f(*args) / d args[argnum] by central differences: shape out.shape + arg.shape."""
    args = list(args)
    x = np.asarray(args[argnum], dtype=np.float64)
    out = np.asarray(f(*args), dtype=np.float64)
    jac = np.zeros(out.shape + x.shape)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        e = e.reshape(x.shape)
        plus, minus = list(args), list(args)
        plus[argnum] = x + e if x.ndim else float(x + e)
        minus[argnum] = x - e if x.ndim else float(x - e)
        col = (np.asarray(f(*plus), dtype=np.float64) - np.asarray(f(*minus),
                                                                    dtype=np.float64)) / (2 * eps)
        jac.reshape(out.size, x.size)[:, j] = col.reshape(-1)
    return jac
