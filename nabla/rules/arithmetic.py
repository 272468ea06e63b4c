"""Rules for Python's operators: ``+ - * / ** // % @``, unary minus, comparisons, and
NumPy's ufuncs of them (``np.add``, ``np.multiply``, ``np.divide``, ``np.mod`` ...).

Operators are keyed by their AST class (``"BinOp.Mult"``), since ``x * y``
is not a call. ``unbroadcast(e, x)`` sums a cotangent back to ``x``'s shape
and ``broadcast_like(e, out)`` widens a tangent to the output's; the reverse
and forward transforms drop both where shapes provably agree.

>>> from nabla.rules.registry import lookup
>>> lookup("BinOp.Mult").vjp["y"]
'unbroadcast(x * g, y)'
"""

import numpy as np

from .registry import deflower, defrule

defrule(
    None, "BinOp.Add", "x, y", elementwise=True,
    jvp={"x": "broadcast_like(x_dot, out)", "y": "broadcast_like(y_dot, out)"},
    vjp={"x": "unbroadcast(g, x)", "y": "unbroadcast(g, y)"},
)
defrule(
    None, "BinOp.Sub", "x, y", elementwise=True,
    jvp={"x": "broadcast_like(x_dot, out)", "y": "-broadcast_like(y_dot, out)"},
    vjp={"x": "unbroadcast(g, x)", "y": "-unbroadcast(g, y)"},
)
defrule(
    None, "BinOp.Mult", "x, y", elementwise=True,
    jvp={"x": "x_dot * y", "y": "x * y_dot"},
    vjp={"x": "unbroadcast(g * y, x)", "y": "unbroadcast(x * g, y)"},
)
defrule(
    None, "BinOp.Div", "x, y", elementwise=True, raises=True,
    jvp={"x": "x_dot / y", "y": "-(out / y) * y_dot"},
    vjp={"x": "unbroadcast(g / y, x)", "y": "-unbroadcast(g * out / y, y)"},
)
defrule(
    None, "BinOp.Pow", "x, y", elementwise=True, raises=True,
    jvp={"x": "y * x ** (y - 1) * x_dot", "y": "np.log(x) * out * y_dot"},
    vjp={"x": "unbroadcast(g * y * x ** (y - 1), x)", "y": "unbroadcast(g * np.log(x) * out, y)"},
)
defrule(
    None, "BinOp.Mod", "x, y", elementwise=True, raises=True,
    jvp={"x": "broadcast_like(x_dot, out)", "y": "-np.floor(x / y) * y_dot"},
    vjp={"x": "unbroadcast(g, x)", "y": "-unbroadcast(g * np.floor(x / y), y)"},
)
defrule(None, "BinOp.FloorDiv", "x, y", kind="zero", elementwise=True, raises=True)
defrule(
    None, "BinOp.MatMult", "x, y",
    jvp={"x": "x_dot @ y", "y": "x @ y_dot"},
    vjp={"x": "matmul_vjp_a(g, x, y)", "y": "matmul_vjp_b(g, x, y)"},
)
defrule(None, "UnaryOp.USub", "x", elementwise=True, jvp={"x": "-x_dot"}, vjp={"x": "-g"})
defrule(None, "UnaryOp.UAdd", "x", elementwise=True, jvp={"x": "x_dot"}, vjp={"x": "g"})
defrule(None, "UnaryOp.Not", "x", kind="zero")
defrule(None, "UnaryOp.Invert", "x", kind="zero")
for _op in ("Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In", "NotIn"):
    defrule(None, f"Compare.{_op}", "x, y", kind="zero")
for _op in ("BitAnd", "BitOr", "BitXor", "LShift", "RShift"):
    defrule(None, f"BinOp.{_op}", "x, y", kind="zero")

# NumPy's ufuncs of the operators. Adding, subtracting and multiplying are the operators
# themselves; dividing and the remainder are not: for two Python numbers, ``/`` and ``%``
# raise ZeroDivisionError where np.divide and np.mod give an infinity or a NaN, so they
# keep their calls (and never raise: a loop may compute them ahead).
for _obj, _sp, _op in ((np.add, "np.add", "+"), (np.subtract, "np.subtract", "-"),
                       (np.multiply, "np.multiply", "*")):
    defrule(_obj, _sp, "x, y")
    deflower(_sp, lambda b, op=_op: f"x {op} y")
for _obj, _sp in ((np.divide, "np.divide"), (np.true_divide, "np.true_divide")):
    defrule(
        _obj, _sp, "x, y", elementwise=True,
        jvp={"x": "x_dot / y", "y": "-(out / y) * y_dot"},
        vjp={"x": "unbroadcast(g / y, x)", "y": "-unbroadcast(g * out / y, y)"},
    )
for _obj, _sp in ((np.mod, "np.mod"), (np.remainder, "np.remainder")):
    defrule(
        _obj, _sp, "x, y", elementwise=True,
        jvp={"x": "broadcast_like(x_dot, out)", "y": "-np.floor(x / y) * y_dot"},
        vjp={"x": "unbroadcast(g, x)", "y": "-unbroadcast(g * np.floor(x / y), y)"},
    )
defrule(np.floor_divide, "np.floor_divide", "x, y", kind="zero", elementwise=True)
