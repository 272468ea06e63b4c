"""Seeing the derivative: the stage views of ``nabla.source``, the module a call with
given arguments runs, and ``python -m nabla show`` (its HTML page: test_show_html.py)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from golden_functions import EXAMPLES, GOLDEN, scalar_loop

import nabla
from nabla import stages
from nabla.show import main

HERE = Path(__file__).parent


def looped(x, n):
    s = np.zeros_like(x)
    for i in range(n):
        s = s + np.sin(x * (i + 1))
    return np.sum(s * s)


def two(x, y):
    z = x * y
    return np.sum(np.sin(z)) + y


def _run(text: str, entry: str, *args):
    namespace = {}
    exec(compile(text, "<stage>", "exec"), namespace)
    return namespace[entry](*args)


# -- stage views ---------------------------------------------------------------------

def test_every_stage_is_a_program_computing_the_same_gradient():
    x = np.array([0.3, -0.4, 1.1])
    g = nabla.grad(looped, mode="reverse")
    want = g(x, 3)
    for stage in ("transformed", "optimized", "module"):
        text = nabla.source(g, x, 3, stage=stage)
        assert f'stage "{stage}"' in text.split("\n")[0] or stage == "module"
        got = _run(text, "looped_grad", x, 3)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    canonical = nabla.source(g, x, 3, stage="canonical")
    assert _run(canonical, "looped", x, 3) == pytest.approx(looped(x, 3), rel=1e-12)


def test_stages_show_what_each_pass_does():
    g = nabla.grad(looped, mode="reverse")
    x = np.ones(3)
    canonical = nabla.source(g, x, 3, stage="canonical")
    raw = nabla.source(g, x, 3, stage="transformed")
    optimized = nabla.source(g, x, 3, stage="optimized")
    # canonical: one operation a line, each run of lines under the user's line it comes from
    assert "    # s = s + np.sin(x * (i + 1))\n" in canonical
    assert "t1 = i + 1" in canonical and "_bar" not in canonical
    # the transform's own output has every zero-initialised adjoint; the optimizer drops them
    assert raw.count("zero_like(") > optimized.count("zero_like(")
    assert len(raw.splitlines()) > len(optimized.splitlines())
    # nothing here is updated in place: the module is the optimizer's output
    body = optimized.split("import numpy", 1)[1]
    assert body == g.source_of(x, 3).split("import numpy", 1)[1]


def test_a_stage_of_nested_transforms_and_of_vmap():
    x = np.array([0.3, -0.4])
    h = nabla.hessian(two, argnums=(0, 1))
    text = nabla.source(h, 0.5, 1.5, stage="optimized")
    assert "def two_jacrev_jacfwd(" in text
    v = nabla.vmap(two, in_axes=(0, None))
    assert "def two_vmap(" in nabla.source(v, x, 2.0, stage="transformed")


def test_an_unknown_stage_is_refused_naming_the_stages():
    with pytest.raises(nabla.TransformInputError, match="canonical"):
        nabla.source(two, 1.0, 2.0, stage="parsed")


# -- the module a call runs --------------------------------------------------------------

@pytest.mark.auto_mode
def test_example_arguments_choose_the_module_a_call_runs():
    g = nabla.grad(two)  # mode="auto"
    scalar = nabla.source(g, 0.5, 2.0)
    array = nabla.source(g, np.ones(3), 2.0)
    assert "forward mode, with respect to x" in scalar
    assert 'mode="auto" picks it: x is one scalar' in scalar
    assert "reverse mode, with respect to x" in array
    assert 'mode="auto" picks it: x is an array' in array
    before = nabla.source(nabla.grad(two))  # no call: shapes unknown, and it says so
    assert "the arguments' shapes are not known here" in before
    # showing runs nothing; a call then runs what was shown, and .source shows it
    g(np.ones(3), 2.0)
    assert g.source == array


def test_source_of_a_golden_gradient_is_what_a_call_runs():
    for name in ("scalar_loop", "logistic_loss", "while_loop"):
        fun, argnums = GOLDEN[name]
        g = nabla.grad(fun, argnums=argnums, mode="reverse")
        shown = nabla.source(g, *EXAMPLES[name])
        g(*EXAMPLES[name])
        assert g.source == shown


def test_example_arguments_of_pytrees_vmaps_and_jvps():
    def tree_loss(p, x):
        return np.sum(np.tanh(p["w"] * x + p["b"]) ** 2)

    p = {"w": np.ones(3), "b": 0.5}
    text = nabla.source(nabla.grad(tree_loss), p, np.ones(3))
    assert "def tree_loss_grad(p_w, p_b, x)" in text or "def tree_loss_grad(" in text
    vg = nabla.vmap(nabla.grad(scalar_loop), in_axes=(0, None))
    assert "scalar_loop_grad_vmap" in nabla.source(vg, np.ones(4), 3)
    assert "def two_jvp(" in nabla.source(two, 1.0, 2.0, mode="jvp")
    assert "def two_vmap(" in nabla.source(two, np.ones(3), 2.0, mode="vmap",
                                           in_axes=(0, None))


def test_source_refuses_a_mode_given_by_position_and_an_unknown_mode():
    with pytest.raises(nabla.TransformInputError, match="by keyword"):
        nabla.source(two, "jvp")
    with pytest.raises(nabla.TransformInputError, match="no mode 'gard'"):
        nabla.source(two, mode="gard")


def test_the_stages_are_documented_in_one_place():
    assert tuple(stages.STAGES) == ("canonical", "transformed", "optimized", "module")


# -- python -m nabla show -----------------------------------------------------------------

def test_show_prints_the_reverse_mode_of_a_loop(capsys):
    target = f"{HERE / 'golden_functions.py'}:scalar_loop"
    assert main(["show", target, "--mode", "grad", "--args", "np.ones(3), 4"]) == 0
    out = capsys.readouterr().out
    assert "def scalar_loop_grad(x, n):" in out and "# adjoint sweep" in out
    assert "\x1b[" not in out  # not a terminal: plain text


def test_show_modes_argnums_stage_and_colour(capsys):
    target = f"{HERE / 'golden_functions.py'}:scaled_norm"
    assert main(["show", target, "--mode", "hessian", "--argnums", "0,1",
                 "--args", "np.ones(3), 2.0"]) == 0
    assert "def scaled_norm_jacrev_jacfwd(x, s):" in capsys.readouterr().out
    assert main(["show", target, "--mode", "jvp", "--stage", "canonical"]) == 0
    assert 'stage "canonical"' in capsys.readouterr().out
    assert main(["show", target, "--mode", "vmap", "--argnums", "0,None",
                 "--args", "np.ones((4, 3)), 2.0", "--color", "always"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" in out and "scaled_norm_vmap" in out


def test_show_reads_a_module_by_its_dotted_name(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    assert main(["show", "user_module:damped", "--mode", "grad", "--argnums", "1"]) == 0
    assert "def damped_grad(a, b" in capsys.readouterr().out


def test_show_refuses_bad_targets_with_one_clear_line(capsys, tmp_path):
    assert main(["show", str(tmp_path / "nothere.py") + ":f"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["show", f"{HERE / 'golden_functions.py'}:nope"]) == 2
    err = capsys.readouterr().err
    assert "has no function 'nope'" in err and "scalar_loop" in err
    assert main(["show", "no_such_module_anywhere:f"]) == 2
    assert "no module" in capsys.readouterr().err
    assert main(["show", "just_a_name"]) == 2
    assert "FILE.py:FUNCTION" in capsys.readouterr().err
    assert main(["show", f"{HERE / 'golden_functions.py'}:cube", "--args", "np.ones("]) == 2
    assert "--args" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # argparse: an unknown mode
        main(["show", f"{HERE / 'golden_functions.py'}:cube", "--mode", "grads"])
    assert e.value.code == 2


def test_show_names_the_line_of_a_refused_construct(capsys, tmp_path):
    path = tmp_path / "refused.py"
    path.write_text(textwrap.dedent("""\
        import numpy as np

        def f(x):
            try:
                y = np.sin(x)
            except ValueError:
                y = x
            return y
        """))
    assert main(["show", f"{path}:f", "--args", "1.0"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:4:" in err and "try" in err


def test_python_dash_m_nabla_show_and_the_entry_point(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\nprint('side effect')\n\n"
                    "def f(x):\n    return np.sum(np.exp(x))\n")
    env = dict(os.environ, NABLA_CACHE="0")
    r = subprocess.run([sys.executable, "-m", "nabla", "show", f"{path}:f", "--args",
                        "np.ones(2)"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# nabla.grad(f)") and "side effect" in r.stderr
    script = Path(sys.executable).parent / "nabla"
    assert script.exists(), "the `nabla` entry point is not installed: pip install -e ."
    r = subprocess.run([str(script), "show", f"{path}:nope"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 2 and "has no function 'nope'" in r.stderr


def test_a_transform_of_a_function_shown_under_another_mode():
    g = nabla.grad(two)
    hvp = nabla.source(g, np.ones(3), 2.0, mode="jvp")  # a Hessian-vector product
    assert hvp.startswith("# nabla.jvp(nabla.grad(two))") and "x_bar_dot" in hvp
    assert nabla.source(g, np.ones(3), 2.0).startswith("# nabla.grad(two)")
