"""The Textual application: the home screen, lessons, help, and the guard for tiny terminals.

The command line builds the catalogue and the progress store and calls :func:`run_app`. Nothing
here parses lesson files or writes progress on its own: it asks ``catalog`` and ``progress``.

Screens:

* :class:`~tutor.screens.home.HomeScreen` is the default screen (the bottom of the stack).
* Opening a lesson pushes a :class:`~tutor.screens.lesson.LessonScreen` (or, for a lesson file
  with problems, a :class:`~tutor.screens.lesson.ProblemsScreen`); ``q`` pops it.
* ``?``/F1 pushes the help screen for whatever screen is on top.
* Below 60×20 a :class:`~tutor.screens.too_small.TooSmallScreen` covers everything until the
  terminal grows again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING

from textual import getters
from textual.app import App, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen

from tutor.lessons import Catalog, Lesson
from tutor.progress import Progress
from tutor.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen

if TYPE_CHECKING:
    from engine.expr import Program
    from engine.train import Task

# The screens are imported when first opened, the home screen's included: each one reads the app
# as a TutorApp (``getters.app``), so none can be imported before this module is. The lesson and
# help screens (and the Markdown and syntax machinery they pull in) are not needed at start-up:
# the home screen is what has to appear fast.

__all__ = ["LessonCommands", "TutorApp", "run_app"]


class TutorApp(App):
    """The tutor: the lessons of ``catalog`` (:mod:`tutor.lessons`), the learner's ``progress``
    (:mod:`tutor.progress`). ``open_lesson`` opens that lesson at start; ``step_program`` instead
    opens the debugger on it and ``train_task`` the training screen on it (``step_title`` titles
    either), and leaving that screen leaves the app."""

    CSS_PATH = "app.tcss"
    TITLE = "tutor"

    BINDINGS = [
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            id="app.help",
            tooltip="List the keys of this screen",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Jump to a lesson",
            id="app.palette",
            tooltip="Jump to any lesson by typing part of its title",
            show=False,  # the footer shows it on its right-hand side
            priority=True,
        ),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit the tutor", show=False, priority=True),
    ]

    COMMANDS = {lambda: LessonCommands} | App.COMMANDS  # defined below: it reads the app as a TutorApp

    def __init__(
        self,
        catalog: Catalog,
        progress: Progress,
        *,
        open_lesson: str | None = None,
        step_program: Program | None = None,
        step_title: str = "",
        train_task: Task | None = None,
        clock: Callable[[], datetime] | None = None,
        exercise=None,
    ) -> None:
        super().__init__()
        # what "today" is for the review schedule (tests pass a simulated clock)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.catalog = catalog
        self.progress = progress
        self._open_at_start = open_lesson
        self._step_program = step_program
        self._step_title = step_title
        self._train_task = train_task
        self._exercise = exercise  # `tutor rule OP`: a tutor.lessons.exercise.Exercise
        self._too_small: TooSmallScreen | None = None
        self._notices_shown: set[str] = set()
        self._waiting_error: str | None = None  # why answers wait to be written, while they do
        self._unwatch_saving: Callable[[], None] | None = None

    def today(self) -> date:
        """The day reviews are due by (UTC, as the progress store stamps answers)."""
        return self.clock().astimezone(UTC).date()

    def get_default_screen(self) -> Screen:
        from tutor.screens.home import HomeScreen

        return HomeScreen()

    # ------------------------------------------------------------------ nothing leaves the app
    # On a class server the tutor is all a learner may run. Textual can start programs (a link
    # opens a web browser, which on a server may be a console browser with a shell escape), write
    # files (the palette's screenshot command) and suspend to the shell; here each one is off.

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Never launch a browser: show the address, for the learner's own machine."""
        from tutor.widgets.block_card import link_message

        self.notify(link_message(url), title="Link", timeout=15, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette commands, without the one that writes a screenshot file."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self._refuse("saving screenshots")

    def deliver_screenshot(self, filename=None, path=None, time_format=None) -> str | None:
        self._refuse("saving screenshots")
        return None

    def action_suspend_process(self) -> None:
        self._refuse("suspending to the shell")

    def suspend(self):
        raise SuspendNotSupported("the tutor never suspends to a shell")

    def _refuse(self, what: str) -> None:
        self.notify(f"The tutor does not allow {what}.", severity="warning", markup=False)

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        self._watch_saving()
        self.report_progress_notice()
        if self.catalog.unchecked:
            # The list went up from the front matter alone; check the blocks once it is drawn.
            self.call_after_refresh(self._check_lessons)
        if self._step_program is not None:
            self._open_step()
        elif self._train_task is not None:
            self._open_train()
        elif self._exercise is not None:
            from tutor.screens.exercise import exercise_screen

            # Like `tutor step`: the one exercise is the whole session.
            self.push_screen(exercise_screen(self._exercise), callback=lambda _result: self.exit(0))
        elif self._open_at_start:
            self.open_lesson(self._open_at_start)
        self._guard_size(self.size.width, self.size.height)

    def report_progress_notice(self) -> None:
        """Show what the progress store has to say (a corrupt file moved aside at start, progress
        kept in memory), once per message. Answers waiting to be written are `SaveStatus`'s."""
        if self.progress.status is not None:
            return  # answers wait to be written: `SaveStatus` says so, and why
        warning = self.progress.warning
        if warning and warning not in self._notices_shown:
            self._notices_shown.add(warning)
            self.notify(warning, title="Progress", severity="warning", timeout=12, markup=False)

    class SaveStatus(Message):
        """The progress store's writer: answers wait to be written (``status``), or none do."""

        def __init__(self, status: str | None, error: str | None) -> None:
            super().__init__()
            self.status = status
            self.error = error

    def _watch_saving(self) -> None:
        # called on the store's writer thread: post_message is safe from there, and never waits
        self._unwatch_saving = self.progress.on_status_change(
            lambda progress: self.post_message(self.SaveStatus(progress.status, progress.error))
        )

    def on_tutor_app_save_status(self, message: SaveStatus) -> None:
        """A quiet notice when answers start waiting (with the real error), another when they are
        all written: the verdicts themselves never wait for the disk."""
        if message.status is None:
            if self._waiting_error is not None:
                self._waiting_error = None
                self.notify("Everything you answered is saved now.", title="Saved", timeout=4, markup=False)
            return
        if self._waiting_error is not None:
            # one more answer waiting, or the same outage worded anew (a dropped connection, then
            # "connection refused"): the notice already said so; one per outage keeps it quiet
            return
        self._waiting_error = message.error or ""
        self.notify(
            f"{message.status}. Nothing is lost: they are kept and written as soon as they can be.",
            title="Not saved yet",
            severity="warning",
            timeout=10,
            markup=False,
        )

    def _check_lessons(self) -> None:
        self.run_worker(
            self._check_lessons_in_thread,
            thread=True,
            group="check-lessons",
            name="check lessons",
            exit_on_error=False,
        )

    def _check_lessons_in_thread(self) -> None:
        """Check every lesson's blocks (a thread: it is tens of milliseconds of Python); when some
        lesson turns out broken, redraw the list so that it says so."""
        broken = False
        for lesson in self.catalog.unchecked:
            broken = bool(self.catalog.check(lesson)) or broken
        if broken:
            self.call_from_thread(self._lessons_checked)

    def _lessons_checked(self) -> None:
        from tutor.screens.home import HomeScreen

        if isinstance(self.screen, HomeScreen):
            self.screen.refresh_list()  # other screens: the list is rebuilt when home comes back

    def _open_step(self) -> None:
        from tutor.screens.debugger import DebuggerScreen

        screen = DebuggerScreen(self._step_program, title=self._step_title)
        # Stepping through one program is the whole session: leaving the debugger leaves the app.
        self.push_screen(screen, callback=lambda _result: self.exit(0))

    def _open_train(self) -> None:
        from tutor.screens.train import TrainScreen

        # Like `tutor step`: training one task is the whole session.
        screen = TrainScreen(self._train_task, title=self._step_title)
        self.push_screen(screen, callback=lambda _result: self.exit(0))

    # ------------------------------------------------------------------ navigation

    def open_lesson(self, lesson_id: str) -> None:
        """Open a lesson from anywhere (home, the palette, the command line), resuming it."""
        lesson = self.catalog.get(lesson_id)
        if lesson is None:
            self.notify(f"There is no lesson with the id {lesson_id!r}.", severity="error", markup=False)
            return
        if self._too_small is not None:
            return
        if not lesson.checked:
            self.catalog.check(lesson)  # the start-up check has not reached it yet
        from tutor.screens.home import HomeScreen
        from tutor.screens.lesson import LessonScreen, ProblemsScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        if lesson.broken:
            self.push_screen(ProblemsScreen(lesson))
        else:
            self.push_screen(LessonScreen(lesson, self.progress))

    def action_help(self) -> None:
        from tutor.screens.help import HelpScreen

        if isinstance(self.screen, (HelpScreen, TooSmallScreen)):
            return
        self.push_screen(HelpScreen(self.screen))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self._too_small is None or action in ("quit",)

    # ------------------------------------------------------------------ too small a terminal

    def on_resize(self, event) -> None:
        self._guard_size(event.size.width, event.size.height)

    def _guard_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        if small:
            if self._too_small is None:
                self._too_small = TooSmallScreen(width, height)
                self.push_screen(self._too_small)
            elif self._too_small.is_mounted:
                self._too_small.show_size(width, height)
        elif self._too_small is not None:
            screen, self._too_small = self._too_small, None
            if self.screen is screen:
                self.pop_screen()


class LessonCommands(Provider):
    """Command-palette entries that open a lesson, found by its title."""

    app = getters.app(TutorApp)

    def _lessons(self) -> Iterable[Lesson]:
        for _section, lessons in self.app.catalog.sections():
            yield from lessons

    async def discover(self) -> Hits:
        # Hits with a score, not DiscoveryHits (scored 0): the palette sorts by score, so the
        # lessons come before Textual's own commands (theme, keys, quit ...), in course order.
        for lesson in self._lessons():
            text = f"Lesson: {lesson.title}"
            yield Hit(
                1.0,
                text,
                partial(self.app.open_lesson, lesson.id),
                text=text,
                help=lesson.summary or lesson.section,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for lesson in self._lessons():
            text = f"Lesson: {lesson.title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self.app.open_lesson, lesson.id),
                    text=text,
                    help=lesson.summary or lesson.section,
                )


def run_app(
    catalog: Catalog,
    progress: Progress,
    *,
    open_lesson: str | None = None,
    step_program: Program | None = None,
    step_title: str = "",
    train_task: Task | None = None,
    exercise=None,
) -> int:
    """Run the tutor (see :class:`TutorApp` for the arguments) until the learner quits; the exit
    code for the command line."""
    app = TutorApp(
        catalog,
        progress,
        open_lesson=open_lesson,
        step_program=step_program,
        step_title=step_title,
        train_task=train_task,
        exercise=exercise,
    )
    try:
        app.run()
    finally:
        if app._unwatch_saving is not None:
            app._unwatch_saving()
    return app.return_code or 0
