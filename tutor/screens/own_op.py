"""The own-op screen: the learner invents an op end to end, its forward and its rule, and trains it.

``OwnOpScreen(exercise)`` takes an `Exercise` whose ``own`` is the lesson's `tutor.own_op.Reference`
(``exercise.is_own``). Two parts on one screen: the forward, a formula of ``x`` on one line (an
`Input`), and the backward rule in a `RuleEditor` that opens on the rule's first lines. Neither is
executed: `tutor.own_op.grade_own_op` reads both with the tutor's whitelisted interpreters.

Keys (the editor keeps every other key for typing):

| key | does |
| --- | --- |
| tab | from the forward to the rule (Enter in the forward too); in the rule tab indents |
| ctrl+s | check both parts: which is wrong, the named mistakes, the values yours vs right |
| ctrl+r | run it: the debugger on ``z = x * w; y = op(z); L = y * w`` with your forward and rule |
| ctrl+g | train it (once both parts are right): the lesson's task with your op as the activation |
| ctrl+t | the next hint |
| escape | in the rule: leave the editor; again: leave the screen (True once both were right) |

The debugger and the training always get the text as it stands: a part that cannot be read is
not run; its message (with line and column) is shown and the cursor goes where it points.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from tutor.own_op import FormulaError, OwnOpVerdict, grade_own_op, read_forward
from tutor.rule_code import RuleError, read_rule
from tutor.screens.exercise import RuleScreen, own_verdict_text

__all__ = ["OwnOpScreen", "attempt_text"]

FORWARD_LABEL = "forward: f(x) ="


def attempt_text(forward: str, rule: str) -> str:
    """Both parts as one text, as progress keeps an attempt (a review shows it)."""
    return f"# forward: f(x) = {forward.strip()}\n{rule}"


class OwnOpScreen(RuleScreen):
    """Write a new op's forward (an Input) and its rule (a RuleEditor); check, run and train them.

    The rest (the editor, the feedback box, hints, leaving) is `RuleScreen`'s, as for an op of
    the engine."""

    BINDINGS = [
        Binding("ctrl+s", "check", "Check", id="own_op.check", tooltip="Grade your forward and your rule"),
        Binding(
            "ctrl+r",
            "run",
            "Run it",
            id="own_op.run",
            tooltip="Open the debugger on a small graph that uses your op, with your forward and rule",
        ),
        Binding(
            "ctrl+g",
            "train",
            "Train it",
            id="own_op.train",
            tooltip="Train the lesson's network with your op as its activation (once both parts are right)",
        ),
        Binding("ctrl+t", "hint", "Hint", id="own_op.hint", tooltip="Show the next hint"),
        Binding("escape", "leave", "Close", id="own_op.close", tooltip="Leave the exercise"),
    ]

    NO_HINTS = "This exercise has no hints."

    def _title(self) -> str:
        return f"Your own op: {self.exercise.op}"

    def _above_editor(self) -> ComposeResult:
        with Horizontal(id="own-forward-row"):
            yield Static(FORWARD_LABEL, id="own-forward-label")
            self.forward = Input(placeholder="a formula of x, e.g. x * x", id="own-forward", compact=True)
            yield self.forward

    def _intro(self) -> Text:
        train = ", ctrl+g trains it" if self.exercise.train is not None else ""
        return Text(
            f"Write {self.exercise.op}'s forward (tab or Enter: to its rule), then its backward rule. "
            f"ctrl+s checks, ctrl+r runs it{train}.",
            no_wrap=False,
        )

    OPENING = "The forward is a formula of x; the rule sends out.grad back to self."

    def _first_focus(self):
        return self.forward

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.editor.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "train":
            # offered whenever there is a task: before both parts are right, ctrl+g says so (a
            # dimmed key did nothing at all, and dim does not read without colour)
            return self.exercise.train is not None
        return True

    # ------------------------------------------------------------------ actions

    def _grade(self) -> OwnOpVerdict:
        verdict = grade_own_op(self.exercise.own, self.forward.value, self.editor.text)
        self.verdict = verdict
        self.solved = self.solved or verdict.correct
        self._show(own_verdict_text(verdict))
        self._point_at_problem(verdict)
        return verdict

    def _point_at_problem(self, verdict: OwnOpVerdict) -> None:
        """The cursor to where an unreadable part's message points (the forward first)."""
        if verdict.forward is None:
            try:
                read_forward(self.forward.value)
            except FormulaError as err:
                self.forward.cursor_position = min(max(err.col - 1, 0), len(self.forward.value))
            self.forward.focus()
        elif verdict.rule is None:
            col = 1
            try:
                read_rule(self.editor.text)
            except RuleError as err:
                col = err.col
            self.editor.move_cursor((max(verdict.line - 1, 0), max(col - 1, 0)))
            self.editor.focus()

    def action_check(self) -> None:
        verdict = self._grade()
        readable = verdict.forward is not None and verdict.rule is not None
        if self._on_attempt is not None and readable:
            text = attempt_text(self.forward.value, self.editor.text)
            self._on_attempt(text, verdict.correct, list(verdict.tags))

    def action_run(self) -> None:
        """The debugger on a small graph through the op, with the forward and rule as they stand."""
        verdict = self._grade()
        op = verdict.op(self.exercise.op)
        if op is None:
            return  # a part cannot be read: the message says where; nothing runs
        from tutor.own_training import OwnOpProgram
        from tutor.screens.debugger import DebuggerScreen

        caption = f"your {op.name}: your forward and your rule"
        self.app.push_screen(
            DebuggerScreen(OwnOpProgram(op), title=caption, rules={op.name: op.rule}), self._back
        )

    def action_train(self) -> None:
        """The lesson's task trained with the op as the activation: only once both parts are right."""
        if self.exercise.train is None:
            return
        verdict = self._grade()
        if not verdict.correct:
            note = Text("Training opens once both parts are right (ctrl+g again then).\n", style="italic")
            self._show(note.append_text(own_verdict_text(verdict)))  # first, where it is in view
            return
        from engine.train import OverBudget
        from tutor.own_training import OwnTraining
        from tutor.screens.train import TrainScreen

        op = verdict.op(self.exercise.op)
        try:
            training = OwnTraining(self.exercise.train, op)
        except OverBudget as err:  # the task fits with the lesson's op, not with so long a text
            self._show(
                Text(f"Your op is too slow to train this task: {err.message}. ", style="bold").append(
                    "Write the forward or the rule shorter, then ctrl+g again.", style="italic"
                )
            )
            return
        title = f"with your {op.name}: your forward and rule"
        self.app.push_screen(TrainScreen(self.exercise.train, title=title, training=training), self._back)
