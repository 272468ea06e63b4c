"""Canonical form: one operation per statement, every value named once.

The user's function is rewritten so that each statement applies one
operation to *atoms* (names and constants), callees are spelled the way
generated code imports them (``xp.sin`` → ``np.sin``), NumPy forms Numba
lacks are lowered to ``nabla.runtime`` helpers, and a name assigned twice
gets a fresh version, so reverse mode can refer to every intermediate value:

>>> import numpy as xp
>>> def f(x, y):
...     z = xp.tanh(x * y + 1.0)
...     z = z * x
...     return z.sum(axis=0)
>>> print(normalize(f).to_source())
def f(x, y):
    t1 = x * y
    t2 = t1 + 1.0
    z = np.tanh(t2)
    z_1 = z * x
    t3 = reduce_sum(z_1, 0)
    return t3

One ``Normalizer`` holds the state of a normalization; its methods come in one
mixin class per concern, a module each, which ``driver.py`` composes:

- ``driver.py``: ``normalize()``; the ``Normalizer``'s state and ``run`` (the
  parameters, the statements in order, the result)
- ``records.py``: what comes out: ``Canonical`` and ``Callee``
- ``statements.py``: assignments, augmented assignments, writes into arrays, and
  the renaming that names every value once (``define``, ``emit``)
- ``flow.py``: ``if``, ``for``, ``while``: versions joined after a branch, values
  carried by a loop, tuples checked at both
- ``expressions.py``: atoms and operations: names and free values, conditional
  expressions, ``and``/``or``, indexing, dict literals
- ``calls.py``: calls of NumPy functions and array methods: rules, lowerings,
  templates
- ``callees.py``: calls of the user's own functions: shared (a ``Callee``) or read
  in place
- ``nested.py``: transforms called in the user's code (``nabla.grad(g)(x)``,
  ``nabla.jvp``, ``nabla.vjp``)
- ``trees.py``: pytree parameters and structured results

Syntax nabla never differentiates (``try``, ``with``, lambdas, ...) is refused
before any of this, by ``nabla.frontend.fence``.
"""

from .calls import METHODS
from .driver import normalize
from .expressions import VALUE_ATTRIBUTES
from .records import Callee, Canonical

__all__ = ["normalize", "Canonical", "Callee", "METHODS", "VALUE_ATTRIBUTES"]
