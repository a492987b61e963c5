"""The parts of a lesson screen: one focusable widget per lesson block, plus the closing card.

A lesson is read part by part. Every part can take the focus, so ``n``/``p`` (and tab) walk through
them and the screen always knows which part the learner is on. The focused part is marked in ways
that survive a monochrome terminal: a thick bar down its left edge, and for cards a double border
and a ``▶`` in the title.

These widgets only show things; what Enter does on a card is decided by the lesson screen.
"""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownFence

__all__ = [
    "BlockCard",
    "CodePart",
    "EndCard",
    "LessonMarkdown",
    "link_message",
    "MarkdownPart",
    "Part",
    "make_part",
]

KIND_NAMES = {
    "debugger": "Debugger",
    "train": "Training",
    "quiz": "Quiz",
    "pytorch": "PyTorch",
    "exercise": "Exercise",
}


def _code(text: str, lang: str) -> Syntax:
    """Code shown as code. The ``ansi_dark`` theme uses the terminal's own 16 colours, and
    code still reads when colour is off because nothing depends on it."""
    return Syntax(
        text.rstrip("\n"),
        lang or "text",
        theme="ansi_dark",
        background_color="default",
        word_wrap=True,
    )


def _pytorch_listing(block) -> str:
    """The block's program as the PyTorch code the tutor runs (the program text itself if the
    block did not check out: `tutor check` reports that)."""
    from tutor.torch_compare import LEAF_NOTE, torch_listing

    program = block.program  # parsed when the lesson was checked
    if program is None:
        return str((block.config or {}).get("program", ""))
    return "\n".join(["import torch", f"# {LEAF_NOTE}", *torch_listing(program)])


class PlainFence(MarkdownFence):
    """A fenced block in the prose. A fence without a language is shown as plain text: left to
    itself, Textual asks Pygments to guess the language, which tries every lexer it has and
    costs about 0.1 s per fence."""

    @classmethod
    def highlight(cls, code, language, ansi=False, dark=False):
        return super().highlight(code, language or "text", ansi=ansi, dark=dark)


def link_message(url: str) -> str:
    """What the learner sees on following a link: its address, for a browser of their own."""
    return f"{url}\nThe tutor never opens links itself: copy the address into a browser on your own computer."


class LessonMarkdown(Markdown):
    """Textual's Markdown widget with :class:`PlainFence` for fences, and links that only show
    their address: Textual's would start a web browser on the machine the tutor runs on, which on
    a class server can be a console browser with a shell escape."""

    BLOCKS = {**Markdown.BLOCKS, "fence": PlainFence, "code_block": PlainFence}

    def __init__(self, markdown: str | None = None, **kwargs) -> None:
        super().__init__(markdown, open_links=False, **kwargs)

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.prevent_default()  # Markdown's own handler would call app.open_url
        event.stop()
        self.notify(link_message(event.href), title="Link", timeout=15, markup=False)


class Part(Vertical, can_focus=True):
    """One stop on the way through a lesson."""

    def __init__(self, block_index: int, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=f"part {classes}".strip())
        self.block_index = block_index


class MarkdownPart(Part):
    """Prose, rendered by Textual's Markdown widget."""

    def __init__(self, block, **kwargs) -> None:
        super().__init__(block.index, **kwargs)
        self.block = block

    def compose(self) -> ComposeResult:
        yield LessonMarkdown(self.block.text)


class CodePart(Part):
    """A fenced code block that is not interactive (for example ```python): shown as code."""

    def __init__(self, block, **kwargs) -> None:
        super().__init__(block.index, classes="code", **kwargs)
        self.block = block

    def compose(self) -> ComposeResult:
        yield Static(_code(self.block.text, self.block.lang), classes="code-body")


