"""One reverse pass, many views: the generated functions behind each transform.

``grad`` and ``value_and_grad`` run the forward and adjoint sweeps in one
function seeded with ``seed(out)``; ``vjp`` hands the two sweeps to the
caller as two functions, the first returning the residuals the second needs;
``jvp`` interleaves tangents with the primal; ``jit`` is the canonical primal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import syntax
from .forward import forward
from .optimize import assigned_names, live_in, optimize, walk_statements
from .reverse import reverse


@dataclass
class Generated:
    functions: list  # FunctionDefs, the entry first
    entry: str
    meta: dict = field(default_factory=dict)


def _keep(canon) -> set[str]:
    return set(canon.user_names) | set(canon.params) | set(canon.free)


def build(canon, mode: str, wrt: list[str], has_aux: bool = False,
          tuple_grads: bool = False) -> Generated:
    """Generated functions of ``mode`` for ``canon``, differentiating ``wrt`` (parameter names)."""
    name = canon.name
    params = canon.params + canon.free
    keep = _keep(canon)
    meta = {"mode": mode, "params": canon.params, "free": canon.free,
            "free_sources": canon.free_sources, "wrt": wrt, "has_aux": has_aux}
    if mode == "jit":
        body = optimize(canon.body + [syntax.ret(canon.result)], keep, params)
        return Generated([syntax.function_def(name, params, body)], name, meta)

    if mode in ("grad", "value_and_grad"):
        sw = reverse(canon, wrt, has_aux, scalar_out=True)
        seed = syntax.assign(sw.seed, syntax.call(syntax.load("seed"), [syntax.clone(sw.out)]))
        grads = syntax.tuple_(sw.grads) if tuple_grads else sw.grads[0]
        aux = sw.result.elts[1] if has_aux else None
        if mode == "grad":
            value = syntax.tuple_([grads, aux]) if has_aux else grads
        else:
            out = syntax.tuple_([sw.out, aux]) if has_aux else sw.out
            value = syntax.tuple_([out, grads])
        body = sw.forward + [syntax.comment("adjoint sweep"), seed] + sw.adjoint
        out_keep = {sw.out.id} if isinstance(sw.out, syntax.Name) else set()
        body = optimize(body + [syntax.ret(value)], keep | out_keep, params)
        entry = f"{name}_{mode}"
        return Generated([syntax.function_def(entry, params, body)], entry, meta)

    if mode == "jvp":
        fw = forward(canon, wrt)
        tangent_params = [fw.tangents[p] for p in wrt]
        if has_aux:
            value = syntax.tuple_([fw.result.elts[0], fw.result_dot.elts[0], fw.result.elts[1]])
        else:
            value = syntax.tuple_([fw.result, fw.result_dot])
        body = optimize(fw.body + [syntax.ret(value)], keep | set(tangent_params),
                        params + tangent_params)
        entry = f"{name}_jvp"
        meta["tangents"] = tangent_params
        # tangents follow the user's parameters; free values come last, as in every view
        signature = canon.params + tangent_params + canon.free
        return Generated([syntax.function_def(entry, signature, body)], entry, meta)

    if mode == "vjp":
        sw = reverse(canon, wrt, has_aux)
        forward_names = set(params) | assigned_names(sw.forward)
        bwd_body = optimize(sw.adjoint + [syntax.ret(syntax.tuple_(sw.grads))],
                            keep | forward_names | {sw.seed}, forward_names | {sw.seed})
        live = live_in(bwd_body)
        residuals = []
        for s in walk_statements(bwd_body):  # in order of first use, for readability
            for n in syntax.names_loaded(s):
                if n in live and n in forward_names and n not in residuals and n != sw.seed:
                    residuals.append(n)
        res = syntax.tuple_([syntax.load(r) for r in residuals])
        if has_aux:
            value = syntax.tuple_([sw.out, sw.result.elts[1], res])
        else:
            value = syntax.tuple_([sw.out, res])
        out_keep = {sw.out.id} if isinstance(sw.out, syntax.Name) else set()
        fwd_body = optimize(sw.forward + [syntax.ret(value)], keep | set(residuals) | out_keep,
                            params)
        entry = f"{name}_vjp"
        bwd = f"{name}_vjp_bwd"
        meta["bwd"] = bwd
        meta["residuals"] = residuals
        return Generated([syntax.function_def(entry, params, fwd_body),
                          syntax.function_def(bwd, [sw.seed] + residuals, bwd_body)],
                         entry, meta)
    raise ValueError(f"unknown mode {mode!r}")
