"""The rules table (see ``registry``); importing this package fills it."""

from . import (  # noqa: F401
    arithmetic,
    constructors,
    elementwise,
    generated,
    linalg,
    reductions,
    shapes,
)
from .registry import LOWERINGS, RULES, Rule, constant_value, lookup, lookup_object, spelling_of

__all__ = ["LOWERINGS", "RULES", "Rule", "constant_value", "lookup", "lookup_object",
           "spelling_of"]
