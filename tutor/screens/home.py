"""The home screen: every lesson, grouped by section, with where the learner stands in each.

Each row carries a marker as well as a word, so the state reads without colour:
``✓ done``, ``… in progress``, ``· not started``, ``✗ broken`` (with the file's first problem on
the line below). The highlighted row also gets a ``▶``.
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from tutor.app import TutorApp
from tutor.lessons import Lesson, Problem
from tutor.progress import LessonState, lesson_state

__all__ = ["HomeScreen", "LessonList", "STATE_MARKERS", "problem_text"]

STATE_MARKERS = {
    LessonState.DONE: "✓",
    LessonState.IN_PROGRESS: "…",
    LessonState.NOT_STARTED: "·",
    LessonState.BROKEN: "✗",
}


def problem_text(problem: Problem) -> str:
    """A problem as ``file:line:col: message`` with just the file's name, to fit a row."""
    name = Path(str(problem.path)).name
    return f"{name}:{problem.line}:{problem.col}: {problem.message}"


class _Row:
    """One lesson's line in the list: ``▶ ✓ Title …   state``, plus, for a broken lesson, its first
    problem wrapped below with a 4-column indent.

    Laid out by hand rather than with a Rich table grid: the list draws every row several times
    while it measures and paints, and the grids were a third of the time to the first screen."""

    def __init__(self, lesson: Lesson, state: LessonState, highlighted: bool) -> None:
        self.lesson = lesson
        self.state = state
        self.highlighted = highlighted

    def __rich_console__(self, console, options):
        width = max(options.max_width, 1)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("▶" if self.highlighted else " ", style="bold")
        line.append(" " + STATE_MARKERS[self.state] + " ")
        state = " " + self.state
        room = width - line.cell_len - cell_len(state)
        title = Text(self.lesson.title)
        if title.cell_len > room:
            title.truncate(max(room, 0), overflow="ellipsis")
        line.append_text(title)
        line.append(" " * max(room - title.cell_len, 0))
        line.append(state)
        line.truncate(width)
        yield line
        if self.state is not LessonState.BROKEN:
            return
        problem = self.lesson.first_problem
        detail = Text(f"broken: {problem_text(problem)}" if problem else "broken", style="italic")
        for part in detail.wrap(console, max(width - 4, 1)):
            part.rstrip()
            part.set_length(max(width - 4, 1))
            yield Text("    ") + part


class LessonList(OptionList):
    """The list itself. Enter is the list's own "select" (shown as Open), not a binding of the
    screen: keys typed in one burst, like Down Down Enter, then reach the list in the order typed.
    (A priority binding on the screen ran Enter before the list had moved for the Downs.)"""

    BINDINGS = [
        Binding(
            "enter",
            "select",
            "Open",
            id="home.open",
            tooltip="Open the highlighted lesson where you left off",
        ),
    ]


