"""The training screen: watch gradient descent work, and watch the classic bugs break it.

``TrainScreen(task, title=...)`` shows one `engine.train.Task`: what is trained (model, data,
loss, optimiser), a live loss plot, the current step / loss / accuracy, and a table of the
model's predictions against the targets. For 2-D data (moons, circles, xor) ``v`` swaps the table
for the decision boundary.

Training runs in a thread worker that steps the engine's `Trainer` and posts what each step
reported; the screen only draws those reports (the plot is the engine's own loss numbers).

**Bugs side by side**: ``b`` reruns the same task from the same initial weights with a mistake on
(no zero_grad, = instead of +=, += instead of -=, or a learning rate ten times too high) and
overlays its loss curve on the correct one. Both runs move in lockstep: a run that is behind
catches up first. A run whose loss or gradient stops being a finite number ends with the engine's
reason on screen.

**Into the debugger**: Enter (or ``d``) on a row of the table opens the debugger on that sample's
loss graph with the current weights.

Keys: space run / pause, ``s`` one step, ``+``/``-`` learning rate, ``r`` reset to the initial
weights, ``b`` bug run, ``v`` table / boundary, ``z`` layout, ``d`` debugger, ``q`` close. Leaving
dismisses the screen with True once a full run of the task (without a bug added) has reached its
end, else False.

Pausing lets the current step finish. Leaving (or quitting the app) abandons it instead: the
worker hands the engine a ``should_stop`` that says yes once its worker is cancelled or the app
has been told to exit, so even a step near the budget of `engine.cost` (seconds long) ends
within a fraction of a second, with the trainer as it was before that step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import ContentSwitcher, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from engine.cancel import Cancelled
from engine.mistakes import HIGH_LR_FACTOR, MISTAKES, TRAINING
from engine.nn import DISPLAY_NAMES, float_activation
from engine.train import Task, Trainer, TrainingStopped
from engine.value import topological_order
from tutor.widgets.boundary import DecisionBoundary, predict_grid
from tutor.widgets.loss_plot import LossPlot

__all__ = [
    "BUGS",
    "LEARNING_RATES",
    "BugPicker",
    "PredictionList",
    "Run",
    "SampleProgram",
    "Snapshot",
    "TrainScreen",
    "describe_task",
]

# key -> (legend label, what it does), in the order the picker lists them: the mistake registry's
BUGS = {key: (MISTAKES[key].label, MISTAKES[key].what) for key in TRAINING}
MAIN_MARKER = "•"
BUG_MARKER = "x"

# the steps of ``+`` and ``-``: 1, 2, 5 in every decade
LEARNING_RATES = tuple(m * 10.0**e for e in range(-4, 3) for m in (1, 2, 5))

_LOSS_NAMES = {"sse": "squared error", "max_margin": "max-margin", "bce": "cross-entropy"}


# --------------------------------------------------------------------------- pure helpers


def describe_task(task: Task, lr: float | None = None) -> tuple[str, str]:
    """Two short lines: the model and the data; the loss, the optimiser and the steps."""
    m, d, loss, o = task.model, task.data, task.loss, task.optimiser
    inputs = m.inputs if m.inputs is not None else (3 if d.name == "seeds" else 2)
    sizes = [inputs, *m.layers]
    params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    shape = " → ".join(str(s) for s in sizes)
    act = DISPLAY_NAMES[m.activation] + (", linear out" if m.linear_output else "")
    data = "the seeds' 4 samples" if d.name == "seeds" else f"{d.name} ×{d.samples}, noise {d.noise:g}"
    first = f"MLP({shape}) {act} · {params} parameters · {data}"
    lr = o.lr if lr is None else lr
    loss_text = _LOSS_NAMES[loss.kind] + (f" + {loss.l2:g}·L2" if loss.l2 else "")
    opt = "SGD" if o.kind == "sgd" else "Adam"
    if o.kind == "sgd" and o.momentum:
        opt += f" momentum {o.momentum:g}"
    rate = f"lr {lr:g}" + (f" → {lr * 0.1:g} (linear decay)" if o.decay == "linear" else "")
    second = f"loss {loss_text} · {opt}, {rate} · {task.steps} steps"
    if task.mistake:
        second += f" · bug: {BUGS[task.mistake][0]}"
    return first, second


@dataclass(frozen=True)
class Snapshot:
    """The weights after one step, copied out of the trainer, and what they predict.

    ``output`` runs the network on plain floats (the same arithmetic, in the same order, as the
    engine's forward pass): drawing a boundary needs hundreds of forward passes, far too many to
    build a graph of `Value`s for each.
    """

    step: int
    values: tuple[float, ...]  # every parameter, in model.parameters() order
    layers: tuple  # per layer, per neuron: (weights, bias, activation)
    squash: bool  # bce on a model without a sigmoid at the end: the driver adds one
    threshold: float  # an output above it says +1: 0.5 for probabilities (bce), else 0
    outputs: tuple[float, ...]  # the output for every sample of the data

    @classmethod
    def take(cls, trainer: Trainer) -> Snapshot:
        layers = tuple(
            tuple((tuple(w.data for w in n.w), n.b.data, n.activation) for n in layer.neurons)
            for layer in trainer.model.layers
        )
        bce = trainer.task.loss.kind == "bce"
        squash = bce and layers[-1][0][2] != "sigmoid"
        values = tuple(trainer.model.parameter_values())
        shell = cls(trainer.steps_done, values, layers, squash, 0.5 if bce else 0.0, ())
        return replace(shell, outputs=tuple(shell.output(x) for x in trainer.data.xs))

    def output(self, x: Sequence[float]) -> float:
        for layer in self.layers:
            out = []
            for w, b, act in layer:
                z = b
                for wi, xi in zip(w, x):
                    z = z + wi * xi
                out.append(float_activation(act)(z))
            x = out
        return float_activation("sigmoid")(x[0]) if self.squash else x[0]

    def says_positive(self, out: float) -> bool:
        return out > self.threshold

    def right(self, out: float, target: float) -> bool:
        """Whether an output classifies its sample right (the engine's accuracy rule)."""
        return (out > self.threshold) == (target > self.threshold)


@dataclass
class SampleGraph:
    """What `SampleProgram.build` returns: the shape the debugger expects of a built program."""

    output: object
    inputs: dict
    values: dict = field(default_factory=dict)


class SampleProgram:
    """One sample's loss graph with fixed weights, in the form `DebuggerScreen` takes a program.

    ``build(inputs)`` makes a fresh graph each time (with ``Trainer.sample_graph``); ``inputs``
    are the network's parameters by label (``w[0][1][2]`` ...), so the debugger's gradient check
    nudges every weight and bias.
    """

    def __init__(self, task: Task, weights: Sequence[float], index: int) -> None:
        self._trainer = Trainer(replace(task, mistake=None))
        self._params = self._trainer.model.parameters()
        self._trainer.model.set_parameter_values(weights)
        self.index = index
        self.inputs = {p.label: p.data for p in self._params}
        x = self._trainer.data.xs[index]
        xs = ", ".join(f"{c:g}" for c in x)
        self.text = (
            f"# the loss of sample {index} alone: x = [{xs}], target {self._trainer.targets[index]:g}\n"
            f"# {len(self._params)} parameters, fixed at their values after the last step"
        )

    def build(self, inputs=None) -> SampleGraph:
        values = dict(self.inputs)
        for name, number in (inputs or {}).items():
            if name not in values:
                raise KeyError(f"{name} is not a parameter of this network")
            values[name] = float(number)
        self._trainer.model.set_parameter_values([values[p.label] for p in self._params])
        loss = self._trainer.sample_graph(self.index)
        found = {v.label: v for v in topological_order(loss) if not v._prev and v.label in values}
        leaves = {p.label: found[p.label] for p in self._params if p.label in found}
        return SampleGraph(output=loss, inputs=leaves)


@dataclass
class Run:
    """One training run on screen: the trainer, and every report the screen has received."""

    key: str  # "main" or "bug"
    label: str
    marker: str
    trainer: Trainer
    reports: list = field(default_factory=list)
    stopped: TrainingStopped | None = None
    snapshot: Snapshot | None = None

    @property
    def step(self) -> int:
        return self.reports[-1].step if self.reports else 0

    @property
    def done(self) -> bool:
        return self.stopped is not None or self.step >= self.trainer.task.steps


@dataclass(frozen=True)
class _Event:
    run: Run
    report: object  # StepReport | None
    stopped: TrainingStopped | None
    snapshot: Snapshot
    grid: tuple | None
    finished: bool


class PredictionList(ScrollView, can_focus=True):
    """One line per sample with a row cursor; Enter (or a click on the cursor row) selects it.

    Only the visible lines are drawn, each from a ready-made `Text`: a DataTable redrew every
    cell of every visible row on each update, ~0.2 s a time on the moons data, all of it holding
    the GIL the training thread needs.
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("enter", "select", "Debug sample", show=False),
    ]

    COMPONENT_CLASSES = {"prediction-list--cursor"}

    cursor = reactive(0, always_update=True)

    class Selected(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Text] = []

    def set_rows(self, rows: list[Text]) -> None:
        self.rows = rows
        width = max((r.cell_len for r in rows), default=0)
        self.virtual_size = Size(width, len(rows))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        strip = Strip(list(self.rows[index].render(self.app.console)))
        strip = strip.crop(int(self.scroll_offset.x), int(self.scroll_offset.x) + width)
        strip = strip.adjust_cell_length(width).apply_style(base)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("prediction-list--cursor"))
        return strip

    def watch_cursor(self, old: int, new: int) -> None:
        if self.rows and not 0 <= new < len(self.rows):
            self.cursor = max(0, min(new, len(self.rows) - 1))
            return
        top = int(self.scroll_offset.y)
        height = max(1, self.scrollable_content_region.height)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)
        self.refresh()

    def action_move(self, by: int) -> None:
        self.cursor = max(0, min(self.cursor + by, len(self.rows) - 1))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self.cursor))

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y
        if not 0 <= index < len(self.rows):
            return
        if index == self.cursor or event.chain > 1:
            self.post_message(self.Selected(index))
        self.cursor = index


class BugPicker(ModalScreen[str | None]):
    """Choose the mistake for the comparison run (or remove the comparison)."""

    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel", id="train.bug.cancel", tooltip="Keep things as they are"),
    ]

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Rerun from the same initial weights with a bug in it:", style="bold"))
            options = []
            for n, (key, text) in enumerate(self.choices, 1):
                options.append(Option(Text(f"{n}  {text}"), id=key))
            yield OptionList(*options, id="bug-options")
            yield Static(Text(f"Enter or 1-{len(self.choices)} picks, escape cancels.", style="italic"))

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


# --------------------------------------------------------------------------- the screen


class TrainScreen(Screen[bool]):
    """Trains one task live, with a bug run beside it on demand."""

    CSS_PATH = "../train.tcss"

    # A run of N steps takes at least this long (each step waits out its share), so a fast task
    # still draws its curve where the learner can see it. Tests set it to 0.
    MIN_RUN_SECONDS = 2.0
    # At most this often while training: status, plot and table (the boundary is slower).
    REDRAW_SECONDS = 0.25
    BOUNDARY_SECONDS = 1.0

    HELP_NOTES = (
        "The plot shows the loss the engine reported at each step (before that step's update). "
        "b reruns the task from the same initial weights with a classic bug in it and draws its "
        "curve beside the correct one. Enter on a row of the table opens the debugger on that "
        "sample's graph with the current weights."
    )

    BINDINGS = [
        Binding(
            "space",
            "toggle_run",
            "Run/Pause",
            id="train.run",
            tooltip="Start training, or pause it after the current step",
        ),
        Binding(
            "s",
            "step",
            "Step",
            id="train.step",
            tooltip="Run exactly one training step (forward, zero_grad, backward, update)",
        ),
        Binding(
            "plus,equals_sign",
            "lr_up",
            "lr",
            id="train.lr_up",
            key_display="+/-",
            tooltip="+ raises the learning rate, - lowers it (the run starts again from the initial weights)",
        ),
        Binding(
            "minus",
            "lr_down",
            "lr down",
            id="train.lr_down",
            key_display="-",
            show=False,  # the footer shows "+/- lr" on the key above
            tooltip="Lower the learning rate (the run starts again from the initial weights)",
        ),
        Binding(
            "r",
            "reset",
            "Reset",
            id="train.reset",
            tooltip="Back to the initial weights and step 0; drops the bug run",
        ),
        Binding(
            "b",
            "bug",
            "Bug run",
            id="train.bug",
            tooltip="Rerun from the same initial weights with a classic bug, curve beside the correct one",
        ),
        Binding(
            "v",
            "swap_view",
            "Boundary",
            id="train.view",
            tooltip="Swap the predictions table and the decision boundary (2-D data)",
        ),
        Binding(
            "z",
            "cycle_layout",
            "Layout",
            id="train.layout",
            show=False,
            tooltip="Both panes, the plot alone, or the table / boundary alone",
        ),
        Binding(
            "d",
            "debug",
            "Debug",
            id="train.debug",
            show=False,
            tooltip="Open the debugger on the selected sample's graph with the current weights",
        ),
        Binding("q,escape", "leave", "Close", id="train.close", tooltip="Stop training and leave"),
    ]

    LAYOUTS = ("split", "plot-only", "side-only")
    SIDE_TITLES = {"predictions": "predictions", "boundary": "decision boundary"}

    class Ticked(Message):
        """The worker ran one lockstep tick: one event per run that moved."""

        def __init__(self, events: list[_Event]) -> None:
            super().__init__()
            self.events = events

    class Failed(Message):
        """The worker hit something the engine does not report as a stop (a bug in the tutor)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Idle(Message):
        """The worker thread has returned: nothing touches the trainers any more."""

    def __init__(
        self,
        task: Task,
        *,
        title: str = "",
        on_complete: Callable[[], None] | None = None,
        name=None,
        id=None,
        classes=None,
    ) -> None:
        """``on_complete()`` hears the first time a full run of the task reaches its end (a lesson
        records the part as done then, not when the learner leaves)."""
        super().__init__(name=name, id=id, classes=classes)
        self.train_task = task
        self.lr = task.optimiser.lr
        self.completed = False  # a full run of the task (no added bug) has reached its end
        self._on_complete = on_complete
        self.runs: dict[str, Run] = {}
        self.layout_mode = "split"
        self.failure: str | None = None
        self.two_d = task.data.name != "seeds"
        self._busy = False  # a worker thread is stepping the trainers
        self._continuous = False  # ... and it runs until paused (not a single step)
        self._halt = threading.Event()
        self._budget = 0  # steps the single-step worker still owes
        self._budget_lock = threading.Lock()
        self._when_idle: list[Callable[[], None]] = []
        self._grid = None
        self._grid_step = 0
        self._grid_shape = (38, 14)
        self._last_grid = 0.0
        self._last_flush = 0.0
        self._flush_timer = None
        self._dirty = False
        self._status_lines = 0
        self._row_heads: list[str] = []
        self.title = "Training"
        self.sub_title = title

    # ------------------------------------------------------------------ building the screen

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="task")
        yield Static(id="status")
        with Horizontal(id="body"):
            self.plot = LossPlot(self.train_task.steps, id="plot")
            yield self.plot
            with ContentSwitcher(initial="predictions", id="side"):
                with Vertical(id="predictions"):
                    yield Static(id="table-caption")
                    yield Static(id="table-header")
                    yield PredictionList(id="table")
                yield DecisionBoundary(id="boundary")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table = self.query_one("#table", PredictionList)
        self.boundary = self.query_one("#boundary", DecisionBoundary)
        self.query_one("#side").border_title = "predictions"
        data = Trainer(self.train_task).data
        if self.two_d:
            self.boundary.set_data(data.xs, [y > 0 for y in data.ys])
        self._new_main_run()
        self._fill_table()
        self.table.focus()
        self._show_task()
        self._flush()

    # ------------------------------------------------------------------ runs

    def _task_with(self, *, lr: float | None = None, mistake: str | None = None, keep_mistake=True) -> Task:
        o = replace(self.train_task.optimiser, lr=self.lr if lr is None else lr)
        return replace(
            self.train_task, optimiser=o, mistake=self.train_task.mistake if keep_mistake else mistake
        )

    def _main_label(self) -> str:
        return "correct" if not self.train_task.mistake else BUGS[self.train_task.mistake][0]

    def _new_main_run(self) -> None:
        trainer = Trainer(self._task_with())
        run = Run("main", self._main_label(), MAIN_MARKER, trainer)
        run.snapshot = Snapshot.take(trainer)
        self.runs = {"main": run}
        self.plot.add_curve("main", run.label, run.marker)
        self.plot.remove_curve("bug")
        self.failure = None
        self._grid = None
        if self.two_d:
            self._grid_now(run.snapshot)

    def _new_bug_run(self, bug: str) -> None:
        if bug == "none":
            task, label = self._task_with(keep_mistake=False, mistake=None), "correct"
        elif bug == "high_lr":
            task = self._task_with(keep_mistake=False, mistake=bug)
            label = f"lr {self.lr * HIGH_LR_FACTOR:g} (×{HIGH_LR_FACTOR})"
        else:
            task, label = self._task_with(keep_mistake=False, mistake=bug), BUGS[bug][0]
        trainer = Trainer(task)
        run = Run("bug", label, BUG_MARKER, trainer)
        run.snapshot = Snapshot.take(trainer)
        self.runs["bug"] = run
        self.plot.add_curve("bug", label, BUG_MARKER)

    @property
    def main(self) -> Run:
        return self.runs["main"]

    @property
    def busy(self) -> bool:
        """A worker thread is stepping the trainers (until its Idle message is handled)."""
        return self._busy

    @property
    def running(self) -> bool:
        return self._continuous

    def _all_done(self) -> bool:
        return all(run.done for run in self.runs.values())

    # ------------------------------------------------------------------ one lockstep tick

    def _tick(self, *, grid_due: bool, should_stop: Callable[[], bool] | None = None) -> list[_Event]:
        """Step every unfinished run that is furthest behind (so runs move in lockstep).

        Runs on the worker thread (or, in `advance`, on the caller's): it touches the trainers
        and returns plain data for the UI. ``should_stop`` goes to each step and to the boundary's
        grid; when it says stop, `Cancelled` comes out and the step that was running is undone.
        """
        active = [run for run in self.runs.values() if not run.trainer.finished]
        if not active:
            return []
        lowest = min(run.trainer.steps_done for run in active)
        events = []
        for run in active:
            trainer = run.trainer
            if trainer.steps_done != lowest:
                continue
            report = stopped = None
            try:  # Trainer.step pauses the cyclic collector itself (its graphs have no cycles)
                report = trainer.step(should_stop=should_stop)
            except TrainingStopped as stop:
                stopped = stop
            snapshot = Snapshot.take(trainer)
            grid = None
            if run.key == "main" and self.two_d and (grid_due or trainer.finished):
                grid = self._compute_grid(snapshot, should_stop)
            events.append(_Event(run, report, stopped, snapshot, grid, trainer.finished))
        return events

    def _compute_grid(self, snapshot: Snapshot, should_stop: Callable[[], bool] | None = None):
        cols, rows = self._grid_shape

        def positive(x: float, y: float) -> bool:
            # a wide network costs milliseconds a cell: a leaving learner must not wait for ~500
            if should_stop is not None and should_stop():
                raise Cancelled("the decision boundary was abandoned")
            return snapshot.says_positive(snapshot.output((x, y)))

        return predict_grid(positive, self.boundary.bounds, cols, rows)

    def _grid_now(self, snapshot: Snapshot) -> None:
        self._grid = self._compute_grid(snapshot)
        self._grid_step = snapshot.step
        self._show_boundary()

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def _train(self, continuous: bool) -> None:
        pace = self.MIN_RUN_SECONDS / max(1, self.train_task.steps)
        worker = get_current_worker()  # cancelled when the screen is left
        app = self.app

        def should_stop() -> bool:
            # the app cancels its workers only late in shutting down: return_code is set at once
            return worker.is_cancelled or app.return_code is not None

        try:
            while not self._halt.is_set():
                if not continuous:
                    with self._budget_lock:
                        if self._budget <= 0:
                            break
                        self._budget -= 1
                started = time.monotonic()
                due = started - self._last_grid >= self.BOUNDARY_SECONDS
                events = self._tick(grid_due=due or not continuous, should_stop=should_stop)
                if not events:
                    break
                if any(e.grid is not None for e in events):
                    self._last_grid = started
                self.post_message(self.Ticked(events))
                if continuous:
                    left = pace - (time.monotonic() - started)
                    if left > 0:
                        self._halt.wait(left)
        except Cancelled:
            pass  # the screen is being left: the step in hand was undone, nothing to report
        except Exception as error:  # never a traceback on screen: say what broke, stop
            self.post_message(self.Failed(f"{type(error).__name__}: {error}"))
        finally:
            self.post_message(self.Idle())

    def _start(self, continuous: bool) -> None:
        self._busy = True
        self._continuous = continuous
        self._halt.clear()
        self._train(continuous)
        self._view_changed(now=True)
        self.refresh_bindings()

    def _pause(self) -> None:
        self._halt.set()
        with self._budget_lock:
            self._budget = 0

    def _then(self, action: Callable[[], None]) -> None:
        """Run ``action`` once no worker is stepping the trainers (pausing the one that is)."""
        if not self._busy:
            action()
            return
        self._when_idle.append(action)
        self._pause()

    def on_train_screen_ticked(self, message: Ticked) -> None:
        self._apply(message.events)

    def on_train_screen_failed(self, message: Failed) -> None:
        self.failure = message.text

    def on_train_screen_idle(self, message: Idle) -> None:
        self._busy = False
        self._continuous = False
        pending, self._when_idle = self._when_idle, []
        with self._budget_lock:
            owed = self._budget
        for action in pending:
            action()
        if owed > 0 and not self._busy and not pending and not self._all_done():
            self._start(continuous=False)  # a step pressed just as the last one returned
        self._view_changed(now=True)
        self.refresh_bindings()

    def _apply(self, events: list[_Event]) -> None:
        for event in events:
            run = event.run
            if self.runs.get(run.key) is not run:
                continue  # a run that has been replaced since (reset, new bug)
            if event.report is not None:
                run.reports.append(event.report)
                self.plot.add_point(run.key, event.report.step, event.report.loss)
            if event.stopped is not None:
                run.stopped = event.stopped
            run.snapshot = event.snapshot
            if event.grid is not None:
                self._grid = event.grid
                self._grid_step = event.snapshot.step
                self._show_boundary()
            if run.key == "main" and event.finished and not self.completed:
                self.completed = True
                if self._on_complete is not None:
                    self._on_complete()
        self._view_changed()

    def advance(self, ticks: int = 1) -> None:
        """Run ``ticks`` lockstep ticks right here, on the calling thread, and redraw at once.

        For tests and demos that need the screen at an exact step; the keys use the worker.
        """
        if self._busy:
            raise RuntimeError("training is running; pause it first")
        for _ in range(ticks):
            events = self._tick(grid_due=True)
            if not events:
                break
            self._apply(events)
        self._view_changed(now=True)

    # ------------------------------------------------------------------ drawing

    def _view_changed(self, *, now: bool = False) -> None:
        self._dirty = True
        if now or not self._continuous:
            self._flush()
            return
        if self._flush_timer is None:
            wait = self.REDRAW_SECONDS - (time.monotonic() - self._last_flush)
            if wait < 0.01:  # (a Textual timer of 0 s divides by zero and never fires)
                self._flush()
            else:
                self._flush_timer = self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._dirty = False
        self._last_flush = time.monotonic()
        self._show_status()
        # a pane that is not on screen is brought up to date when it comes back
        if self.plot.display:
            self.plot.redraw()
        side = self.query_one("#side", ContentSwitcher)
        if side.display and side.current == "predictions":
            self._show_predictions()

    def _show_task(self) -> None:
        first, second = describe_task(self.train_task, self.lr)
        self.query_one("#task", Static).update(Text(f"{first}\n{second}", no_wrap=True, overflow="ellipsis"))

    def _run_line(self, run: Run) -> Text:
        line = Text(no_wrap=False)
        line.append(f"{run.marker} ", style="bold")
        line.append(f"{run.label:<16} ", style="bold")
        line.append(f"step {run.step:>{len(str(self.train_task.steps))}}/{self.train_task.steps}")
        if run.reports:
            last = run.reports[-1]
            line.append(f"  loss {last.loss:<9.4g}")
            if last.accuracy is not None:
                line.append(f"  accuracy {last.accuracy:>4.0%}")
            line.append(f"  lr {last.lr:.3g}")
        if run.stopped is not None:
            line.append("\n  ✗ stopped: ", style="bold reverse")
            line.append(run.stopped.reason, style="bold")
        elif run.done:
            line.append("  ✓", style="bold")
        return line

    def _state_line(self) -> Text:
        if self.failure:
            return Text(f"Training stopped on an error in the tutor: {self.failure}", style="bold reverse")
        if self._busy and self._halt.is_set():
            return Text("… pausing after the current step")
        if self._continuous:
            return Text("▶ training… space pauses", style="bold")
        if self._busy:
            return Text("… running one step")
        if self._all_done():
            hint = "b adds a bug run beside it" if "bug" not in self.runs else "b tries another bug"
            return Text(f"■ finished: {hint}, r resets, +/- lr")
        if any(run.step for run in self.runs.values()):
            return Text("❚❚ paused: space goes on, s runs one step, r resets")
        return Text("Ready: space trains, s runs one step, b adds a bug run, +/- lr")

    def _show_status(self) -> None:
        text = Text()
        for run in self.runs.values():
            text.append_text(self._run_line(run))
            text.append("\n")
        text.append_text(self._state_line())
        status = self.query_one("#status", Static)
        # a layout pass repaints the whole screen: only ask for one when the height changes
        lines = len(text.wrap(self.app.console, max(10, status.content_size.width or 78)))
        status.update(text, layout=lines != self._status_lines)
        self._status_lines = lines

    # ------------------------------------------------------------------ predictions table

    def _fill_table(self) -> None:
        """The fixed part of each row (index, input, target) and the header above them."""
        trainer = self.main.trainer
        bce = self.train_task.loss.kind == "bce"
        inputs = [" ".join(f"{c:+.2f}" for c in x) for x in trainer.data.xs]
        self._row_heads = []
        n = len(str(len(inputs) - 1))
        for i, (x, y) in enumerate(zip(inputs, trainer.targets)):
            target = f"{y:g}" if bce else f"{y:+g}"
            self._row_heads.append(f"{i:>{n}}  {x}  {target:>2}  ")
        header = f"{'#':>{n}}  {'input':<{len(inputs[0])}}  {'y':>2}  {'out':>7}"
        self.query_one("#table-header", Static).update(Text(header, style="bold underline"), layout=False)

    @staticmethod
    def _format_output(out: float) -> str:
        return f"{out:+.3f}" if abs(out) < 100 else f"{out:+.0e}"

    def _show_predictions(self) -> None:
        run = self.main
        snap = run.snapshot
        if snap is None:
            return
        rows = []
        right = 0
        for head, out, y in zip(self._row_heads, snap.outputs, run.trainer.targets):
            ok = snap.right(out, y)
            right += ok
            row = Text(head, no_wrap=True, end="")
            row.append(f"{self._format_output(out):>7}  ")
            row.append("✓" if ok else "✗", style="" if ok else "bold")
            rows.append(row)
        self.table.set_rows(rows)
        n = len(rows)
        caption = Text(f"step {snap.step}: {right}/{n} right · ⏎ debugger", no_wrap=True, overflow="ellipsis")
        self.query_one("#table-caption", Static).update(caption, layout=False)

    def _show_boundary(self) -> None:
        if self._grid is not None:
            self.boundary.show(self._grid, f"step {self._grid_step}")

    def on_decision_boundary_resized(self, message: DecisionBoundary.Resized) -> None:
        self._boundary_resized()

    def _boundary_resized(self) -> None:
        shape = self.boundary.grid_shape
        if (
            shape != self._grid_shape
            and self.boundary.content_size.width > 1
            and self.boundary.content_size.height > 2
        ):
            self._grid_shape = shape
            if not self._busy and self.main.snapshot is not None:
                self._grid_now(self.main.snapshot)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "swap_view":
            return self.two_d
        if action == "step" and self._continuous:
            return None
        if action in ("lr_up", "lr_down") and self._continuous:
            return None
        return True

    def action_toggle_run(self) -> None:
        if self._continuous and not self._halt.is_set():
            self._pause()
            self._view_changed(now=True)
            return
        if self._busy:  # pausing (or one step) is under way: go on once it has returned
            self._then(lambda: None if self._all_done() else self._start(continuous=True))
            return
        if self._all_done():
            self.notify("This run is finished: r starts again from the initial weights.", timeout=4)
            return
        self._start(continuous=True)

    def action_step(self) -> None:
        if self._continuous:
            return
        if self._all_done() and not self._busy:
            self.notify("This run is finished: r starts again from the initial weights.", timeout=4)
            return
        with self._budget_lock:
            self._budget += 1
        if not self._busy:
            self._start(continuous=False)

    def action_reset(self) -> None:
        def reset() -> None:
            self._new_main_run()
            self._view_changed(now=True)
            self.notify("Back to the initial weights, step 0.", timeout=3)

        self._then(reset)

    def _change_lr(self, direction: int) -> None:
        if self._continuous:
            return
        if direction > 0:
            bigger = [r for r in LEARNING_RATES if r > self.lr * 1.0001]
            if not bigger:
                self.notify(f"{self.lr:g} is the largest learning rate here.", timeout=3)
                return
            new = bigger[0]
        else:
            smaller = [r for r in LEARNING_RATES if r < self.lr * 0.9999]
            if not smaller:
                self.notify(f"{self.lr:g} is the smallest learning rate here.", timeout=3)
                return
            new = smaller[-1]

        def change() -> None:
            started = any(run.step for run in self.runs.values())
            self.lr = new
            self._new_main_run()
            self._show_task()
            self._view_changed(now=True)
            again = " The run starts again from the initial weights." if started else ""
            self.notify(f"Learning rate {new:g}.{again}", timeout=3)

        self._then(change)

    def action_lr_up(self) -> None:
        self._change_lr(+1)

    def action_lr_down(self) -> None:
        self._change_lr(-1)

    def _bug_choices(self) -> list[tuple[str, str]]:
        choices = []
        if self.train_task.mistake:
            choices.append(("none", "correct: the same task without its bug"))
        for key, (label, what) in BUGS.items():
            if key == self.train_task.mistake:
                continue
            if key == "high_lr":
                label = f"lr {self.lr * HIGH_LR_FACTOR:g}"
                what = f"{what} (not {self.lr:g})"
            choices.append((key, f"{label}: {what}"))
        if "bug" in self.runs:
            choices.append(("remove", "none: remove the bug run's curve"))
        return choices

    def action_bug(self) -> None:
        def picked(choice: str | None) -> None:
            if choice is None:
                return
            self._then(lambda: self.start_bug_run(choice))

        self.app.push_screen(BugPicker(self._bug_choices()), picked)

    def start_bug_run(self, bug: str, *, run: bool = True) -> None:
        """Add the comparison run (a key of `BUGS`, "none" or "remove") and start training."""
        if self._busy:
            raise RuntimeError("training is running; pause it first")
        if bug == "remove":
            self.runs.pop("bug", None)
            self.plot.remove_curve("bug")
            self._view_changed(now=True)
            return
        self._new_bug_run(bug)
        self._view_changed(now=True)
        if run and not self._all_done():
            self._start(continuous=True)

    def action_swap_view(self) -> None:
        if not self.two_d:
            return
        switcher = self.query_one("#side", ContentSwitcher)
        showing = "boundary" if switcher.current == "predictions" else "predictions"
        switcher.current = showing
        switcher.border_title = self.SIDE_TITLES[showing]
        self._flush()
        if showing == "boundary":
            self.call_after_refresh(self._boundary_resized)
        else:
            self.table.focus()

    def action_cycle_layout(self) -> None:
        index = (self.LAYOUTS.index(self.layout_mode) + 1) % len(self.LAYOUTS)
        self.layout_mode = mode = self.LAYOUTS[index]
        # styles set on the two panes, not a class on the screen: a screen class makes Textual
        # restyle every widget on it, ~60 ms on a busy machine
        side = self.query_one("#side")
        self.plot.display = mode != "side-only"
        side.display = mode != "plot-only"
        side.styles.width = "1fr" if mode == "side-only" else None
        self._flush()
        if self.two_d:
            self.call_after_refresh(self._boundary_resized)

    def on_prediction_list_selected(self, event: PredictionList.Selected) -> None:
        event.stop()
        self.open_debugger(event.index)

    def action_debug(self) -> None:
        self.open_debugger(self.table.cursor)

    def open_debugger(self, index: int) -> None:
        """Pause, then open the debugger on sample ``index``'s loss graph with the current weights."""
        self._then(lambda: self._open_debugger(index))

    def _open_debugger(self, index: int) -> None:
        try:
            from tutor.screens.debugger import DebuggerScreen
        except ModuleNotFoundError as error:
            self.notify(f"The debugger is not available in this build ({error.name}).", severity="warning")
            return
        snap = self.main.snapshot
        program = SampleProgram(self.main.trainer.task, snap.values, index)
        when = f"after step {snap.step}" if snap.step else "initial weights"
        self.app.push_screen(DebuggerScreen(program, title=f"sample {index}, {when}"))
        if program.build().output.data == 0.0:
            # e.g. max-margin on a sample already beyond the margin: a whole pass of zeros
            self.notify(
                f"Sample {index}'s loss is 0, so every weight's gradient from it is 0 too: "
                "it asks nothing of the weights. To watch gradients flow, go back (q) and open "
                "a sample marked ✗.",
                title="Nothing to push back",
                timeout=10,
                markup=False,
            )

    def action_leave(self) -> None:
        self._pause()
        self.workers.cancel_group(self, "training")  # abandon the step in hand, however long
        self.dismiss(self.completed)
