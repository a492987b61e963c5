"""The ```exercise block's own-op form (new_op, forward, derivative, [train]): read with its
schema, every bad input a message at its line, its examples graded by `tutor check`, lesson 14,
`tutor rule softplus`, and a wrong attempt coming back as a review of the same exercise."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons import builtin_lessons_dir, load_catalog, load_lesson
from tutor.lessons.exercise import exercise_for
from tutor.progress.records import Attempt
from tutor.review.questions import item_line, review_question
from tutor.review.schedule import review_items
from tutor.review.skills import skill_of_tag

HEAD = "def _softplus_backward(out):\n    (self,) = out._prev\n"
RIGHT = HEAD + "    self.grad += sigmoid(self.data) * out.grad\n"
NO_UPSTREAM = HEAD + "    self.grad += sigmoid(self.data)\n"

TRAIN = """
[train]
steps = 5

[train.model]
layers = [4, 1]

[train.data]
name = "moons"
samples = 20

[train.loss]
kind = "max_margin"

[train.optimiser]
kind = "sgd"
lr = 0.5
"""

GOOD = f'''
new_op = "softplus"
forward = "log(1 + exp(x))"
derivative = "sigmoid(x)"
caption = "Write softplus"
hints = ["its slope is sigmoid(x)"]
{TRAIN}
[[examples]]
forward = "log(1 + exp(x))"
rule = """
{RIGHT}"""
right = true

[[examples]]
forward = "log(1 + exp(x))"
rule = """
{NO_UPSTREAM}"""
tags = ["forgot-upstream"]
'''


def lesson(body: str) -> str:
    return (
        '+++\nid = "own"\ntitle = "Own"\nsection = "Mine"\norder = 10\n'
        f'summary = "s"\nprerequisites = []\n+++\n\nProse.\n\n```exercise\n{body.strip()}\n```\n'
    )


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "10-own.md"
    path.write_text(lesson(body))
    return path


def check(capsys, path):
    code = main(["check", str(path)], environ={})
    out, err = capsys.readouterr()
    return code, out + err


def line_of(path: Path, text: str, nth: int = 0) -> int:
    """The file's line (1-based) that holds ``text``: the first one, or the ``nth`` after it."""
    return [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line][nth]


