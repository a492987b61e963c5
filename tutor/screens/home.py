"""The home screen: every lesson, grouped by section, with where the learner stands in each.

Each row carries a marker as well as a word, so the state reads without colour:
``✓ done``, ``… in progress``, ``· not started``, ``✗ broken`` (with the file's first problem on
the line below). The highlighted row also gets a ``▶``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

__all__ = ["HomeScreen", "STATE_MARKERS", "lesson_state", "problem_text"]

STATE_MARKERS = {"done": "✓", "in progress": "…", "not started": "·", "broken": "✗"}


def problem_text(problem) -> str:
    """A problem as ``file:line:col: message`` with just the file's name, to fit a row."""
    name = Path(str(problem.path)).name
    return f"{name}:{problem.line}:{problem.col}: {problem.message}"


def lesson_state(lesson, progress) -> str:
    """"broken" for a lesson that cannot open, else the progress store's word for it."""
    if lesson.broken:
        return "broken"
    return progress.state(lesson.id)


def _row(lesson, state: str, highlighted: bool):
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(
        Text("▶" if highlighted else " ", style="bold"),
        Text(STATE_MARKERS.get(state, "?")),
        Text(lesson.title),
        Text(state),
    )
    if state != "broken":
        return grid
    problem = lesson.first_problem
    detail = Table.grid(expand=True)
    detail.add_column(width=4, no_wrap=True)
    detail.add_column(ratio=1)
    detail.add_row("", Text(f"broken: {problem_text(problem)}" if problem else "broken", style="italic"))
    return Group(grid, detail)


class HomeScreen(Screen):
    """The list of lessons. Enter opens the highlighted one where the learner left off."""

    SUB_TITLE = "Lessons"

    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            id="home.open",
            tooltip="Open the highlighted lesson where you left off",
            priority=True,
        ),
        Binding("q", "app.quit", "Quit", id="home.quit", tooltip="Leave the tutor"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[str | None] = []  # lesson id of each option; None for section headings

    def compose(self) -> ComposeResult:
        yield Header()
        yield OptionList(id="lessons")
        yield Static(id="details")
        yield Footer()

    # ------------------------------------------------------------------ building the list

    def _options(self) -> list[Option]:
        app = self.app
        options: list[Option] = []
        self._ids = []
        highlighted = self._highlighted_id()
        for section, lessons in app.catalog.sections():
            options.append(Option(Text(section, style="bold underline"), disabled=True))
            self._ids.append(None)
            for lesson in lessons:
                state = lesson_state(lesson, app.progress)
                options.append(Option(_row(lesson, state, lesson.id == highlighted)))
                self._ids.append(lesson.id)
        return options

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
        lessons = [
            (i, lesson_id)
            for i, lesson_id in enumerate(self._ids)
            if lesson_id is not None
        ]
        if not lessons:
            return None
        for wanted in ("in progress", "not started"):
            for i, lesson_id in lessons:
                lesson = app.catalog.get(lesson_id)
                if lesson is not None and lesson_state(lesson, app.progress) == wanted:
                    return i
        return lessons[0][0]

    def refresh_list(self) -> None:
        """Rebuild every row (states change when the learner comes back from a lesson)."""
        option_list = self.query_one("#lessons", OptionList)
        keep = self._highlighted_id()
        option_list.clear_options()
        option_list.add_options(self._options())
        target = self._ids.index(keep) if keep is not None and keep in self._ids else self._first_choice()
        if target is not None:
            option_list.highlighted = target
        self._redraw_rows()
        self._show_details()

    def _redraw_rows(self) -> None:
        option_list = self.query_one("#lessons", OptionList)
        current = option_list.highlighted
        for index, lesson_id in enumerate(self._ids):
            if lesson_id is None:
                continue
            lesson = self.app.catalog.get(lesson_id)
            state = lesson_state(lesson, self.app.progress)
            option_list.replace_option_prompt_at_index(index, _row(lesson, state, index == current))

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
                        marker = STATE_MARKERS.get(lesson_state(other, app.progress), "?")
                        needs.append(f"{other.title} {marker}")
                text.append("\nBuilds on: " + ", ".join(needs))
        loose = [p for p in getattr(app.catalog, "problems", []) if not self._belongs_to_lesson(p)]
        if loose:
            text.append(
                f"\n{len(loose)} problem{'s' if len(loose) != 1 else ''} across lesson files "
                "(run `tutor check` to see them)."
            )
        details.update(text)

    def _belongs_to_lesson(self, problem) -> bool:
        for _section, lessons in self.app.catalog.sections():
            for lesson in lessons:
                if problem in lesson.problems:
                    return True
        return False

    # ------------------------------------------------------------------ events and actions

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one("#lessons", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._redraw_rows()
        self._show_details()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # A mouse click selects: open it like Enter does.
        self.action_open()

    def action_open(self) -> None:
        lesson_id = self._highlighted_id()
        if lesson_id is not None:
            self.app.open_lesson(lesson_id)
