"""Opening a lesson's interactive card on its own screen: the part of the lesson screen that knows
each block kind's screen (a mixin of :class:`tutor.screens.lesson.LessonScreen`).

Each block was parsed when the lesson was checked (``block_result``), never again here; one that
did not parse says why in a toast instead of opening. A block's part is recorded as done the
moment its screen reports it finished (:meth:`BlockOpening._recorder`), not when the learner
leaves the screen, so a dropped connection cannot undo it.
"""

from __future__ import annotations

from functools import partial

__all__ = ["BlockOpening"]

_CANNOT_OPEN_TITLES = {
    "debugger": "This program does not parse",
    "pytorch": "This program does not parse",
    "quiz": "This quiz cannot open",
    "train": "This training task cannot open",
    "exercise": "This exercise cannot open",
}


class BlockOpening:
    """``open_card(card)``: the card's screen, pushed with the lesson's progress wired in. The
    host screen provides ``lesson``, ``progress``, ``app``, ``notify``, ``_block_finished`` and
    ``_bug_hidden``."""

    def open_card(self, card) -> None:
        opener = {
            "debugger": self._open_debugger,
            "quiz": self._open_quiz,
            "train": self._open_train,
            "pytorch": self._open_pytorch,
            "exercise": self._open_exercise,
        }.get(card.block.kind)
        if opener is not None:
            opener(card)

    def _checked(self, card):
        """The card's block as parsed when the lesson was checked, or None after saying why it
        cannot open."""
        from tutor.lessons import block_result, cannot_open

        parsed = block_result(card.block)
        if parsed is None:
            self.notify(
                cannot_open(self.lesson, card.block),
                title=_CANNOT_OPEN_TITLES.get(card.block.kind, "This part cannot open"),
                severity="error",
                timeout=10,
                markup=False,
            )
        return parsed

    def _push(self, card, screen) -> None:
        self.app.push_screen(screen, callback=partial(self._block_finished, card.block))

    def _recorder(self, block_id: str):
        """What a block's screen calls the moment its part is finished (a right answer, the end of
        the pass, an outcome shown)."""
        return partial(self.progress.complete_block, self.lesson.id, block_id)

    def _attempts(self, card):
        """Where a block's screen writes each answer as it is given."""
        return partial(self.progress.record_attempt, self.lesson.id, card.block.id)

    def _open_exercise(self, card) -> None:
        from tutor.screens.exercise import exercise_screen

        exercise = self._checked(card)
        if exercise is not None:
            title = exercise.caption or self.lesson.title
            self._push(card, exercise_screen(exercise, title=title, on_attempt=self._attempts(card)))

    def _open_debugger(self, card) -> None:
        from tutor.screens.debugger import DebuggerScreen

        spec = self._checked(card)
        if spec is None:
            return
        screen = DebuggerScreen(
            spec.program,
            title=spec.caption or self.lesson.title,
            predict=spec.predict,
            # written as they happen: predictions (with the mistake each one shows) and the end
            on_attempt=self._attempts(card),
            on_finished=self._recorder(card.block.id),
        )
        self._push(card, screen)

    def _open_pytorch(self, card) -> None:
        from tutor.screens.pytorch import PytorchScreen

        spec = self._checked(card)
        if spec is None:
            return
        screen = PytorchScreen(
            spec.program,
            title=self.lesson.title,
            caption=spec.caption,
            on_shown=self._recorder(card.block.id),
        )
        self._push(card, screen)

    def _open_quiz(self, card) -> None:
        from tutor.screens.quiz import QuizScreen

        quiz = self._checked(card)
        if quiz is None:
            return
        screen = QuizScreen(
            quiz,
            lesson_id=self.lesson.id,
            block_id=card.block.id,  # what its answers are recorded under
            progress=self.progress,
            on_solved=self._recorder(card.block.id),
        )
        self._push(card, screen)

    def _open_train(self, card) -> None:
        from tutor.screens.train import TrainScreen

        task = self._checked(card)
        if task is None:
            return
        caption = card.block.config.get("caption", "") if isinstance(card.block.config, dict) else ""
        screen = TrainScreen(
            task,
            title=caption or self.lesson.title,
            on_complete=self._recorder(card.block.id),
            hide_bug=self._bug_hidden(card.block),
        )
        self._push(card, screen)