def test_an_own_op_exercise_is_read_into_its_reference_task_and_examples(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert check(capsys, path) == (0, "checked 1 lesson: 0 problems\n")
    exercise = load_lesson(path).blocks[-1].exercise
    assert exercise.is_own and exercise.op == "softplus" and exercise.program is None
    assert exercise.own.name == "softplus" and exercise.own.forward(0.0) == pytest.approx(0.693147, 1e-6)
    assert exercise.start == HEAD
    assert exercise.caption == "Write softplus" and exercise.hints == ("its slope is sigmoid(x)",)
    task = exercise.train
    assert task.steps == 5 and task.model.layers == (4, 1) and task.data.samples == 20
    assert task.model.linear_output  # only the hidden layers take the learner's op
    assert [(ex.forward, ex.right, ex.tags) for ex in exercise.examples] == [
        ("log(1 + exp(x))", True, ()),
        ("log(1 + exp(x))", False, ("forgot-upstream",)),
    ]


def test_without_a_train_table_there_is_no_task(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace(TRAIN, ""))
    assert check(capsys, path)[0] == 0
    assert load_lesson(path).blocks[-1].exercise.train is None


@pytest.mark.parametrize(
    "change, at, words",
    [
        (  # both forms at once
            ('new_op = "softplus"', 'op = "tanh"\nnew_op = "softplus"'),
            'new_op = "softplus"',
            "keep op (an op of the engine, with its program) or new_op",
        ),
        (('new_op = "softplus"\n', ""), "```exercise", "no 'op' or 'new_op' key"),
        (
            ('new_op = "softplus"', 'new_op = "tanh"'),
            'new_op = "tanh"',
            "'tanh' is already an op of the engine",
        ),
        (
            ('derivative = "sigmoid(x)"', 'derivative = "tanh(x)"'),
            'derivative = "tanh(x)"',
            "derivative: at x = ",
        ),
        (
            ('forward = "log(1 + exp(x))"\nderivative', 'forward = "log(1 + exp(y))"\nderivative'),
            "exp(y)",
            "unknown name 'y'",
        ),
        (
            ('derivative = "sigmoid(x)"\n', ""),
            "```exercise",
            "no 'derivative' key; add derivative = \"sigmoid(x)\"",
        ),
        (
            ('caption = "Write softplus"', 'caption = "Write softplus"\nprogram = "x = 1; y = tanh(x)"'),
            "program = ",
            "program belongs to the op's (an op of the engine) form",
        ),
        (
            ("layers = [4, 1]", 'layers = [4, 1]\nactivation = "relu"'),
            'activation = "relu"',
            "train.model.activation: the learner's op is the activation of every hidden layer",
        ),
        (
            ("layers = [4, 1]", "layers = [4, 1]\nlinear_output = false"),
            "linear_output = false",
            "train.model.linear_output: the output stays a plain score",
        ),
        (
            ("layers = [4, 1]", "layers = [4, 2]"),
            "layers = [4, 2]",
            "train.model.layers: the last layer must have 1 neuron",
        ),
        (("lr = 0.5", "lr = 0"), "lr = 0", "train.optimiser.lr: must be above 0"),
        (
            ("layers = [4, 1]", "layers = [64, 64, 64, 64, 64, 64, 64, 1]"),
            "samples = 20",
            "train.data.samples: a step of this task takes the time of about",
        ),
        (
            ('tags = ["forgot-upstream"]', 'tags = ["rule-wrong-sign"]'),
            ('rule = """', 1),
            'examples[1].rule: grading gives "forgot-upstream", the example expects "rule-wrong-sign"',
        ),
        (
            ("right = true", "right = false"),
            ('rule = """', 0),
            "examples[0].rule: this rule is graded right",
        ),
    ],
)
def test_a_wrong_own_op_block_is_a_problem_at_its_line(tmp_path, capsys, change, at, words):
    assert change[0] in GOOD
    path = write(tmp_path, GOOD.replace(*change, 1))
    code, out = check(capsys, path)
    assert code == 1 and words in out, out
    text, nth = at if isinstance(at, tuple) else (at, 0)
    assert f"10-own.md:{line_of(path, text, nth)}:" in out, out


def test_the_budget_of_a_train_table_weighs_the_lessons_op_more_than_a_built_in_one(tmp_path, capsys):
    # 2,500 steps of this task fit a train block (18 million value-steps of the 50 allowed), but
    # not with the own op's slower nodes (60 million)
    body = GOOD.replace("steps = 5", "steps = 2500").replace("samples = 20", "samples = 200")
    path = write(tmp_path, body)
    code, out = check(capsys, path)
    assert (
        code == 1 and "train.steps:" in out and "the new op's" in out and "nodes a step as 22 values" in out
    ), out
    plain = tmp_path / "plain.md"
    train = TRAIN.replace("[train.", "[").replace("[train]\n", "").replace("steps = 5", "steps = 2500")
    plain.write_text(
        lesson("").replace(
            "```exercise\n\n```", "```train\n" + train.replace("samples = 20", "samples = 200") + "```"
        )
    )
    assert check(capsys, plain)[0] == 0


def test_an_example_that_grades_otherwise_names_the_part_at_fault(tmp_path, capsys):
    # meant right, but its forward is not softplus: the problem is at the example's forward
    body = GOOD.replace('forward = "log(1 + exp(x))"\nrule', 'forward = "log(exp(x))"\nrule', 1)
    path = write(tmp_path, body)
    code, out = check(capsys, path)
    assert code == 1 and "examples[0].forward: this rule is meant to be right" in out, out
    assert "Your forward is not softplus" in out
    assert f"10-own.md:{line_of(path, 'log(exp(x))')}:" in out


def test_an_own_op_example_without_its_forward_is_refused_and_an_op_example_with_one(tmp_path, capsys):
    body = GOOD.replace('forward = "log(1 + exp(x))"\nrule', "rule", 1)
    code, out = check(capsys, write(tmp_path, body))
    assert code == 1 and "examples[0]: an own op's example gives the forward written with its rule" in out
    tanh = (
        'op = "tanh"\nprogram = "x = 0.5; o = tanh(x)"\n[[examples]]\nforward = "tanh(x)"\n'
        'rule = "def _tanh_backward(out):\\n    (self,) = out._prev\\n    self.grad += (1 - out.data**2) * out.grad\\n"\n'
        "right = true\n"
    )
    code, out = check(capsys, write(tmp_path, tanh))
    assert code == 1 and "examples[0].forward: forward is for a new_op's example; remove it" in out, out


LESSON_14 = builtin_lessons_dir() / "14-your-own-op.md"


def test_lesson_14_passes_check_and_its_exercise_trains_softplus(capsys):
    code, out = check(capsys, LESSON_14)
    assert (code, out) == (0, "checked 1 lesson: 0 problems\n")
    exercises = [b.exercise for b in load_lesson(LESSON_14).blocks if b.kind == "exercise"]
    (exercise,) = exercises
    assert exercise.is_own and exercise.op == "softplus" and exercise.train is not None
    tags = {t for ex in exercise.examples for t in ex.tags}
    assert tags == {"forgot-upstream", "overwrote-not-accumulated", "rule-wrong-sign", "derivative-at-input"}


CATALOG = load_catalog([builtin_lessons_dir()])


def test_tutor_rule_softplus_finds_the_courses_own_op_exercise():
    exercise = exercise_for("softplus", CATALOG)
    assert exercise.is_own and exercise.own.name == "softplus" and exercise.train is not None
    assert not exercise_for("tanh", CATALOG).is_own
    with pytest.raises(ValueError) as err:
        exercise_for("softplux", CATALOG)
    assert "did you mean 'softplus'?" in str(err.value) and "the course's new ones: softplus" in str(
        err.value
    )


def test_a_wrong_own_op_attempt_comes_back_as_the_same_exercise():
    lesson = CATALOG.get("your-own-op")
    block = next(b for b in lesson.blocks if b.kind == "exercise")
    attempt = Attempt(
        lesson.id, block.id, NO_UPSTREAM, False, ["forgot-upstream"], "2026-03-02T10:00:00+00:00"
    )
    (item,) = review_items([attempt])
    question = review_question(item, CATALOG, date(2026, 3, 3))
    assert question is not None and question.exercise is block.exercise and question.exercise.is_own
    where, what = item_line(item, CATALOG)
    assert where == f"Your own op, part {block.index + 1} (write the op)"
    assert what.startswith("you answered def _softplus_backward(out):")


def test_every_tag_an_own_op_attempt_can_get_has_a_skill():
    from tutor.own_op import grade_own_op

    exercise = exercise_for("softplus", CATALOG)
    for ex in exercise.examples:
        for tag in grade_own_op(exercise.own, ex.forward, ex.rule).tags:
            assert skill_of_tag(tag) is not None, tag


def test_the_lesson_format_doc_has_a_row_for_every_key_of_the_exercise_block():
    from tutor.lessons.exercise import EXERCISE

    doc = (Path(__file__).resolve().parents[2] / "docs" / "lesson-format.md").read_text(encoding="utf-8")
    section = doc[doc.index("## `exercise` blocks") : doc.index("## `pytorch` blocks")]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")]
    shown = {"train": "`[train]`", "examples": "`[[examples]]`"}
    for key in EXERCISE.keys:
        name = shown.get(key.name, f"`{key.name}`")
        assert any(name in row.split(", ") for row in rows), key.name
