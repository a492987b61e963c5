"""How it went: a lesson's answers (or the whole course's) in a few lines, and the misconceptions
the learner's answers showed, each with the lesson part that shows the point.

Opened with ``s`` from a lesson (that lesson) and from the list of lessons (the course); ``m``
there opens the mastery view (:mod:`tutor.screens.mastery`). The
text is built by :func:`summary_text`, a pure function of the catalogue and the attempts.
"""

from __future__ import annotations

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tutor.app import TutorApp
from tutor.misconceptions import CATALOGUE
from tutor.progress import LessonState, tag_summary
from tutor.review.skills import where_it_shows

__all__ = ["SummaryScreen", "summary_text"]


def _answers_line(attempts) -> str:
    """ "N questions answered, M right first time; K wrong answers on the way"."""
    first: dict[tuple[str, int], bool] = {}
    wrong = 0
    for attempt in attempts:
        first.setdefault((attempt.lesson_id, attempt.block_id), attempt.correct)
        wrong += not attempt.correct
    if not first:
        return "No answers yet: the quizzes and predictions you answer are counted here."
    right = sum(first.values())
    asked = len(first)
    line = f"{asked} question{'s' * (asked != 1)} answered, {right} right first time"
    return line + (f"; {wrong} wrong answer{'s' * (wrong != 1)} on the way." if wrong else ".")


def summary_text(catalog, progress, lesson_id: str | None = None) -> Text:
    """The summary of one lesson (``lesson_id``) or of the course."""
    attempts = progress.attempts(lesson_id) if lesson_id else progress.attempts()
    text = Text()
    if lesson_id is None:
        lessons = [lesson for _, group in catalog.sections() for lesson in group]
        done = sum(progress.state(lesson.id) is LessonState.DONE for lesson in lessons)
        text.append(f"{done} of {len(lessons)} lessons done.", style="bold")
        text.append(" " + _answers_line(attempts) + "\n")
    else:
        lesson = catalog.get(lesson_id)
        state = progress.state(lesson_id)
        status = "done ✓" if state is LessonState.DONE else "not finished yet"
        text.append(f"{lesson.title if lesson else lesson_id}: {status}.", style="bold")
        text.append(" " + _answers_line(attempts) + "\n")
    met = tag_summary(attempts)
    if not met:
        text.append("\nNo misconception showed in your answers.")
        return text
    text.append("\nMisconceptions your answers showed:\n", style="bold")
    for entry in met:
        known = CATALOGUE.get(entry["tag"])
        title = known.title if known else entry["tag"]
        mark = "✓ put right" if entry["resolved"] else "✗ not put right yet"
        times = f"{entry['hits']} time{'s' * (entry['hits'] != 1)}"
        text.append(f"\n• {title}", style="bold")
        text.append(f" ({times}; {mark})\n")
        if known:
            text.append(f"  {known.explanation}\n")
            text.append(f"  Shown in: {where_it_shows(catalog, known.lesson_id, [entry['tag']])}.\n")
    return text


class SummaryScreen(Screen):
    """How a lesson, or the course, went."""

    BINDINGS = [
        Binding("q,escape,s", "leave", "Back", id="summary.back", tooltip="Back where you were"),
        Binding(
            "m", "mastery", "Mastery", id="summary.mastery", tooltip="Each skill, your level and what next"
        ),
    ]

    app = getters.app(TutorApp)

    def __init__(self, lesson_id: str | None = None) -> None:
        super().__init__()
        self.lesson_id = lesson_id

    def compose(self) -> ComposeResult:
        lesson = self.app.catalog.get(self.lesson_id) if self.lesson_id else None
        self.title = f"How it went: {lesson.title}" if lesson else "How the course went"
        self.sub_title = "summary"
        yield Header()
        with VerticalScroll(id="summary"):
            yield Static(summary_text(self.app.catalog, self.app.progress, self.lesson_id), id="summary-text")
        yield Footer()

    def action_mastery(self) -> None:
        from tutor.screens.mastery import MasteryScreen

        self.app.push_screen(MasteryScreen())

    def action_leave(self) -> None:
        self.dismiss()
