"""Predict mode of the debugger: before each step runs, the learner types the gradient an operand
will get. A mixin of `DebuggerScreen` (it uses the screen's stepper, tree, inspector and answer
box). The question comes from `tutor.screens.debugger_text.question_for`, the grading from
`tutor.predict_diagnosis` (to the precision typed, `tutor.quiz.precision`). Two wrong tries
reveal the answer and run the step; escape skips the question, which runs the step too; the end
of a predicted pass sums up how it went (`pass_summary`).
"""

from __future__ import annotations

from engine.numfmt import fmt as format_number
from tutor.predict_diagnosis import diagnose
from tutor.screens.debugger_text import Prediction, pass_summary, question_for
from tutor.widgets.predict import AnswerBox

__all__ = ["Predicting"]

_TRIES_BEFORE_REVEAL = 2
_MAX_RECORDED = 500  # characters of a predict-mode answer kept in progress


class Predicting:
    """Predict mode's questions, answers and summary."""

    # ----------------------------------------------------------------- predict mode

    def action_toggle_predict(self) -> None:
        self.predict = not self.predict
        if not self.predict:
            note = "Predict mode off: n runs each step straight away."
        elif self.mistake:
            note = "Predict mode on: the questions come back when mistake mode is off (m)."
        else:
            note = "Predict mode on: n asks for a gradient before each step runs."
        self.inspector.show_step(self.stepper, predict=self.predicting, note=note)

    def _ask(self) -> None:
        self.question, prompt = question_for(self.stepper)
        self._tries = 0
        self._prediction = self.predictions[self.stepper.position] = Prediction()
        self.add_class("asking")  # the answer box first; the tree gives way (debugger.tcss)
        self.answer.ask(prompt)
        self.graph_tree.reveal(self.stepper.upcoming.node, with_operands=True)
        self.refresh_bindings()

    def on_answer_box_answered(self, message: AnswerBox.Answered) -> None:
        if self.editing:
            self._rerun(message.text)
            return
        if self.question is None:
            return
        verdict = diagnose(self.question, message.text)
        self.last_verdict = verdict
        if verdict.tag == "unreadable":
            self.answer.say(verdict.message)
            self.answer.input.focus()
            return
        if self._prediction.first_try is None:
            self._prediction.first_try = verdict.correct
        if verdict.tag:
            self._prediction.tags.append(verdict.tag)
        if self._on_attempt is not None:
            self._on_attempt(
                message.text.strip()[:_MAX_RECORDED], verdict.correct, [verdict.tag] if verdict.tag else []
            )
        if verdict.correct:
            self._run_predicted_step(f"✓ {verdict.message}")
            return
        self._tries += 1
        if self._tries >= _TRIES_BEFORE_REVEAL:
            answer = format_number(self.question.after)
            self._run_predicted_step(
                f"✗ {verdict.message} The answer is {self.question.operand}.grad = {answer}; "
                "the step has run, see the chain-rule line below."
            )
            return
        self.answer.say(f"✗ {verdict.message} Try again (escape skips the question).")
        self.answer.input.focus()

    def on_answer_box_cancelled(self, message: AnswerBox.Cancelled) -> None:
        """Escape skips the question: the step runs unpredicted, so n asks about the next one."""
        if self.editing:
            self._stop_editing()
            return
        if self.question is None:
            return
        q = self.question
        self._prediction.skipped = True
        self._run_predicted_step(
            f"Skipped: the step ran without a prediction; {q.operand}.grad = {format_number(q.after)}."
        )

    def _run_predicted_step(self, note: str) -> None:
        self._close_question()
        self.stepper.forward()
        step = self.stepper.current
        if self.stepper.done:
            note = f"{note}\n{self.summary()}"
        self._refresh_view([c.node for c in step.changes], note=note)

    def summary(self) -> str:
        """How the predictions of this pass went (empty when none was made)."""
        predictions = [self.predictions[i] for i in sorted(self.predictions)]
        return pass_summary(predictions, len(self.stepper.steps))

    def _close_question(self) -> None:
        if self.question is None:
            return
        self.question = None
        self.remove_class("asking")
        self.answer.close()
        self.graph_tree.focus()
        self.refresh_bindings()
