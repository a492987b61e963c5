"""The learner's loop in the debugger at 80×24, read from what is drawn: predict mode's question,
answer and whole diagnosis in view on a 12-row tree; answers right to the precision typed; escape
skips a question by running its step; focus stays in the answer box."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from engine.expr import parse_program
from engine.numfmt import fmt
from tests.app.conftest import ScreenHost, screen_text, squash
from tutor.screens.debugger import DebuggerScreen

# the example, x used twice (10 rows now that a - b is one node; it had 12 when - was two)
TWELVE = "x = 3.0; a = 3 * x**2; b = 4 * x; f = a - b + 5"
SIZE = (80, 24)


def Host(program_text: str, **options) -> ScreenHost:
    return ScreenHost(lambda: DebuggerScreen(parse_program(program_text), **options))


async def ask_after(pilot, screen, steps: int) -> None:
    """Run ``steps`` steps with predict mode off, then turn it on and press n for a question."""
    await pilot.press(*["n"] * steps, "t", "n")
    await pilot.pause()
    await pilot.pause()


async def type_answer(pilot, text: str) -> None:
    await pilot.press(*[{"-": "minus", ".": "full_stop"}.get(ch, ch) for ch in text], "enter")
    await pilot.pause()
    await pilot.pause()


def tree_rows(lines: list[str]) -> list[str]:
    """The tree's rows: under the header and column row, down to the first rule across."""
    end = next(i for i, line in enumerate(lines) if i > 1 and line[:3] in ("───", "━━━"))
    return lines[2:end]


def drawn(app) -> str:
    return squash(screen_text(app))


@pytest.mark.parametrize(
    "steps, typed, named, node",
    [
        (0, "0", "forgot to seed the output's gradient with 1", "f"),
        (3, "4", "forgot the upstream gradient", "b"),
        (3, "-3", "used the node's own input in a multiply", "b"),
        (5, "18", "overwrote instead of accumulating", "n2"),
    ],
    ids=["forgot-seed", "forgot-upstream", "own-input", "overwrote"],
)
async def test_the_question_the_answer_and_the_whole_diagnosis_are_in_view(steps, typed, named, node):
    app = Host(TWELVE)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await ask_after(pilot, screen, steps)
        await type_answer(pilot, typed)
        text = screen_text(app)
        flat = squash(text)
        feedback = screen.answer.feedback_text
        assert named in feedback
        assert squash(feedback) in flat  # every word of the diagnosis, not its first line
        assert squash(screen.answer.question_text) in flat
        lines = text.splitlines()
        assert len(lines) == 24
        assert lines[-1].strip() == "esc Skip question"  # the footer whole, on the last row
        assert not any(ch in text for ch in "▁▂▃▄▅▆▇█")  # no scroll bar anywhere
        # the node asked about stays in view above the answer box
        names = {word for line in tree_rows(lines) for word in line.split()}
        assert node in names


async def test_the_tree_gives_way_to_keep_the_node_asked_about_in_view():
    # a tree of 30 rows: the question about the deepest step must still show that node
    program = (
        "; ".join(f"x{i} = {i}.0" for i in range(1, 9))
        + "; f = "
        + " + ".join(f"x{i} * x{i + 1}" for i in range(1, 8))
    )
    app = Host(program)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        steps = len(screen.stepper.steps) - 1
        await ask_after(pilot, screen, steps)
        asked = screen.stepper.name(screen.stepper.upcoming.node)
        operands = [screen.stepper.name(p) for p in screen.stepper.upcoming.node._prev]
        text = screen_text(app)
        shown = {w for line in tree_rows(text.splitlines()) for w in line.split()}
        assert asked in shown and all(o in shown for o in operands)
        assert squash(screen.answer.question_text) in squash(text)


async def test_an_answer_to_three_figures_is_right():
    # o = tanh(n) with o = 0.70711: n.grad = 1 - o² = 0.5; 1 - n² (the input) = 0.22317
    program = "n = 0.8813735870195432; w = 2.0; m = n * w; o = tanh(m)"
    app = Host(program)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await ask_after(pilot, screen, 1)
        right = screen.question.after
        await type_answer(pilot, f"{right:.3g}")
        assert f"Right: m.grad = {fmt(right)}" in drawn(app)


