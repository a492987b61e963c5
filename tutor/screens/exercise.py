"""The exercise screen: the learner writes one op's backward rule, checks it, and runs it.

``ExerciseScreen(exercise)`` takes a checked `tutor.lessons.exercise.Exercise`. An editor
(`tutor.widgets.rule_editor.RuleEditor`, a `TextArea` that keeps the indent) opens holding the
rule's signature and its unpacking line, as `engine/value.py` writes them; the learner
completes it in micrograd's style. Their text is never executed: `tutor.rule_grade` reads it
with the whitelisted interpreter and grades it against the engine's rule.

Keys (the editor keeps every other key for typing):

| key | does |
| --- | --- |
| ctrl+s | check the rule: the diagnosis and the values it gives beside the right ones |
| ctrl+r | run it: the debugger on the exercise's program with this rule in place of the engine's |
| ctrl+t | the next hint |
| enter | in the editor: a new line at the same indent (one level more after a `:`); backspace in the indent takes one level away |
| escape | in the editor: leave the editor (TextArea's own key, as tab indents); again: leave the screen (dismissed with True once a rule was graded right) |

Fixing the text and pressing ctrl+r again runs the new rule: the debugger always gets the text
as it stands. A rule that cannot be read is not run; its message (with line and column) is shown
and the cursor goes to where it points.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.numfmt import fmt
from engine.ops import OPS
from tutor.rule_code import derivatives
from tutor.rule_grade import RuleVerdict, grade_rule
from tutor.widgets.rule_editor import RuleEditor, with_body_indent

__all__ = ["ExerciseScreen", "RuleScreen", "exercise_screen", "own_verdict_text", "verdict_text"]

_SHOWN_ROWS = 4  # value-table rows shown at 80×24 (the first wrong ones first)


def _head(kind: str, diagnoses, unreadable: str = "the rule") -> Text:
    """The verdict's first line: ✓ Right, ✗ Not yet (with the mistakes named), ✗ Cannot read."""
    style = {"right": "bold", "wrong": "bold reverse", "unreadable": "bold reverse"}[kind]
    head = {"right": "✓ Right", "wrong": "✗ Not yet", "unreadable": f"✗ Cannot read {unreadable}"}[kind]
    text = Text()
    text.append(head, style=style)  # (Text(head, style=...) would style every line after it too)
    if diagnoses:
        text.append(": " + ", ".join(dict.fromkeys(diagnoses)), style="bold")
    return text


def verdict_text(verdict: RuleVerdict) -> Text:
    """The diagnosis, then the values the rule gave against the right ones."""
    text = _head(verdict.kind, verdict.diagnoses)
    text.append("\n" + verdict.message.removeprefix("Not yet. ") + "\n")
    rows = sorted(verdict.rows, key=lambda r: r.ok)[:_SHOWN_ROWS]
    if rows and verdict.kind != "unreadable":
        text.append(f"{'case':<34} {'grad':<11} {'yours':>9} {'right':>9}\n", style="bold underline")
        for row in rows:
            yours = "failed" if row.yours is None else fmt(row.yours)
            case = row.case
            if len(case) > 34:  # a case too wide for its column gets a line of its own: never a cut number
                text.append(case + "\n", style="" if row.ok else "bold")
                case = ""
            line = f"{case:<34} {row.operand + '.grad':<11} {yours:>9} {fmt(row.right):>9}"
            text.append(line + ("  ok\n" if row.ok else "  ✗\n"), style="" if row.ok else "bold")
    if verdict.leaves:
        parts = []
        for leaf in verdict.leaves:
            yours = "failed" if leaf.yours is None else fmt(leaf.yours)
            parts.append(f"{leaf.name}: {yours} vs {fmt(leaf.right)}{'' if leaf.ok else ' ✗'}")
        text.append("On the program (yours vs the engine; the numeric check agrees with the engine): ")
        text.append("; ".join(parts) + "\n")
    return text


def own_verdict_text(verdict) -> Text:
    """An own op's verdict (`tutor.own_op.OwnOpVerdict`): the same first line as a rule's, then
    each part marked ✓ or ✗ with what was found (the values yours vs right are in its words)."""
    unreadable = [
        part for part, read in (("the forward", verdict.forward), ("the rule", verdict.rule)) if read is None
    ]
    kind = "right" if verdict.correct else "unreadable" if unreadable else "wrong"
    text = _head(kind, verdict.diagnoses, " and ".join(unreadable))
    for part, ok, message in (
        ("forward", verdict.forward_ok, verdict.forward_message),
        ("rule", verdict.rule_ok, verdict.rule_message),
    ):
        text.append(f"\n{part} {'✓' if ok else '✗'} ", style="" if ok else "bold")
        text.append(message)
    return text + "\n"


def exercise_screen(exercise, **kw) -> Screen[bool]:
    """The screen of an exercise: the own-op screen for an op the learner invents, else the rule's."""
    if exercise.is_own:
        from tutor.screens.own_op import OwnOpScreen

        return OwnOpScreen(exercise, **kw)
    return ExerciseScreen(exercise, **kw)


