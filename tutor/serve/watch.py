"""`tutor class watch`: a live Textual screen of the class (who is connected, the lesson and
part each is on, who looks stuck, misconceptions per lesson), read again every two seconds from
the learners' stores and who is connected (``sessions.json``, or with ``--db`` every host's
sessions in the database: :mod:`tutor.serve.live`). A teacher's key (``DIR/teachers``) gets
this screen over SSH instead of the course. Like the tutor, it never leaves the app: no command
palette, no screenshot file, no suspend."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from tutor.progress import Progress
from tutor.serve.report import watch_view
from tutor.serve.roster import ClassDir, RosterError

__all__ = ["ClassWatch", "run_watch"]

REFRESH_S = 2.0
COLUMNS = ("", "learner", "lesson", "part", "answers", "1st try", "looks stuck")


class ClassWatch(App):
    """The live view; ``refresh_s`` is how often it reads the class again."""

    ENABLE_COMMAND_PALETTE = False
    CSS = "#tags { height: auto; max-height: 6; padding: 0 1; border-top: solid $secondary; }"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("r", "reload", "Read now")]

    def __init__(self, cls: ClassDir, catalog, *, refresh_s: float = REFRESH_S) -> None:
        super().__init__()
        self.cls, self.catalog, self.refresh_s = cls, catalog, refresh_s
        self.stores: dict[str, Progress] = {}
        self._reading = threading.Lock()  # one read of the class at a time (the stores are shared)
        self.title = "tutor — class"
        self.sub_title = str(cls.path)

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="learners", cursor_type="row", zebra_stripes=True)
        yield Static(id="tags")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.show(self.read())  # the first reading before the first frame; later ones in a worker
        self.set_interval(self.refresh_s, self.action_reload)

    def action_reload(self) -> None:
        self.read_class()

    def read(self) -> dict | str:
        """The class now, or what stopped it being read (the database away)."""
        try:
            with self._reading:
                return watch_view(self.cls, self.catalog, self.stores, time.time())
        except RosterError as err:
            return str(err)

    @work(thread=True, exclusive=True, group="read-class")
    def read_class(self) -> None:
        """Read the class off the UI thread: with a database a slow or absent server (up to
        its connect timeout) must not freeze the screen."""
        result = self.read()
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self.show, result)

    def show(self, result: dict | str) -> None:
        if isinstance(result, str):  # the class database is away: say so, keep the last reading
            self.show_problem(result)
        else:
            self.show_view(result)

    def show_problem(self, message: str) -> None:
        self.query_one("#tags", Static).update(Text(f"{message}; showing the last reading"))

    def show_view(self, view: dict) -> None:
        table = self.query_one(DataTable)
        table.clear()
        online = 0
        for row in view["learners"]:
            online += row["online"]
            now = row["now"] or {}
            rate = row["first_try_rate"]
            table.add_row(
                Text("●" if row["online"] else "·"),
                Text(row["name"]),
                Text(now.get("title", "—")),
                Text(f"{now['part']} of {now['parts']}" if now else ""),
                Text(str(row["attempts"])),
                Text("" if rate is None else f"{rate:.0%}"),
                Text(
                    "⚠ " + "; ".join(row["stuck"]) if row["stuck"] else "",
                    style="bold" if row["stuck"] else "",
                ),
                key=row["name"],
            )
        tags = view["misconceptions_per_lesson"]
        where = ""
        if self.cls.db:  # several hosts may serve the class: say on how many they are
            hosts = {h for row in view["learners"] for h in row["hosts"]}
            where = f" on {len(hosts)} host(s)"
        lines = [f"{online} connected{where}, {len(view['learners'])} learner(s)"]
        if tags:
            lines.append("Misconceptions per lesson: " + ", ".join(f"{lid} {n}" for lid, n in tags.items()))
        self.query_one("#tags", Static).update(Text("\n".join(lines)))

    def on_unmount(self) -> None:
        with self._reading:
            for store in self.stores.values():
                store.close()

    # nothing leaves the app (see the module docstring)
    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        pass

    def deliver_screenshot(self, filename=None, path=None, time_format=None) -> str | None:
        return None

    def action_suspend_process(self) -> None:
        pass

    def suspend(self):
        raise SuspendNotSupported("the class view never suspends to a shell")


def run_watch(args, environ) -> int:
    import sys

    from tutor.lessons import lesson_dirs, load_catalog
    from tutor.serve.roster import db_url

    cls = ClassDir(args.class_dir, create=False, db=db_url(args.db, environ))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("tutor: the class view needs a terminal; over SSH use ssh -t", file=sys.stderr)
        return 1
    catalog = load_catalog(lesson_dirs(args.lessons, environ), (), check=False)
    ClassWatch(cls, catalog).run()
    return 0
