"""The exercise screen at 80×24: write a rule, see its diagnosis, run it in the debugger."""

from __future__ import annotations

import pytest

from engine.expr import parse_program
from tests.app.conftest import ScreenHost, screen_text, squash, wait_until
from tutor.lessons.exercise import Exercise

SIZE = (80, 24)
PROGRAM = "x = 0.5\nw = 3\nz = x * w\no = tanh(z)\nL = o * w"


def exercise(op="tanh", program=PROGRAM, hints=("tanh's derivative uses its output", "then times out.grad")):
    return Exercise(op, parse_program(program), "Write tanh's rule", tuple(hints))


def host(ex=None):
    from tutor.screens.exercise import ExerciseScreen

    return ScreenHost(lambda: ExerciseScreen(ex or exercise()))


async def type_text(pilot, text: str):
    """One key at a time, waiting between keys (a burst can reach the editor out of order)."""
    for ch in text:
        key = {"\n": "enter", " ": "space"}.get(ch, ch)
        await pilot.press(key if len(key) > 1 or ch.isalnum() else ch)
    await pilot.pause()


async def write_rule(pilot, app, line: str):
    editor = app.screen.editor
    editor.text = editor.text.rstrip() + "\n    " + line + "\n"
    await pilot.pause()


@pytest.mark.asyncio
async def test_the_editor_opens_with_the_signature_and_a_wrong_rule_gets_its_diagnosis():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "def _tanh_backward(out):" in text and "(self,) = out._prev" in text
        # given: the local derivative; not given: the chain rule's factor or the +=, the mistakes it grades
        assert "∂out/∂self = 1 - out²" in text
        assert "out.grad" not in text and "upstream" not in text and "+=" not in text
        await write_rule(pilot, app, "self.grad += 1 - out.data**2")
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Not yet: forgot the upstream gradient" in text
        assert "yours" in text and "right" in text and "self.grad" in text
        app.screen.editor.text = app.screen.editor.text.replace(
            "1 - out.data**2", "(1 - out.data**2) * out.grad"
        )
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "✓ Right" in screen_text(app)
        await pilot.press("escape")  # out of the editor (tab indents in it)
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [True]


@pytest.mark.asyncio
async def test_typing_in_the_editor_writes_the_rule():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_text(pilot, "self.grad += out.grad")
        assert app.screen.editor.text.endswith("\n    self.grad += out.grad")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Not yet" in screen_text(app)


@pytest.mark.asyncio
async def test_the_editor_opens_at_the_bodys_indent_so_a_rule_typed_at_once_is_right():
    """The cursor starts on the line under the unpacking, 4 spaces in: typed there, the rule is
    inside the def (at column 0 it would be outside it, a message about the indent)."""
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.editor.cursor_location == (2, 4)
        await type_text(pilot, "self.grad += (1 - out.data**2) * out.grad")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "✓ Right" in screen_text(app)


@pytest.mark.asyncio
async def test_an_unreadable_rule_says_where_and_nothing_runs():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await write_rule(pilot, app, "import os")
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "Cannot read the rule" in text and "line 3, column 5: an import is not allowed" in text
        assert type(app.screen).__name__ == "ExerciseScreen"  # the debugger did not open
        assert app.screen.editor.cursor_location == (2, 4)


@pytest.mark.asyncio
async def test_hints_come_one_at_a_time():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await pilot.pause()
        text = screen_text(app)
        assert "Hint 1 of 2: tanh's derivative uses its output" in text and "Hint 2" not in text
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Hint 2 of 2: then times out.grad" in screen_text(app)


