"""Calling compiled code nabla does not read: ``opaque_call(fn, *args)`` is ``fn(*args)``
for a Numba ``@njit`` function or a ``ctypes`` function that generated code receives as
a free value. It has no derivative: nabla refuses to differentiate through it, and a
``nabla.custom_vjp`` (or ``custom_jvp``) around it gives it one.

>>> opaque_call(max, 2.0, 3.0)
3.0
"""

from numba.extending import register_jitable

__all__ = ["opaque_call"]


@register_jitable
def opaque_call(fn, *args):
    return fn(*args)
