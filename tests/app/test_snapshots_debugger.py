"""The debugger at 80×24: before stepping, mid-way, at the end, and with its panels.

Update after a deliberate change with ``pytest tests/app/test_snapshots_debugger.py --snapshot-update``
and look at the new SVGs before committing them.
"""

from __future__ import annotations

from engine.expr import parse_program
from tests.app.conftest import ScreenHost
from tutor.screens.debugger import DebuggerScreen

SEEDS = "a = 2; b = -3; c = 10; f = -2\ne = a * b\nd = e + c\nL = d * f"
REUSE = "a = 3\nb = a + a"
SIZE = (80, 24)


def Host(program_text, title="L = (a*b + c) * f", **options) -> ScreenHost:
    program = parse_program(program_text)
    return ScreenHost(lambda: DebuggerScreen(program, title=title, **options))


def test_before_stepping(snap_compare):
    assert snap_compare(Host(SEEDS), terminal_size=SIZE)


def test_mid_way(snap_compare):
    assert snap_compare(Host(SEEDS), press=["n", "n", "n"], terminal_size=SIZE)


def test_at_the_end(snap_compare):
    assert snap_compare(Host(SEEDS), press=["e"], terminal_size=SIZE)


def test_predict_question_with_a_diagnosis(snap_compare):
    async def answer(pilot):  # one answer at a time: a burst of keys can reach the Input out of order
        for keys in (["n", "1", "enter"], ["n", "minus", "2", "enter"], ["n", "minus", "2", "enter"]):
            await pilot.press(*keys)
            await pilot.pause()
        # a.grad = b × e.grad = (-3)(-2) = 6; -3 forgets the upstream gradient
        await pilot.press("n", "minus", "3", "enter")

    assert snap_compare(Host(SEEDS, predict=True), run_before=answer, terminal_size=SIZE)


def test_mistake_mode_on_reuse(snap_compare):
    assert snap_compare(Host(REUSE), press=["m"], terminal_size=SIZE)


def test_gradient_check(snap_compare):
    assert snap_compare(Host(SEEDS), press=["g"], terminal_size=SIZE)


# the example (10 rows, now that a - b is one node) and a 12-row tree, x used three times
EXAMPLE = "x = 3.0; a = 3 * x**2; b = 4 * x; f = a - b + 5"
TWELVE = "x = 3.0; a = 3 * x**2; b = 4 * x; c = a - b; f = c * x + 5"


def test_predict_diagnosis_on_a_twelve_row_tree(snap_compare):
    """The issue's example: the question, the answer and the whole diagnosis in view."""
    # the last question, x.grad after n2's rule (57): 54 overwrites the 3 the other rules left there
    assert snap_compare(
        Host(TWELVE, "f = (a - b) * x + 5"),
        press=[*"nnnnnn", "t", "n", "5", "4", "enter"],
        terminal_size=SIZE,
    )


def test_the_order_strip_mid_pass(snap_compare):
    """y waits: s uses it and has not run yet."""
    assert snap_compare(
        Host("x = 2; y = x * x; s = y * y; L = y + s", "L = y + y * y"), press=["n", "n"], terminal_size=SIZE
    )


def test_the_end_of_a_predicted_pass_with_its_summary(snap_compare):
    keys = ["n", "1", "enter", "n", "1", "enter", "n", "1", "enter"]
    keys += ["n", "4", "enter", "backspace", "minus", "4", "enter", "n", "3", "enter"]
    keys += ["n", "2", "enter", "backspace", "1", "4", "enter"]
    assert snap_compare(Host(EXAMPLE, "f = a - b + 5", predict=True), press=keys, terminal_size=SIZE)


def test_the_forward_pass_mid_way(snap_compare):
    assert snap_compare(Host(EXAMPLE, "f = a - b + 5"), press=["f", "n", "n", "n"], terminal_size=SIZE)
