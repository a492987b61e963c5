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
    ]

    class Answered(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Cancelled(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = Static(id="answer-question")
        self.input = Input(placeholder=f"a number to {PRECISION_HELP}", max_length=40, id="answer-input")
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

    def ask(self, question: str) -> None:
        self.question_text = question
        self.question.update(Text(question, style="bold"))
        self.say("")
        self.input.value = ""
        self.display = True
        self.input.focus()

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
