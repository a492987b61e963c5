"""The lesson screen: the lesson's parts in order, one of them current; and the problems view of a
lesson that cannot open.

The learner moves part to part with ``n``/``p`` (or tab/shift+tab) and scrolls with the arrows and
PgUp/PgDn. Every move saves the position, so the lesson resumes there next time. Enter on an
interactive card opens its screen; when that screen reports success the block is recorded as done.
Reaching the end with every openable block done marks the lesson done.
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
from tutor.lessons import Block, Lesson
from tutor.progress import LessonState, Progress
from tutor.screens.lesson_open import BlockOpening
from tutor.widgets.block_card import BlockCard, EndCard, Part, make_part

__all__ = ["LessonScreen", "ProblemsScreen"]

NARROW = 72  # columns below which the header and the footer say less
SHORT_REST = 4  # a part with no more than this many lines left below the view is not paged alone


class LessonScreen(BlockOpening, Screen):
    """One lesson, part by part."""

    BINDINGS = [
        Binding(
            "n",
            "next_part",
            "Next",
            id="lesson.next",
            tooltip="Go to the next part of the lesson (a long part pages down first)",
        ),
        Binding("p", "previous_part", "Prev", id="lesson.previous", tooltip="Go back to the previous part"),
        Binding(
            "enter",
            "open_block",
            "Open",
            id="lesson.open",
            tooltip="Open the highlighted exercise in its own screen",
        ),
        Binding("q,escape", "leave", "Back", id="lesson.back", tooltip="Back to the list of lessons"),
        Binding(
            "s",
            "summary",
            "Summary",
            id="lesson.summary",
            tooltip="Your answers in this lesson, and the misconceptions they showed",
        ),
    ]

    HELP_NOTES = (
        "Enter on a framed card (debugger, quiz, training, PyTorch) opens it. The lesson remembers the part "
        "you are on, and counts as done once you reach its end with every card that opens finished."
    )

    app = getters.app(TutorApp)

    def __init__(self, lesson: Lesson, progress: Progress, *, start: int | None = None) -> None:
        super().__init__()
        self.lesson = lesson
        self.progress = progress
        self.start = start
        self.current = 0  # the block index of the part that has the focus
        self.reached_end = False
        # a version 1 progress file named blocks by index: read it against this lesson's ids
        progress.adopt_block_ids(lesson.id, [block.id for block in lesson.blocks])
        self.title = lesson.title
        self.sub_title = lesson.section

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        completed = self.progress.completed_blocks(self.lesson.id)
        yield Header()
        with VerticalScroll(id="parts", can_focus=False):
            for block in self.lesson.blocks:
                yield make_part(
                    block, done=block.id in completed, hide_bug=self._bug_hidden(block, completed)
                )
            yield EndCard(len(self.lesson.blocks), id="end")
        yield Footer()

    def _bug_hidden(self, block: Block, completed: set[str] | None = None) -> bool:
        """A train block with ``hide_mistake`` whose revealing block is not done yet."""
        from tutor.lessons.blocks import hidden_mistake, reveal_block

        if not hidden_mistake(block):
            return False
        if completed is None:
            completed = self.progress.completed_blocks(self.lesson.id)
        reveal = reveal_block(self.lesson, block)
        return reveal is None or reveal.id not in completed

    @property
    def parts(self) -> list[Part]:
        return list(self.query(Part))

    def _part_at(self, block_index: int) -> Part | None:
        for part in self.parts:
            if part.block_index == block_index:
                return part
        return None

    def on_mount(self) -> None:
        start = self.start if self.start is not None else self._resume_index()
        parts = self.parts
        start = max(0, min(int(start or 0), len(parts) - 1))
        self._update_end_card()
        self._go_to(parts[start])
        # what Enter opens depends on what is on screen: the footer follows the scrolling
        self.watch(self.query_one("#parts", VerticalScroll), "scroll_y", self._scrolled, init=False)
        # The Markdown widgets lay themselves out over the next frames: scroll again once they have.
        self.call_after_refresh(lambda: self.call_after_refresh(self._scroll_to_current))

    def _resume_index(self) -> int:
        """Where the lesson resumes: the block whose id was saved; when that block is gone (its
        text was edited), the first openable block not done yet; else the start."""
        saved = self.progress.position(self.lesson.id)
        for block in self.lesson.blocks:
            if block.id == saved:
                return block.index
        if saved:
            pending = self.pending_blocks()
            if pending:
                return pending[0].index
        return 0

    # ------------------------------------------------------------------ moving between parts

    def _scrolled(self, _old: float, _new: float) -> None:
        self.refresh_bindings()

    def _go_to(self, part: Part) -> None:
        self._focus_here(part)
        scroll = self.query_one("#parts", VerticalScroll)
        scroll.scroll_to_widget(part, top=True, animate=False, immediate=True)
        # Redraw the whole screen once the move has settled: a move that changes the focus and
        # the scroll in one frame can leave lines of the old frame on the terminal.
        self.call_after_refresh(self.refresh)

    def _scroll_to_current(self) -> None:
        part = self._part_at(self.current)
        if part is not None:
            self.query_one("#parts", VerticalScroll).scroll_to_widget(
                part, top=True, animate=False, immediate=True
            )

    def on_descendant_focus(self, event) -> None:
        part = event.widget
        if not isinstance(part, Part):
            return
        self.current = part.block_index
        total = len(self.lesson.blocks)
        self.sub_title = self._where()
        # The end card is not a block: resuming there means resuming at the last block.
        if self.lesson.blocks:
            block = self.lesson.blocks[min(part.block_index, total - 1)]
            self.progress.set_position(self.lesson.id, block.id)
        self._report_progress()
        if isinstance(part, EndCard):
            self.reached_end = True
            self._check_finished(announce=True)

    def _where(self) -> str:
        """The header's line: the section and the part the learner is on (in a narrow terminal
        the part alone, so the header never cuts the counter off)."""
        total = len(self.lesson.blocks)
        narrow = self.size.width and self.size.width < NARROW
        if self.current >= total:
            return "end" if narrow else f"{self.lesson.section} · end"
        if narrow:
            return f"part {self.current + 1}/{total}"
        return f"{self.lesson.section} · part {self.current + 1} of {total}"

    def on_resize(self, event) -> None:
        # narrow: the footer drops its "^p Jump to a lesson" corner and its spacing, so every key
        # of the lesson stays in view (^p still works, and ? lists it)
        narrow = event.size.width < NARROW
        footer = self.query_one(Footer)
        footer.compact = narrow
        footer.show_command_palette = not narrow
        if not self.sub_title.endswith("✓"):
            self.sub_title = self._where()

    def _report_progress(self) -> None:
        """A write the store could not make is said once, not swallowed (the app keeps going)."""
        self.app.report_progress_notice()

    def action_next_part(self) -> None:
        """Next part; but first page through the rest of a part taller than the screen, so
        pressing ``n`` again and again reads every line."""
        parts = self.parts
        index = self._index_of_current(parts)
        scroll = self.query_one("#parts", VerticalScroll)
        height = scroll.scrollable_content_region.height
        ahead = self._part_in_view(parts, index, scroll)
        if ahead is not None:
            # the learner scrolled on (PgDn) past the current part: carry on from where they read
            index = ahead
            self._focus_here(parts[index])
        current = parts[index]
        hidden = current.virtual_region.bottom - (scroll.scroll_y + height)
        # Only a part taller than the view is paged: for one that fits, n always moves on, even
        # before the view has scrolled to it (a learner resuming a lesson can press n at once).
        if current.outer_size.height > height and hidden > 1 and scroll.scroll_y < scroll.max_scroll_y:
            step = max(1, height - 2)  # keep two lines of what was just read at the top, for context
            if hidden > SHORT_REST or index + 1 >= len(parts):
                scroll.scroll_relative(y=step, animate=False, immediate=True)
                return
            # only a few lines of this part are left: show them with the next part, a full page on
            self._focus_here(parts[index + 1])
            scroll.scroll_to(y=scroll.scroll_y + step, animate=False, immediate=True)
            self.call_after_refresh(self.refresh)
            return
        if index + 1 < len(parts):
            self._move_on(parts, index + 1, scroll)

    def _move_on(self, parts: list[Part], index: int, scroll: VerticalScroll) -> None:
        """Go to ``parts[index]``. One wholly on screen gets the focus where it is (the view
        stays); one that starts too near the top for the move to show much new is reached with
        a full page, so n never moves the text by only a line or two."""
        top, height = scroll.scroll_y, scroll.scrollable_content_region.height

        def in_view(part: Part) -> bool:
            region = part.virtual_region
            return region.y >= top and region.bottom <= top + height

        part = parts[index]
        if in_view(part):
            self._focus_here(part)
            return
        offset = part.virtual_region.y - top
        if offset >= SHORT_REST:
            self._go_to(part)
            return
        self._focus_here(part)
        scroll.scroll_to(y=top + max(1, height - 2), animate=False, immediate=True)
        self.call_after_refresh(self.refresh)

    def _part_in_view(self, parts: list[Part], index: int, scroll: VerticalScroll) -> int | None:
        """The part at the top of the view, when the current part is above it, out of sight."""
        top = scroll.scroll_y
        if parts[index].virtual_region.bottom > top:
            return None
        for i in range(index + 1, len(parts)):
            if parts[i].virtual_region.bottom > top:
                return i
        return None

    def _focus_here(self, part: Part) -> None:
        """Make ``part`` the current one without moving the view. The focus moves on the next
        turn of the event loop; ``current`` moves now, so keys typed quickly each go one on."""
        self.current = part.block_index
        part.focus(scroll_visible=False)

    def action_previous_part(self) -> None:
        parts = self.parts
        index = self._index_of_current(parts)
        if index > 0:
            self._go_to(parts[index - 1])

    def _index_of_current(self, parts: list[Part]) -> int:
        for i, part in enumerate(parts):
            if part.block_index == self.current:
                return i
        return 0

    def action_leave(self) -> None:
        if self._end_card_in_view():
            self.reached_end = True  # the learner read "End of the lesson" and left from there
            self._check_finished(announce=False)
        self.dismiss()

    def action_summary(self) -> None:
        from tutor.screens.summary import SummaryScreen

        self.app.push_screen(SummaryScreen(self.lesson.id))

    def _end_card_in_view(self) -> bool:
        scroll = self.query_one("#parts", VerticalScroll)
        end = self.query_one("#end", EndCard)
        top, height = scroll.scroll_y, scroll.scrollable_content_region.height
        region = end.virtual_region
        return region.height > 0 and region.y >= top and region.bottom <= top + height

    # ------------------------------------------------------------------ interactive blocks

    def _current_card(self) -> BlockCard | None:
        """The focused card; or, while the current part is prose, the first card below it that is
        wholly on screen (its "Enter: ..." line is what the learner is looking at); or, with none
        below, the nearest card above whose last lines (its "Enter: ..." line) are on screen."""
        part = self._part_at(self.current)
        if isinstance(part, BlockCard):
            return part
        if part is None:
            return None
        scroll = self.query_one("#parts", VerticalScroll)
        top, height = scroll.scroll_y, scroll.scrollable_content_region.height
        parts = self.parts
        here = self._index_of_current(parts)
        if not isinstance(part, EndCard):
            for later in parts[here + 1 :]:
                region = later.virtual_region
                if region.y >= top + height:
                    break
                if isinstance(later, BlockCard) and region.y >= top and region.bottom <= top + height:
                    return later
        for earlier in reversed(parts[:here]):
            region = earlier.virtual_region
            if region.bottom <= top:
                return None
            if isinstance(earlier, BlockCard) and region.bottom <= top + height:
                return earlier
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_block":
            return self._current_card() is not None  # else hidden from the footer: nothing to open
        return True

    def action_open_block(self) -> None:
        card = self._current_card()
        if card is None:
            return
        if self.current != card.block_index:
            self._focus_here(card)  # back from its screen, the learner is on the card they opened
        self.open_card(card)

    def _block_finished(self, block: Block, result) -> None:
        if result is not True:
            return
        self.progress.complete_block(self.lesson.id, block.id)
        self._report_progress()
        part = self._part_at(block.index)
        if isinstance(part, BlockCard):
            part.mark_done()
        self._reveal_bugs()
        self._update_end_card()
        if not self._check_finished(announce=True):
            # said in the header, where it covers nothing the learner is reading
            finished = "done ✓" if block.index == self.current else f"part {block.index + 1} done ✓"
            self.sub_title = f"{self._where()} · {finished}"

    def _reveal_bugs(self) -> None:
        """A hidden bug's question answered: its train card is drawn again, naming the bug."""
        for card in self.query(BlockCard):
            if card.hide_bug and not self._bug_hidden(card.block):
                fresh = make_part(card.block, done=card.done)
                self.query_one("#parts", VerticalScroll).mount(fresh, after=card)
                card.remove()

    # ------------------------------------------------------------------ finishing the lesson

    def pending_blocks(self) -> list[Block]:
        """Interactive blocks not completed yet."""
        completed = self.progress.completed_blocks(self.lesson.id)
        return [block for block in self.lesson.blocks if block.interactive and block.id not in completed]

    def _check_finished(self, *, announce: bool) -> bool:
        """Mark the lesson done when the end was reached and nothing openable is left."""
        self._update_end_card()
        if not self.reached_end or self.pending_blocks():
            return False
        if self.progress.state(self.lesson.id) is not LessonState.DONE:
            self.progress.complete_lesson(self.lesson.id)
            self._report_progress()
            if announce:
                self.sub_title = f"{self.lesson.section} · lesson complete ✓"
        self._update_end_card()
        return True

    def _course_line(self) -> str:
        """Said on the end card of the lesson that finishes the course."""
        catalog = self.app.catalog
        lessons = [lesson for _, group in catalog.sections() for lesson in group]
        if all(self.progress.state(lesson.id) is LessonState.DONE for lesson in lessons):
            return (
                "\nThat was the last lesson of the course: s on the list of lessons shows how all of it went."
            )
        return ""

    def _update_end_card(self) -> None:
        try:
            end = self.query_one("#end", EndCard)
        except Exception:
            return
        pending = self.pending_blocks()
        if not pending:
            if self.progress.state(self.lesson.id) is LessonState.DONE:
                end.show(
                    "End of the lesson. ✓ You have finished it. s: how it went. q: back to the lessons."
                    + self._course_line()
                )
            else:
                end.show("End of the lesson. Nothing is left to do here. q: back to the lessons.")
            return
        names = ", ".join(f"part {b.index + 1} ({b.kind})" for b in pending)
        end.show(f"End of the lesson. Still to do before it counts as done: {names}. p goes back to them.")


class ProblemsScreen(Screen):
    """What is wrong with a lesson file that cannot open, one problem per line."""

    BINDINGS = [
        Binding("q,escape", "leave", "Back", id="problems.back", tooltip="Back to the list of lessons"),
    ]

    def __init__(self, lesson: Lesson) -> None:
        super().__init__()
        self.lesson = lesson
        self.title = f"Broken: {lesson.title}"
        self.sub_title = "problems"

    def compose(self) -> ComposeResult:
        yield Header()
        text = Text()
        count = len(self.lesson.problems)
        text.append(
            f"This lesson cannot open: its file has {count} problem{'s' if count != 1 else ''}.\n\n",
            style="bold",
        )
        for problem in self.lesson.problems:
            text.append(f"✗ {problem}\n")
        text.append(
            f"\nFix the file, then check it with `tutor check {self.lesson.path}` and start the tutor again."
        )
        with VerticalScroll(id="problems"):
            yield Static(text)
        yield Footer()

    def action_leave(self) -> None:
        self.dismiss()