class BlockCard(Part):
    """An interactive block (debugger, train, quiz, pytorch): a framed card saying what it holds
    and what Enter does. ``done`` says whether it was completed."""

    def __init__(self, block, *, done: bool = False, hide_bug: bool = False, **kwargs) -> None:
        super().__init__(block.index, classes=f"card card-{block.kind}", **kwargs)
        self.block = block
        self.done = done
        self.hide_bug = hide_bug  # a train block whose bug is named only once the learner answered

    # --------------------------------------------------------------- what the card says

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.block.kind, self.block.kind)

    def heading(self, focused: bool = False) -> str:
        mark = "▶ " if focused else ""
        status = "  ✓ done" if self.done else ""
        return f"{mark}{self.kind_name}{status}"

    def action_line(self) -> str:
        kind = self.block.kind
        if self.done:
            return f"Done. Enter: open the {self.kind_name.lower()} again"
        if kind == "debugger":
            return "Enter: open the debugger"
        if kind == "pytorch":
            from tutor.torch_compare import torch_installed

            if torch_installed():
                return "Enter: run it in the engine and in PyTorch, and compare the numbers"
            return "Enter: see the engine's numbers (PyTorch is not installed; the screen says how)"
        if kind == "quiz":
            return "Enter: answer the quiz"
        if kind == "exercise":
            config = self.block.config or {}  # as written: a new op has new_op (and maybe [train])
            own = "new_op" in config
            if own and isinstance(config.get("train"), dict):
                return "Enter: write the op's forward and rule, check, run and train it"
            if own:
                return "Enter: write the op's forward and rule, check and run it"
            return "Enter: write the rule, check it and run it"
        return f"Enter: open the {self.kind_name.lower()}"

    def compose(self) -> ComposeResult:
        config = self.block.config or {}  # as written, for a block that did not check out
        spec, quiz = self.block.spec, self.block.quiz  # as read when the lesson was checked
        kind = self.block.kind
        caption = spec.caption if spec is not None else config.get("caption")
        if isinstance(caption, str) and caption.strip():
            yield Static(Text(caption.strip()), classes="card-caption")
        if kind == "debugger":
            program = spec.program.text if spec is not None else config.get("program", "")
            yield Static(_code(str(program), "python"), classes="code-body")
            notes = []
            output = spec.output if spec is not None else config.get("output")
            if output:
                notes.append(f"output: {output}")
            if spec.predict if spec is not None else config.get("predict"):
                notes.append("predict mode: you type each gradient before the step runs")
            if notes:
                yield Static(Text("\n".join(notes)), classes="card-notes")
        elif kind == "pytorch":
            yield Static(_code(_pytorch_listing(self.block), "python"), classes="code-body")
        elif kind == "quiz":
            # Show the question only: the rest of the block holds the answers.
            prompt = quiz.prompt if quiz is not None else config.get("prompt") or config.get("question") or ""
            quiz_kind = quiz.kind if quiz is not None else config.get("kind")
            if quiz_kind:
                yield Static(Text(f"{quiz_kind} question", style="italic"), classes="card-notes")
            if prompt:
                yield Static(Text(str(prompt).strip()), classes="card-prompt")
        elif kind == "exercise":  # the op and the program only: the block also holds the answers
            if "new_op" in config:  # a new op: its name only (its forward and derivative are answers)
                note = f"a new op, {config.get('new_op', '')}: write its forward and its backward rule"
                if isinstance(config.get("train"), dict):
                    note += ", then train a network with it"
                yield Static(Text(note, style="italic"), classes="card-notes")
            else:
                op, program = config.get("op", ""), config.get("program", "")
                yield Static(
                    Text(f"write the backward rule of {op}, run on:", style="italic"), classes="card-notes"
                )
                yield Static(_code(str(program).strip(), "python"), classes="code-body")
        elif self.hide_bug:
            yield Static(Text(_hidden_task(self.block)), classes="card-notes")
        else:
            yield Static(_code(self.block.text, "toml"), classes="code-body")
        yield Static(Text(self.action_line(), style="bold"), classes="card-action")

    def on_mount(self) -> None:
        self._update_title(self.has_focus)

    def on_focus(self) -> None:
        self._update_title(True)

    def on_blur(self) -> None:
        self._update_title(False)

    def _update_title(self, focused: bool) -> None:
        self.border_title = self.heading(focused)
        self.set_class(self.done, "-done")

    def mark_done(self) -> None:
        self.done = True
        self._update_title(self.has_focus)
        self.query_one(".card-action", Static).update(Text(self.action_line(), style="bold"))


class EndCard(Part):
    """The last stop: says whether the lesson is complete and, if not, what is left."""

    def __init__(self, block_index: int, **kwargs) -> None:
        super().__init__(block_index, classes="end", **kwargs)

    def compose(self) -> ComposeResult:
        yield Static(Text("End of the lesson."), id="end-text")

    def show(self, text: str) -> None:
        self.query_one("#end-text", Static).update(Text(text))


def _hidden_task(block) -> str:
    """A train card whose bug is hidden: the task in words, never its TOML (which names it)."""
    from dataclasses import replace

    from tutor.training import describe_task

    task = block.task
    if task is None:
        return "a training run (its bug is hidden until you answer the question about it)"
    first, second = describe_task(replace(task, mistake=None))
    return f"{first}\n{second}\nbug: hidden until you answer the question about it"


def make_part(block, *, done: bool = False, hide_bug: bool = False) -> Part:
    """The widget for one lesson block; ``hide_bug`` for a train block whose bug is still hidden."""
    if block.kind == "markdown":
        return MarkdownPart(block)
    if block.kind in KIND_NAMES:
        return BlockCard(block, done=done, hide_bug=hide_bug)
    return CodePart(block)
