"""The training screen's modal for the comparison run: which classic bug to rerun the task with.

``BugPicker(choices)`` lists ``(key, line)`` pairs (`tutor.training.Training.bug_choices`) and is
dismissed with the chosen key, or None.

| Key | Does |
| --- | --- |
| 1 … n | picks that line |
| up / down, enter | moves and picks |
| escape, q | cancels |
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

__all__ = ["BugPicker"]


class BugPicker(ModalScreen[str | None]):
    """Choose the mistake for the comparison run (or remove the comparison)."""

    DEFAULT_CSS = """
    BugPicker {
        align: center middle;
    }
    BugPicker > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        border: heavy $accent;
        background: $surface;
        padding: 0 1;
    }
    BugPicker OptionList,
    BugPicker OptionList:focus {
        height: auto;
        border: none;
        padding: 0;
    }
    BugPicker OptionList > .option-list--option-highlighted {
        text-style: bold reverse;
    }
    """

    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel", id="train.bug.cancel", tooltip="Keep things as they are"),
    ]

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.heading(), style="bold"))
            options = [Option(Text(f"{n}  {text}"), id=key) for n, (key, text) in enumerate(self.choices, 1)]
            yield OptionList(*options, id="bug-options")
            yield Static(Text(f"Enter or 1-{len(self.choices)} picks, escape cancels.", style="italic"))

    def heading(self) -> str:
        """Says what the lines are: not all of them are bugs (one may take the task's bug out,
        one removes the comparison)."""
        keys = {key for key, _ in self.choices}
        if keys & {"none", "remove"}:
            return "Rerun from the same initial weights, for a second curve beside this one:"
        return "Rerun from the same initial weights with a bug in it:"

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit():
            n = int(event.character)
            if 1 <= n <= len(self.choices):
                event.stop()
                self.dismiss(self.choices[n - 1][0])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
