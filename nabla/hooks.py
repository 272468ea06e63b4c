"""What the floors below the API need of it, registered by ``api`` when it is imported:
the transforms a user's code may call inside a function being transformed (recognized by
identity), the type of what they return, and the jvp and vjp Functions of a function.

Lower floors ask here instead of importing ``api``: imports only go down.

>>> callable(jvp_function) or jvp_function is None
True
"""

from __future__ import annotations

TRANSFORMS: tuple = ()  # grad, value_and_grad, jacfwd, ..., vmap: the API's own objects
function_type: type | None = None  # nabla.Function
jvp_function = None  # (fn, has_aux) -> the memoized nabla.Function of nabla.jvp(fn, ...)
vjp_function = None  # (fn, has_aux) -> the memoized nabla.Function of nabla.vjp(fn, ...)
jvp = None  # nabla.jvp itself
vjp = None  # nabla.vjp itself


def register(*, transforms, function_type, jvp_function, vjp_function, jvp, vjp) -> None:
    globals().update(TRANSFORMS=tuple(transforms), function_type=function_type,
                     jvp_function=jvp_function, vjp_function=vjp_function, jvp=jvp, vjp=vjp)
