"""The debugger screen driven like a learner would: keys in, the rendered tree and inspector out.

Grads are read from the tree's rendered lines (what the terminal shows), never from the Value
objects the screen holds; the engine's numbers come from a second, independent build of the same
program.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import pytest

from engine.expr import parse_program
from engine.numfmt import fmt
from engine.stepper import Stepper
from engine.value import topological_order
from tests.app.conftest import ScreenHost, threads_in
from tutor.screens.debugger import DebuggerScreen

SEEDS = "a = 2; b = -3; c = 10; f = -2\ne = a * b\nd = e + c\nL = d * f"
REUSE = "a = 3\nb = a + a"
# a reused across two steps: d's rule gives a 1, then c's rule adds b.data × 1 = 2
ACROSS = "a = 3; b = 2\nc = a * b\nd = c + a"
SIZE = (80, 24)


def Host(program, **options) -> ScreenHost:
    """A bare app that opens the debugger on ``program``, as the lesson screen does."""
    return ScreenHost(lambda: DebuggerScreen(program, **options))


@dataclass
class Row:
    mark: str  # "▶" current, "◆" operand, "" neither
    name: str
    uses: int
    op: str
    data: str
    grad: str
    changed: bool
    ref: bool  # a further appearance of a value whose operands are shown above


NUMBER = r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?|-?inf|nan"  # as engine.numfmt writes numbers
_ROW = re.compile(
    r"^[\s│├└─▾▸]*(?P<mark>[▶◆])?\s*(?P<name>\S+?)(?: ↺(?P<uses>\d+))?(?P<ref> ↑)?\s+"
    rf"(?:(?P<op>\S+)\s+)?(?P<data>{NUMBER})\s+(?P<grad>{NUMBER})(?P<changed> ←)?\s*$"
)


def rows(screen) -> list[Row]:
    """The tree lines as the terminal shows them."""
    tree = screen.graph_tree
    found = []
    for y in range(tree.size.height):
        text = tree.render_line(y).text
        m = _ROW.match(text)
        if m:
            found.append(
                Row(
                    m["mark"] or "",
                    m["name"],
                    int(m["uses"] or 1),
                    m["op"] or "",
                    m["data"],
                    m["grad"],
                    bool(m["changed"]),
                    bool(m["ref"]),
                )
            )
    return found


def grads(screen) -> dict[str, str]:
    return {row.name: row.grad for row in rows(screen)}


def tree_lines(tree) -> int:
    """How many lines the tree has grown so far (walked from its root, as Textual shows them)."""
    count, frontier = 0, [tree.root]
    while frontier:
        node = frontier.pop()
        count += 1
        frontier.extend(node.children)
    return count


def current(screen) -> list[str]:
    return [row.name for row in rows(screen) if row.mark == "▶"]


def operands(screen) -> list[str]:
    return [row.name for row in rows(screen) if row.mark == "◆"]


# ----------------------------------------------------------------------------- the seeds' example


async def test_forward_values_come_first_with_every_grad_at_zero():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = {row.name: (row.op, row.data, row.grad) for row in rows(app.screen)}
        assert shown == {
            "L": ("*", "-8.0", "0.0"),
            "d": ("+", "4.0", "0.0"),
            "e": ("*", "-6.0", "0.0"),
            "a": ("", "2.0", "0.0"),
            "b": ("", "-3.0", "0.0"),
            "c": ("", "10.0", "0.0"),
            "f": ("", "-2.0", "0.0"),
        }
        assert current(app.screen) == [] and operands(app.screen) == []
        assert "Step 0 of 4" in app.screen.inspector.text


async def test_highlighted_nodes_follow_the_engines_reverse_topological_order():
    program = parse_program(SEEDS)
    engine = Stepper(program.build().output)
    expected = [engine.name(step.node) for step in engine.steps]
    rule_nodes = [engine.name(n) for n in reversed(topological_order(engine.root)) if n._prev]
    assert expected == ["L"] + rule_nodes == ["L", "L", "d", "e"]

    app = Host(program)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen = []
        for _ in expected:
            await pilot.press("n")
            await pilot.pause()
            seen.extend(current(app.screen))
        assert seen == expected


async def test_grads_on_screen_equal_the_engines_after_every_step():
    program = parse_program(SEEDS)
    graph = program.build()
    engine = Stepper(graph.output)
    app = Host(program)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for k in range(len(engine.steps)):
            step = engine.forward()
            await pilot.press("n")
            await pilot.pause()
            shown = grads(app.screen)
            assert shown == {name: fmt(v.grad) for name, v in graph.values.items()}, f"after step {k + 1}"
            # the operands that received gradient are marked, and so are their new grads
            receivers = {engine.name(c.node) for c in step.changes if c.node is not step.node}
            assert set(operands(app.screen)) == receivers
            changed = {row.name for row in rows(app.screen) if row.changed}
            assert changed == {engine.name(c.node) for c in step.changes if c.after != c.before}
            assert f"Step {k + 1} of 4" in app.screen.inspector.text


async def test_inspector_shows_the_rule_the_numbers_and_the_engines_code():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "n")
        await pilot.pause()
        text = app.screen.inspector.text
        assert "Step 4 of 4" in text and "e = a * b" in text
        assert "multiply" in text and "∂e/∂a = b" in text
        assert "a.grad += b.data * e.grad   0.0 + (-3.0)(-2.0) = 6.0" in text
        assert "b.grad += a.data * e.grad   0.0 + (2.0)(-2.0) = -4.0" in text
        assert "self.grad += other.data * out.grad" in text  # the real _backward of __mul__


async def test_after_the_last_step_the_leaves_show_the_seeds_gradients():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        shown = grads(app.screen)
        assert {k: shown[k] for k in "abcf"} == {"a": "6.0", "b": "-4.0", "c": "-2.0", "f": "4.0"}
        assert (shown["L"], shown["d"], shown["e"]) == ("1.0", "-2.0", "-2.0")
        assert "pass complete" in app.screen.inspector.text


async def test_undo_and_reset_restore_the_screen():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        snapshots = [(rows(app.screen), app.screen.inspector.text)]
        for _ in range(4):
            await pilot.press("n")
            await pilot.pause()
            snapshots.append((rows(app.screen), app.screen.inspector.text))
        for k in range(3, 0, -1):
            await pilot.press("p")
            await pilot.pause()
            assert (rows(app.screen), app.screen.inspector.text) == snapshots[k], f"undo to {k}"
        await pilot.press("n", "n")
        await pilot.press("r")
        await pilot.pause()
        assert (rows(app.screen), app.screen.inspector.text) == snapshots[0]
        assert set(grads(app.screen).values()) == {"0.0"}


async def test_enter_on_a_line_runs_until_that_node_is_done():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.screen.graph_tree
        c_line = next(y for y in range(tree.size.height) if " c " in tree.render_line(y).text)
        tree.move_cursor(tree.get_node_at_line(c_line))
        await pilot.press("enter")
        await pilot.pause()
        # c's grad is final once d's rule has run: step 3 of 4
        assert current(app.screen) == ["d"]
        assert grads(app.screen)["c"] == "-2.0"
        assert grads(app.screen)["a"] == "0.0"
        assert "Step 3 of 4" in app.screen.inspector.text


# ----------------------------------------------------------------------------- reuse and mistakes


async def test_a_value_used_twice_lights_up_at_both_uses():
    app = Host(parse_program(REUSE))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        a_rows = [row for row in rows(app.screen) if row.name == "a"]
        assert len(a_rows) == 2 and all(row.uses == 2 for row in a_rows)
        await pilot.press("n", "n")
        await pilot.pause()
        a_rows = [row for row in rows(app.screen) if row.name == "a"]
        assert [(r.mark, r.grad, r.changed) for r in a_rows] == [("◆", "2.0", True)] * 2
        assert current(app.screen) == ["b"]
        assert "a.grad += b.grad; a.grad += b.grad   0.0 + (1.0) + (1.0) = 2.0" in app.screen.inspector.text


async def test_a_reused_intermediate_is_grown_once_and_lit_at_every_use():
    app = Host(parse_program("a = 3\nb = a + a\nc = b + b"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = [(r.name, r.uses, r.ref) for r in rows(app.screen)]
        # b's operands appear once, under its first line; its second line points up to them
        assert shown == [("c", 1, False), ("b", 2, False), ("a", 2, False), ("a", 2, False), ("b", 2, True)]
        await pilot.press("n", "n", "n")
        await pilot.pause()
        assert [(r.name, r.mark) for r in rows(app.screen) if r.mark] == [
            ("b", "▶"),
            ("a", "◆"),
            ("a", "◆"),
            ("b", "▶"),
        ]
        assert {r.grad for r in rows(app.screen) if r.name == "a"} == {"4.0"}
        await pilot.press("m")
        await pilot.pause()
        assert {r.grad for r in rows(app.screen) if r.name == "a"} == {"1.0"}


async def test_mistake_mode_shows_the_overwritten_gradient_beside_the_right_one():
    app = Host(parse_program(REUSE))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert [row.grad for row in rows(app.screen) if row.name == "a"] == ["1.0", "1.0"]
        text = app.screen.inspector.text
        assert re.search(r"a\s+2\.0\s+1\.0\s+✗ wrong", text)
        assert "1 of 1 input grads go wrong" in text
        # stepping the buggy pass shows the = line the engine ran
        await pilot.press("r", "n", "n")
        await pilot.pause()
        assert "a.grad = b.grad; a.grad = b.grad" in app.screen.inspector.text
        assert "self.grad = out.grad" in app.screen.inspector.text
        # and m again is the engine as written
        await pilot.press("m", "e")
        await pilot.pause()
        assert [row.grad for row in rows(app.screen) if row.name == "a"] == ["2.0", "2.0"]


async def test_mistake_mode_leaves_a_graph_without_reuse_right():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert "✗" not in app.screen.inspector.text
        assert "Every input grad is still right" in app.screen.inspector.text


# ----------------------------------------------------------------------------- gradient check


async def test_gradient_check_shows_backprop_beside_the_numeric_slope():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        text = app.screen.inspector.text
        for name, value, grad in [("a", 2, 6), ("b", -3, -4), ("c", 10, -2), ("f", -2, 4)]:
            assert re.search(rf"^{name}\s+{fmt(value)}\s+{fmt(grad)}\s+{fmt(grad)}\s+\S+\s+ok$", text, re.M)
        assert "All 4 gradients match" in text
        await pilot.press("g")  # the same key goes back to the step
        await pilot.pause()
        assert "Step 0 of 4" in app.screen.inspector.text


async def test_gradient_check_flags_the_mistake_mode():
    app = Host(parse_program(REUSE))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "g")
        await pilot.pause()
        text = app.screen.inspector.text
        assert re.search(r"^a\s+3\.0\s+1\.0\s+2\.0\s+\S+\s+✗ DISAGREE$", text, re.M)
        assert "1 of 1 gradients disagree" in text


# ----------------------------------------------------------------------------- predict mode


async def answer(pilot, text):
    await pilot.press(*text, "enter")
    await pilot.pause()


async def test_predict_mode_a_right_answer_runs_the_step():
    app = Host(parse_program(SEEDS), predict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("n")
        await pilot.pause()
        assert screen.answer.is_open
        assert "What will L.grad be" in screen.answer.question_text
        assert screen.stepper.position == 0
        await answer(pilot, "1")
        assert not screen.answer.is_open
        assert current(screen) == ["L"] and grads(screen)["L"] == "1.0"
        assert "Right" in screen.inspector.text


def request_tag(words: str) -> str:
    return {
        "forgot the upstream": "forgot-upstream",
        "OTHER side's value": "own-input-in-mul",
        "whole upstream": "split-add-gradient",
        "already holds 1": "overwrote-not-accumulated",
    }[words]


async def _ask_at(pilot, screen, steps_before: int):
    """Run ``steps_before`` steps with predict mode off, then turn it on and ask."""
    await pilot.press(*["n"] * steps_before, "t", "n")
    await pilot.pause()
    assert screen.answer.is_open
    assert screen.stepper.position == steps_before


@pytest.mark.parametrize(
    "program, steps_before, asked, typed, words, right",
    [
        # e = a * b, upstream -2: b.data alone
        (SEEDS, 3, "a.grad", "-3", "forgot the upstream", "6"),
        # e = a * b, upstream -2: a's own data × upstream
        (SEEDS, 3, "a.grad", "-4", "OTHER side's value", "6"),
        # d = e + c, upstream -2: half of it
        (SEEDS, 2, "e.grad", "-1", "whole upstream", "-2"),
        # c = a * b after d = c + a gave a 1: this step's 2 alone
        (ACROSS, 2, "a.grad", "2", "already holds 1", "3"),
    ],
    ids=["forgot-upstream", "own-input-in-mul", "split-add-gradient", "overwrote-not-accumulated"],
)
async def test_predict_mode_names_each_misconception_and_gives_a_second_try(
    program, steps_before, asked, typed, words, right
):
    app = Host(parse_program(program))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _ask_at(pilot, screen, steps_before)
        assert f"What will {asked} be" in screen.answer.question_text
        await answer(pilot, typed)
        assert words in screen.answer.feedback_text
        assert screen.last_verdict.tag == request_tag(words)
        assert "Try again" in screen.answer.feedback_text
        assert screen.answer.is_open and screen.stepper.position == steps_before  # not run yet
        await pilot.press(*["backspace"] * len(typed))
        await answer(pilot, right)
        assert not screen.answer.is_open
        assert screen.stepper.position == steps_before + 1


async def test_predict_mode_garbage_asks_for_a_number_and_costs_no_try():
    app = Host(parse_program(SEEDS), predict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("n")
        await answer(pilot, "abc")  # typed key by key
        assert screen.answer.feedback_text == "enter a number like -4 or 0.5"
        for garbage in ["__import__('os')", "1/0", "9" * 39 + "e9999", "\u202e6"]:
            screen.answer.input.value = garbage  # pasted
            await pilot.press("enter")
            await pilot.pause()
            assert screen.answer.feedback_text == "enter a number like -4 or 0.5"
        assert screen.answer.is_open and screen.stepper.position == 0
        await answer(pilot, "7")  # first real try: wrong, still open
        assert screen.answer.is_open


async def test_predict_mode_reveals_the_answer_after_two_wrong_tries():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _ask_at(pilot, screen, 3)
        await answer(pilot, "-3")
        await pilot.press("backspace", "backspace")
        await answer(pilot, "-4")
        assert not screen.answer.is_open
        assert screen.stepper.position == 4
        assert "The answer is a.grad = 6.0" in screen.inspector.text


async def test_escape_skips_the_question_and_the_step_runs():
    app = Host(parse_program(SEEDS), predict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("n")
        await pilot.pause()
        assert screen.answer.is_open
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.answer.is_open and screen.stepper.position == 1
        assert current(screen) == ["L"] and grads(screen)["L"] == "1.0"
        assert "Skipped" in screen.inspector.text
        assert app.results == []  # still on the debugger
        await pilot.press("n")  # the next step's question, not the skipped one again
        await pilot.pause()
        assert "What will d.grad be" in screen.answer.question_text


# ----------------------------------------------------------------------------- leaving, layout, errors


async def test_leaving_reports_whether_the_pass_was_finished():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "q")
        await pilot.pause()
        assert app.results == [False]
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e", "r", "escape")  # reaching the end once is enough
        await pilot.pause()
        assert app.results == [True]


async def test_layout_key_switches_between_both_panes_and_each_alone():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        assert screen.graph_tree.display and screen.inspector.display
        await pilot.press("z")
        await pilot.pause()
        assert screen.graph_tree.region.height > 0 and screen.inspector.region.height == 0
        await pilot.press("z")
        await pilot.pause()
        assert screen.graph_tree.region.height == 0 and screen.inspector.region.height > 15
        assert app.focused is screen.inspector  # so the arrows scroll it
        await pilot.press("z")
        await pilot.pause()
        assert screen.graph_tree.region.height > 0 and screen.inspector.region.height > 0


async def test_a_long_inspector_says_there_is_more_and_scrolls():
    program = "x = 0.5\ny = tanh(x) + exp(x) * log(x + 1) - relu(x) / sigmoid(x) + x**3"
    app = Host(parse_program(program))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        inspector = app.screen.inspector
        height = inspector.size.height
        shown = [inspector.render_line(y).text for y in range(height)]
        assert "more lines" in shown[-1]
        assert shown[0].strip().startswith("Step")
        inspector.focus()
        await pilot.press("down", "down")
        await pilot.pause()
        assert inspector.render_line(0).text.strip() == shown[2].strip()
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        last = inspector.render_line(height - 1).text
        assert "more lines" not in last
        assert inspector.text.rstrip().endswith(last.strip())  # the end of the code is reachable
        await pilot.press("home")
        await pilot.pause()
        assert inspector.render_line(0).text == shown[0]


async def test_every_key_has_an_id_a_tooltip_and_a_description():
    app = Host(parse_program(SEEDS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        active = app.screen.active_bindings
        for key in ["n", "p", "r", "e", "t", "m", "g", "z", "q", "escape", "enter"]:
            binding = active[key].binding
            assert binding.id and binding.tooltip and binding.description, key


async def test_a_program_that_cannot_be_evaluated_gets_a_message_not_a_traceback():
    app = Host(parse_program("a = 0\nb = log(a)"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = str(app.screen.query_one("#debugger-error").render())
        assert "cannot be run" in shown and "log" in shown
        await pilot.press("n", "g", "m")  # nothing to step; nothing breaks
        await pilot.press("q")
        await pilot.pause()
        assert app.results == [False]


async def test_without_colour_every_view_renders_with_its_markers(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = Host(parse_program(SEEDS), predict=True)
    async with app.run_test(size=SIZE) as pilot:
        # a question open leaves the inspector too short: its "more lines" row is drawn too
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.answer.is_open
        await answer(pilot, "1")
        await pilot.press("n")
        await answer(pilot, "-2")
        await pilot.pause()
        assert current(app.screen) == ["L"] and operands(app.screen) == ["d", "f"]
        assert [row.name for row in rows(app.screen) if row.changed] == ["d", "f"]
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.answer.is_open
        await pilot.press("escape", "m", "g", "z", "z", "z")
        await pilot.pause()
        assert app.screen.inspector.panel == "check"
        assert app.results == []  # still running, nothing raised


class SharedLeaves:
    """A program whose every build reuses the same leaf Values, as a network's parameters are
    reused by every graph built from it (the training screen opens the debugger on such graphs)."""

    text = "b = a * w + a  # a and w the same Values at every build"

    def __init__(self):
        from engine.value import Value

        self.inputs = {"a": 3.0, "w": 2.0}
        self.leaves = {name: Value(x, label=name) for name, x in self.inputs.items()}

    def build(self, inputs=None):
        from types import SimpleNamespace

        for name, x in {**self.inputs, **(inputs or {})}.items():
            self.leaves[name].data = x
        a, w = self.leaves["a"], self.leaves["w"]
        b = a * w + a
        b.label = "b"
        return SimpleNamespace(output=b, inputs=dict(self.leaves), values={"b": b, **self.leaves})


async def test_other_passes_over_shared_leaves_do_not_leak_into_the_shown_pass():
    program = SharedLeaves()
    program.leaves["a"].grad = 99.0  # left over from something else
    app = Host(program)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert set(grads(app.screen).values()) == {"0.0"}
        await pilot.press("n", "n")
        await pilot.pause()
        before = rows(app.screen)
        assert grads(app.screen) == {"b": "1.0", "n1": "1.0", "a": "1.0", "w": "0.0"}
        await pilot.press("m")
        await pilot.pause()
        text = app.screen.inspector.text
        assert re.search(r"^a\s+3\.0\s+2\.0\s+✗ wrong$", text, re.M)  # += gives w + 1
        assert re.search(r"^w\s+3\.0\s+3\.0$", text, re.M)
        await pilot.press("g")
        await pilot.pause()
        assert re.search(r"^a\s+3\.0\s+2\.0\s+3\.0", app.screen.inspector.text, re.M)
        await pilot.press("m", "m", "m")  # on to the two wrong orders, then off
        await pilot.pause()
        assert rows(app.screen) == before  # the correct pass, where it was, untouched
        await pilot.press("g")
        await pilot.pause()
        assert program.leaves["w"].data == 2.0
        assert rows(app.screen) == before
        await pilot.press("e")
        await pilot.pause()
        assert grads(app.screen)["a"] == "3.0" and grads(app.screen)["w"] == "3.0"


# ----------------------------------------------------------------------------- scale


class _Built:
    """A program with no inputs to nudge: each build is ``make()``'s graph."""

    text = "# a graph built in Python"
    inputs: dict = {}

    def __init__(self, make):
        self.make = make

    def build(self, inputs=None):
        from types import SimpleNamespace

        return SimpleNamespace(output=self.make(), inputs={}, values={})