@pytest.mark.asyncio
async def test_run_it_steps_the_learners_rule_and_the_check_marks_what_it_got_wrong():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await write_rule(pilot, app, "self.grad += 1 - out.data**2")  # forgot out.grad
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DebuggerScreen", "the debugger opening")
        debugger = app.screen
        await pilot.press("e")
        await pilot.pause()
        # the grads their rule gives: the same rule written as code here, run by the engine's walk
        from engine.value import topological_order

        program = parse_program(PROGRAM)
        graph = program.build()
        graph.output.grad = 1.0
        for node in reversed(topological_order(graph.output)):
            if node._op == "tanh":
                node._prev[0].grad += 1 - node.data**2
            else:
                node._backward()
        shown = {v.label: v.grad for v in debugger.stepper.nodes if v.label}
        assert shown["x"] == graph.inputs["x"].grad and shown["w"] == graph.inputs["w"].grad
        # stepping back to the tanh step: the inspector shows their source as the code that ran
        tanh_step = next(s.index for s in debugger.stepper.steps if s.op == "tanh")
        debugger.stepper.go_to(tanh_step + 1)
        debugger._refresh_view(None)
        await pilot.pause()
        text = squash(screen_text(app))
        assert "your rule, in place of the engine's" in text
        await pilot.press("z", "z")  # the inspector alone: the source shows whole
        await pilot.pause()
        assert "self.grad += 1 - out.data**2" in screen_text(app)
        await pilot.press("z", "g")
        await wait_until(pilot, lambda: "DISAGREE" in screen_text(app), "the gradient check")
        text = squash(screen_text(app))
        assert "with your rule" in text and "disagree with the measured slope" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ExerciseScreen", "back to the editor")
        assert app.screen.editor.has_focus
        # fixing and running again is one key away
        app.screen.editor.text = app.screen.editor.text.replace(
            "1 - out.data**2", "(1 - out.data**2) * out.grad"
        )
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DebuggerScreen", "the debugger again")
        await pilot.press("g")
        await wait_until(pilot, lambda: "match the measured slope" in screen_text(app), "the check passing")


def test_tutor_rule_names_the_ops_for_one_it_does_not_know(capsys):
    from tutor.cli import main

    assert main(["rule", "tnah", "--no-builtin"], environ={}) == 2
    err = capsys.readouterr().err
    assert "unknown op 'tnah'; did you mean 'tanh'?" in err and "leaky_relu" in err


