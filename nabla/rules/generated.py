"""Rules for the helpers generated code calls, so that transforms compose: the
jvp of ``grad(f)`` differentiates the generated source of ``grad(f)``, which
calls ``unbroadcast``, ``index_add``, ``tape_push`` and the other helpers of
``nabla.runtime``.

Most are linear in the cotangent or tangent they carry, so their derivatives
are the helper itself applied to a tangent, and their vjps the transposed
operation. Parameters a helper reads only for a shape (``like`` of
``unbroadcast``) or for ties (``x`` of ``extremum_vjp``) are ``nondiff``:
their derivative is zero. Parameter names avoid ``g`` and ``out``, which
templates use for the output's cotangent and value.

>>> from nabla.rules.registry import lookup
>>> lookup("unbroadcast").jvp["v"], lookup("unbroadcast").vjp["v"]
('unbroadcast(v_dot, like)', 'broadcast_like(g, v)')
"""

import builtins

from .. import checks
from .. import runtime as rt
from .registry import defrule

# values that never carry a derivative: constants of a type, counts, tapes being made
_LIKE = {"fresh": True, "rank": "first", "batching": "same_shape"}  # shaped like x, new
defrule(rt.zero_like, "zero_like", "x", kind="inactive", fill=0.0, **_LIKE)
defrule(rt.one_like, "one_like", "x", kind="inactive", fill=1.0, **_LIKE)
# zeros but for the rows a gather-form loop then writes once (no batching: rows of x)
defrule(rt.zeros_outside, "zeros_outside", "x, first, last, lo, hi", kind="inactive",
        fresh=True, rank="first")
# grad's check that its output is a scalar float: kept even where its value is not used
defrule(checks.seed, "seed", "x", kind="inactive", fresh=True, impure=True, rank="scalar",
        batching="example_reduction", batched="batch_seed")
defrule(checks.batch_seed, "batch_seed", "x", kind="inactive", fresh=True, impure=True)
defrule(rt.reduced_count, "reduced_count", "x, axis=None", kind="inactive", fresh=True)
defrule(rt.tape_like, "tape_like", "x, n, inexact=False", kind="inactive", fresh=True)
defrule(rt.pad_empty, "pad_empty", "x", kind="inactive", rank="first")
defrule(rt.range_len, "range_len", "a=None, b=None, c=None", kind="inactive", fresh=True,
        integral=True)
defrule(rt.checkpoint_span, "checkpoint_span", "n", kind="inactive", fresh=True,
        integral=True)
defrule(rt.range_continues, "range_continues", "a=None, b=None, c=None", kind="inactive")
defrule(builtins.slice, "slice", "a=None, b=None, c=None", kind="inactive")

# the user's way to say "no derivative through here" (nabla.stop_gradient): a value whose
# derivative is zero, in every transform
defrule(rt.stop_gradient, "stop_gradient", "x", kind="zero", rank="first",
        batching="same_shape")

# identity and reshaping
defrule(rt.snapshot, "snapshot", "x", jvp={"x": "snapshot(x_dot)"}, vjp={"x": "g"},
        copy_of="x", **_LIKE)
defrule(rt.reshape_like, "reshape_like", "v, like", nondiff=("like",), shaped_like="like",
        rank="second",
        jvp={"v": "reshape_like(v_dot, like)"}, vjp={"v": "reshape_like(g, v)"})
defrule(rt.untranspose, "untranspose", "v, axes=None", nondiff=("axes",),
        jvp={"v": "untranspose(v_dot, axes)"}, vjp={"v": "np.transpose(g, axes)"})

# compiled code (a Numba @njit function, a ctypes function) called, never read: no derivative
defrule(rt.opaque_call, "opaque_call", "fn, a1=None, a2=None, a3=None, a4=None, a5=None, "
        "a6=None, a7=None, a8=None", nondiff=("fn",), impure=True,
        no_derivative=("{fn}() is compiled code nabla calls but cannot read: it has no "
                       "derivative, and here an argument depends on a differentiated input",
                       "give it a rule: wrap it in nabla.custom_vjp (or nabla.custom_jvp), "
                       "or call the Python function it compiles"))

# what a custom rule returns for an argument, checked to have its shape: the identity
defrule(rt.cotangent_of, "cotangent_of", "v, like", nondiff=("like",), shaped_like="like",
        rank="first",
        jvp={"v": "cotangent_of(v_dot, like)"}, vjp={"v": "g"})

