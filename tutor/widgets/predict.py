"""The answer box of predict mode: a question, a one-line input, and the feedback.

The box only collects text; grading is `tutor.predict_diagnosis` (pure, shared with the quiz).
Enter posts `AnswerBox.Answered` with the text as typed; escape posts `AnswerBox.Cancelled` (the
debugger then runs the step unpredicted). The placeholder says what precision is expected.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from tutor.quiz.precision import PRECISION_HELP

__all__ = ["AnswerBox"]


class AnswerBox(Vertical):
    """Hidden until `ask` is called."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Skip question",
            id="debugger.predict_cancel",
            tooltip="Skip the question: the step runs without a prediction",
        ),
        Binding(
            "escape",
            "keep",
            "Keep the program",
            id="debugger.change_cancel",
            tooltip="Close the program without rerunning it",
        ),
    ]

    editing = False
    """True while the box holds a program to edit (escape keeps it) rather than a question."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape says what it does: skip the question, or keep the program being edited."""
        if action == "cancel":
            return not self.editing
        if action == "keep":
            return self.editing
        return True

    class Answered(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Cancelled(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = Static(id="answer-question")
        self._placeholder = f"a number to {PRECISION_HELP}"
        self.input = Input(placeholder=self._placeholder, max_length=40, id="answer-input")
        self.input.cursor_blink = False  # no steady redraws over SSH
        self.feedback = Static(id="answer-feedback")
        self.feedback_text = ""
        self.question_text = ""

    def compose(self):
        yield self.question
        yield self.input
        yield self.feedback

    @property
    def is_open(self) -> bool:
        return self.display

    def on_mount(self) -> None:
        self.display = False

    def ask(self, question: str, *, value: str = "", max_length: int = 40, placeholder: str = "") -> None:
        """Open with ``question``; ``value`` prefills the input (the debugger's program to edit)."""
        self.question_text = question
        self.question.update(Text(question, style="bold"))
        self.say("")
        self.input.max_length = max_length
        self.input.placeholder = placeholder or self._placeholder
        self.input.value = value
        self.display = True
        self.input.focus()
        self.input.cursor_position = len(value)
        self.app.refresh_bindings()

    def say(self, feedback: str, *, style: str = "") -> None:
        self.feedback_text = feedback
        self.feedback.update(Text(feedback, style=style))
        self.feedback.display = bool(feedback)

    def close(self) -> None:
        self.display = False
        self.input.value = ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Answered(event.value))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())

    def action_keep(self) -> None:
        self.post_message(self.Cancelled())