@pytest.mark.asyncio
async def test_tutor_rule_opens_the_exercise_for_one_op_and_leaving_it_leaves(
    make_app, monkeypatch, tmp_path
):
    from tutor import cli
    from tutor.lessons.exercise import exercise_for

    launched = {}
    monkeypatch.setattr(
        cli, "_launch", lambda catalog, progress, **kw: launched.update(kw) or progress.close() or 0
    )
    assert cli.main(["rule", "mul", "--data-dir", str(tmp_path / "d")], environ={}) == 0
    assert launched["exercise"].op == "*"
    app = make_app(exercise=exercise_for("mul"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "def _mul_backward(out):" in screen_text(app) and "self, other = out._prev" in screen_text(app)
        await pilot.press("escape", "escape")
        await pilot.pause()
    assert app.return_code == 0


def test_a_case_too_wide_for_the_table_is_shown_whole_on_a_line_of_its_own():
    """A multiply's case (a, b, out.grad, the grad before) is wider than the case column: cut, it
    showed 'out.grad = -1' for -1.85."""
    from tutor.rule_grade import grade_rule
    from tutor.screens.exercise import verdict_text

    rule = "def _mul_backward(out):\n    self, other = out._prev\n    self.grad = out.grad\n    other.grad = out.grad\n"
    verdict = grade_rule(rule, "*")  # the random cases alone
    shown = verdict_text(verdict).plain.splitlines()
    wide = [row for row in verdict.rows if len(row.case) > 34]
    assert wide, "the test needs a case wider than the column"
    table = [line for line in shown if line.startswith(("a = ", " " * 34))]
    assert table and any(row.case in shown for row in wide)
    for line in table:  # each shown case whole: on its own line, or short enough for the column
        assert line in {row.case for row in verdict.rows} or line.startswith(" " * 34) or "  " in line[:36]


@pytest.mark.parametrize(
    "op, lines, head",
    [
        ("*", ["self.grad = out.grad", "other.grad = out.grad"], "= for +=, left out the local derivative"),
        ("tanh", ["self.grad = (1 - self.data**2) * out.grad"], "= for +=, the derivative at the input"),
        ("log", ["self.grad = (1 / out.data) * out.grad"], "= for +=, the derivative at the output"),
        (
            "/",
            ["self.grad = 1 / other.data", "other.grad += (-self.data / other.data**2) * out.grad"],
            "= for +=, forgot the upstream gradient",
        ),
        ("-", ["self.grad += out.grad", "other.grad = out.grad"], "= for +=, a flipped sign"),
    ],
)
def test_the_verdict_names_both_mistakes_of_a_rule_that_makes_two(op, lines, head):
    from tutor.rule_code import signature
    from tutor.rule_grade import grade_rule
    from tutor.screens.exercise import verdict_text

    rule = signature(op) + "".join(f"    {line}\n" for line in lines)
    shown = verdict_text(grade_rule(rule, op)).plain.splitlines()
    assert shown[0] == f"✗ Not yet: {head}"
    assert " and ".join(head.split(", ")) in shown[1]  # the message under it joins them with 'and'


@pytest.mark.asyncio
async def test_a_multiply_rule_with_two_mistakes_shows_both_on_the_screen():
    from tutor.lessons.exercise import default_program

    app = host(Exercise("*", parse_program(default_program("*")), "Write the multiply rule", ()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await write_rule(pilot, app, "self.grad = out.grad\n    other.grad = out.grad")
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "✗ Not yet: = for +=, left out the local derivative" in text


async def type_lines(pilot, lines: list[str]):
    """Each line typed key by key, then Enter, with a pause after every key."""
    for line in lines:
        for ch in line:
            await pilot.press({" ": "space"}.get(ch, ch))
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()


def editor_rows(app) -> list[str]:
    """The editor's text as drawn: its rows of the screen, the line-number gutter cut off."""
    editor = app.screen.editor
    inner = editor.content_region  # inside the editor's border
    rows = screen_text(app).splitlines()[inner.y : inner.y + inner.height]
    return [row[inner.x + editor.gutter_width : inner.right].rstrip() for row in rows]


@pytest.mark.asyncio
async def test_enter_keeps_the_indent_so_a_rule_typed_line_by_line_is_read_as_written():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")  # select all (TextArea's key), and type the rule over it from the def line
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        assert app.screen.editor.text == ""
        await type_lines(
            pilot,
            ["def _tanh_backward(out):", "(self,) = out._prev", "self.grad += (1 - out.data**2) * out.grad"],
        )
        drawn = editor_rows(app)
        assert drawn[:4] == [
            "def _tanh_backward(out):",
            "    (self,) = out._prev",  # one level in, after the line ending in ':'
            "    self.grad += (1 - out.data**2) * out.grad",  # the same indent as the line above
            "",  # the new line holds its four spaces, drawn blank
        ]
        assert app.screen.editor.cursor_location == (3, 4)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "✓ Right" in screen_text(app)


@pytest.mark.asyncio
async def test_backspace_in_the_indent_takes_away_one_level():
    app = host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        editor = app.screen.editor
        await pilot.press("tab")  # the empty last line opens one level in: now two levels
        await pilot.pause()
        assert editor.cursor_location == (2, 8)
        await pilot.press("enter")
        await pilot.pause()
        assert editor.cursor_location == (3, 8)  # the new line keeps both levels
        await pilot.press("backspace")
        await pilot.pause()
        assert editor.cursor_location == (3, 4) and editor.document[3] == "    "
        await pilot.press("backspace")
        await pilot.pause()
        assert editor.cursor_location == (3, 0) and editor.document[3] == ""
        await type_lines(pilot, ["x"])
        assert editor_rows(app)[3] == "x"  # at the left edge: one level at a time took it there
        await pilot.press("h", "i")
        await pilot.pause()
        await pilot.press("backspace")  # past the indent, backspace is one character again
        await pilot.pause()
        assert editor.document[4] == "h"
