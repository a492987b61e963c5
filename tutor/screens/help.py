"""The help screen: the keys of the screen the learner was on, with what each one does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

__all__ = ["HelpScreen", "key_rows"]

# Keys every screen has, which Textual binds itself or hides from the footer.
ALWAYS = [
    ("↑ ↓ PgUp PgDn", "Move the cursor or scroll"),
    ("tab / shift+tab", "Move the focus forward / back"),
    ("ctrl+p", "Command palette: jump to any lesson by typing part of its title"),
    ("ctrl+q", "Quit the tutor from anywhere"),
]

_LISTED_ELSEWHERE = {
    "command_palette",
    "app.command_palette",
    "quit",
    "app.quit",
    "screen.copy_text",
    "app.focus_next",
    "app.focus_previous",
    "focus_next",
    "focus_previous",
}


def key_rows(screen) -> list[tuple[str, str, str]]:
    """(keys, name, what it does) for the bindings of ``screen``: everything its footer shows, plus
    the hidden keys the screen or the app defines. Widget-internal keys (cursor movement inside a
    list) are summed up in ``ALWAYS`` instead of listed one by one."""
    app = screen.app
    rows: dict[str, list] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system or not binding.description or binding.action in _LISTED_ELSEWHERE:
            continue
        if not binding.show and active.node not in (screen, app):
            continue
        display = app.get_key_display(binding.with_key(key)) if binding.key_display is None else None
        display = display or binding.key_display or key
        entry = rows.get(binding.action)
        if entry is None:
            rows[binding.action] = [[display], binding.description, binding.tooltip or ""]
        elif display not in entry[0]:
            entry[0].append(display)
    return [(" / ".join(keys), name, tip) for keys, name, tip in rows.values()]


class HelpScreen(Screen):
    """Lists the keys of the screen underneath it. Any of q, escape, ? or F1 closes it."""

    SUB_TITLE = "Keys"

    BINDINGS = [
        Binding("q,escape,question_mark,f1", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, target: Screen) -> None:
        super().__init__()
        self.rows = key_rows(target)
        self.notes = getattr(target, "HELP_NOTES", "")
        name = target.title or target.sub_title or type(target).__name__
        self.title = f"Help: {name}"

    def compose(self) -> ComposeResult:
        yield Header()
        table = Table(box=None, expand=True, padding=(0, 1), show_edge=False)
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Does", ratio=1)
        for keys, name, tip in self.rows:
            table.add_row(Text(keys), Text(f"{name}: {tip}" if tip else name))
        for keys, tip in ALWAYS:
            table.add_row(Text(keys), Text(tip))
        with VerticalScroll(id="help-body"):
            yield Static(Text("Keys on this screen", style="bold underline"))
            yield Static(table, id="help-keys")
            notes = self.notes + "\n" if self.notes else ""
            notes += "Everything works from the keyboard; the mouse is optional."
            yield Static(Text(notes), id="help-notes")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss()
