"""The ```exercise block: read with its schema, its examples graded by `tutor check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import load_lesson

RIGHT = """def _tanh_backward(out):
    (self,) = out._prev
    self.grad += (1 - out.data**2) * out.grad
"""
WRONG = """def _tanh_backward(out):
    (self,) = out._prev
    self.grad += (1 - out.data**2)
"""


def lesson(body: str) -> str:
    return (
        '+++\nid = "ex"\ntitle = "Ex"\nsection = "Mine"\norder = 10\n'
        f'summary = "s"\nprerequisites = []\n+++\n\nProse.\n\n```exercise\n{body.strip()}\n```\n'
    )


GOOD = f'''
op = "tanh"
program = "x = 0.5; w = 2; o = tanh(x * w)"
caption = "Write tanh's rule"
hints = ["tanh's derivative is written with its output", "multiply by out.grad"]
[[examples]]
rule = """
{RIGHT}"""
right = true
[[examples]]
rule = """
{WRONG}"""
tags = ["forgot-upstream"]
'''


def check(capsys, path):
    code = main(["check", str(path)], environ={})
    out, err = capsys.readouterr()
    return code, out + err


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "10-ex.md"
    path.write_text(lesson(body))
    return path


def test_a_good_exercise_is_read_into_its_op_program_hints_and_examples(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert check(capsys, path)[0] == 0
    block = load_lesson(path).blocks[-1]
    exercise = block.exercise
    assert block.kind == "exercise" and exercise.op == "tanh" and len(exercise.hints) == 2
    assert exercise.start == "def _tanh_backward(out):\n    (self,) = out._prev\n"
    assert [ex.right for ex in exercise.examples] == [True, False]


@pytest.mark.parametrize(
    "change, where, words",
    [
        (('op = "tanh"', 'op = "tahn"'), 13, 'must be one of "+"'),
        (("x = 0.5; w = 2; o = tanh(x * w)", "x = 0.5; w = 2; o = x * w"), 14, "never uses tanh"),
        (("x = 0.5; w = 2; o = tanh(x * w)", "x = 0.5; o = tanh(y)"), 14, "unknown name"),
        (('tags = ["forgot-upstream"]', 'tags = ["tanh-on-input"]'), 25, 'grading gives "forgot-upstream"'),
        (('tags = ["forgot-upstream"]', 'tags = ["forgot-upstrem"]'), 30, "unknown misconception tag"),
        (("right = true", "right = false"), 18, "graded right"),
    ],
)
def test_a_wrong_exercise_is_a_problem_at_its_line(tmp_path, capsys, change, where, words):
    path = write(tmp_path, GOOD.replace(*change))
    code, out = check(capsys, path)
    assert code == 1 and words in out, out
    assert f"10-ex.md:{where}:" in out, out


def test_an_example_meant_right_that_is_wrong_says_what_grading_found(tmp_path, capsys):
    path = write(
        tmp_path,
        GOOD.replace(
            f'rule = """\n{WRONG}"""\ntags = ["forgot-upstream"]', f'rule = """\n{WRONG}"""\nright = true'
        ),
    )
    code, out = check(capsys, path)
    assert code == 1 and "meant to be right" in out and "forgot the upstream gradient" in out
