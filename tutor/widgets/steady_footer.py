"""A `Footer` that rebuilds its keys only when they change.

Textual's `Footer` recomposes (unmounts and mounts a widget per key, then restyles them) every
time the screen's bindings are refreshed, and they are refreshed on every focus change and every
`Screen.refresh_bindings` call, whether or not a key came or went. On the training screen that is
every ``v`` (the table it focuses comes and goes) and every start and end of a run: about 30 ms of
the UI thread each, while a training thread wants the interpreter too. `SteadyFooter` compares
what the footer would show (each shown binding's key, description, enabled state and tooltip)
with what it shows, and lets `Footer.bindings_changed` rebuild it only when they differ.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["SteadyFooter"]


class SteadyFooter(Footer):
    """A `Footer` that recomposes only when the keys it shows have changed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None  # what was shown last (None: nothing yet)

    @staticmethod
    def keys_of(screen: Screen) -> tuple:
        """Everything of the screen's active bindings that the footer draws."""
        return tuple(
            (key, binding.action, binding.description, binding.key_display, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
            if binding.show
        )

    def bindings_changed(self, screen: Screen) -> None:
        if not (self.is_attached and screen is self.screen and screen.app.app_focus):
            super().bindings_changed(screen)  # (as Footer: it only records that bindings exist)
            return
        keys = self.keys_of(screen)
        if keys == self._shown:
            return
        self._shown = keys
        super().bindings_changed(screen)