# broadcasting and its transpose
defrule(rt.unbroadcast, "unbroadcast", "v, like", nondiff=("like",), shaped_like="like",
        rank="second", batching="summed_to",
        jvp={"v": "unbroadcast(v_dot, like)"}, vjp={"v": "broadcast_like(g, v)"})
defrule(rt.broadcast_like, "broadcast_like", "v, like", nondiff=("like",), shaped_like="like",
        broadcast_of="v", fresh=True, rank="second", batching="like_shaped",
        batched="batch_broadcast_like",
        jvp={"v": "broadcast_like(v_dot, like)"}, vjp={"v": "unbroadcast(g, v)"})
defrule(rt.expand_reduced, "expand_reduced", "v, like, axis=None", nondiff=("like", "axis"),
        shaped_like="like", broadcast_of="v", rank="second", batching="reduced_back",
        jvp={"v": "expand_reduced(v_dot, like, axis)"},
        vjp={"v": "reshape_like(reduce_sum(g, axis), v)"})

# scattering into and reading from arrays (index_add and index_zero update in place, like
# the helpers they differentiate, the tangent arrays generated code owns)
defrule(rt.unindex, "unindex", "v, like, index", nondiff=("like", "index"),
        jvp={"v": "unindex(v_dot, like, index)"}, vjp={"v": "unbroadcast(g[index], v)"})
defrule(rt.index_add, "index_add", "acc, index, v", nondiff=("index",), in_place="accumulator",
        jvp={"acc": "acc_dot", "v": "unindex(v_dot, acc, index)"},
        jvp_all="index_add(acc_dot, index, v_dot)",
        vjp={"acc": "g", "v": "unbroadcast(g[index], v)"})
defrule(rt.index_zero, "index_zero", "acc, index", nondiff=("index",), in_place="accumulator",
        impure=True,
        jvp={"acc": "index_zero(acc_dot, index)"},
        vjp={"acc": "index_zero(snapshot(g), index)"})
# x of `x += v` (a new array in generated code), checked to share no memory with another
# variable read later: the identity (kept where its value is not used: the check is its point)
defrule(rt.alone, "alone", "x, other", nondiff=("other",), shape_only=("other",), raises=True,
        impure=True, rank="first", jvp={"x": "x_dot"}, vjp={"x": "g"})
# a tape's entry, checked to have the entries' shape (raises where it has not): the identity
defrule(rt.tape_entry, "tape_entry", "x, tape", nondiff=("tape",), shape_only=("tape",),
        raises=True, rank="first",
        jvp={"x": "x_dot"}, vjp={"x": "g"})
defrule(rt.tape_push, "tape_push", "tape, k, v", nondiff=("k",), in_place="state", raises=True,
        jvp={"tape": "tape_push(tape_dot, k, zero_like(v))",
             "v": "tape_push(zero_like(tape), k, v_dot)"},
        jvp_all="tape_push(tape_dot, k, v_dot)")

# the cotangents of products: bilinear in the cotangent and the other factor
defrule(rt.matmul_vjp_a, "matmul_vjp_a", "v, a, b", nondiff=("a",),
        batching="vector_dot",
        jvp={"v": "matmul_vjp_a(v_dot, a, b)", "b": "matmul_vjp_a(v, a, b_dot)"},
        vjp={"v": "g @ b", "b": "matmul_vjp_b(v, g, b)"})
defrule(rt.matmul_vjp_b, "matmul_vjp_b", "v, a, b", nondiff=("b",),
        batching="vector_dot",
        jvp={"v": "matmul_vjp_b(v_dot, a, b)", "a": "matmul_vjp_b(v, a_dot, b)"},
        vjp={"v": "a @ g", "a": "matmul_vjp_a(v, a, g)"})
defrule(rt.dot_vjp_a, "dot_vjp_a", "v, a, b", nondiff=("a",),
        batching="vector_dot",
        jvp={"v": "dot_vjp_a(v_dot, a, b)", "b": "dot_vjp_a(v, a, b_dot)"},
        vjp={"v": "unbroadcast(np.dot(g, b), v)", "b": "dot_vjp_b(v, g, b)"})
defrule(rt.dot_vjp_b, "dot_vjp_b", "v, a, b", nondiff=("b",),
        batching="vector_dot",
        jvp={"v": "dot_vjp_b(v_dot, a, b)", "a": "dot_vjp_b(v, a_dot, b)"},
        vjp={"v": "unbroadcast(np.dot(a, g), v)", "a": "dot_vjp_a(v, a, g)"})