async def test_the_answer_box_says_what_precision_is_expected():
    app = Host(TWELVE, predict=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert "two significant figures or more" in drawn(app)


async def test_escape_runs_the_step_and_n_asks_the_next_question():
    app = Host(TWELVE, predict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("n")
        await pilot.pause()
        assert "What will f.grad be" in drawn(app)
        await pilot.press("escape")
        await pilot.pause()
        text = drawn(app)
        assert "Skipped" in text and "Step 1 of 6: seed the output" in text
        await pilot.press("n")
        await pilot.pause()
        text = drawn(app)
        assert "What will f.grad be" not in text
        assert "What will n1.grad be" in text
        assert screen.stepper.position == 1


@pytest.mark.parametrize("first", ["7", "abc"], ids=["wrong number", "unreadable"])
async def test_focus_stays_in_the_answer_box_to_try_again(first):
    app = Host(TWELVE, predict=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await type_answer(pilot, first)
        assert isinstance(app.focused, Input)
        await pilot.press(*["backspace"] * len(first))
        await type_answer(pilot, "1")  # typed straight away, no click or Tab
        assert "Right: f.grad = 1.0" in drawn(app)


# ----------------------------------------------------------------------------- the order, visible

ORDER = "x = 2; y = x * x; s = y * y; L = y + s"  # the topological-order lesson's graph


def strip(app) -> list[str]:
    """The two lines under the tree: the order, and why the next rule is next."""
    lines = screen_text(app).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("order "))
    return [line.strip() for line in lines[start : start + 3]]


async def test_the_order_strip_marks_done_current_and_to_come_and_says_why_y_waits():
    app = Host(ORDER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await pilot.pause()
        order, *why = strip(app)
        assert order == "order ✓ seed L  ▶ L  · s  · y"
        why = " ".join(why)
        assert "Next s: its user L has run, so s.grad is complete." in why
        assert "y waits: s uses it and has not run yet." in why
        await pilot.press("n")
        await pilot.pause()
        order, *why = strip(app)
        assert order == "order ✓ seed L  ✓ L  ▶ s  · y"
        assert "Next y: its users L and s have run, so y.grad is complete." in " ".join(why)


async def test_the_wrong_order_mode_runs_the_rules_first_reached_first_and_x_grad_is_4():
    app = Host(ORDER)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("m")  # = instead of +=
        await pilot.pause()
        assert "= instead of +=" in drawn(app)
        await pilot.press("m")  # the wrong order
        await pilot.pause()
        text = drawn(app)
        assert "run in a wrong order" in text
        assert "x 36.0 4.0 ✗ wrong" in text  # the lesson's 4, beside the right 36
        await pilot.press("r", "n", "n")
        await pilot.pause()
        order, *why = strip(app)
        assert order == "order ✓ seed L  ▶ L  · y  · s"  # y before s: wrong
        assert "y runs now, but s uses it and has not run yet: y.grad is not complete." in " ".join(why)
        await pilot.press("e")
        await pilot.pause()
        assert "x ↺2 2.0 4.0" in drawn(app)  # the tree shows the wrong grad
        await pilot.press("m", "m")  # past every-time-reached, then off: the engine as written
        await pilot.pause()
        assert screen.mistake is None
        assert "mistake mode" not in drawn(app)


async def test_the_every_time_reached_mode_runs_y_three_times_and_x_grad_is_76():
    """The lesson's other wrong walk: a rule run every time the walk reaches its node."""
    app = Host(ORDER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "m", "m")  # =, first reached, then every time reached
        await pilot.pause()
        text = drawn(app)
        assert "run every time the walk reaches them" in text
        assert "x 36.0 76.0 ✗ wrong" in text  # the lesson's 76, beside the right 36
        await pilot.press("r", *"nnnn")  # the seed, L, y, s: next is y again
        await pilot.pause()
        order, *why = strip(app)
        assert "y runs again (it ran once already)" in " ".join(why)
        assert order.count("y") == 3  # y's rule is in the order three times
        await pilot.press("e")
        await pilot.pause()
        assert "x ↺2 2.0 76.0" in drawn(app)


async def test_a_graph_of_too_many_paths_is_refused_the_every_time_mode():
    chain = "x = 1.0; " + "; ".join(
        f"v{i} = {'x' if i == 0 else f'v{i - 1}'} + {'x' if i == 0 else f'v{i - 1}'}" for i in range(20)
    )
    app = Host(chain)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("m", "m", "m")
        await pilot.pause()
        assert screen.mistake is None
        assert "too many to run a rule for each" in drawn(app)


# ----------------------------------------------------------------------------- the summary

# the tree's six questions, as a learner answers them: two forget the upstream gradient
TWELVE_ANSWERS = [["1"], ["1"], ["1"], ["4", "-4"], ["3"], ["2", "14"]]


async def test_the_end_of_a_predicted_pass_sums_up_how_it_went():
    app = Host(TWELVE, predict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for tries in TWELVE_ANSWERS:
            await pilot.press("n")
            await pilot.pause()
            for typed in tries:
                screen.answer.input.value = ""
                await type_answer(pilot, typed)
        assert screen.stepper.done
        summary = "Predictions: 4 of 6 right first time; forgot the upstream gradient twice."
        assert summary in drawn(app)
        await pilot.press("n")  # n at the end says so again
        await pilot.pause()
        assert "The backward pass is complete." in drawn(app) and summary in drawn(app)


# ----------------------------------------------------------------------------- the forward pass


def unknown(text: str) -> int:
    """How many tree rows show ``?`` for their data (not computed yet)."""
    return sum(line.rstrip().endswith("?") for line in tree_rows(text.splitlines()))


async def test_f_steps_the_forward_pass_from_the_inputs_up_then_n_goes_backward():
    app = Host(TWELVE)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("f")
        await pilot.pause()
        text = screen_text(app)
        assert "Forward pass: 0 of 5 nodes computed" in squash(text)
        assert unknown(text) == 5  # every op node waits; the inputs have their data
        await pilot.press("n")
        await pilot.pause()
        text = screen_text(app)
        assert "Forward pass: node 1 of 5, n2 = 9.0" in squash(text)
        assert unknown(text) == 4
        assert "n2 = x**2, with x = 3.0: n2.data = 9.0" in squash(text)
        await pilot.press("n", "n", "n")
        await pilot.pause()
        assert "forward ✓ n2 ✓ a ✓ b ▶ n1 · f" in squash(screen_text(app))
        await pilot.press("p")
        await pilot.pause()
        assert unknown(screen_text(app)) == 2  # n1 and f again
        await pilot.press("n", "n", "n")  # n1, f, then the forward pass is done
        await pilot.pause()
        assert unknown(screen_text(app)) == 0
        assert "Forward pass done" in squash(screen_text(app)) and screen.stepper.position == 0
        await pilot.press("n")  # the backward pass: the seed
        await pilot.pause()
        assert screen.stepper.position == 1 and "Step 1 of 6: seed the output" in squash(screen_text(app))


# ----------------------------------------------------------------------------- change the numbers


async def test_c_changes_a_leaf_and_the_pass_reruns_on_the_new_numbers():
    app = Host(TWELVE)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("e")  # a finished pass: the edit starts it again
        await pilot.press("c")
        await pilot.pause()
        text = drawn(app)
        assert "x = 3.0; a = 3 * x**2; b = 4 * x; f = a - b + 5" in text
        assert "esc Keep the program" in text
        await pilot.press("home", "right", "right", "right", "right", "delete", "2")  # x = 2.0
        await pilot.press("enter")
        await pilot.pause()
        text = drawn(app)
        assert "Rerun with x 3.0 → 2.0." in text
        assert "▾ f + 9.0 0.0" in text  # 3·4 - 8 + 5, every grad back to 0
        assert screen.stepper.position == 0
        await pilot.press("e")
        await pilot.pause()
        assert "x ↺2 2.0 8.0" in drawn(app)  # df/dx = 6x - 4 at x = 2


async def test_an_edit_that_does_not_parse_says_why_and_escape_keeps_the_program():
    app = Host(TWELVE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        app.screen.answer.input.value = "x = 3.0; f = __import__('os')"
        await pilot.press("enter")
        await pilot.pause()
        text = drawn(app)
        assert "line 1" in text and "escape to keep the program" in text
        app.screen.answer.input.value = "x = 0.0; f = log(x)"
        await pilot.press("enter")
        await pilot.pause()
        assert "escape to keep the program" in drawn(app)  # builds, but log(0) cannot run
        await pilot.press("escape")
        await pilot.pause()
        text = drawn(app)
        assert "▾ f + 20.0 0.0" in text and "Change the numbers" not in text


# ----------------------------------------------------------------------------- the sample debugger


async def test_a_training_sample_shows_the_active_node_open_and_its_columns_in_line():
    from tests.app.test_debugger import _network_sample
    from tests.app.test_debugger_parts import _check_columns_line_up

    app = ScreenHost(lambda: DebuggerScreen(_network_sample([2, 4, 1])))
    async with app.run_test(size=SIZE) as pilot:
        for presses in (4, 30):  # near the top, then deep down the tree
            await pilot.press(*["n"] * presses)
            await pilot.pause()
            await pilot.pause()
            lines = tree_rows(screen_text(app).splitlines())
            at = next(i for i, line in enumerate(lines) if "▶" in line)
            assert "▾ ▶" in lines[at]  # open, not "▸ ▶"
            operands = [line for line in lines[at + 1 :] if "◆" in line]
            assert len(operands) == len(app.screen.stepper.current.changes)
            assert _check_columns_line_up(app) >= 5


async def test_on_a_wide_terminal_the_inspector_sits_beside_the_tree():
    for size, beside in (((130, 30), True), (SIZE, False)):
        app = Host(TWELVE)
        async with app.run_test(size=size) as pilot:
            await pilot.press("n", "n", "n")
            await pilot.pause()
            line = next(line for line in screen_text(app).splitlines() if "Step 3 of 6" in line)
            left = line.split("Step 3 of 6")[0]
            # wide: the step's first line shares its row with the tree's header row
            assert ("node" in left and "grad" in left) is beside, line


async def test_a_tree_taller_than_the_screen_leaves_the_inspector_in_view():
    """The tree's container sized itself to the whole tree, pushing the inspector off the screen:
    on a 22-row tree the step's words (and mistake mode's panel) were never drawn."""
    chain = "x = 1.0; " + "; ".join(f"v{i} = {'x' if i == 0 else f'v{i - 1}'} * 1.5" for i in range(20))
    app = Host(chain)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await pilot.pause()
        text = drawn(app)
        assert "Step 2 of 21: the rule of v19 = v18 * (1.5) ran" in text
        await pilot.press("m")
        await pilot.pause()
        assert "Mistake mode: the same graph, every rule with = instead of +=" in drawn(app)
