"""What each pass makes of a function: the stage views of ``nabla.source``.

A derivative is made in stages (``pipeline.py``); each can be printed, so a learner
sees what every pass does::

    canonical     the function in canonical form: one operation per line, each
                  intermediate value named (``t1``), loops and branches kept
    transformed   the transform's output as it wrote it: every adjoint or tangent
                  of every line, before anything is simplified
    optimized     after the optimizer: constants folded, copies and dead code
                  dropped, single-use temporaries folded back, loops in gather form
    module        the module that runs (in-place updates of shared arrays copied):
                  the default, what ``.source`` shows

>>> import numpy as np
>>> import nabla
>>> def f(x):
...     y = x * x
...     return np.sin(y) * 2.0
>>> print(nabla.source(f, 1.5, stage="canonical"))  # doctest: +ELLIPSIS
# nabla.grad(f) — stage "canonical": the function in canonical form...
import numpy as np
<BLANKLINE>
<BLANKLINE>
def f(x):
    # y = x * x
    y = x * x
    # return np.sin(y) * 2.0
    t1 = np.sin(y)
    t2 = t1 * 2.0
    return t2
<BLANKLINE>
>>> raw = nabla.source(f, 1.5, stage="transformed")
>>> final = nabla.source(f, 1.5)
>>> len(raw.splitlines()) > len(final.splitlines())
True
"""

from __future__ import annotations

import contextlib
import copy

from . import pipeline, syntax
from .codegen.source import render_module
from .errors import TransformInputError
from .transforms import optimize

STAGES = {
    "canonical": "the function in canonical form, as the transform reads it",
    "transformed": "the transform's output before the optimizer",
    "optimized": "after the optimizer, before in-place updates are made safe",
    "module": "the module that runs",
}


def check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise TransformInputError(f"no stage {stage!r}",
                                  hint=f"choose one of {', '.join(map(repr, STAGES))}")


def text(variant, stage: str) -> str:
    """The text of ``stage`` for the generated module ``variant``."""
    return rendered(variant, stage)[0]


def rendered(variant, stage: str) -> tuple[str, dict]:
    """(text, line map) of ``stage`` for the generated module ``variant``: the line map
    takes a line of the text to the user's line it comes from (lines of the user's file)."""
    check_stage(stage)
    if stage == "module":
        if "cuda_text" in variant.extra:
            return variant.extra["cuda_text"], {}
        return variant.text, dict(variant.line_map)
    f = variant.maker()
    float32, active, ranks, forward, arg_ranks = variant.made
    inner = pipeline.inner_variant(f, float32, ranks) if f.inner is not None else None
    canon = pipeline.canonical(f, inner)
    title = f"{f._described()} — stage \"{stage}\": {STAGES[stage]}"
    if stage == "canonical":
        functions = [_canonical_def(canon)] + [
            _canonical_def(c.canon) for _, c in sorted(canon.callees.items())]
        module = render_module(functions, [title], float32=float32, mapped=1)
        return module.text, module.line_map
    skip = optimize.skipped() if stage == "transformed" else contextlib.nullcontext()
    with skip:
        gen = pipeline.transform(f, canon, inner, float32, active, ranks, forward, arg_ranks)
    comment = [title] + pipeline.header(f, canon, float32, active, gen.meta, forward,
                                        arg_ranks)[1:]
    module = render_module(gen.functions, comment, float32=float32, mapped=gen.own)
    return module.text, module.line_map


def _canonical_def(canon):
    """The canonical function, each run of statements from one line of the user's
    under a comment quoting that line."""
    ret = syntax.copy_location(syntax.ret(canon.result), canon.body[-1]) if canon.body \
        else syntax.ret(canon.result)
    ret.lineno = canon.result_lineno
    return syntax.function_def(canon.name, canon.params + canon.free,
                               _quoted(canon, canon.body + [ret]))


def _quoted(canon, body):
    out, last = [], None
    for s in body:
        line = getattr(s, "lineno", None)
        if line is not None and line != last and not isinstance(s, (syntax.For, syntax.If,
                                                                    syntax.While)):
            out.append(syntax.comment(canon.line_text(line)))
        last = line
        if isinstance(s, (syntax.For, syntax.If, syntax.While)):
            s = copy.copy(s)  # the canonical form itself stays as normalize made it
            for field in ("body", "orelse"):
                if getattr(s, field):
                    setattr(s, field, _quoted(canon, getattr(s, field)))
                    last = None
        out.append(s)
    return out