# reductions' cotangents
defrule(rt.extremum_vjp, "extremum_vjp", "v, x, r, axis=None", nondiff=("x", "r", "axis"),
        jvp={"v": "extremum_vjp(v_dot, x, r, axis)"},
        vjp={"v": "reshape_like(reduce_sum(extremum_vjp(one_like(v), x, r, axis) * g, axis),"
                  " v)"})
defrule(rt.prod_vjp, "prod_vjp", "v, x, axis=None", nondiff=("axis",),
        jvp={"v": "prod_vjp(v_dot, x, axis)", "x": "prod_vjp_jvp(v, x, x_dot, axis)"},
        vjp={"v": "reshape_like(reduce_sum(prod_vjp(one_like(v), x, axis) * g, axis), v)",
             # symmetric in two elements of a group, and v the same for both
             "x": "prod_vjp_jvp(v, x, g, axis)"})
# its tangent along d; linear in v and in d (a third derivative through x is refused)
defrule(rt.prod_vjp_jvp, "prod_vjp_jvp", "v, x, d, axis=None", nondiff=("axis",),
        jvp={"v": "prod_vjp_jvp(v_dot, x, d, axis)", "d": "prod_vjp_jvp(v, x, d_dot, axis)"},
        vjp={"v": "reshape_like(reduce_sum(prod_vjp_jvp(one_like(v), x, d, axis) * g, axis),"
                  " v)",
             "d": "prod_vjp_jvp(v, x, g, axis)"})
defrule(rt.rcumsum, "rcumsum", "v, axis=None", nondiff=("axis",),
        jvp={"v": "rcumsum(v_dot, axis)"}, vjp={"v": "reshape_like(cumsum(g, axis), v)"})
defrule(rt.take_axis, "take_axis", "v, i, axis", nondiff=("i", "axis"),
        jvp={"v": "take_axis(v_dot, i, axis)"})
defrule(rt.slice_axis, "slice_axis", "v, start, stop, axis", nondiff=("start", "stop", "axis"),
        jvp={"v": "slice_axis(v_dot, start, stop, axis)"})

# Jacobians built a column or a row at a time
defrule(rt.basis_count, "basis_count", "x", kind="inactive", fresh=True)
defrule(rt.basis, "basis", "x, j", kind="inactive", fresh=True)
defrule(rt.jac_like, "jac_like", "a, x", kind="inactive", fresh=True)
defrule(rt.jac_column, "jac_column", "jac, j, col", nondiff=("j",), in_place="state",
        jvp={"jac": "jac_column(jac_dot, j, zero_like(col))",
             "col": "jac_column(zero_like(jac), j, col_dot)"},
        jvp_all="jac_column(jac_dot, j, col_dot)",
        vjp={"jac": "jac_column(snapshot(g), j, zero_like(col))", "col": "column_of(g, j, col)"})
defrule(rt.jac_row, "jac_row", "jac, i, row", nondiff=("i",), in_place="state",
        jvp={"jac": "jac_row(jac_dot, i, zero_like(row))",
             "row": "jac_row(zero_like(jac), i, row_dot)"},
        jvp_all="jac_row(jac_dot, i, row_dot)",
        vjp={"jac": "jac_row(snapshot(g), i, zero_like(row))", "row": "row_of(g, i, row)"})
defrule(rt.column_of, "column_of", "v, j, like", nondiff=("j", "like"),
        jvp={"v": "column_of(v_dot, j, like)"}, vjp={"v": "jac_column(zero_like(v), j, g)"})
defrule(rt.row_of, "row_of", "v, i, like", nondiff=("i", "like"),
        jvp={"v": "row_of(v_dot, i, like)"}, vjp={"v": "jac_row(zero_like(v), i, g)"})

# batched (vmap) code: the batch axis moved to the front and back, examples written into
# and read from a batch, batched operands lined up, examples reduced
defrule(rt.batch_size, "batch_size", "x", kind="inactive", fresh=True)
defrule(rt.batch_like, "batch_like", "x, size", kind="inactive", fresh=True)
defrule(rt.batch_count, "batch_count", "x", kind="inactive", fresh=True)
defrule(rt.batch_first, "batch_first", "v, axis", nondiff=("axis",),
        jvp={"v": "batch_first(v_dot, axis)"}, vjp={"v": "batch_to(g, axis)"})
