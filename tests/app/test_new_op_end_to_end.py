"""The op added through the op table, leaky_relu(x, slope), works in every layer that shows ops.

It was added by writing its forward and its rule in engine/value.py and one entry in
engine/ops.py; nothing else names it. Here it is used as a learner and a teacher would: in an
expression program, stepped in the debugger (its rule in words, its chain-rule line with the
slope, its code), as a code-line quiz, checked by `tutor check` in a lesson, and listed and run
for PyTorch.
"""

from __future__ import annotations

import re
import textwrap

from engine.expr import parse_program
from tests.app.conftest import ScreenHost, screen_text, squash
from tests.fake_torch import load as load_fake_torch
from tutor.codeline import judge_line
from tutor.lessons import load_lesson
from tutor.screens.debugger import DebuggerScreen
from tutor.torch_compare import compare, torch_listing

PROGRAM = "x = -2\nw = 0.5\nz = w * x\nh = leaky_relu(z, 0.1)"


async def test_the_debugger_steps_leaky_relu_with_its_slope():
    program = parse_program(PROGRAM)
    app = ScreenHost(lambda: DebuggerScreen(program, title="leaky"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n")  # the seed, then h's rule
        await pilot.pause()
        text = squash(screen_text(app))
        assert "leaky_relu(0.1)" in text  # the tree's op column
        assert "the rule of h = leaky_relu(z, 0.1) ran" in text
        assert (
            "leaky_relu: passes the upstream gradient where the input is positive, slope × it elsewhere"
            in text
        )
        assert "∂h/∂z = 1 if z > 0 else 0.1" in text
        assert "z.grad += (1 if z.data > 0 else 0.1) * h.grad 0.0 + (0.1)(1.0) = 0.1" in text
        assert "slope = out._arg" in text  # the code that ran, read from engine/value.py
        await pilot.press("e")
        await pilot.pause()
        # x's line of the tree at the end: data -2.0, grad 0.1 × w = 0.05
        assert re.search(r"◆ x\s+-2\.0\s+0\.05 ←", screen_text(app))


def test_a_code_line_quiz_on_its_rule_names_the_mistakes():
    expect = "self.grad += (1 if self.data > 0 else slope) * out.grad"
    assert judge_line(
        "self.grad += (slope if self.data <= 0 else 1) * out.grad", expect, "leaky_relu"
    ).correct
    wrong = judge_line("self.grad = (1 if self.data > 0 else slope) * out.grad", expect, "leaky_relu")
    assert not wrong.correct and "overwrote-not-accumulated" in wrong.tags
    forgot = judge_line("self.grad += (1 if self.data > 0 else slope)", expect, "leaky_relu")
    assert not forgot.correct and "forgot-upstream" in forgot.tags


def test_tutor_check_accepts_a_lesson_that_uses_it(tmp_path):
    path = tmp_path / "leaky.md"
    path.write_text(
        textwrap.dedent(
            """\
            +++
            id = "leaky"
            title = "A leaky unit"
            section = "Tests"
            order = 1
            summary = "leaky_relu, stepped and written."
            prerequisites = []
            +++

            ```debugger
            program = "x = -2; h = leaky_relu(x, 0.1)"
            ```

            ```quiz
            kind = "code"
            prompt = "Write the line of leaky_relu's rule."
            rule = "leaky_relu"
            expect = "self.grad += (1 if self.data > 0 else slope) * out.grad"

            [[examples]]
            answer = "self.grad += (1 if self.data > 0 else slope) * out.grad"
            verdict = "right"
            ```

            ```train
            steps = 5
            [model]
            layers = [4, 1]
            activation = "leaky_relu"
            linear_output = true
            [data]
            name = "xor"
            [loss]
            kind = "max_margin"
            [optimiser]
            kind = "sgd"
            lr = 0.1
            ```
            """
        )
    )
    lesson = load_lesson(path, grade_examples=True)
    assert lesson.problems == []


def test_pytorch_lists_it_as_its_functional_and_agrees():
    program = parse_program("x = -2\nh = leaky_relu(x, 0.1)\ng = x.leaky_relu(0.2)\nL = h + g")
    listing = torch_listing(program)
    assert "h = torch.nn.functional.leaky_relu(x, 0.1)" in listing
    assert "g = torch.nn.functional.leaky_relu(x, 0.2)" in listing
    comparison = compare(program, load_fake_torch())
    assert comparison.agrees
    assert {row.name: row.torch_grad for row in comparison.rows}["x"] == 0.1 + 0.2
