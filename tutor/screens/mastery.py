"""The mastery view: each skill of backprop, the learner's level in it from their own answers,
and what to do next (a review that is due, or the lesson part that teaches it).

Opened with ``m`` from the list of lessons and from the summary. The levels and the skills table
are :mod:`tutor.review.skills`'; this screen only lays them out.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tutor.app import TutorApp
from tutor.review import RESOLVED_WORDS, review_items
from tutor.review.skills import SkillLevel, mastery

__all__ = ["LEVEL_MARKS", "MasteryScreen", "mastery_table"]

LEVEL_MARKS = {"not met": "·", "needs work": "✗", "practising": "…", "solid": "✓"}


def mastery_table(levels: list[SkillLevel]) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column("skill", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("right", justify="right", no_wrap=True)
    table.add_column("what next", ratio=1)
    for row in levels:
        mark = LEVEL_MARKS[row.level]
        table.add_row(
            Text(row.skill.title),
            Text(f"{mark} {row.level}", style="bold" if row.level == "needs work" else ""),
            Text(f"{row.right}/{row.answered}" if row.answered else "–"),
            Text(row.next_step),
        )
    return table


class MasteryScreen(Screen):
    """Each skill, the learner's level and what to do next."""

    DEFAULT_CSS = """
    MasteryScreen #mastery-head { height: auto; padding: 0 1; }
    MasteryScreen #mastery { height: 1fr; padding: 0 1; }
    """

    BINDINGS = [Binding("q,escape,m", "leave", "Back", id="mastery.back", tooltip="Back where you were")]

    app = getters.app(TutorApp)

    def compose(self) -> ComposeResult:
        self.title = "Mastery"
        self.sub_title = "each skill, from your own answers"
        attempts = self.app.progress.attempts()
        levels = mastery(self.app.catalog, attempts, review_items(attempts), self.app.today())
        yield Header()
        yield Static(
            Text(
                f"Your level in each skill, from your answers (a mistake counts as put right after {RESOLVED_WORDS})."
            ),
            id="mastery-head",
        )
        with VerticalScroll(id="mastery"):
            yield Static(mastery_table(levels), id="mastery-table")
        yield Footer()

    def action_leave(self) -> None:
        self.dismiss()
