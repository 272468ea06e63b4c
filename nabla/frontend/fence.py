"""The syntax fence: what nabla never differentiates, refused before anything is
rewritten.

``fence`` looks at every node of a function's tree; the first one of a kind in
``UNSUPPORTED`` (``try``, ``with``, lambdas, comprehensions, ...) is refused with an
UnsupportedSyntaxError that points at it and says what to write instead:

>>> from nabla.frontend.parse import parse_function
>>> def f(x):
...     with open("log") as fh:
...         return x
>>> parsed = parse_function(f)
>>> try:
...     fence(parsed.tree, parsed.where)
... except UnsupportedSyntaxError as e:
...     print(e)  # doctest: +ELLIPSIS
<doctest ...>:2:5: `with` blocks cannot be differentiated by nabla
        with open("log") as fh:
        ^
    hint: enter the context outside the differentiated function
"""

from __future__ import annotations

from .. import syntax
from ..errors import UnsupportedSyntaxError

# the kind of node (its class name in Python's grammar) -> (what it is, what to do instead)
UNSUPPORTED = {
    "Try": ("`try` blocks", "handle errors outside the differentiated function"),
    "TryStar": ("`try` blocks", "handle errors outside the differentiated function"),
    "With": ("`with` blocks", "enter the context outside the differentiated function"),
    "AsyncWith": ("`async with`", "write a plain function"),
    "AsyncFor": ("`async for`", "write a plain function"),
    "Await": ("`await`", "write a plain function"),
    "Yield": ("generators (`yield`)", "return an array or a tuple instead"),
    "YieldFrom": ("generators (`yield from`)", "return an array or a tuple instead"),
    "Global": ("`global`", "pass the value in and return the new one"),
    "Nonlocal": ("`nonlocal`", "pass the value in and return the new one"),
    "ClassDef": ("class definitions", "define the class outside the function"),
    "FunctionDef": ("nested function definitions", "define the function at module level"),
    "Lambda": ("lambdas", "define a function at module level with `def`"),
    "ListComp": ("list comprehensions", "use NumPy array operations"),
    "SetComp": ("set comprehensions", "use NumPy array operations"),
    "DictComp": ("dict comprehensions", "use NumPy array operations"),
    "GeneratorExp": ("generator expressions", "use NumPy array operations"),
    "Delete": ("`del`", "let the name go out of scope"),
    "Starred": ("star-arguments", "pass the arguments one by one"),
    "Import": ("imports inside the function", "import at module level"),
    "ImportFrom": ("imports inside the function", "import at module level"),
    "NamedExpr": ("the walrus operator", "assign on a line of its own"),
    "Raise": ("`raise`", "check arguments before calling the transformed function"),
    "Assert": ("`assert`", "check arguments before calling the transformed function"),
    "JoinedStr": ("f-strings", "format strings outside the differentiated function"),
    "Match": ("`match` statements", "use `if`/`elif`"),
    "Set": ("sets", "use a tuple"),
}


def fence(tree, where) -> None:
    """Refuse the first node of ``tree`` (a FunctionDef; itself not looked at) of a kind
    nabla does not differentiate; ``where(node)`` locates it (``ParsedFunction.where``)."""
    for node in syntax.walk(tree):
        if node is tree:
            continue
        kind = type(node).__name__
        if kind in UNSUPPORTED:
            what, hint = UNSUPPORTED[kind]
            raise UnsupportedSyntaxError(f"{what} cannot be differentiated by nabla",
                                         **where(node), hint=hint)