class HomeScreen(Screen):
    """The list of lessons. Enter opens the highlighted one where the learner left off."""

    SUB_TITLE = "Lessons"

    DEFAULT_CSS = """
    HomeScreen #details {
        border-title-align: left;
        border-title-style: bold;
    }
    """

    app = getters.app(TutorApp)

    BINDINGS = [
        Binding("q", "app.quit", "Quit", id="home.quit", tooltip="Leave the tutor"),
        Binding(
            "s",
            "summary",
            "Summary",
            id="home.summary",
            tooltip="Your answers across the course, and the misconceptions they showed",
        ),
        Binding(
            "r",
            "review",
            "Review",
            id="home.review",
            tooltip="Ask again, with new numbers, the parts you got wrong that are due today",
        ),
        Binding(
            "m",
            "mastery",
            "Mastery",
            id="home.mastery",
            tooltip="Each skill of backprop, your level in it and what to do next",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[str | None] = []  # lesson id of each option; None for section headings
        self._marked: int | None = None  # the row drawn with the ▶
        self._done: set[str] = set()  # the lessons done when the list was last drawn
        self._reviews_due = 0  # review items due today (tutor.review), when the list was last drawn
        self._answered = False  # any answer recorded yet (the mastery view is built from them)

    def compose(self) -> ComposeResult:
        yield Header()
        yield LessonList(id="lessons")
        yield Static(id="details")
        yield Footer()

    # ------------------------------------------------------------------ building the list

    def _lesson_ids(self) -> list[str | None]:
        """The lesson id of each option, in list order; None for a section heading."""
        ids: list[str | None] = []
        for _section, lessons in self.app.catalog.sections():
            ids.append(None)
            ids.extend(lesson.id for lesson in lessons)
        return ids

    def _options(self, marked: int | None) -> list[Option]:
        app = self.app
        options: list[Option] = []
        for section, lessons in app.catalog.sections():
            options.append(Option(Text(section, style="bold underline"), disabled=True))
            for lesson in lessons:
                state = lesson_state(lesson, app.progress)
                options.append(Option(_Row(lesson, state, len(options) == marked)))
        return options

    def _state_of(self, lesson_id: str) -> LessonState | None:
        lesson = self.app.catalog.get(lesson_id)
        return lesson_state(lesson, self.app.progress) if lesson is not None else None

    def _highlighted_id(self) -> str | None:
        try:
            option_list = self.query_one("#lessons", OptionList)
        except Exception:
            return None
        index = option_list.highlighted
        if index is None or index >= len(self._ids):
            return None
        return self._ids[index]

    def _first_choice(self) -> int | None:
        """Where the cursor starts: the first lesson in progress, else the first not started."""
        app = self.app
        lessons = [(i, lesson_id) for i, lesson_id in enumerate(self._ids) if lesson_id is not None]
        if not lessons:
            return None
        for wanted in (LessonState.IN_PROGRESS, LessonState.NOT_STARTED):
            for i, lesson_id in lessons:
                lesson = app.catalog.get(lesson_id)
                if lesson is not None and lesson_state(lesson, app.progress) == wanted:
                    return i
        return lessons[0][0]

    def refresh_list(self) -> None:
        """Rebuild every row (states change when the learner comes back from a lesson). When
        the highlighted lesson has just been finished, the cursor moves on to the next one."""
        option_list = self.query_one("#lessons", OptionList)
        keep = self._highlighted_id()
        just_done = keep is not None and keep not in self._done and self._state_of(keep) is LessonState.DONE
        self._ids = self._lesson_ids()
        target = self._ids.index(keep) if keep is not None and keep in self._ids else self._first_choice()
        if just_done and target is not None:
            target = next((i for i in range(target + 1, len(self._ids)) if self._ids[i] is not None), target)
        self._done = {i for i in self._ids if i is not None and self._state_of(i) is LessonState.DONE}
        self._marked = target
        option_list.clear_options()
        option_list.add_options(self._options(target))
        if target is not None:
            option_list.highlighted = target
        self._show_details()
        self._show_reviews()

    def _show_reviews(self) -> None:
        """ "Review: N due · r to start" in the rule above the details on a day reviews are due (a
        line of its own would push the course's last lessons off the list at 80×24)."""
        from tutor.review import due_items, review_items

        attempts = self.app.progress.attempts()
        items = review_items(attempts)
        self._answered = bool(attempts)
        self._reviews_due = len(due_items(items, self.app.today()))
        details = self.query_one("#details", Static)
        details.border_title = (
            f" Review: {self._reviews_due} due · r to start " if self._reviews_due else None
        )
        self.refresh_bindings()

    def _mark(self, index: int | None) -> None:
        """Move the ``▶`` to row ``index``, redrawing only the two rows that change."""
        if index == self._marked:
            return
        option_list = self.query_one("#lessons", OptionList)
        for row, marked in ((self._marked, False), (index, True)):
            lesson_id = self._ids[row] if row is not None and row < len(self._ids) else None
            if lesson_id is None:
                continue
            lesson = self.app.catalog.get(lesson_id)
            option_list.replace_option_prompt_at_index(
                row, _Row(lesson, lesson_state(lesson, self.app.progress), marked)
            )
        self._marked = index

    def _show_details(self) -> None:
        details = self.query_one("#details", Static)
        app = self.app
        lesson_id = self._highlighted_id()
        if not self._ids:
            details.update(
                Text(
                    "No lessons found. Add lesson files with `tutor --lessons DIR` "
                    "or the TUTOR_LESSONS variable."
                )
            )
            return
        lesson = app.catalog.get(lesson_id) if lesson_id else None
        if lesson is None:
            details.update("")
            return
        text = Text()
        if lesson.broken:
            count = len(lesson.problems)
            text.append(f"{lesson.title}: {count} problem{'s' if count != 1 else ''} in ")
            text.append(Path(str(lesson.path)).name)
            text.append(". Enter lists them with the full path.")
        else:
            text.append(lesson.summary or lesson.title)
            if lesson.prerequisites:
                needs = []
                for prerequisite in lesson.prerequisites:
                    other = app.catalog.get(prerequisite)
                    if other is None:
                        needs.append(prerequisite)
                    else:
                        marker = STATE_MARKERS[lesson_state(other, app.progress)]
                        needs.append(f"{other.title} {marker}")
                text.append("\nBuilds on: " + ", ".join(needs))
        loose = [p for p in app.catalog.problems if not self._belongs_to_lesson(p)]
        if loose:
            text.append(
                f"\n{len(loose)} problem{'s' if len(loose) != 1 else ''} across lesson files "
                "(run `tutor check` to see them)."
            )
        details.update(text)

    def _belongs_to_lesson(self, problem: Problem) -> bool:
        for _section, lessons in self.app.catalog.sections():
            for lesson in lessons:
                if problem in lesson.problems:
                    return True
        return False

    # ------------------------------------------------------------------ events and actions

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one("#lessons", OptionList).focus()

    def action_summary(self) -> None:
        from tutor.screens.summary import SummaryScreen

        self.app.push_screen(SummaryScreen())

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "review":
            return self._reviews_due > 0  # else hidden: nothing to review today
        if action == "mastery":
            return self._answered  # else hidden: no answer to read a level from yet
        return True

    def action_review(self) -> None:
        from tutor.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen())

    def action_mastery(self) -> None:
        from tutor.screens.mastery import MasteryScreen

        self.app.push_screen(MasteryScreen())

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._mark(event.option_index)
        self._show_details()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # Enter, or a click: open the lesson of that row
        index = event.option_index
        lesson_id = self._ids[index] if 0 <= index < len(self._ids) else None
        if lesson_id is not None:
            self.app.open_lesson(lesson_id)
