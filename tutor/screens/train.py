"""The training screen: watch gradient descent work, and watch the classic bugs break it.

``TrainScreen(task, title=...)`` shows one `engine.train.Task`: what is trained, a live loss
plot, each run's step / loss / accuracy, and a table of the model's predictions against the
targets; for 2-D data (moons, circles, xor) ``v`` swaps the table for the decision boundary.
``b`` reruns the task from the same initial weights with a classic bug and overlays its curve;
Enter (or ``d``) on a row opens the debugger on that sample's loss graph with the current weights.
Leaving dismisses the screen with True once a full run of the task (without a bug added) has
reached its end, else False.

The runs (lockstep, snapshots, bug runs, the sample program) are `tutor.training.Training`; this
screen asks for steps and draws what they report. A Textual thread worker (`_train`) ticks them
while the learner's `Orders` last, queues each tick and posts `Progressed` (which coalesces:
``can_replace``); its `Worker.StateChanged` says when it has returned. Pausing lets the step in
hand finish, and so do reset, a new learning rate, a bug run and the debugger: they act once the
worker has returned (`_then`). Leaving, or quitting the app, abandons the step instead: the worker
is cancelled and the ``should_stop`` it hands the engine says so, so even a step near the budget of
`engine.cost` (seconds long) ends within a fraction of a second, the trainer as it was before it.
The decision boundary is worked out by its widget, off the UI thread.

Python runs one thread at a time, so the worker and the UI take turns: the screen redraws on a
clock (`REDRAW_SECONDS`, not per step; the boundary every `BOUNDARY_SECONDS`), a snapshot's
predictions are worked out only when the table draws them, and while a key or a redraw is in hand
the worker (and the boundary's grid) wait for the screen to repaint (`Orders.make_way`). The
footer is a `SteadyFooter`, rebuilt only when its keys change; the keys are in `train_keys`.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from engine.cancel import Cancelled
from engine.train import Task
from tutor.screens.bug_picker import BugPicker
from tutor.screens.train_keys import TRAIN_BINDINGS
from tutor.screens.train_sample import SampleDrillDown
from tutor.training import Orders, Run, SampleProgram, Tick, Training, describe_task, next_rate
from tutor.widgets.boundary import DecisionBoundary
from tutor.widgets.loss_plot import LossPlot
from tutor.widgets.prediction_list import PredictionList, Predictions
from tutor.widgets.run_status import RunStatus
from tutor.widgets.steady_footer import SteadyFooter

__all__ = ["TrainScreen", "SampleProgram"]  # SampleProgram: where the debugger's tests import it

HIDDEN_BUG = "hidden bug"  # what the header, legend and status say for a bug kept hidden


class TrainScreen(SampleDrillDown, Screen[bool]):
    """Trains one task live, with a bug run beside it on demand."""

    CSS_PATH = "../train.tcss"

    # A run of N steps takes at least this long (each step waits out its share), so a fast task
    # still draws its curve where the learner can see it. Tests set it to 0.
    MIN_RUN_SECONDS = 2.0
    # At most this often while training: status, plot and table; and the boundary.
    REDRAW_SECONDS = 0.25
    BOUNDARY_SECONDS = 1.0

    HELP_NOTES = (
        "The plot shows the loss the engine reported at each step (before that step's update). "
        "b reruns the task from the same initial weights with a classic bug in it and draws its "
        "curve beside the correct one. Enter on a row of the table opens the debugger on that "
        "sample's graph with the current weights."
    )

    BINDINGS = TRAIN_BINDINGS  # (tutor/screens/train_keys.py)

    LAYOUTS = ("split", "plot-only", "side-only")
    SIDE_TITLES = {"predictions": "predictions", "boundary": "decision boundary"}

    class Progressed(Message):
        """The worker has queued ticks; one such message stands for every one before it."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TrainScreen.Progressed)

    def __init__(
        self,
        task: Task,
        *,
        title: str = "",
        on_complete: Callable[[], None] | None = None,
        hide_bug: bool = False,
        training: Training | None = None,
        name=None,
        id=None,
        classes=None,
    ) -> None:
        """``on_complete()`` hears the first time a full run of the task reaches its end (a lesson
        records the part as done then, not when the learner leaves). ``hide_bug``: the header, the
        legend and the run's status say "hidden bug" instead of naming the task's own bug (a
        lesson's train block with ``hide_mistake``, until the learner has answered). ``training``:
        the runs of ``task`` to show, when not the plain `Training` (`tutor.own_training`'s, with a
        learner's op as the activation)."""
        super().__init__(name=name, id=id, classes=classes)
        self.hide_bug = hide_bug
        self.train_task = task
        self.training = training if training is not None else Training(task)
        self.completed = False  # a full run of the task (no added bug) has reached its end
        self._on_complete = on_complete
        self.layout_mode = "split"
        self.failure: str | None = None
        self.two_d = task.data.name != "seeds"
        self._orders = Orders()
        self._worker: Worker | None = None  # the training worker, until its StateChanged says it ended
        self._after_run: list[Callable[[], None]] = []  # what waits for that worker to return
        self._inbox: queue.SimpleQueue[list[Tick]] = queue.SimpleQueue()  # ticks from the worker
        self._last_grid = 0.0
        self._last_flush = 0.0
        self._flush_timer = None
        self.title = "Training"
        self.sub_title = title

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="task")
        yield RunStatus(id="status")
        with Horizontal(id="body"):
            self.plot = LossPlot(self.train_task.steps, id="plot")
            yield self.plot
            with ContentSwitcher(initial="predictions", id="side"):
                yield Predictions(id="predictions")
                yield DecisionBoundary(id="boundary")
        yield SteadyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table = self.query_one("#table", PredictionList)
        self.boundary = self.query_one("#boundary", DecisionBoundary)
        self.boundary.give_way = self._orders.give_way
        self.query_one("#side").border_title = "predictions"
        data, targets = self.main.trainer.data, self.main.trainer.targets
        if self.two_d:
            self.boundary.set_data(data.xs, [y > 0 for y in data.ys])
        self.query_one(Predictions).set_samples(data.xs, targets, self.train_task.loss.kind == "bce")
        self._main_run_began()
        self.table.focus()
        self._flush()

    # ------------------------------------------------------------------ state

    @property
    def runs(self) -> dict[str, Run]:
        return self.training.runs

    @property
    def main(self) -> Run:
        return self.training.main

    @property
    def lr(self) -> float:
        return self.training.lr

    @property
    def busy(self) -> bool:
        """A worker thread is stepping the trainers (until its StateChanged is handled)."""
        return self._worker is not None

    @property
    def running(self) -> bool:
        """Training until paused (not a single step)."""
        return self.busy and self._orders.continuous

    @property
    def state(self) -> str:
        """What is going on, as `RunStatus` words it: one of `tutor.widgets.run_status.STATES`."""
        if self.failure:
            return "failed"
        if self.busy:
            return "pausing" if self._orders.halted else "running" if self.running else "stepping"
        if self.training.all_done:
            return "finished"
        return "paused" if self.training.started else "ready"

    # ------------------------------------------------------------------ the worker

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def _train(self) -> bool:
        """Tick the runs while the orders last; False if abandoned instead. An error ends the
        worker in ERROR (a line on screen says what broke); leaving cancels it, and quitting sets
        the app's return code: the engine hears both through ``should_stop``."""
        worker, app = get_current_worker(), self.app

        def should_stop() -> bool:
            orders.give_way()  # (asked every few thousand values: a key waits a millisecond or two)
            # the app cancels its workers only late in shutting down: return_code is set at once
            return worker.is_cancelled or app.return_code is not None

        pace = self.MIN_RUN_SECONDS / max(1, self.train_task.steps)
        orders = self._orders
        try:
            while orders.take():
                started = time.monotonic()
                ticks = self.training.tick(should_stop)
                if not ticks:
                    break
                self._inbox.put(ticks)
                self.post_message(self.Progressed())
                if orders.continuous:
                    orders.rest(pace - (time.monotonic() - started), should_stop)
        except Cancelled:
            return False  # left or quit: the step in hand was undone, nothing to report
        return True

    def _start(self) -> None:
        self._worker = self._train()
        self._view_changed(now=True)
        self.refresh_bindings()

    def _then(self, action: Callable[[], None]) -> None:
        """Run ``action`` once no worker is stepping the trainers (pausing the one that is)."""
        if not self.busy:
            action()
            return
        self._after_run.append(action)
        self._orders.halt()

    def on_train_screen_progressed(self, message: Progressed) -> None:
        self._collect()
        self._view_changed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        self._worker = None
        if event.state == WorkerState.CANCELLED or event.worker.result is False:
            return  # left or quit (nothing else cancels it): nothing to draw, nothing to start
        self._collect()
        if event.state == WorkerState.ERROR:  # never a traceback on screen: say what broke
            self.failure = f"{type(event.worker.error).__name__}: {event.worker.error}"
        pending, self._after_run = self._after_run, []
        if (
            event.state == WorkerState.SUCCESS
            and self._orders.owed
            and not pending
            and not self.training.all_done
        ):
            self._start()  # a step (or space) pressed just as the worker returned
        else:
            self._orders.clear()
            for action in pending:
                action()
        self._view_changed(now=True)
        self.refresh_bindings()

    def _collect(self) -> None:
        """Take in the ticks the worker has queued, in the order they ran."""
        main = None
        while True:
            try:
                main = self._apply(self._inbox.get_nowait()) or main
            except queue.Empty:
                break
        # the boundary at most every BOUNDARY_SECONDS while training (a slow one is finished first)
        if main is not None and (
            main.finished or not self.running or time.monotonic() - self._last_grid >= self.BOUNDARY_SECONDS
        ):
            self._last_grid = time.monotonic()
            if self.two_d:
                snap = main.snapshot
                self.boundary.show_model(snap.positive_at, f"step {snap.step}", after_current=True)

    def _apply(self, ticks: list[Tick]) -> Tick | None:
        """Record ticks on their runs and the plot; returns the main run's tick, if any."""
        main = None
        for tick in self.training.apply(ticks):
            if tick.report is not None:
                self.plot.add_point(tick.run.key, tick.report.step, tick.report.loss)
            if tick.run.key == "main":
                main = tick
                if tick.finished and not self.completed:
                    self.completed = True
                    if self._on_complete is not None:
                        self._on_complete()
        return main

    def advance(self, ticks: int = 1) -> None:
        """Run ``ticks`` lockstep ticks right here, on the calling thread, and redraw at once.

        For tests and demos that need the screen at an exact step; the keys use the worker.
        """
        if self.busy:
            raise RuntimeError("training is running; pause it first")
        for _ in range(ticks):
            done = self.training.tick()
            if not done:
                break
            self._apply(done)
        if self.two_d:
            snap = self.main.snapshot
            self.boundary.show_model_now(snap.positive_at, f"step {snap.step}")
        self._view_changed(now=True)

    # ------------------------------------------------------------------ drawing

    def _main_run_began(self) -> None:
        """A new main run is on screen (mount, reset, new rate): its curve alone, its boundary."""
        main = self.main
        if self.hide_bug and self.train_task.mistake:
            main.label = HIDDEN_BUG
        self.plot.add_curve("main", main.label, main.marker)
        self.plot.remove_curve("bug")
        self.failure = None
        if self.two_d:
            self.boundary.show_model(main.snapshot.positive_at, "step 0")
        act = self.training.activation_name
        if self.hide_bug:
            first, second = describe_task(replace(self.train_task, mistake=None), self.lr, activation=act)
            second += f" · bug: {HIDDEN_BUG}"
        else:
            first, second = describe_task(self.train_task, self.lr, activation=act)
        self.query_one("#task", Static).update(Text(f"{first}\n{second}", no_wrap=True, overflow="ellipsis"))

    def _view_changed(self, *, now: bool = False) -> None:
        if now or not self.running:
            self._flush()
            return
        if self._flush_timer is None:
            wait = self.REDRAW_SECONDS - (time.monotonic() - self._last_flush)
            if wait < 0.01:  # (a Textual timer of 0 s divides by zero and never fires)
                self._flush()
            else:
                self._flush_timer = self.set_timer(wait, self._flush)

    def on_key(self, event) -> None:
        self._make_way()  # (the key's own work comes after this handler, its repaint after that)

    def _make_way(self) -> None:
        """While a worker trains: it waits until the screen has repainted (see `Orders.make_way`)."""
        if self.busy:
            self._orders.make_way()
            self.call_after_refresh(self._orders.way_clear)

    def _flush(self) -> None:
        self._make_way()
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._last_flush = time.monotonic()
        runs = list(self.runs.values())
        self.query_one(RunStatus).show(runs, self.train_task.steps, self.state, self.failure or "")
        # a pane that is not on screen is brought up to date when it comes back
        if self.plot.display:
            self.plot.redraw()
        side = self.query_one("#side", ContentSwitcher)
        if side.display and side.current == "predictions":
            snap, targets = self.main.snapshot, self.main.trainer.targets
            right = [snap.right(out, y) for out, y in zip(snap.outputs, targets)]
            self.query_one(Predictions).show(snap.step, snap.outputs, right)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "swap_view":
            return self.two_d
        if action in ("step", "lr") and self.running:
            return None
        return True

    def _resume(self) -> None:
        if not self.training.all_done:
            self._orders.run_on()
            self._start()

    def _finished_notice(self) -> None:
        self.notify("This run is finished: r starts again from the initial weights.", timeout=4)

    def action_toggle_run(self) -> None:
        if self.running and not self._orders.halted:
            self._orders.halt()
            self._view_changed(now=True)
        elif self.busy:  # pausing (or one step) is under way: go on once it has returned
            self._then(self._resume)
        elif self.training.all_done:
            self._finished_notice()
        else:
            self._resume()

    def action_step(self) -> None:
        if self.running:
            return
        if self._after_run:  # something waits for the worker: this step comes after it
            self._then(self.action_step)
        elif self.training.all_done and not self.busy:
            self._finished_notice()
        else:
            self._orders.one_more()
            if not self.busy:
                self._start()

    def action_reset(self) -> None:
        def reset() -> None:
            self.training.reset()
            self._main_run_began()
            self._view_changed(now=True)
            self.notify("Back to the initial weights, step 0.", timeout=3)

        self._then(reset)

    def action_lr(self, direction: int) -> None:
        """One step up (+1) or down (-1) `tutor.training.LEARNING_RATES`: a new main run."""
        if self.running:
            return
        new = next_rate(self.lr, direction)
        if new is None:
            word = "largest" if direction > 0 else "smallest"
            self.notify(f"{self.lr:g} is the {word} learning rate here.", timeout=3)
            return

        def change() -> None:
            started = self.training.started
            self.training.reset(lr=new)
            self._main_run_began()
            self._view_changed(now=True)
            again = " The run starts again from the initial weights." if started else ""
            self.notify(f"Learning rate {new:g}.{again}", timeout=3)

        self._then(change)

    def action_bug(self) -> None:
        def picked(choice: str | None) -> None:
            if choice is not None:
                self._then(lambda: self.start_bug_run(choice))

        self.app.push_screen(BugPicker(self.training.bug_choices(hide_own=self.hide_bug)), picked)

    def start_bug_run(self, bug: str, *, run: bool = True) -> None:
        """Add the comparison run (a key of `BUGS`, "none" or "remove") and start training."""
        if self.busy:
            raise RuntimeError("training is running; pause it first")
        if bug == "remove":
            self.training.remove_bug_run()
            self.plot.remove_curve("bug")
        else:
            added = self.training.add_bug_run(bug)
            self.plot.add_curve("bug", added.label, added.marker)
        self._view_changed(now=True)
        if run and bug != "remove":
            self._resume()

    def action_swap_view(self) -> None:
        if not self.two_d:
            return
        switcher = self.query_one("#side", ContentSwitcher)
        showing = "boundary" if switcher.current == "predictions" else "predictions"
        switcher.current = showing
        switcher.border_title = self.SIDE_TITLES[showing]
        self._flush()
        if showing == "predictions":
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

    def action_leave(self) -> None:
        self._orders.halt()
        self.workers.cancel_node(self)  # abandon the step in hand, however long
        self.dismiss(self.completed)
