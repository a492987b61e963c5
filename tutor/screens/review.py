"""The review screen: the parts of lessons the learner got wrong that are due today, asked again.

Opened with ``r`` from the list of lessons ("Review: N due" there). Each row is one review item
(:mod:`tutor.review.schedule`): where it is, what the learner answered and the mistake it showed,
and its box. Enter asks it again: a quiz on the quiz screen (with new numbers where its answer
is computed from a program, :mod:`tutor.review.fresh`), a debugger block in the debugger's
predict mode on its program with new leaves. Grading, feedback and the diagnosis are those
screens' own; their answers are recorded on the block's id like any answer, which is what moves
the item on the schedule. Back here, a line says where the item went ("back in 2 days").

Keys: ↑↓ move, Enter asks the highlighted review, ``q``/escape back to the lessons.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from tutor.app import TutorApp
from tutor.review import INTERVALS, ReviewItem, due_items, review_items
from tutor.review.questions import ReviewQuestion, item_line, review_question
from tutor.screens.quiz import QuizScreen

__all__ = ["ReviewQuizScreen", "ReviewScreen", "where_it_went"]


def _days(n: int) -> str:
    return {0: "today", 1: "tomorrow"}.get(n, f"in {n} days")


def where_it_went(before: ReviewItem, after: ReviewItem | None, today) -> str:
    """One line on what the answers just given did to the item."""
    if after is None or after.attempts == before.attempts:
        return "Not answered: it is still due."
    if after.retired:
        return "✓ Right: that one is learnt; it will not come back."
    wait = after.wait_days(today)
    if after.box == 1:
        return f"✗ Not yet: it comes back {_days(wait)}, with new numbers where it has a program."
    if after.box > before.box:
        return f"✓ Right: box {after.box} of {len(INTERVALS)}; it comes back {_days(wait)}."
    return f"Answered: it comes back {_days(wait)}."


class ReviewQuizScreen(QuizScreen):
    """The quiz screen, saying on its status line that this is a review (and if its numbers are new)."""

    def __init__(self, question: ReviewQuestion, **kwargs) -> None:
        super().__init__(question.quiz, **kwargs)
        self.fresh = question.fresh

    def status_text(self) -> str:
        label = "Review with new numbers" if self.fresh else "Review"
        return super().status_text().replace("Quiz", label, 1)


class ReviewList(OptionList):
    BINDINGS = [Binding("enter", "select", "Ask it", id="review.ask", tooltip="Ask this review again")]


class ReviewScreen(Screen):
    """The reviews due today; Enter asks one again."""

    DEFAULT_CSS = """
    ReviewScreen #review-head { height: auto; padding: 0 1; text-style: bold; }
    ReviewScreen #review-items { height: 1fr; border: none; padding: 0 1; }
    ReviewScreen #review-items:focus > .option-list--option-highlighted { text-style: bold; }
    ReviewScreen #review-note { height: auto; max-height: 4; padding: 0 1; border-top: solid $primary; }
    """

    BINDINGS = [Binding("q,escape", "leave", "Back", id="review.back", tooltip="Back to the lessons")]

    app = getters.app(TutorApp)

    def __init__(self) -> None:
        super().__init__()
        self.due: list[ReviewItem] = []
        self.note = ""
        self._asked: ReviewItem | None = None

    def compose(self) -> ComposeResult:
        self.title = "Review"
        self.sub_title = "what you got wrong, asked again"
        yield Header()
        yield Static(id="review-head")
        yield ReviewList(id="review-items")
        yield Static(id="review-note")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_items()
        self.query_one("#review-items", OptionList).focus()

    def refresh_items(self) -> None:
        today = self.app.today()
        items = review_items(self.app.progress.attempts())
        self.due = due_items(items, today)
        head = self.query_one("#review-head", Static)
        listing = self.query_one("#review-items", OptionList)
        keep = listing.highlighted
        listing.clear_options()
        for item in self.due:
            where, what = item_line(item, self.app.catalog)
            row = Text(no_wrap=True, overflow="ellipsis")
            row.append(where, style="bold")
            row.append(f"  box {item.box}\n  {what}")
            listing.add_option(Option(row))
        if self.due:
            listing.highlighted = min(keep or 0, len(self.due) - 1)
            n = len(self.due)
            head.update(Text(f"{n} review{'s' * (n != 1)} due today. Enter asks one again."))
        else:
            waiting = [i.wait_days(today) for i in items if not i.retired]
            if waiting:
                head.update(Text(f"Nothing due today. The next review comes back {_days(min(waiting))}."))
            else:
                head.update(Text("Nothing to review: every part you got wrong has been learnt."))
        self.query_one("#review-note", Static).update(Text(self.note))
        self.query_one("#review-note", Static).display = bool(self.note)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        if 0 <= index < len(self.due):
            self.ask(self.due[index])

    def ask(self, item: ReviewItem) -> None:
        """Open the item's question on the screen that grades it."""
        question = review_question(item, self.app.catalog, self.app.today())
        if question is None:
            self.notify(
                "That part is no longer in the course (its lesson changed), so it cannot be asked.",
                title="Cannot review",
                severity="warning",
                markup=False,
            )
            return
        self._asked = item
        progress = self.app.progress
        if question.quiz is not None:
            screen = ReviewQuizScreen(
                question, lesson_id=item.lesson_id, block_id=item.block_id, progress=progress
            )
        elif question.exercise is not None:
            from tutor.screens.exercise import exercise_screen

            screen = exercise_screen(
                question.exercise,
                title=f"Review: {question.where}",
                on_attempt=partial(progress.record_attempt, item.lesson_id, item.block_id),
            )
        else:
            from tutor.screens.debugger import DebuggerScreen

            label = "new numbers" if question.fresh else "as in the lesson"
            screen = DebuggerScreen(
                question.program,
                title=f"Review ({label}): {question.where}",
                predict=True,
                on_attempt=partial(progress.record_attempt, item.lesson_id, item.block_id),
            )
        self.app.push_screen(screen, callback=self._answered)

    def _answered(self, _result=None) -> None:
        before = self._asked
        self._asked = None
        if before is not None:
            after = next(
                (
                    i
                    for i in review_items(self.app.progress.attempts(before.lesson_id))
                    if i.block_id == before.block_id
                ),
                None,
            )
            self.note = where_it_went(before, after, self.app.today())
        self.refresh_items()

    def action_leave(self) -> None:
        self.dismiss()
