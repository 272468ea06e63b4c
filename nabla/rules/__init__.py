"""The rules table (see ``registry``); importing this package fills it."""

from .. import runtime
from . import (  # noqa: F401
    arithmetic,
    constructors,
    elementwise,
    generated,
    linalg,
    reductions,
    shapes,
    special,
)
from .constructors import MODULE_CONSTANTS
from .registry import (
    LOWERINGS,
    RULES,
    Rule,
    array_spelling,
    constant_value,
    fact,
    find_by_object,
    lookup,
    lookup_object,
    spelling_of,
)

find_by_object(runtime)

__all__ = ["LOWERINGS", "MODULE_CONSTANTS", "RULES", "Rule", "array_spelling",
           "constant_value", "fact", "lookup", "lookup_object", "spelling_of"]
