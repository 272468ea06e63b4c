"""docs/exercises/ and nabla.exercises.check: every solution passes, a stub is reported as
not written, and a derivative wrong on one line is reported by that line and variable."""

import importlib.util
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import nabla
from nabla.exercises import check

EXERCISES = Path(__file__).resolve().parent.parent / "docs" / "exercises"
NAMES = sorted(p.stem for p in EXERCISES.glob("ex*.py"))


def load(path: Path, prefix: str):
    """The module at ``path``, imported under a name of its own."""
    name = f"nabla_test_{prefix}_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def exercise(name):
    return load(EXERCISES / f"{name}.py", "exercise")


def stub_of(module):
    """The exercise's function for the learner to write (check_mine's default)."""
    return inspect.signature(module.check_mine).parameters["mine"].default


def test_there_are_exercises_and_solutions():
    assert len(NAMES) >= 4
    assert sorted(p.stem for p in (EXERCISES / "solutions").glob("ex*.py")) == NAMES
    assert (EXERCISES / "README.md").is_file()
    readme = (EXERCISES / "README.md").read_text()
    assert all(f"`{n}.py`" in readme for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_passes(name):
    ex = exercise(name)
    solution = load(EXERCISES / "solutions" / f"{name}.py", "solution")
    stub = stub_of(ex)
    # the solution states the exercise's problem, word for word
    problem = [n for n, v in vars(ex).items() if inspect.isfunction(v) and
               v.__module__ == ex.__name__ and n not in (stub.__name__, "check_mine")]
    assert problem
    for n in problem:
        assert inspect.getsource(getattr(solution, n)) == inspect.getsource(getattr(ex, n))
    verdict = ex.check_mine(getattr(solution, stub.__name__))
    assert verdict.ok, verdict.message
    assert verdict.status == "ok" and bool(verdict)
    assert "agrees with nabla" in verdict.message


@pytest.mark.parametrize("name", NAMES)
def test_the_stub_is_reported_as_not_written(name):
    ex = exercise(name)
    old = nabla.config.jit
    verdict = ex.check_mine()
    assert nabla.config.jit == old
    assert not verdict.ok and verdict.status == "not written"
    assert "not written yet" in verdict.message
    assert "NotImplementedError('your derivative here')" in verdict.message
    source = (EXERCISES / f"{name}.py").read_text().splitlines()
    assert 'raise NotImplementedError("your derivative here")' in source[verdict.line - 1]
    with pytest.raises(AssertionError, match="not written yet"):
        verdict.assert_ok()


# (exercise, a line of its solution, the same line made wrong, the variable it assigns)
WRONG = [
    ("ex2_tangent", "    s_dot = 2 * x * x_dot + y_dot", "    s_dot = 2 * x * x_dot - y_dot",
     "s_dot"),
    ("ex3_adjoint", "    y_bar = -out_bar * out / y + z_bar * x",
     "    y_bar = out_bar * out / y + z_bar * x", "y_bar"),
    ("ex3_adjoint", "    w_bar = out_bar / y", "    w_bar = out_bar * y", "w_bar"),
    ("ex4_loop", "        a_bar = 0.1 * v_bar", "        a_bar = -0.1 * v_bar", "a_bar"),
    ("ex6_per_example", "    r_bar = out_bar * r", "    r_bar = out_bar * p", "r_bar"),
]


@pytest.mark.parametrize("name, right, wrong, variable", WRONG,
                         ids=[f"{w[0]}-{w[3]}" for w in WRONG])
def test_a_wrong_line_is_named(tmp_path, name, right, wrong, variable):
    lines = (EXERCISES / "solutions" / f"{name}.py").read_text().splitlines()
    assert lines.count(right) == 1, right
    lineno = lines.index(right) + 1
    lines[lineno - 1] = wrong
    path = tmp_path / f"{name}.py"
    path.write_text("\n".join(lines) + "\n")
    ex, mine = exercise(name), load(path, "wrong")
    verdict = ex.check_mine(getattr(mine, stub_of(ex).__name__))
    assert not verdict.ok and verdict.status == "wrong"
    assert (verdict.line, verdict.name) == (lineno, variable), verdict.message
    assert verdict.line_text == wrong.strip()
    assert f"line {lineno} of {name}.py: {wrong.strip()}: your {variable} is " in \
        verdict.message
    assert f"nabla's {variable} is " in verdict.message
    assert verdict.max_error > 0
    assert not np.allclose(np.asarray(verdict.yours, dtype=float),
                           np.asarray(verdict.nabla, dtype=float))


def f(x, y):
    z = x * y
    w = np.sin(z)
    return w / y


def test_an_error_is_reported_by_its_line():
    def f_grad(x, y):
        out_bar = 1.0
        w_bar = out_bar / (y - y)
        return w_bar, w_bar
    verdict = check(f_grad, f, argnums=(0, 1))
    assert verdict.status == "raised" and not verdict.ok
    assert "f_grad raised ZeroDivisionError" in verdict.message
    assert verdict.line_text == "w_bar = out_bar / (y - y)"


def test_the_wrong_structure_is_reported():
    def returns_none(x, y):
        x_bar = y
        x_bar = x_bar * 1.0
    verdict = check(returns_none, f, argnums=(0, 1))
    assert verdict.status == "wrong"
    assert "you return None, nabla returns a tuple of 2" in verdict.message

    def one_of_two(x, y):
        return np.cos(x * y)
    verdict = check(one_of_two, f, argnums=(0, 1))
    assert "you return a number, nabla returns a tuple of 2" in verdict.message


def test_without_line_names_the_output_is_still_compared():
    def f_grad(x, y):
        return np.cos(x * y), np.cos(x * y) * x / y + np.sin(x * y) / y ** 2
    verdict = check(f_grad, f, argnums=(0, 1), examples=[(0.5, 1.5), (1.0, 2.0)])
    assert not verdict.ok
    assert "the gradient with respect to y" in verdict.message
    assert "name your adjoints x_bar" in verdict.message
    assert verdict.line is None


def test_value_mode_and_a_jit_setting_kept():
    old = nabla.config.jit
    nabla.config.jit = "strict"
    try:
        def twice(x):
            return 2.0 * np.cos(x)

        def two_sin(x):
            return 2.0 * np.sin(x)
        ref = nabla.grad(two_sin)
        assert check(twice, ref, mode="value", examples=(0.3,)).ok
        assert nabla.config.jit == "strict"
    finally:
        nabla.config.jit = old


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        check(f, f, mode="hessian")
    with pytest.raises(ValueError, match="one argument number"):
        check(f, f, mode="hvp", argnums=(0, 1))


def test_the_exercise_files_run_as_scripts():
    # each ends with ``if __name__ == "__main__":`` calling check on the learner's function
    for name in NAMES:
        text = (EXERCISES / f"{name}.py").read_text()
        assert re.search(r'if __name__ == "__main__":\n    verdict = check_mine\(\)', text)
        text = (EXERCISES / "solutions" / f"{name}.py").read_text()
        assert 'if __name__ == "__main__":' in text
