"""The quiz screen: one question, tries, staged hints, feedback that names the mistake.

``QuizScreen(quiz, lesson_id=..., block_id=..., progress=...)`` shows a parsed quiz block
(`tutor.quiz.Quiz`). All judging is `tutor.quiz.grade`; this screen only collects the answer and
shows what the grader says, with the catalogue entry of every misconception the answer shows
(what it means and how to see it in the debugger).

The answer, by kind:

* numeric, predict, code: a one-line text box; Enter checks.
* choice: a list of options; ↑↓ move, space (or the option's number) picks, Enter checks.
  With a single right option, Enter (or a number key) picks and checks at once.
* order: the lines of a training loop; ↑↓ move the cursor, ``u``/``d`` (or shift+↑/↓) move the
  line, space leaves a line out (or puts it back), Enter checks.

After a wrong answer the cursor goes to the feedback, where ``h`` shows the next hint, ``g``
gives up and shows the answer, and Enter (or ``a``) goes back to the answer. The answer also
appears on its own after ``max_tries`` wrong tries, when the block sets it. Every readable answer
is recorded with ``progress.record_attempt`` together with the misconception tags it hit; text the
grader cannot read gets a message and costs no try. ``q``/escape leaves: the screen is dismissed
with True once the question was answered right, else False.

Everything reads without colour: the verdict carries ✓ ✗ ? markers and bold, the cursor line a ▶.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tutor.quiz import Quiz, Verdict, grade

__all__ = ["QuizScreen"]

_TEXT_KINDS = ("numeric", "predict", "code")
_MAX_INPUT = 1000  # characters the box accepts; the graders refuse long answers with a message
_MAX_RECORDED = 500  # characters of an answer kept in progress

_KIND_NAMES = {
    "numeric": "a number",
    "predict": "predict a gradient",
    "code": "one line of code",
    "choice": "choose",
    "order": "put in order",
}


class QuizScreen(Screen[bool]):
    """One quiz question; dismissed with True once it is answered right."""

    CSS_PATH = "../quiz.tcss"

    BINDINGS = [
        Binding("h", "hint", "Hint", id="quiz.hint", tooltip="Show the next hint; hints come one at a time"),
        Binding("g", "give_up", "Give up", id="quiz.give_up", tooltip="Show the answer"),
        Binding("a", "focus_answer", "Answer", id="quiz.answer", tooltip="Back to your answer to try again"),
        Binding(
            "space", "toggle", "Pick", id="quiz.toggle", tooltip="Pick or unpick the option under the cursor"
        ),
        Binding(
            "space,x",
            "toggle_line",
            "In/out",
            id="quiz.toggle_line",
            tooltip="Leave the line under the cursor out of the loop, or put it back",
        ),
        Binding(
            "u,shift+up",
            "move(-1)",
            "Line up",
            id="quiz.move_up",
            tooltip="Move the line under the cursor up",
        ),
        Binding(
            "d,shift+down",
            "move(1)",
            "Line down",
            id="quiz.move_down",
            tooltip="Move the line under the cursor down",
        ),
        Binding(
            "enter",
            "continue",
            "Go on",
            id="quiz.continue",
            show=False,
            tooltip="Back to your answer to try again, or back to the lesson once it is right",
        ),
        *[
            Binding(
                str(k),
                f"number({k})",
                f"Option {k}",
                show=False,
                id=f"quiz.option{k}",
                tooltip=f"Pick option {k}",
            )
            for k in range(1, 10)
        ],
        Binding("q", "leave", "Back", id="quiz.back", tooltip="Back to the lesson"),
        Binding(
            "escape",
            "escape",
            "Back",
            id="quiz.escape",
            show=False,
            tooltip="Leave the answer box; outside it, back to the lesson",
        ),
    ]

    def __init__(
        self,
        quiz: Quiz,
        *,
        lesson_id: str,
        block_id: str,
        progress=None,
        on_solved: Callable[[], None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``on_solved()`` hears the right answer the moment it is given (a lesson records the part
        as done then, so a connection dropped before the learner leaves the quiz loses nothing)."""
        super().__init__(name=name, id=id, classes=classes)
        self.quiz = quiz
        self._on_solved = on_solved
        self.lesson_id = lesson_id
        self.block_id = block_id
        self.progress = progress
        self.tries = 0  # wrong answers that counted
        self.solved = False
        self.revealed = False
        self.hints_shown = 0
        self.verdict: Verdict | None = None
        self.picked: set[int] = set()  # choice: 1-based option numbers
        self.rows: list[int] = list(range(len(quiz.items)))  # order: item indices, top to bottom
        self.left_out: set[int] = set()  # order: item indices left out
        self.notice = ""  # a one-off line at the top of the feedback
        self.last_wrong = None  # the last answer that counted as a wrong try

    # ------------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        q = self.quiz
        with Vertical(id="quiz-body"):
            yield Static(id="quiz-status")
            yield Static(Text(q.prompt), id="quiz-prompt")
            program = Static(Text(_program_lines(q.program or ""), style="bold"), id="quiz-program")
            program.display = bool(q.program)
            yield program
            if q.kind in _TEXT_KINDS:
                # no placeholder: without colour it would read like text already typed
                answer = Input(max_length=_MAX_INPUT, id="quiz-input")
                answer.cursor_blink = False  # a blinking cursor is the only steady traffic over SSH
                yield answer
            else:
                yield OptionList(id="quiz-options")
            yield Static(id="quiz-help")
        with VerticalScroll(id="quiz-feedback-box"):
            yield Static(id="quiz-feedback")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Quiz"
        if self.quiz.kind in _TEXT_KINDS:
            self.query_one("#quiz-input", Input).focus()
        else:
            options = self.query_one("#quiz-options", OptionList)
            options.add_options([Option(Text(""), id=str(i)) for i in range(self._row_count())])
            options.highlighted = 0
            options.focus()
            self._show_options()
        self._refresh_view()

    # ------------------------------------------------------------------ what is on screen

    def _row_count(self) -> int:
        return len(self.quiz.options) if self.quiz.kind == "choice" else len(self.quiz.items)

    def status_text(self) -> str:
        q = self.quiz
        parts = [f"Quiz · {_KIND_NAMES[q.kind]}"]
        if self.solved:
            parts.append("✓ answered")
        elif self.revealed:
            parts.append("answer shown")
        elif q.max_tries:
            parts.append(f"try {min(self.tries + 1, q.max_tries)} of {q.max_tries}")
        elif self.tries:
            parts.append(f"{self.tries} wrong so far")
        if q.hints:
            parts.append(f"hints {self.hints_shown}/{len(q.hints)}")
        return "  ·  ".join(parts)

    def help_text(self) -> str:
        q = self.quiz
        if self.solved:
            return "Enter or q: back to the lesson"
        if q.kind in _TEXT_KINDS:
            if not isinstance(self.focused, Input):
                more = " · h: a hint" if self.hints_shown < len(q.hints) else ""
                return f"Enter: try again{more} · g: give up · q: back to the lesson"
            what = "One line of code" if q.kind == "code" else "A number, like -4 or 0.5"
            return f"{what} · Enter checks · Esc leaves the box"
        if q.kind == "choice":
            if q.multiple:
                return "Several are right. ↑↓ move · space or 1-9 picks · Enter checks"
            return "One is right. ↑↓ move · Enter or 1-9 picks and checks"
        return "↑↓ cursor · u/d move the line · space leaves it out · Enter checks"

    def feedback_text(self) -> Text:
        """Everything below the line: verdict, misconceptions, hints, the answer if shown."""
        out = Text()

        def section(head: str, body: str, head_style="bold") -> None:
            if out:
                out.append("\n\n")
            out.append(head, style=head_style)
            if body:
                out.append(("\n" if head.endswith(":") and len(head) > 40 else " ") + body)

        if self.notice:
            section(self.notice, "", "italic")
        v = self.verdict
        if v is not None:
            mark = {"right": "✓ Right", "wrong": "✗ Not right", "unreadable": "? Cannot read that"}[
                v.message_kind
            ]
            section(mark + ".", "", "bold reverse")
            out.append("\n" + _strip_lead(v.feedback, v.message_kind))
            for tag in v.tags:
                m = self.quiz.misconception(tag)  # the teacher's own tags too
                if m is None:
                    continue
                section(f"Mistake: {m.title}.", m.explanation)
                section("See it:", m.debugger_hint, "underline")
        for i, hint in enumerate(self.quiz.hints[: self.hints_shown], 1):
            section(f"Hint {i} of {len(self.quiz.hints)}:", hint)
        if self.revealed and not self.solved:
            section("Answer:", self.quiz.solution())
        if (self.solved or self.revealed) and self.quiz.explanation:
            section("Why:", self.quiz.explanation)
        if not out:
            out.append("Your answer's feedback appears here.", style="italic")
        return out

    def _refresh_view(self) -> None:
        self.query_one("#quiz-status", Static).update(Text(self.status_text()))
        self.query_one("#quiz-help", Static).update(Text(self.help_text()))
        self.query_one("#quiz-feedback", Static).update(self.feedback_text())
        self.refresh_bindings()

    def _show_options(self) -> None:
        options = self.query_one("#quiz-options", OptionList)
        cursor = options.highlighted
        for row, text in enumerate(self.option_lines()):
            prompt = Text("▶ " if row == cursor else "  ", style="bold")
            prompt.append(text)
            options.replace_option_prompt_at_index(row, prompt)

    def option_lines(self) -> list[str]:
        """The list's rows as plain text, without the cursor marker."""
        q = self.quiz
        if q.kind == "choice":
            lines = []
            for k, option in enumerate(q.options, 1):
                box = (
                    ("[x]" if k in self.picked else "[ ]")
                    if q.multiple
                    else ("(•)" if k in self.picked else "( )")
                )
                lines.append(f"{box} {k}. {option.text}")
            return lines
        included = [i for i in self.rows if i not in self.left_out]
        lines = []
        for i in self.rows:
            text = q.items[i].text
            if i in self.left_out:
                lines.append(f" –  {text}   (left out)")
            else:
                lines.append(f"{included.index(i) + 1:>2}. {text}")
        return lines

    def on_descendant_focus(self, event) -> None:
        if self.is_mounted and self.query("#quiz-help"):
            self.query_one("#quiz-help", Static).update(Text(self.help_text()))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_options()

    # ------------------------------------------------------------------ answering

    def current_answer(self):
        """The answer as the grader takes it."""
        q = self.quiz
        if q.kind in _TEXT_KINDS:
            return self.query_one("#quiz-input", Input).value
        if q.kind == "choice":
            return sorted(self.picked)
        return [q.items[i].text for i in self.rows if i not in self.left_out]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.check()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.quiz.kind == "choice" and not self.quiz.multiple:
            self.picked = {event.option_index + 1}
            self._show_options()
        self.check()

    def check(self) -> None:
        """Grade what is entered now, record it, and show the verdict."""
        if self.solved:
            self.dismiss(True)
            return
        answer = self.current_answer()
        if answer == self.last_wrong and self.verdict is not None:
            # Enter again on the same pick (the list keeps the focus after a wrong answer): the
            # answer was judged already; it costs no second try and no second tag in progress
            self.notice = "That is the answer you just tried: change it, then press Enter."
            self._refresh_view()
            return
        verdict = grade(self.quiz, answer)
        self.verdict = verdict
        self.notice = ""
        if verdict.counts:
            self._record(answer, verdict)
            if verdict.correct:
                self.solved = True
                if self._on_solved is not None:
                    self._on_solved()
            else:
                self.tries += 1
                self.last_wrong = answer
                if self.quiz.max_tries and self.tries >= self.quiz.max_tries and not self.revealed:
                    self.revealed = True
                    self.notice = f"That was try {self.tries} of {self.quiz.max_tries}: here is the answer."
        self._refresh_view()
        box = self.query_one("#quiz-feedback-box", VerticalScroll)
        box.scroll_home(animate=False)
        if self.solved:
            self._freeze_answer()
            box.focus()
        elif verdict.counts and self.quiz.kind in _TEXT_KINDS:
            box.focus()  # read the feedback; h for a hint, Enter to try again

    def _record(self, answer, verdict: Verdict) -> None:
        if self.progress is None:
            return
        if isinstance(answer, list):
            text = ",".join(str(a) for a in answer) if self.quiz.kind == "choice" else " | ".join(answer)
        else:
            text = str(answer)
        self.progress.record_attempt(
            self.lesson_id, self.block_id, text[:_MAX_RECORDED], verdict.correct, list(verdict.tags)
        )

    def _freeze_answer(self) -> None:
        if self.quiz.kind in _TEXT_KINDS:
            self.query_one("#quiz-input", Input).disabled = True
        else:
            self.query_one("#quiz-options", OptionList).disabled = True

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters) -> bool | None:
        kind = self.quiz.kind
        if action == "toggle":
            return kind == "choice" and self.quiz.multiple and not self.solved
        if action == "toggle_line":
            return kind == "order" and not self.solved
        if action == "move":
            return kind == "order" and not self.solved
        if action == "number":
            return kind == "choice" and not self.solved
        if action == "focus_answer":
            return kind in _TEXT_KINDS and not self.solved
        if action == "hint":
            return bool(self.quiz.hints) and not self.solved
        if action == "give_up":
            return not self.solved and not self.revealed
        return True

    def action_hint(self) -> None:
        if self.hints_shown < len(self.quiz.hints):
            self.hints_shown += 1
            self.notice = ""
        else:
            self.notice = "No more hints: g shows the answer."
        self._refresh_view()
        box = self.query_one("#quiz-feedback-box", VerticalScroll)
        box.call_after_refresh(box.scroll_end, animate=False)

    def action_give_up(self) -> None:
        self.revealed = True
        self.notice = "Here is the answer. You can still enter it to finish the question."
        self._refresh_view()

    def action_focus_answer(self) -> None:
        if self.quiz.kind in _TEXT_KINDS and not self.solved:
            self.query_one("#quiz-input", Input).focus()

    def action_continue(self) -> None:
        if self.solved:
            self.dismiss(True)
        else:
            self.action_focus_answer()

    def action_toggle(self) -> None:
        row = self.query_one("#quiz-options", OptionList).highlighted
        if row is not None:
            self.picked ^= {row + 1}
            self._show_options()

    def action_toggle_line(self) -> None:
        options = self.query_one("#quiz-options", OptionList)
        row = options.highlighted
        if row is not None:
            item = self.rows[row]
            if item in self.left_out:
                # a line put back joins the bottom of the lines that are in
                self.left_out.discard(item)
                self.rows.remove(item)
                place = sum(1 for i in self.rows if i not in self.left_out)
                self.rows.insert(place, item)
                options.highlighted = place
            else:
                self.left_out.add(item)
                # a left-out line sinks below the lines that are in
                self.rows.remove(item)
                self.rows.append(item)
                options.highlighted = min(row, len(self.rows) - 1)
        self._show_options()

    def action_number(self, k: int) -> None:
        if k > len(self.quiz.options):
            return
        options = self.query_one("#quiz-options", OptionList)
        options.highlighted = k - 1
        if self.quiz.multiple:
            self.picked ^= {k}
            self._show_options()
        else:
            self.picked = {k}
            self._show_options()
            self.check()

    def action_move(self, step: int) -> None:
        options = self.query_one("#quiz-options", OptionList)
        row = options.highlighted
        if row is None:
            return
        target = row + step
        if not 0 <= target < len(self.rows):
            return
        item = self.rows[row]
        if item in self.left_out or self.rows[target] in self.left_out:
            return  # left-out lines stay at the bottom; put a line back in before moving it
        self.rows[row], self.rows[target] = self.rows[target], self.rows[row]
        options.highlighted = target
        self._show_options()

    def action_escape(self) -> None:
        if isinstance(self.focused, Input):  # escape in the box: step out of it, to the feedback
            self.query_one("#quiz-feedback-box", VerticalScroll).focus()
            return
        self.action_leave()

    def action_leave(self) -> None:
        self.dismiss(self.solved)


def _program_lines(program: str, width: int = 74) -> str:
    """A program as the learner reads it: on one line when it fits, else one statement a line."""
    statements = []
    for line in program.splitlines():
        statements.extend(part.strip() for part in line.split(";") if part.strip())
    joined = "; ".join(statements)
    return joined if len(joined) <= width else "\n".join(statements)


def _strip_lead(feedback: str, kind: str) -> str:
    """The grader's text without a leading 'Right.' / 'Not quite.' the status line already says."""
    for lead in ("Right:", "Right.", "Not quite:", "Not quite."):
        if feedback.startswith(lead):
            rest = feedback[len(lead) :].strip()
            if rest:
                return _sentence_start(rest)
    return feedback


def _sentence_start(text: str) -> str:
    """The first letter in capitals, unless the first word is a name from code ("n.grad",
    "zero_grad"), which keeps its spelling."""
    first = re.match(r"[^\s,:;]*", text).group()
    if re.search(r"[._()\[\]=]|\d", first):
        return text
    return text[0].upper() + text[1:]
