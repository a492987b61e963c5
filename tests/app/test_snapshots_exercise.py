"""Snapshots at 80×24 of the exercise: the editor with a diagnosis, the debugger running a learner's rule."""

from __future__ import annotations

from tests.app.test_exercise_screen import host, write_rule

SIZE = (80, 24)


def test_the_editor_with_a_diagnosis(snap_compare):
    async def wrong_rule(pilot):
        await pilot.pause()
        await write_rule(pilot, pilot.app, "self.grad += 1 - out.data**2")
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(host(), run_before=wrong_rule, terminal_size=SIZE)


def test_the_debugger_running_a_learners_rule(snap_compare):
    async def run_it(pilot):
        await pilot.pause()
        await write_rule(pilot, pilot.app, "self.grad += 1 - out.data**2")
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("n", "n", "n")
        await pilot.pause()

    assert snap_compare(host(), run_before=run_it, terminal_size=SIZE)


def test_the_own_op_screen_with_a_diagnosis(snap_compare):
    from tests.app.test_own_op_screen import FORWARD, write
    from tests.app.test_own_op_screen import host as own_host

    async def wrong_rule(pilot):
        await pilot.pause()
        await write(pilot, pilot.app, FORWARD, "self.grad += sigmoid(self.data)")
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(own_host(), run_before=wrong_rule, terminal_size=SIZE)
