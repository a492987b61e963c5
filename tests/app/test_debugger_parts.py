"""The debugger's parts, read off the screen: the screen a program that cannot run opens, which
keys work when (as the footer shows them), the header row over the tree's columns, the
inspector's scrolling, and what a program must offer to be opened at all.
"""

from __future__ import annotations

from rich.style import Style
from textual import events

from engine.expr import parse_program
from tests.app.conftest import screen_text, squash
from tests.app.test_debugger import _ROW, ACROSS, SEEDS, SIZE, Host, _Built, _network_sample, _wide_sum, rows
from tutor.screens.debugger import DebuggerGraph, DebuggerProgram

LONG = "x = 0.5\ny = tanh(x) + exp(x) * log(x + 1) - relu(x) / sigmoid(x) + x**3"


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


# ----------------------------------------------------------------------------- cannot run


async def test_a_program_that_cannot_run_opens_a_screen_that_says_why_and_how_to_go_back():
    app = Host(parse_program("a = 0\nb = log(a)"), title="a log of 0")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = squash(screen_text(app))
        assert "This program cannot be run (line 2): log of a non-positive number (0)" in text
        assert "Press q to go back." in text and "a log of 0" in text
        assert "q Close" in footer(app) and "Next" not in footer(app)  # nothing to step
        await pilot.press("n", "e", "m", "g")
        await pilot.pause()
        assert app.results == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [False]


# ----------------------------------------------------------------------------- keys by state


async def test_while_a_question_is_open_the_keys_that_move_the_pass_wait_for_it():
    app = Host(parse_program(SEEDS), predict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert "n Next" in footer(app) and "e End" in footer(app)
        await pilot.press("n")
        await pilot.pause()
        assert screen.answer.is_open and "Skip question" in footer(app)
        await pilot.press("tab")  # out of the answer box: the stepping keys stay away
        await pilot.pause()
        assert app.focused is not screen.answer.input
        shown = footer(app)
        for key in ("Next", "Back", "Reset", "End", "Predict", "Mistake"):
            assert key not in shown, key
        assert "z Layout" in shown and "q Close" in shown
        await pilot.press("n", "p", "e", "m")
        await pilot.pause()
        assert screen.stepper.position == 0 and screen.answer.is_open and not screen.mistake
        await pilot.press("escape")  # skips the question; the keys come back
        await pilot.pause()
        assert not screen.answer.is_open and "n Next" in footer(app) and "m Mistake" in footer(app)
        await pilot.press("t", "n")
        await pilot.pause()
        assert screen.stepper.position == 1


# ----------------------------------------------------------------------------- the tree's columns


def _check_columns_line_up(app) -> int:
    """Every tree row's op, data and grad sit under the header row's words; returns the rows seen."""
    lines = screen_text(app).splitlines()
    header = next(line for line in lines if line.split()[:4] == ["node", "op", "data", "grad"])
    seen = 0
    for line in lines:
        m = _ROW.match(line.rstrip())
        if not m or line is header:
            continue
        seen += 1
        if m["op"]:
            assert m.start("op") == header.index(" op ") + 1, line
        assert m.end("data") == header.index("data") + 4, line
        assert m.end("grad") == header.index("grad") + 4, line
    return seen


async def test_the_header_row_stays_over_the_columns_as_deeper_lines_widen_them():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert _check_columns_line_up(app) == 7
    app = Host(_Built(_wide_sum(200)))  # opened lazily: only the root and its operands at first
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.screen.graph_tree.columns
        _check_columns_line_up(app)
        await pilot.press("e")  # the last step is deep down: the lines to it are added
        await pilot.pause()
        assert app.screen.graph_tree.columns.name > before.name
        assert _check_columns_line_up(app) > 5


async def test_each_line_is_as_wide_as_the_tree_counts_it():
    """The width `get_label_width` counts (the tree's horizontal scroll) is the width drawn."""
    app = Host(parse_program(ACROSS))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await pilot.press("n")
            await pilot.pause()
            tree = app.screen.graph_tree
            for line in range(tree.last_line + 1):
                node = tree.get_node_at_line(line)
                assert tree.get_label_width(node) == tree.render_label(node, Style(), Style()).cell_len


async def test_a_new_theme_redraws_every_line_with_its_marks():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await pilot.pause()
        before = rows(app.screen)
        app.theme = "textual-light"
        await pilot.pause()
        assert rows(app.screen) == before and [r.name for r in before if r.mark] == ["L", "d", "f"]


# ----------------------------------------------------------------------------- the inspector


async def test_the_mouse_wheel_scrolls_the_inspector():
    app = Host(parse_program(LONG))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        inspector = app.screen.inspector
        shown = [inspector.render_line(y).text for y in range(inspector.size.height)]
        assert "more lines" in shown[-1]
        inspector.post_message(events.MouseScrollDown(inspector, 1, 1, 0, 1, 0, False, False, False))
        await pilot.pause()
        first = inspector.render_line(0).text
        assert first != shown[0] and first in shown[1:]
        inspector.post_message(events.MouseScrollUp(inspector, 1, 1, 0, -1, 0, False, False, False))
        await pilot.pause()
        assert inspector.render_line(0).text == shown[0]


async def test_a_step_starts_the_inspector_at_its_top():
    app = Host(parse_program(LONG))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e", "p")
        await pilot.pause()
        inspector = app.screen.inspector
        inspector.focus()
        await pilot.press("pagedown")
        await pilot.pause()
        assert not inspector.render_line(0).text.strip().startswith("Step")
        app.screen.graph_tree.focus()
        await pilot.press("n")
        await pilot.pause()
        assert inspector.render_line(0).text.strip().startswith("Step")


# ----------------------------------------------------------------------------- what it accepts


def test_expression_programs_and_the_training_screens_samples_are_what_it_accepts():
    for program in (parse_program(SEEDS), _network_sample([4, 1])):
        assert isinstance(program, DebuggerProgram)
        graph = program.build()
        assert isinstance(graph, DebuggerGraph)
        assert set(graph.inputs) <= set(program.inputs)
        nudged = program.build({name: value + 1 for name, value in program.inputs.items()})
        assert nudged.output is not graph.output  # a fresh graph at each build
