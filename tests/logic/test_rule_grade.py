"""tutor.rule_grade: a learner's rule against the engine's, each typical wrong rule named."""

from __future__ import annotations

import pytest

from engine.expr import parse_program
from engine.ops import OPS
from tutor.misconceptions import CATALOGUE
from tutor.rule_code import signature
from tutor.rule_grade import DIAGNOSES, grade_rule, true_rule_text


@pytest.mark.parametrize("op", list(OPS))
def test_the_engine_rule_from_the_op_table_is_graded_right_for_every_op(op):
    verdict = grade_rule(true_rule_text(op), op)
    assert verdict.correct and verdict.kind == "right", verdict.message


def test_the_true_rule_reads_as_value_py_writes_it():
    assert true_rule_text("tanh") == (
        "def _tanh_backward(out):\n    (self,) = out._prev\n    self.grad += (1 - out.data**2) * out.grad\n"
    )
    assert "other.grad += (-self.data / other.data**2) * out.grad" in true_rule_text("/")


@pytest.mark.parametrize(
    "op, body, diagnoses, tags",
    [
        ("tanh", "self.grad += 1 - out.data**2", ["forgot the upstream gradient"], ["forgot-upstream"]),
        ("tanh", "self.grad = (1 - out.data**2) * out.grad", ["= for +="], ["overwrote-not-accumulated"]),
        (
            "tanh",
            "self.grad += (1 - self.data**2) * out.grad",
            ["the derivative at the input"],
            ["derivative-at-input"],
        ),
        (
            "exp",
            "self.grad += self.data * out.grad",
            ["the derivative at the input"],
            ["derivative-at-input"],
        ),
        (
            "sigmoid",
            "self.grad += self.data * (1 - self.data) * out.grad",
            ["the derivative at the input"],
            ["derivative-at-input"],
        ),
        ("tanh", "self.grad -= (1 - out.data**2) * out.grad", ["a flipped sign"], ["rule-wrong-sign"]),
        (
            "log",
            "self.grad += (1 / out.data) * out.grad",
            ["the derivative at the output"],
            ["derivative-at-input"],
        ),
        (
            "*",
            "self.grad += self.data * out.grad\n    other.grad += other.data * out.grad",
            ["its own input", "its own input"],
            ["own-input-in-mul"],
        ),
        (
            "/",
            "self.grad += (-self.data / other.data**2) * out.grad\n    other.grad += (1 / other.data) * out.grad",
            ["the wrong operand", "the wrong operand"],
            ["wrong-operand"],
        ),
        ("-", "self.grad += out.grad\n    other.grad += out.grad", ["a flipped sign"], ["rule-wrong-sign"]),
        (
            "+",
            "self.grad += out.grad / 2\n    other.grad += out.grad / 2",
            ["half the gradient", "half the gradient"],
            ["split-add-gradient"],
        ),
        (
            "tanh",
            "self.grad = 1 - self.data**2",
            ["= for +=", "the derivative at the input", "forgot the upstream gradient"],
            ["overwrote-not-accumulated", "derivative-at-input", "forgot-upstream"],
        ),
        (
            "**",
            "self.grad += k * self.data ** (k - 1)",
            ["forgot the upstream gradient"],
            ["forgot-upstream"],
        ),
    ],
)
def test_each_typical_wrong_rule_gets_its_diagnosis_by_name(op, body, diagnoses, tags):
    verdict = grade_rule(signature(op) + f"    {body}\n", op)
    assert not verdict.correct and verdict.kind == "wrong"
    assert verdict.diagnoses == diagnoses and verdict.tags == tags
    assert all(tag in CATALOGUE for tag in verdict.tags)
    assert diagnoses[0] in verdict.message
    # the values it gave against the right ones
    bad = [row for row in verdict.rows if not row.ok]
    assert bad and all(row.yours != pytest.approx(row.right) for row in bad)
    assert "yours gives" in verdict.message and "right" in verdict.table_text()


def test_a_rule_no_classic_mistake_explains_still_shows_its_numbers():
    verdict = grade_rule(signature("tanh") + "    self.grad += 7\n", "tanh")
    assert not verdict.correct and verdict.tags == [] and "no classic mistake" in verdict.message
    assert "self.grad 5.15 (right -2.1602)" in verdict.table_text()


def test_an_unreadable_rule_is_a_message_at_line_and_column():
    verdict = grade_rule(signature("tanh") + "    import os\n", "tanh")
    assert verdict.kind == "unreadable" and (verdict.line, verdict.col) == (3, 5)
    assert verdict.message.startswith("line 3, column 5:")


def test_on_the_program_the_gradient_check_marks_the_inputs_the_rule_gets_wrong():
    program = parse_program("x = 0.5\ny = 2\nz = x * y\no = tanh(z)\nL = o * y")
    wrong = grade_rule(signature("tanh") + "    self.grad += 1 - out.data**2\n", "tanh", program)
    assert [leaf.name for leaf in wrong.leaves] == ["x", "y"]
    assert all(not leaf.ok for leaf in wrong.leaves)
    assert all(leaf.numeric == pytest.approx(leaf.right, rel=1e-6) for leaf in wrong.leaves)
    right = grade_rule(true_rule_text("tanh"), "tanh", program)
    assert (
        right.correct and all(leaf.ok for leaf in right.leaves) and "gradient check agrees" in right.message
    )


def test_a_rule_that_cannot_be_computed_says_where():
    verdict = grade_rule(signature("tanh") + "    self.grad += out.grad / (out.data - out.data)\n", "tanh")
    assert verdict.kind == "wrong" and verdict.line == 3 and "divides by zero" in verdict.message


def test_every_diagnosis_names_a_catalogue_tag():
    assert all(d.tag in CATALOGUE for d in DIAGNOSES.values())


def test_the_stepper_runs_a_learners_rule_in_place_of_the_engines_for_one_op():
    from engine.stepper import Stepper
    from engine.value import topological_order
    from tutor.rule_code import read_rule

    text = signature("tanh") + "    self.grad += 1 - out.data**2\n"  # forgot out.grad
    rule = read_rule(text, "tanh").as_function()
    program = parse_program("x = 0.5\nw = 3\nz = x * w\no = tanh(z)\nL = o * w")
    graph = program.build()
    stepper = Stepper(graph.output, rules={"tanh": rule})
    stepper.run_to_end()
    # the same rule written as code in this test, run by the engine's own walk
    import math

    expect = program.build()
    o = expect.values["o"]
    expect.output.grad = 1.0
    for node in reversed(topological_order(expect.output)):
        if node._op == "tanh":
            (node._prev[0]).grad += 1 - node.data**2
        else:
            node._backward()
    assert graph.inputs["x"].grad == expect.inputs["x"].grad != 0
    assert graph.inputs["x"].grad != pytest.approx(_engine_grad(program, "x"))
    step = next(s for s in stepper.steps if s.kind == "rule" and s.op == "tanh")
    assert step.source == text and step.overridden
    assert "your rule" in step.changes[0].line
    assert o.data == pytest.approx(math.tanh(1.5))
    stepper.reset()
    assert all(v.grad == 0 for v in stepper.nodes)


def _engine_grad(program, name):
    graph = program.build()
    graph.output.backward()
    return graph.inputs[name].grad
