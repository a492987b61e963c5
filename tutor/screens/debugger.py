"""The stepwise backprop debugger: watch ``backward()`` run one ``_backward`` call at a time.

``DebuggerScreen(program, title=..., predict=...)`` takes an expression program (anything with
``build(inputs=None)`` returning a graph with ``.output``), builds its graph, and lays the backward
pass out with the engine's `Stepper`. The screen only shows what the stepper reports; every step
is the engine's real rule running.

Layout (80×24 is the design size): the graph tree on top, the step inspector below, the answer box
of predict mode above the footer when a question is open. ``z`` switches between both panes, the
tree alone and the inspector alone.

Keys: ``n`` next step, ``p`` previous (undo), ``r`` reset, ``e`` run to the end, Enter on a tree
line runs until that node is done; ``t`` predict mode; ``m`` mistake mode (= instead of +=);
``g`` gradient check; ``z`` layout; ``q``/escape leave. Leaving dismisses the screen with True
once the learner has reached the end of the (correct) backward pass, else False.

The gradient check rebuilds the graph twice per input, which on a network's sample graph is
hundreds of builds (seconds): it runs in a thread worker, on builds of its own, while the screen
keeps answering keys. ``g`` again, ``q`` or escape stop it (``q`` again then leaves); ``m``
waits until it has ended, since mistake mode builds the program too. What the check changed in
state its builds share (a network's weights, shared leaves) is put back on the UI thread when
the worker has returned. The optional
``on_attempt`` and ``on_finished`` hooks hear each predict-mode answer and the first end of the
pass when they happen; the lesson screen writes both to progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree
from textual.worker import Worker, get_current_worker

from engine.cancel import Cancelled
from engine.numfmt import fmt as format_number
from engine.stepper import Stepper
from engine.value import topological_order
from tutor.predict_diagnosis import GradQuestion, diagnose
from tutor.widgets.graph_tree import MAX_DEPTH, GraphTree, format_cell
from tutor.widgets.inspector import Inspector, definition
from tutor.widgets.predict import AnswerBox

__all__ = ["DebuggerScreen", "LAYOUTS"]

LAYOUTS = ("split", "tree-only", "inspector-only")
_TRACK_CHANGES_UP_TO = 64  # jumps longer than this rescan the shown lines instead
_TRIES_BEFORE_REVEAL = 2
_MAX_RECORDED = 500  # characters of a predict-mode answer kept in progress
_CHECKING_NOTE = "The gradient check is running (g stops it)."


class DebuggerScreen(Screen[bool]):
    """Steps through the backward pass of one program."""

    CSS_PATH = "../debugger.tcss"

    BINDINGS = [
        Binding("n", "next", "Next", id="debugger.next", tooltip="Run the next backward step"),
        Binding(
            "p",
            "previous",
            "Back",
            id="debugger.previous",
            tooltip="Undo the last step: every grad it changed gets its old value back",
        ),
        Binding("r", "reset", "Reset", id="debugger.reset", tooltip="Undo every step: all grads back to 0"),
        Binding("e", "run_to_end", "End", id="debugger.end", tooltip="Run every remaining step"),
        Binding(
            "t",
            "toggle_predict",
            "Predict",
            id="debugger.predict",
            tooltip="Predict mode: type the gradient an operand will get before each step runs",
        ),
        Binding(
            "m",
            "toggle_mistake",
            "Mistake",
            id="debugger.mistake",
            tooltip="Mistake mode: rerun the same graph with = instead of += and compare the grads",
        ),
        Binding(
            "g",
            "gradient_check",
            "Check",
            id="debugger.gradcheck",
            tooltip="Gradient check: every input's backprop gradient beside the numeric slope",
        ),
        Binding(
            "z",
            "cycle_layout",
            "Layout",
            id="debugger.layout",
            tooltip="Show the tree and the inspector together, the tree alone, or the inspector alone",
        ),
        Binding(
            "q,escape",
            "leave",
            "Close",
            id="debugger.close",
            tooltip="Leave the debugger (the block counts as done once you reached the end)",
        ),
    ]

    class GradientChecked(Message):
        """A gradient-check worker has returned: its results, its error, or neither (stopped)."""

        def __init__(
            self, worker: Worker, checks: list | None, error: Exception | None, mistake: bool
        ) -> None:
            super().__init__()
            self.worker = worker
            self.checks = checks
            self.error = error
            self.mistake = mistake

    def __init__(
        self,
        program: Any,
        *,
        title: str | None = None,
        predict: bool = False,
        on_attempt: Callable[[str, bool, list[str]], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``on_attempt(answer, correct, tags)`` hears every readable predict-mode answer and
        ``on_finished()`` the first time the correct pass reaches its end, as they happen (a
        lesson writes both to progress at once, so a dropped connection loses neither)."""
        super().__init__(name=name, id=id, classes=classes)
        self.program = program
        self._on_attempt = on_attempt
        self._on_finished = on_finished
        self.caption = title
        self.predict = bool(predict)
        self.mistake = False
        self.finished = False  # the correct pass has been run to its end at least once
        self.layout_mode = "split"
        self.error: str | None = None
        self.graph = None
        self.stepper: Stepper | None = None
        self.correct_stepper: Stepper | None = None
        self.question: GradQuestion | None = None
        self._tries = 0
        self.last_verdict = None  # the grading of the last predict-mode answer
        self._check_worker: Worker | None = None  # the gradient check whose results are wanted
        self._check_workers: set[Worker] = set()  # every check worker that has not returned yet
        self._check_lock = threading.Lock()  # one check builds the program at a time
        try:
            self.graph, self.correct_stepper = self._fresh()
            self.stepper = self.correct_stepper
        except Exception as error:  # a program that cannot be evaluated: say so, never crash
            message = getattr(error, "message", None) or str(error) or type(error).__name__
            line = getattr(error, "line", None)
            where = f" (line {line})" if line else ""
            self.error = f"This program cannot be run{where}: {message}"
        self.title = "Debugger"
        self.sub_title = title or ""

    # ----------------------------------------------------------------- building the screen

    def compose(self) -> ComposeResult:
        yield Header()
        if self.stepper is None:
            yield Static(Text(f"{self.error}\n\nPress q to go back.", style="bold"), id="debugger-error")
            yield Footer()
            return
        self.graph_tree = GraphTree(self.stepper, id="graph")
        self.columns = Static(id="columns")
        self.inspector = Inspector(id="inspector")
        self.answer = AnswerBox(id="answer")
        yield self.columns
        yield self.graph_tree
        yield self.inspector
        yield self.answer
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.add_class("split")
        if self.stepper is None:
            return
        self.graph_tree.focus()
        self.call_after_refresh(self._show_columns)
        self._refresh_view(None)

    def _show_columns(self) -> None:
        tree = self.graph_tree
        text = Text(no_wrap=True, overflow="ellipsis")
        columns = tree.columns
        text.append(" " * columns.lead + "node".ljust(columns.name + 1))
        text.append("op".ljust(columns.op + 1))
        text.append("data".rjust(columns.number) + " " + "grad".rjust(columns.number))
        if text.plain != getattr(self, "_columns_shown", None):
            self._columns_shown = text.plain
            self.columns.update(text)

    # ----------------------------------------------------------------- moving through the pass

    def _move(self, move) -> None:
        stepper = self.stepper
        start = stepper.position
        move()
        end = stepper.position
        low, high = sorted((start, end))
        changed: list | None = None
        if high - low <= _TRACK_CHANGES_UP_TO:
            changed = [change.node for step in stepper.steps[low:high] for change in step.changes]
        self._refresh_view(changed)

    def _refresh_view(self, changed: Iterable | None, *, note: str = "") -> None:
        stepper = self.stepper
        if stepper is self.correct_stepper and stepper.done and not self.finished:
            self.finished = True
            if self._on_finished is not None:
                self._on_finished()
        self.graph_tree.show_step(changed)
        step = stepper.current
        node = step.node if step is not None else stepper.root
        if self.graph_tree.reveal(node) is None:
            depth = self.graph_tree.depth_of(node)
            deep = (
                f"{stepper.name(node)} sits {depth} levels down the tree, deeper than the tree "
                f"opens ({MAX_DEPTH}); the numbers below are the step's."
            )
            note = f"{note}\n{deep}" if note else deep
        if self._check_worker is not None:
            note = f"{note}\n{_CHECKING_NOTE}" if note else _CHECKING_NOTE
        self.inspector.show_step(stepper, predict=self.predict and not self.mistake, note=note)
        self._show_columns()

    def _stepping_blocked(self) -> bool:
        """True on the error view, where there is no pass to step."""
        return self.stepper is None

    def action_next(self) -> None:
        if self._stepping_blocked():
            return
        if self.stepper.done:
            self.inspector.show_step(
                self.stepper, predict=self.predict, note="The backward pass is complete."
            )
            return
        if self.predict and not self.mistake:
            self._ask()
            return
        self._move(self.stepper.forward)

    def action_previous(self) -> None:
        if self._stepping_blocked():
            return
        self._close_question()
        self._move(self.stepper.back)

    def action_reset(self) -> None:
        if self._stepping_blocked():
            return
        self._close_question()
        self._move(self.stepper.reset)

    def action_run_to_end(self) -> None:
        if self._stepping_blocked():
            return
        self._close_question()
        self._move(self.stepper.run_to_end)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if self._stepping_blocked() or event.node.data is None:
            return
        self._close_question()
        value = event.node.data.value
        self._move(lambda: self.stepper.run_until(value))

    # ----------------------------------------------------------------- predict mode

    def action_toggle_predict(self) -> None:
        if self._stepping_blocked():
            return
        self.predict = not self.predict
        if not self.predict:
            self._close_question()
        if not self.predict:
            note = "Predict mode off: n runs each step straight away."
        elif self.mistake:
            note = "Predict mode on: the questions come back when mistake mode is off (m)."
        else:
            note = "Predict mode on: n asks for a gradient before each step runs."
        self.inspector.show_step(self.stepper, predict=self.predict and not self.mistake, note=note)

    def _pick_change(self, step):
        """The operand to ask about: one that already holds grad (reuse) first, then a named one."""
        changes = list(step.changes)
        for change in changes:
            if change.before != 0:
                return change
        for change in changes:
            if change.node._prev or change.node.label:
                return change
        return changes[0]

    def _ask(self) -> None:
        stepper = self.stepper
        step = stepper.upcoming
        change = self._pick_change(step)
        node = step.node
        operand = change.node
        others = [p for p in node._prev if p is not operand]
        self.question = GradQuestion(
            operand=stepper.name(operand),
            node=stepper.name(node),
            op="seed" if step.kind == "seed" else step.op,
            upstream=step.upstream,
            before=change.before,
            after=change.after,
            local=change.local,
            own_data=operand.data,
            other_data=others[0].data if len(node._prev) == 2 and others else None,
            n_operands=len(node._prev),
            slots=max(1, len(change.slots)),
        )
        self._tries = 0
        s = stepper.name(operand)
        total = len(stepper.steps)
        if step.kind == "seed":
            prompt = f"Step 1 of {total} seeds the output. What will {s}.grad be after it?"
        else:
            prompt = (
                f"Step {step.index + 1} of {total} runs the rule of {definition(stepper, node)} "
                f"({stepper.name(node)}.grad = {format_number(step.upstream)}). "
                f"What will {s}.grad be after it? (now {format_number(change.before)})"
            )
        self.answer.ask(prompt)

    def on_answer_box_answered(self, message: AnswerBox.Answered) -> None:
        if self.question is None:
            return
        verdict = diagnose(self.question, message.text)
        self.last_verdict = verdict
        if verdict.tag == "unreadable":
            self.answer.say(verdict.message)
            return
        if self._on_attempt is not None:
            self._on_attempt(
                message.text.strip()[:_MAX_RECORDED], verdict.correct, [verdict.tag] if verdict.tag else []
            )
        if verdict.correct:
            self._run_predicted_step(f"✓ {verdict.message}")
            return
        self._tries += 1
        if self._tries >= _TRIES_BEFORE_REVEAL:
            answer = format_number(self.question.after)
            self._run_predicted_step(
                f"✗ {verdict.message} The answer is {self.question.operand}.grad = {answer}; "
                "the step has run, see the chain-rule line below."
            )
            return
        self.answer.say(f"✗ {verdict.message} Try again (escape skips the question).")

    def on_answer_box_cancelled(self, message: AnswerBox.Cancelled) -> None:
        self._close_question()

    def _run_predicted_step(self, note: str) -> None:
        self._close_question()
        self.stepper.forward()
        step = self.stepper.current
        self._refresh_view([c.node for c in step.changes], note=note)

    def _close_question(self) -> None:
        self.question = None
        if self.stepper is None:
            return
        if self.answer.is_open:
            self.answer.close()
            self.graph_tree.focus()

    # ----------------------------------------------------------------- mistake mode

    def _fresh(self, mistake: str | None = None):
        """A new build of the program and a stepper over it, every grad starting at 0.

        Zeroing first matters for programs whose builds share leaf Values (a network's
        parameters, say): what another pass left in them must not count as this pass's start.
        """
        graph = self.program.build()
        for value in topological_order(graph.output):
            value.grad = 0.0
        return graph, Stepper(graph.output, mistake=mistake)

    def _resync(self) -> None:
        """Give the shown graph back the grads its applied steps make, after other passes ran.

        Every pass here starts from grads of 0 (see `_fresh`), so: undo to the start, zero what
        another build may have left in shared leaves, and apply the steps again with the
        engine's rules.
        """
        position = self.stepper.position
        self.stepper.go_to(0)
        for value in self.stepper.nodes:
            value.grad = 0.0
        self.stepper.go_to(position)

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "toggle_mistake" and self._check_workers:
            return None  # mistake mode builds the program, which a check's worker is building
        return True

    def action_toggle_mistake(self) -> None:
        if self._stepping_blocked() or self._check_workers:
            return
        self._close_question()
        self.mistake = not self.mistake
        if not self.mistake:
            self.stepper = self.correct_stepper
            self._resync()
            self.graph_tree.load(self.stepper)
            self._refresh_view(None, note="Mistake mode off: back to the engine as written.")
            return
        graph, stepper = self._fresh("overwrite")
        stepper.run_to_end()
        names = [stepper.name(v) for v in self._leaves(graph.output)]
        wrong = [v.grad for v in self._leaves(graph.output)]
        correct, _ = self._fresh()
        correct.output.backward()
        right = [v.grad for v in self._leaves(correct.output)]
        self.stepper = stepper
        self._resync()
        self.graph_tree.load(self.stepper)
        self._refresh_view(None)
        self._show_mistake_panel(names, right, wrong)

    def _leaves(self, root) -> list:
        """The graph's inputs, in topological order (constants left out)."""
        return [v for v in topological_order(root) if not v._prev and v.label]

    def _show_mistake_panel(self, names: list[str], right: list[float], wrong: list[float]) -> None:
        """Each input's grad with += beside its grad with =."""
        width = max([len(name) for name in names] + [4])
        body = Text()
        header = f"{'leaf':<{width}}  {'with +=':>10}  {'with =':>10}"
        body.append(header + "\n", style="bold underline")
        plain = [header]
        bad = 0
        for name, good_grad, bad_grad in zip(names, right, wrong):
            ok = good_grad == bad_grad
            bad += not ok
            row = f"{name:<{width}}  {format_cell(good_grad)}  {format_cell(bad_grad)}" + (
                "" if ok else "  ✗ wrong"
            )
            body.append(row + "\n", style="" if ok else "bold reverse")
            plain.append(row)
        if not names:
            summary = "This graph has no named inputs to compare; the tree shows every grad."
        elif bad:
            summary = (
                f"{bad} of {len(names)} input grads go wrong: each = keeps only the last share of a "
                "value used more than once. r then n steps through the buggy pass; m turns it off."
            )
        else:
            summary = (
                "Every input grad is still right: no value here is used twice, so nothing needs "
                "accumulating. Try a program that reuses a value (b = a + a). m turns it off."
            )
        body.append(summary)
        plain.append(summary)
        self.inspector.show_panel(
            "mistake",
            "Mistake mode: the same graph, every rule with = instead of +=",
            body,
            "\n".join(plain),
        )

    # ----------------------------------------------------------------- gradient check

    def action_gradient_check(self) -> None:
        if self._stepping_blocked():
            return
        if self._check_worker is not None:
            self._stop_check()
            return
        if self.inspector.panel == "check":
            self.inspector.show_step(self.stepper, predict=self.predict and not self.mistake)
            return
        self._check_worker = self._check_in_thread(self.mistake)
        self._check_workers.add(self._check_worker)
        self.refresh_bindings()
        count = len(getattr(self.program, "inputs", ()) or ())
        inputs = f"{count} input{'s' if count != 1 else ''}" if count else "the inputs"
        line = (
            f"Checking… nudging each of {inputs} up and down and rebuilding the graph twice. "
            "The other keys work meanwhile; g or escape stops the check."
        )
        self.inspector.show_panel("checking", self._check_title(self.mistake), Text(line), line)

    def _stop_check(self, note: str = "Gradient check stopped.") -> None:
        """Cancel the running check; its worker ends before the next input and reports back."""
        worker, self._check_worker = self._check_worker, None
        if worker is not None:
            worker.cancel()
        self._refresh_view(None, note=note)

    @work(thread=True, exclusive=True, group="gradient-check", exit_on_error=False)
    def _check_in_thread(self, mistake: bool) -> None:
        """The check itself, on a worker thread: only the program's own new builds are touched."""
        from engine.gradcheck import check_program

        worker = get_current_worker()
        app = self.app

        def should_stop() -> bool:
            return worker.is_cancelled or app.return_code is not None

        checks = error = None
        with self._check_lock:
            try:
                checks = check_program(
                    self.program, mistake="overwrite" if mistake else None, should_stop=should_stop
                )
            except Cancelled:
                pass
            except Exception as exc:  # e.g. a graph given without a program to rebuild it from
                error = exc
            finally:
                # The check built and ran many graphs; one more plain build puts back any state
                # the builds share (a network's weights), before anything else builds again.
                try:
                    self.program.build()
                except Exception:
                    pass
        self.post_message(self.GradientChecked(worker, checks, error, mistake))

    def on_debugger_screen_gradient_checked(self, message: GradientChecked) -> None:
        message.stop()
        self._check_workers.discard(message.worker)
        self.refresh_bindings()
        if self.stepper is None:
            return
        wanted = message.worker is self._check_worker
        if wanted:
            self._check_worker = None
        # the shown pass gets its own grads back (builds may share leaves with it)
        self._resync()
        self.graph_tree.show_step(None)
        if not wanted:
            return  # stopped: the step view is already back
        if message.error is not None:
            self._refresh_view(None)
            self.notify(f"The gradient check cannot run here: {message.error}", severity="warning")
            return
        if message.checks is None:
            return
        self._show_check_panel(message.checks, message.mistake)

    @staticmethod
    def _check_title(mistake: bool) -> str:
        mode = "with = instead of +=" if mistake else "as the engine is written"
        return f"Gradient check: backprop ({mode}, whole pass) vs nudging each input"

    def _show_check_panel(self, checks: list, mistake: bool) -> None:
        width = max([len(c.name) for c in checks] + [4])
        head = f"{'leaf':<{width}} {'value':>10} {'backprop':>10} {'numeric':>10} {'rel.err':>8}"
        body = Text()
        body.append(head + "\n", style="bold underline")
        plain = [head]
        bad = 0
        for c in checks:
            rel = "   n/a  " if c.rel_error != c.rel_error else f"{c.rel_error:8.1e}"
            row = (
                f"{c.name:<{width}} {format_cell(c.value)} {format_cell(c.analytic)} "
                f"{format_cell(c.numeric)} {rel}"
            )
            row += "  ok" if c.ok else "  ✗ DISAGREE"
            bad += not c.ok
            body.append(row + "\n", style="" if c.ok else "bold reverse")
            if c.note:
                body.append(f"   {c.note}\n")
            plain.append(row)
        mode = "with = instead of +=" if mistake else "as the engine is written"
        if not checks:
            summary = "This program has no inputs to nudge, so there is nothing to check."
        elif bad:
            summary = f"{bad} of {len(checks)} gradients disagree with the measured slope: backprop {mode} is wrong."
        else:
            summary = f"All {len(checks)} gradients match the measured slope (f(x+h) - f(x-h)) / 2h."
        body.append(summary)
        plain.append(summary)
        self.inspector.show_panel("check", self._check_title(mistake), body, "\n".join(plain))

    # ----------------------------------------------------------------- layout and leaving

    def action_cycle_layout(self) -> None:
        index = (LAYOUTS.index(self.layout_mode) + 1) % len(LAYOUTS)
        self.remove_class(self.layout_mode)
        self.layout_mode = LAYOUTS[index]
        self.add_class(self.layout_mode)
        if self.stepper is None or self.answer.is_open:
            return
        if self.layout_mode == "inspector-only":
            self.inspector.focus()  # the arrows scroll what is shown
        else:
            self.graph_tree.focus()

    def action_leave(self) -> None:
        if self.stepper is not None and self.answer.is_open:
            self._close_question()
            return
        if self._check_worker is not None:  # first stop the check, as with an open question
            self._stop_check("Gradient check stopped; q again leaves.")
            return
        self.dismiss(self.finished)
