"""Link a large generated callee into its callers as it is, not to be optimised again.

Numba links the optimised LLVM module of every function a function calls into that
function's module, optimises the whole again (so that calls can be inlined) and emits
machine code for all of it. A chain of generated functions (``f_jacfwd_vmap`` calls
``f_jacfwd`` calls ``f_jvp_vmap`` calls ``g_jvp_vmap`` ...) so optimises the code at depth
``d`` ``d + 1`` times: on the bundle-adjustment Jacobian, 28 of its 34 s of compile
were the four wrappers above re-optimising the same jvp code. ``install()`` makes
Numba link a generated function of more than ``INLINE_LIMIT`` LLVM instructions
``noinline optnone``: its already-optimised body is taken as it is (no inlining, a
quick instruction selection), once per caller. Small generated callees (a scalar
``sigmoid``) are still inlined and optimised with their caller. The callee's own machine
code is untouched; only the copies other functions link change.

>>> import llvmlite.binding as ll
>>> mod = ll.parse_assembly('''
... define double @"_ZN2f1nabla_generated_k_numba1gE"(double %x) {
...   %y = fmul double %x, %x
...   ret double %y
... }''')
>>> kept = held_back(mod, limit=1)
>>> sorted(_attributes(kept.get_function("_ZN2f1nabla_generated_k_numba1gE")))
['noinline', 'optnone']
>>> held_back(mod, limit=10) is None  # small: inlined and optimised with its caller
True
"""

from __future__ import annotations

from ..names import GENERATED_MODULE_PREFIX

# LLVM instructions above which a generated callee is linked as it is (LLVM's own
# inlining threshold at -O3 is a cost of ~250, roughly as many instructions)
INLINE_LIMIT = 1000

# functions left as they are: held back already, or with attributes optnone excludes
_KEEP = {"optnone", "alwaysinline", "optsize", "minsize"}

_installed = []


def install() -> bool:
    """Wrap Numba's ``CPUCodeLibrary._get_module_for_linking`` (once per process); False
    where Numba's internals differ from what this expects (then nothing changes)."""
    if _installed:
        return _installed[0]
    try:
        from numba.core.codegen import CPUCodeLibrary

        original = CPUCodeLibrary._get_module_for_linking
    except (ImportError, AttributeError):
        _installed.append(False)
        return False

    def for_linking(self):
        module = original(self)
        if getattr(self, "_nabla_linking", None) is module:
            return module
        try:
            kept = held_back(module)
        except Exception:  # noqa: BLE001 - anything unexpected: Numba's own module
            kept = None
        if kept is not None:
            module = kept
            self._shared_module = kept  # what Numba links and caches from now on
        self._nabla_linking = module
        return module

    CPUCodeLibrary._get_module_for_linking = for_linking
    _installed.append(True)
    return True


def held_back(module, limit: int | None = None):
    """A copy of ``module`` in which every function is ``noinline optnone``, when its
    generated functions hold more than ``limit`` instructions; None when they hold fewer
    (or there are none)."""
    limit = INLINE_LIMIT if limit is None else limit
    size = 0
    for fn in module.functions:
        if fn.is_declaration or GENERATED_MODULE_PREFIX not in fn.name:
            continue
        if not _attributes(fn) & _KEEP:  # not a callee's, held back already
            size += sum(1 for block in fn.blocks for _ in block.instructions)
    if size <= limit:
        return None
    copy = module.clone()
    for fn in copy.functions:
        if not fn.is_declaration and not _attributes(fn) & _KEEP:
            fn.add_function_attribute("noinline")
            fn.add_function_attribute("optnone")
    copy.verify()  # raises, and Numba's module is linked as it was
    return copy


def _attributes(fn) -> set[str]:
    """The words of an LLVM function's attributes (llvmlite gives them as bytes)."""
    words = set()
    for a in fn.attributes:
        words.update((a.decode() if isinstance(a, bytes) else str(a)).split())
    return words
