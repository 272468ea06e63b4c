"""Reverse mode's sweeps (nabla/transforms/reverse.py) on canonical forms, before the
views assemble and optimize them: the forward sweep of straight-line code is the primal;
a loop tapes the values it overwrites (and only those) and its adjoint runs backwards,
restoring them; a return inside a loop routes the output's cotangent by the flag; a value
that may start as an int gets a tape of floats."""

import re

import numpy as np

from nabla import syntax
from nabla.transforms.normalize import normalize
from nabla.transforms.reverse import reverse


def straight(x, y):
    z = x * y
    return np.sin(z)


def power(x, n):
    s = 1.0
    for i in range(n):
        s = s * x
    return s


def local_values(x, n):
    s = 0.0
    for i in range(n):
        t = np.sin(x) * i
        s = s + t
    return s


def returns_early(x, n):
    for i in range(n):
        x = x * 1.5
        if x > 10.0:
            return x
    return x


def int_start(x, w, n):
    s = 2
    for i in range(n):
        s = s / w[i] + x
    return s


def text(stmts) -> str:
    return "\n".join(syntax.to_source(s) for s in stmts)


def sweeps(f, wrt, **kw):
    canon = normalize(f)
    return reverse(canon, wrt, **kw)


def test_the_forward_sweep_of_straight_line_code_is_the_primal():
    sw = sweeps(straight, ["x"])
    # the output, a temporary, is called out and its cotangent out_bar
    assert text(sw.forward) == "z = x * y\nout = np.sin(z)"
    assert sw.seed == "out_bar" and syntax.to_source(sw.out) == "out"


def test_the_adjoint_of_straight_line_code_runs_backwards_from_the_seed():
    sw = sweeps(straight, ["x"])
    assert text(sw.adjoint) == "\n".join([
        "z_bar = zero_like(z)",
        "x_bar = zero_like(x)",
        "# return np.sin(z)",
        "z_bar = z_bar + out_bar * np.cos(z)",
        "# z = x * y",
        "x_bar = x_bar + unbroadcast(z_bar * y, x)",
    ])
    assert [syntax.to_source(g) for g in sw.grads] == ["x_bar"]
    assert "y_bar" not in text(sw.adjoint)  # y is not differentiated


def test_a_scalar_output_drops_the_unbroadcasts():
    sw = sweeps(straight, ["x", "y"], scalar_out=True)
    adjoint = text(sw.adjoint)
    assert "unbroadcast" not in adjoint
    assert "x_bar = x_bar + z_bar * y" in adjoint and "y_bar = y_bar + x * z_bar" in adjoint


def test_a_loop_tapes_what_it_overwrites_and_restores_it_backwards():
    sw = sweeps(power, ["x"])
    forward = text(sw.forward)
    trips = re.search(r"^(\w+) = range_len\(0, n, 1\)$", forward, re.M).group(1)
    assert f"s_tape = tape_like(s, {trips})" in forward  # s starts as a float: no inexact
    loop = sw.forward[-1]
    assert isinstance(loop, syntax.For)
    count = re.search(r"^    s_tape\[(\w+)\] = tape_entry\(s, s_tape\)$", forward, re.M).group(1)
    assert syntax.to_source(loop.body[0]) == f"s_tape[{count}] = tape_entry(s, s_tape)"  # first
    back = sw.adjoint[-2]
    assert isinstance(back, syntax.For)
    assert syntax.to_source(back.iter) == f"range({trips} - 1, -1, -1)"
    assert syntax.to_source(back.body[0]) == f"s = s_tape[{count}]"


def test_values_a_loop_body_assigns_before_reading_get_no_tape():
    sw = sweeps(local_values, ["x"])
    forward = text(sw.forward)
    assert "s_tape = tape_like(s," in forward  # carried from one iteration to the next
    assert not re.search(r"\bt\w*_tape\b", forward)  # recomputed from x and i instead
    assert len(re.findall(r"= tape_like\(", forward)) == 1


def test_a_loop_with_a_return_inside_tapes_with_tapes_that_grow():
    canon = normalize(returns_early)
    assert "returned" in canon.to_source()  # the return became a flag the loop tests
    forward = text(reverse(canon, ["x"]).forward)
    # the loop runs while the flag says it has not returned: its trip count is unknown
    assert re.search(r"^while \w+:$", forward, re.M)
    assert "x_tape = tape_push(x_tape," in forward
    assert "result_tape = tape_push(result_tape," in forward


def test_a_return_inside_a_loop_routes_the_cotangent_by_the_flag():
    sw = sweeps(returns_early, ["x"])
    # after the loop: the output's cotangent goes to x when the loop ran out, else to the
    # value the return inside the loop gave
    merge = next(s for s in sw.adjoint if isinstance(s, syntax.If))
    assert re.search(rf"= {sw.seed}$", text(merge.body), re.M)
    assert re.search(rf"= {sw.seed}$", text(merge.orelse), re.M)
    assert re.search(r"^x_bar = x_bar \+ ", text(merge.body), re.M)
    assert re.search(r"^result_bar = result_bar \+ ", text(merge.orelse), re.M)
    # inside the reversed loop, result's cotangent reaches x in the iteration that returned
    back = sw.adjoint[-1]
    assert isinstance(back, syntax.For)
    assert [s for s in back.body if isinstance(s, syntax.If) and "result_bar" in text(s.body)]


def test_an_int_accumulator_that_takes_floats_gets_a_tape_of_floats():
    sw = sweeps(int_start, ["x"])
    forward = text(sw.forward)
    assert "# s may start as an int and take floats in the loop: its tape holds floats" \
        in forward
    assert re.search(r"^s_tape = tape_like\(s, \w+, inexact=True\)$", forward, re.M)


def test_a_float_accumulator_gets_a_plain_tape():
    forward = text(sweeps(power, ["x"]).forward)
    assert "inexact" not in forward and "may start as an int" not in forward