class RuleScreen(Screen[bool]):
    """What the two exercise screens share: the intro, a `RuleEditor` that keeps the indent, the
    feedback box with the hints, and leaving (dismissed with True once graded right). Each
    subclass gives its keys, title, intro and grading: `ExerciseScreen` for an op of the engine,
    `tutor.screens.own_op.OwnOpScreen` for an op the learner invents."""

    CSS_PATH = "../exercise.tcss"

    def __init__(
        self,
        exercise,
        *,
        title: str | None = None,
        on_attempt: Callable[[str, bool, list[str]], None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``on_attempt(text, correct, tags)`` hears every graded rule (the lesson writes it to progress)."""
        super().__init__(name=name, id=id, classes=classes)
        self.exercise = exercise
        self._on_attempt = on_attempt
        self.hints_shown = 0
        self.solved = False
        self.verdict = None  # the last verdict (a RuleVerdict here, an OwnOpVerdict for an own op)
        self.title = self._title()
        self.sub_title = title or exercise.caption or ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._intro(), id="exercise-intro")
        yield from self._above_editor()
        self.editor = RuleEditor(
            with_body_indent(self.exercise.start),
            id="exercise-editor",
            tab_behavior="indent",
            show_line_numbers=True,
            soft_wrap=False,
        )
        yield self.editor
        with VerticalScroll(id="exercise-feedback-box"):
            yield Static(id="exercise-feedback")
            yield Static(id="exercise-hints")
        yield Footer(compact=True, show_command_palette=False)

    def _above_editor(self) -> ComposeResult:
        """What sits between the intro and the editor: nothing here (the own op's forward there)."""
        yield from ()

    OPENING = "Finish the rule below the unpacking line: what each operand's grad gets."

    def _first_focus(self):
        """Where typing starts: the editor (the own op's forward there)."""
        return self.editor

    def on_mount(self) -> None:  # (Textual runs a subclass's on_mount and then this one: hooks only)
        self.editor.move_cursor(self.editor.document.end)
        self._first_focus().focus()
        self.query_one("#exercise-feedback", Static).update(Text(self.OPENING, style="italic"))

    def _show(self, text: Text) -> None:
        """The verdict in the feedback box, scrolled to its first line."""
        self.query_one("#exercise-feedback", Static).update(text)
        self.query_one("#exercise-feedback-box", VerticalScroll).scroll_home(animate=False)

    def _back(self, _result: bool | None) -> None:
        """Back from the debugger or the training: the learner goes on typing the rule."""
        self.editor.focus()

    NO_HINTS = "This exercise has no hints: the op's local derivatives are at the top."

    def action_hint(self) -> None:
        hints = self.exercise.hints
        box = self.query_one("#exercise-hints", Static)
        if not hints:
            box.update(Text(self.NO_HINTS, style="italic"))
            return
        self.hints_shown = min(self.hints_shown + 1, len(hints))
        text = Text()
        for i, hint in enumerate(hints[: self.hints_shown], start=1):
            text.append(f"Hint {i} of {len(hints)}: {hint}\n")
        box.update(text)
        self.query_one("#exercise-feedback-box", VerticalScroll).scroll_end(animate=False)

    def action_leave(self) -> None:
        self.dismiss(self.solved)


class ExerciseScreen(RuleScreen):
    """Write one op's backward rule in a RuleEditor (a TextArea that keeps the indent); check it; run it."""

    BINDINGS = [
        Binding(
            "ctrl+s", "check", "Check", id="exercise.check", tooltip="Grade the rule against the engine's"
        ),
        Binding(
            "ctrl+r",
            "run",
            "Run it",
            id="exercise.run",
            tooltip="Open the debugger on the program with your rule in place of the engine's",
        ),
        Binding("ctrl+t", "hint", "Hint", id="exercise.hint", tooltip="Show the next hint"),
        Binding("escape", "leave", "Close", id="exercise.close", tooltip="Leave the exercise"),
    ]

    def _title(self) -> str:
        return f"Exercise: the rule of {OPS[self.exercise.op].name}"

    def _intro(self) -> Text:
        return Text(
            f"Local derivatives: {derivatives(self.exercise.op)}. ctrl+s checks, ctrl+r runs it.",
            no_wrap=False,
        )

    def _grade(self) -> RuleVerdict:
        verdict = grade_rule(self.editor.text, self.exercise.op, self.exercise.program)
        self.verdict = verdict
        self.solved = self.solved or verdict.correct
        self._show(verdict_text(verdict))
        if verdict.line:
            self.editor.move_cursor((verdict.line - 1, max(verdict.col - 1, 0)))
        return verdict

    def action_check(self) -> None:
        verdict = self._grade()
        if self._on_attempt is not None and verdict.kind != "unreadable":
            self._on_attempt(self.editor.text, verdict.correct, list(verdict.tags))

    def action_run(self) -> None:
        """The debugger on the program, with the rule as the editor holds it now."""
        verdict = self._grade()
        if verdict.code is None:
            return  # unreadable: the message says where; nothing runs
        from tutor.screens.debugger import DebuggerScreen

        rule = verdict.code.as_function()
        caption = f"your rule of {self.exercise.op} in place of the engine's"
        self.app.push_screen(
            DebuggerScreen(self.exercise.program, title=caption, rules={self.exercise.op: rule}),
            self._back,
        )