defrule(rt.batch_to, "batch_to", "v, axis", nondiff=("axis",),
        jvp={"v": "batch_to(v_dot, axis)"}, vjp={"v": "batch_first(g, axis)"})
# the prange loop form's test of an example's shape (one that has not runs again after the
# loop, where it raises: Numba drops an exception raised inside)
defrule(rt.batch_fits, "batch_fits", "v, acc", kind="inactive", fresh=True,
        shape_only=("acc",))
defrule(rt.batch_set, "batch_set", "acc, b, v", nondiff=("b",), in_place="state",
        jvp={"acc": "batch_set(acc_dot, b, zero_like(v))",
             "v": "batch_set(zero_like(acc), b, v_dot)"},
        jvp_all="batch_set(acc_dot, b, v_dot)",
        vjp={"acc": "batch_set(snapshot(g), b, zero_like(v))", "v": "batch_row(g, b, v)"})
defrule(rt.batch_row, "batch_row", "v, b, like", nondiff=("b", "like"),
        jvp={"v": "batch_row(v_dot, b, like)"}, vjp={"v": "batch_set(zero_like(v), b, g)"})
defrule(rt.batch_lift, "batch_lift", "v, like", nondiff=("like",),
        jvp={"v": "batch_lift(v_dot, like)"}, vjp={"v": "reshape_like(g, v)"})
defrule(rt.batch_pair, "batch_pair", "v, like", nondiff=("like",),
        jvp={"v": "batch_pair(v_dot, like)"}, vjp={"v": "reshape_like(g, v)"})
defrule(rt.batch_sum, "batch_sum", "v", jvp={"v": "batch_sum(v_dot)"},
        vjp={"v": "batch_expand(g, v)"})
defrule(rt.batch_mean, "batch_mean", "v", jvp={"v": "batch_mean(v_dot)"},
        vjp={"v": "batch_expand(g, v) / batch_count(v)"})
defrule(rt.batch_expand, "batch_expand", "v, like", nondiff=("like",),
        jvp={"v": "batch_expand(v_dot, like)"}, vjp={"v": "batch_sum(g)"})
defrule(rt.batch_broadcast, "batch_broadcast", "v, size", nondiff=("size",), fresh=True,
        jvp={"v": "batch_broadcast(v_dot, size)"}, vjp={"v": "reduce_sum(g, 0)"})
defrule(rt.batch_broadcast_like, "batch_broadcast_like", "v, like", nondiff=("like",),
        jvp={"v": "batch_broadcast_like(v_dot, like)"},
        vjp={"v": "reshape_like(unbroadcast(g, batch_lift(v, like)), v)"})
# jacfwd's vector forward mode: the directions of the arguments, the Jacobian from them
defrule(rt.basis_block, "basis_block", "x, start, n", kind="inactive", fresh=True)
defrule(rt.jac_block, "jac_block", "dots, start, a, x", nondiff=("start", "a", "x"),
        jvp={"dots": "jac_block(dots_dot, start, a, x)"},
        vjp={"dots": "jac_unblock(g, start, dots)"})
defrule(rt.jac_unblock, "jac_unblock", "v, start, like", nondiff=("start", "like"),
        jvp={"v": "jac_unblock(v_dot, start, like)"})

# the write log of reverse-mode loops that write into arrays inside inner loops or branches:
# no derivative rules (generated code calling them is not differentiated again: normalize
# refuses it, these records being known by spelling only), but facts the passes need
_LOGGED = ("a derivative of reverse mode through this loop is not supported: it writes "
           "into an array inside an inner loop or a branch, and its adjoint undoes those "
           "writes with a write log, which has no derivative",
           "take the higher derivative in forward mode (nabla.jacfwd(nabla.jacfwd(f)), or "
           "nabla.jacfwd(nabla.grad(f, mode='forward'))), or write into the array in the "
           "loop's own body")
defrule(None, "write_log", "a", kind="opaque", fresh=True, no_derivative=_LOGGED)
defrule(None, "log_size", "log", kind="opaque", fresh=True)
defrule(None, "log_write", "log, a, index", kind="opaque", in_place="state", impure=True,
        no_derivative=_LOGGED)
defrule(None, "undo_writes", "a, log, start", kind="opaque", in_place="state", impure=True,
        no_derivative=_LOGGED)
defrule(None, "pop_writes", "a, log, start", kind="opaque", in_place="state", impure=True,
        updates=("log",), no_derivative=_LOGGED)
