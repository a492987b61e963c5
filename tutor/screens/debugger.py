"""The stepwise backprop debugger: watch ``backward()`` run one ``_backward`` call at a time.

``DebuggerScreen(program, title=..., predict=...)`` takes a `DebuggerProgram` (an
`engine.expr.Program`, the training screen's one-sample program), builds its graph, and lays the
backward pass out with the engine's `Stepper`. The screen only shows what the stepper reports;
every step is the engine's real rule running. A program that cannot be built (``log(0)``, an
overflow) gets `CannotRunScreen` on top instead, which says why; leaving it leaves this screen.

Layout (80×24 is the design size): the graph tree on top, the backward order strip under it (✓
done, ▶ just ran, why the next rule is next), the step inspector below, the answer box of predict
mode above the footer when a question is open. ``z`` switches between both panes, the
tree alone and the inspector alone.

Keys: ``n`` next step, ``p`` previous (undo), ``r`` reset, ``e`` run to the end, Enter on a tree
line runs until that node is done; ``f`` steps the forward pass first, node by node from the
inputs up (``n``/``p`` move through it; the backward pass follows); ``t`` predict mode; ``m`` mistake mode (= instead of +=, then
the wrong order: each rule run the first time the walk from the output reaches it, then off);
``g`` gradient check; ``z`` layout; ``q``/escape leave. Leaving dismisses the screen with True
once the learner has reached the end of the (correct) backward pass, else False. Which keys work
when is `check_action`'s: while a predict question is open the keys that would move the pass or
change the mode wait for it (answer, or escape skips it); mistake mode waits for a running
gradient check. The footer shows exactly those.

The gradient check rebuilds the graph twice per input, which on a network's sample graph is
hundreds of builds (seconds): it runs in a thread worker, on builds of its own, while the screen
keeps answering keys. ``g`` again, ``q`` or escape stop it (``q`` again then leaves); ``m``
waits until it has ended, since mistake mode builds the program too. What the check changed in
state its builds share (a network's weights, shared leaves) is put back on the UI thread when
the worker has returned. The optional ``on_attempt`` and ``on_finished`` hooks hear each
predict-mode answer and the first end of the pass when they happen; the lesson screen writes both
to progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree
from textual.worker import Worker, get_current_worker

from engine.cancel import Cancelled
from engine.mistakes import TooManyReaches
from engine.stepper import Stepper
from engine.value import topological_order
from tutor.predict_diagnosis import GradQuestion
from tutor.screens.debugger_error import CannotRunScreen, why_it_cannot_run
from tutor.screens.debugger_modes import ForwardAndEdit
from tutor.screens.debugger_predict import Predicting
from tutor.screens.debugger_program import DebuggerGraph, DebuggerProgram
from tutor.screens.debugger_text import (
    YOUR_RULE,
    Prediction,
    check_panel,
    checking_panel,
    mistake_panel,
)
from tutor.widgets.graph_tree import MAX_DEPTH, Columns, GraphTree
from tutor.widgets.inspector import Inspector
from tutor.widgets.order_strip import OrderStrip
from tutor.widgets.predict import AnswerBox

__all__ = ["DebuggerScreen", "DebuggerProgram", "DebuggerGraph", "LAYOUTS"]

LAYOUTS = ("split", "tree-only", "inspector-only")
WIDE = 120  # columns from which the inspector sits beside the tree
_TRACK_CHANGES_UP_TO = 64  # jumps longer than this rescan the shown lines instead
MISTAKE_MODES = (None, "overwrite", "wrong_order", "every_reach")  # what m steps through
_CHECKABLE = (None, "overwrite")  # the mistake modes `engine.gradcheck` can run
_CHECKING_NOTE = "The gradient check is running (g stops it)."
# the actions that would move the pass or change the mode under an open predict question
_WAIT_FOR_THE_QUESTION = frozenset(
    {
        "next",
        "previous",
        "reset",
        "run_to_end",
        "toggle_predict",
        "toggle_mistake",
        "forward_pass",
        "change_numbers",
    }
)


class DebuggerScreen(Predicting, ForwardAndEdit, Screen[bool]):
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
            "f",
            "forward_pass",
            "Forward",
            show=False,  # the footer is full at 80 columns; step 0's inspector offers it
            id="debugger.forward",
            tooltip="Step the forward pass first, node by node from the inputs up (resets the backward pass)",
        ),
        Binding(
            "c",
            "change_numbers",
            "Change",
            show=False,  # the footer is full at 80 columns; step 0's inspector offers it
            id="debugger.change",
            tooltip="Change the numbers: edit the program (or its inputs) and rerun the pass",
        ),
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
            tooltip="Mistake mode: rerun the same graph with = instead of +=, then in two wrong orders "
            "(first reached, every time reached), and compare the grads",
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

    layout_mode: var[str] = var("split")
    """One of `LAYOUTS`, set as a class on the screen (the tcss shows and hides the panes by it)."""

    @dataclass
    class GradientChecked(Message):
        """A gradient-check worker has returned: its results, its error, or neither (stopped)."""

        worker: Worker
        checks: list | None
        error: Exception | None
        mistake: str | None

    def __init__(
        self,
        program: DebuggerProgram,
        *,
        title: str | None = None,
        predict: bool = False,
        on_attempt: Callable[[str, bool, list[str]], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        rules: dict | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``on_attempt(answer, correct, tags)`` hears every readable predict-mode answer and
        ``on_finished()`` the first time the correct pass reaches its end, as they happen (a
        lesson writes both to progress at once, so a dropped connection loses neither). ``rules``
        (op -> rule) runs a learner's rule in place of the engine's (`Stepper`'s ``rules``)."""
        super().__init__(name=name, id=id, classes=classes)
        self.program = program
        self.rules = dict(rules or {})
        self._on_attempt = on_attempt
        self._on_finished = on_finished
        self.caption = title
        self.predict = bool(predict)
        self.mistake: str | None = None  # the key of the mistake mode shown (`MISTAKE_MODES`)
        self.editing = False  # the answer box holds the program to change
        self.forward_at: int | None = None  # op nodes computed in the forward pass shown, or None
        self.finished = False  # the correct pass has been run to its end at least once
        self.question: GradQuestion | None = None  # the predict question open, if any
        self._tries = 0
        self.predictions: dict[int, Prediction] = {}  # step index -> how its question went
        self._prediction = Prediction()  # the open question's
        self.last_verdict = None  # the grading of the last predict-mode answer
        self._check_worker: Worker | None = None  # the gradient check whose results are wanted
        self._check_workers: set[Worker] = set()  # every check worker that has not returned yet
        self._check_lock = threading.Lock()  # one check builds the program at a time
        self.title = "Debugger"
        self.sub_title = title or ""
        self.cannot_run: str | None = None  # why, for a program that does not build
        try:
            self.graph, self.correct_stepper = self._fresh()
        except Exception as error:  # say so on a screen of its own, never crash
            self.cannot_run = why_it_cannot_run(error)
            return
        self.stepper: Stepper = self.correct_stepper  # the pass shown: the correct one or mistake mode's

    # ----------------------------------------------------------------- building the screen

    def compose(self) -> ComposeResult:
        if self.cannot_run is not None:
            return  # nothing to step: `CannotRunScreen` covers this screen until it is left
        yield Header()
        self.graph_tree = GraphTree(self.stepper, id="graph")
        self.column_header = Static(id="columns")
        self.inspector = Inspector(id="inspector")
        self.answer = AnswerBox(id="answer")
        self.order_strip = OrderStrip(id="order")
        with Container(id="panes"):  # stacked; side by side on a wide terminal (debugger.tcss)
            with Vertical(id="left"):
                yield self.column_header
                yield self.graph_tree
                yield self.order_strip
            yield self.inspector
        yield self.answer
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        if self.cannot_run is not None:
            self.app.push_screen(CannotRunScreen(self.cannot_run, sub_title=self.sub_title), self._left)
            return
        self.graph_tree.focus()
        self.watch(self.graph_tree, "columns", self._show_columns)
        self._refresh_view(None)

    def on_resize(self, event) -> None:
        """At 120 columns or more the inspector sits beside the tree instead of under it."""
        self.set_class(event.size.width >= WIDE, "wide")

    def _left(self, _result: bool | None) -> None:
        """The screen saying why the program cannot run was left: leave the debugger too."""
        self.dismiss(False)

    def _show_columns(self, columns: Columns) -> None:
        """The header row above the tree, in the tree's columns (they widen as lines are added)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" " * columns.lead + "node".ljust(columns.name + 1))
        text.append("op".ljust(columns.op + 1))
        text.append("data".rjust(columns.number) + " " + "grad".rjust(columns.number))
        self.column_header.update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which keys work now (the footer shows those): True runs, None shows dimmed, False hides."""
        if action in _WAIT_FOR_THE_QUESTION and (self.question is not None or self.editing):
            return False  # answer the question first, or escape skips it
        if action == "toggle_mistake" and self._check_workers:
            return None  # mistake mode builds the program, which a check's worker is building
        if action == "gradient_check" and self.mistake not in _CHECKABLE:
            return None  # the numeric check knows the engine as written and with = only
        return True

    @property
    def predicting(self) -> bool:
        """Whether n asks before each step: predict mode on, and the pass is the correct one."""
        return self.predict and not self.mistake

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
        self.order_strip.show(stepper)
        step = stepper.current
        node = step.node if step is not None else stepper.root
        # the node whose rule ran is opened, so its operands (which it just sent grad to) show
        if self.graph_tree.reveal(node, with_operands=True) is None:
            depth = self.graph_tree.depth_of(node)
            deep = (
                f"{stepper.name(node)} sits {depth} levels down the tree, deeper than the tree "
                f"opens ({MAX_DEPTH}); the numbers below are the step's."
            )
            note = f"{note}\n{deep}" if note else deep
        if self._check_worker is not None:
            note = f"{note}\n{_CHECKING_NOTE}" if note else _CHECKING_NOTE
        self.inspector.show_step(stepper, predict=self.predicting, note=note)

    def action_next(self) -> None:
        if self._forward_moves(1):
            return
        if self.stepper.done:
            summary = self.summary() if self.predicting else ""
            note = "The backward pass is complete." + (f"\n{summary}" if summary else "")
            self.inspector.show_step(self.stepper, predict=self.predicting, note=note)
        elif self.predicting:
            self._ask()
        else:
            self._move(self.stepper.forward)

    def action_previous(self) -> None:
        if self._forward_moves(-1):
            return
        self._move(self.stepper.back)

    def action_reset(self) -> None:
        self._leave_forward()
        self._move(self.stepper.reset)

    def action_run_to_end(self) -> None:
        self._leave_forward()
        self._move(self.stepper.run_to_end)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        """Enter (or a click) on a tree line runs until that node is done, past an open question."""
        event.stop()
        if event.node.data is None:
            return
        self._close_question()
        self._leave_forward()
        value = event.node.data.value
        self._move(lambda: self.stepper.run_until(value))

    # ----------------------------------------------------------------- mistake mode

    def _fresh(self, mistake: str | None = None):
        """A new build of the program and a stepper over it, every grad starting at 0.

        Zeroing first matters for programs whose builds share leaf Values (a network's
        parameters, say): what another pass left in them must not count as this pass's start.
        """
        graph = self.program.build()
        for value in topological_order(graph.output):
            value.grad = 0.0
        return graph, Stepper(graph.output, mistake=mistake, rules=self.rules)

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

    def action_toggle_mistake(self) -> None:
        self._leave_forward()
        self.mistake = MISTAKE_MODES[(MISTAKE_MODES.index(self.mistake) + 1) % len(MISTAKE_MODES)]
        if self._check_worker is None and self.inspector.panel == "check":
            self.inspector.show_step(self.stepper, predict=self.predicting)
        if not self.mistake:
            self._mistake_off("back to the engine as written")
            return
        try:
            graph, stepper = self._fresh(self.mistake)
        except TooManyReaches as refused:  # a graph of too many paths for the every-reach walk
            self._mistake_off(str(refused))
            return
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
        order = [stepper.name(step.node) for step in stepper.steps[1:]]
        self.inspector.show_panel(mistake_panel(names, right, wrong, self.mistake, order))

    def _mistake_off(self, why: str) -> None:
        self.mistake = None
        self.stepper = self.correct_stepper
        self._resync()
        self.graph_tree.load(self.stepper)
        self._refresh_view(None, note=f"Mistake mode off: {why}.")

    def _leaves(self, root) -> list:
        """The graph's inputs, in topological order (constants left out)."""
        return [v for v in topological_order(root) if not v._prev and v.label]

    # ----------------------------------------------------------------- gradient check

    def action_gradient_check(self) -> None:
        """g starts a check, stops a running one, and takes a finished one's panel away."""
        if self._check_worker is not None:
            self._stop_check()
            return
        if self.inspector.panel == "check":
            self.inspector.show_step(self.stepper, predict=self.predicting)
            return
        self._check_worker = self._check_in_thread(self.mistake)
        self._check_workers.add(self._check_worker)
        self.refresh_bindings()
        self.inspector.show_panel(checking_panel(len(self.program.inputs), self.mistake))

    def _stop_check(self, note: str = "Gradient check stopped.") -> None:
        """Cancel the running check; its worker ends before the next input and reports back."""
        worker, self._check_worker = self._check_worker, None
        if worker is not None:
            worker.cancel()
        self._refresh_view(None, note=note)

    @work(thread=True, exclusive=True, group="gradient-check", exit_on_error=False)
    def _check_in_thread(self, mistake: str | None) -> None:
        """The check itself, on a worker thread: only the program's own new builds are touched."""
        from tutor.rule_grade import check_program

        worker = get_current_worker()
        app = self.app

        def should_stop() -> bool:
            return worker.is_cancelled or app.return_code is not None

        checks = error = None
        with self._check_lock:
            try:
                checks = check_program(
                    self.program, mistake=mistake, should_stop=should_stop, rules=self.rules
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
        self.inspector.show_panel(
            check_panel(message.checks, message.mistake or (YOUR_RULE if self.rules else None))
        )

    # ----------------------------------------------------------------- layout and leaving

    def watch_layout_mode(self, old: str, new: str) -> None:
        self.remove_class(old)
        self.add_class(new)

    def action_cycle_layout(self) -> None:
        self.layout_mode = LAYOUTS[(LAYOUTS.index(self.layout_mode) + 1) % len(LAYOUTS)]
        if self.question is not None:
            return  # the focus stays in the answer box
        if self.layout_mode == "inspector-only":
            self.inspector.focus()  # the arrows scroll what is shown
        else:
            self.graph_tree.focus()

    def action_leave(self) -> None:
        if self.editing:
            self._stop_editing()
            return
        if self.question is not None:
            self._close_question()
            return
        if self._check_worker is not None:  # first stop the check, as with an open question
            self._stop_check("Gradient check stopped; q again leaves.")
            return
        self.dismiss(self.finished)
