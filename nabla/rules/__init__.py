"""The rules table (see ``registry``); importing this package fills it."""

from . import arithmetic, constructors, elementwise, linalg, reductions, shapes  # noqa: F401
from .registry import LOWERINGS, RULES, Rule, constant_value, lookup, lookup_object, spelling_of

__all__ = ["LOWERINGS", "RULES", "Rule", "constant_value", "lookup", "lookup_object",
           "spelling_of"]