def _wide_sum(n=2000):
    """About 8,000 values: products x_i * w_i added up pairwise, so the tree stays shallow."""
    from engine.value import Value

    def make():
        level = [Value(0.5, label=f"x{i}") * Value(-1.0, label=f"w{i}") for i in range(n)]
        while len(level) > 1:
            level = [
                level[i] + level[i + 1] if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)
            ]
        level[0].label = "loss"
        return level[0]

    return make


def _long_chain(n=400):
    """t0 + x0*w0 + x1*w1 + ...: one chain of additions, n levels deep."""
    from engine.value import Value

    def make():
        total = Value(0.0, label="t0")
        for i in range(n):
            total = total + Value(0.5, label=f"x{i}") * Value(-1.0, label=f"w{i}")
        total.label = "loss"
        return total

    return make


async def test_a_large_graph_opens_lazily_and_follows_the_current_step():
    app = Host(_Built(_wide_sum()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert len(screen.stepper.nodes) > 7000
        assert tree_lines(screen.graph_tree) < 10  # only the root and its operands
        for _ in range(6):
            await pilot.press("n")
            await pilot.pause()
            step = screen.stepper.current
            assert current(screen) == [screen.stepper.name(step.node)]
            assert screen.graph_tree.cursor_node.data.value is step.node
        assert tree_lines(screen.graph_tree) < 60
        await pilot.press("e")
        await pilot.pause()
        assert screen.stepper.done
        assert current(screen) == [screen.stepper.name(screen.stepper.current.node)]
        assert screen.graph_tree.cursor_node.data.value is screen.stepper.current.node
        await pilot.press("r")
        await pilot.pause()
        assert set(grads(screen).values()) == {"0.0"}


async def test_a_step_deeper_than_the_tree_opens_is_still_described():
    app = Host(_Built(_long_chain()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        screen = app.screen
        assert screen.stepper.done
        assert "levels down the tree" in screen.inspector.text
        assert f"Step {len(screen.stepper.steps)} of {len(screen.stepper.steps)}" in screen.inspector.text
        await pilot.press("r", "n", "n")
        await pilot.pause()
        assert current(screen) == ["loss"]


async def test_each_prediction_and_the_end_of_the_pass_are_reported_as_they_happen():
    attempts, ends = [], []
    app = Host(
        parse_program(SEEDS), on_attempt=lambda *a: attempts.append(a), on_finished=lambda: ends.append(True)
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _ask_at(pilot, screen, 3)
        await answer(pilot, "abc")  # unreadable: not an attempt
        assert attempts == []
        await pilot.press("backspace", "backspace", "backspace")
        await answer(pilot, "-3")  # forgot the upstream
        await pilot.press("backspace", "backspace")
        await answer(pilot, "6")
        assert attempts == [("-3", False, ["forgot-upstream"]), ("6", True, [])]
        assert ends == [True]  # e's rule was the last step: reported before the learner leaves
        await pilot.press("t", "r", "e")  # reaching the end again reports nothing more
        await pilot.pause()
        assert ends == [True] and app.results == []


# ----------------------------------------------------------------------------- a long gradient check


def _network_sample(layers):
    """One moons sample's loss graph through a tanh network: every weight and bias an input."""
    from engine.train import Trainer
    from tutor.lessons import read_task
    from tutor.screens.train import SampleProgram

    task = read_task(
        {
            "steps": 10,
            "model": {"layers": layers},
            "data": {"name": "moons", "samples": 20},
            "loss": {"kind": "sse"},
            "optimiser": {"kind": "sgd", "lr": 0.01},
        }
    )
    return SampleProgram(task, Trainer(task).model.parameter_values(), 0)


def checking() -> list[int]:
    return threads_in("check_gradients", "gradcheck.py")


async def _start_a_long_check(pilot, screen) -> None:
    assert len(screen.program.inputs) > 1000  # 2 builds of ~25 ms each: about a minute in all
    await pilot.press("g")
    deadline = time.monotonic() + 30
    while not checking():
        assert time.monotonic() < deadline, "the check never started"
        await pilot.pause(0.01)
    assert "Checking…" in screen.inspector.text


async def _check_gone_within(seconds: float, since: float, pause) -> None:
    while checking():
        assert time.monotonic() - since < seconds, "the gradient check is still running"
        await pause(0.01)


async def test_a_long_gradient_check_runs_beside_the_keys_and_g_stops_it():
    app = Host(_network_sample([32, 32, 1]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await _start_a_long_check(pilot, screen)
        await pilot.press("n")  # the screen answers while the check goes on
        assert screen.stepper.position == 1
        assert "The gradient check is running (g stops it)." in screen.inspector.text
        assert checking()  # still going: the key was not waiting for it
        assert screen.check_action("toggle_mistake", ()) is None  # mistake mode builds too
        pressed = time.monotonic()
        await pilot.press("g")
        await _check_gone_within(1.0, pressed, pilot.pause)
        await pilot.pause()
        assert "Gradient check stopped." in screen.inspector.text
        assert screen.inspector.panel is None and screen.stepper.position == 1
        assert screen.check_action("toggle_mistake", ()) is True
        # the shown pass kept its own numbers: the same grads as a fresh build stepped once
        fresh = Stepper(screen.program.build().output)
        fresh.forward()
        assert [v.grad for v in screen.stepper.nodes] == [v.grad for v in fresh.nodes]


async def test_q_first_stops_a_running_check_then_leaves():
    app = Host(_network_sample([32, 32, 1]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await _start_a_long_check(pilot, screen)
        pressed = time.monotonic()
        await pilot.press("q")
        await _check_gone_within(1.0, pressed, pilot.pause)
        assert "q again leaves" in screen.inspector.text and app.results == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [False]


async def test_leaving_or_quitting_during_a_check_ends_its_worker():
    app = Host(_network_sample([32, 32, 1]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _start_a_long_check(pilot, app.screen)
        app.screen.dismiss(False)  # leaving by any way unmounts the screen and cancels its worker
        pressed = time.monotonic()
        await _check_gone_within(1.0, pressed, pilot.pause)
        assert app.results == [False]
        app.push_screen(DebuggerScreen(_network_sample([32, 32, 1])))
        await pilot.pause()
        await _start_a_long_check(pilot, app.screen)
        quit_at = time.monotonic()
        app.exit()
    await _check_gone_within(1.0, quit_at, asyncio.sleep)


async def test_a_finished_check_on_a_network_shows_every_weight_against_its_slope():
    app = Host(_network_sample([4, 1]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("n", "n", "g")
        deadline = time.monotonic() + 30
        while screen.inspector.panel != "check":
            assert time.monotonic() < deadline, "the check never finished"
            await pilot.pause(0.02)
        assert "All 17 gradients match the measured slope" in screen.inspector.text
        assert re.search(r"^w\[0\]\[0\]\[0\]\s", screen.inspector.text, re.M)
        # the check's builds did not disturb the shown pass, nor the weights it was built with
        fresh = Stepper(screen.program.build().output)
        fresh.forward()
        fresh.forward()
        assert [v.grad for v in screen.stepper.nodes] == [v.grad for v in fresh.nodes]
        assert [v.data for v in screen.stepper.nodes] == [v.data for v in fresh.nodes]
