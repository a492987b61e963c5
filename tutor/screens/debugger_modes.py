"""Two of the debugger's activities besides the backward pass: the forward pass, and changing the
numbers. A mixin of `DebuggerScreen` (it uses the screen's tree, strip, inspector, answer box and
stepper), kept apart so each file stays about one thing.

* ``f`` steps the forward computation node by node from the inputs up (`forward_at` op nodes
  computed; None when not shown); ``n``/``p`` move through it, and ``n`` past its last node hands
  over to the backward pass.
* ``c`` opens the answer box on the program (`tutor.screens.debugger_edit`); Enter rebuilds it
  through the engine's safe parser and starts the pass again, escape keeps it.
"""

from __future__ import annotations

from engine.stepper import Stepper
from engine.value import topological_order
from tutor.screens.debugger_edit import MAX_EDIT_CHARS, EditError, apply_edit, editable_text
from tutor.screens.debugger_error import why_it_cannot_run

__all__ = ["ForwardAndEdit"]


class ForwardAndEdit:
    """The forward pass and the program editor of the debugger screen."""

    # ----------------------------------------------------------------- the forward pass

    def action_forward_pass(self) -> None:
        """f: step the forward computation first (the backward pass goes back to its start);
        f again leaves it with every node computed."""
        if self.forward_at is not None:
            self._leave_forward()
            return
        self._close_question()
        self.stepper.reset()
        self.graph_tree.show_step(None)
        self.forward_at = 0
        self._show_forward()

    def _show_forward(self) -> None:
        self.graph_tree.show_forward(self.forward_at)
        self.order_strip.show_forward(self.stepper, self.forward_at)
        self.inspector.show_forward(self.stepper, self.forward_at)
        if self.forward_at:
            ops = [node for node in self.stepper.nodes if node._prev]
            self.graph_tree.reveal(ops[self.forward_at - 1], with_operands=True)

    def _leave_forward(self, note: str = "") -> None:
        if self.forward_at is None:
            return
        self.forward_at = None
        self.graph_tree.show_forward(None)
        self._refresh_view(None, note=note)

    def _forward_moves(self, by: int) -> bool:
        """n / p in the forward pass: True when the key was spent there."""
        if self.forward_at is None:
            return False
        total = sum(1 for node in self.stepper.nodes if node._prev)
        if by > 0 and self.forward_at >= total:
            self._leave_forward("Forward pass done; the backward pass starts from the output.")
            return True
        self.forward_at = max(0, self.forward_at + by)
        self._show_forward()
        return True

    # ----------------------------------------------------------------- change the numbers

    def action_change_numbers(self) -> None:
        """c: the program in the answer box, to edit and rerun (Enter) or keep (escape)."""
        if self._check_worker is not None:
            self._stop_check()
        self._leave_forward()
        self.editing = self.answer.editing = True
        self.add_class("asking")
        self.answer.ask(
            "Change the numbers (or the program) and press Enter to rerun; escape keeps it as it is.",
            value=editable_text(self.program),
            max_length=MAX_EDIT_CHARS,
            placeholder="e.g. x = 2.0; y = x * x",
        )
        self.refresh_bindings()

    def _stop_editing(self) -> None:
        self.editing = self.answer.editing = False
        self.remove_class("asking")
        self.answer.close()
        self.graph_tree.focus()
        self.refresh_bindings()

    def _rerun(self, typed: str) -> None:
        try:
            program, what = apply_edit(self.program, typed)
            graph, stepper = self._fresh_of(program)
        except EditError as err:
            self.answer.say(str(err))
            self.answer.input.focus()
            return
        except Exception as error:  # log(0), an overflow: say why, keep the program shown
            self.answer.say(f"{why_it_cannot_run(error)} Fix it, or escape to keep the program.")
            self.answer.input.focus()
            return
        self.program, self.graph, self.correct_stepper = program, graph, stepper
        self.stepper = stepper
        self.mistake = None
        self.finished = False
        self.predictions = {}
        self._stop_editing()
        self.graph_tree.load(stepper)
        self._refresh_view(None, note=f"{what} Every node's data is new; the backward pass starts again.")

    def _fresh_of(self, program):
        graph = program.build()
        for value in topological_order(graph.output):
            value.grad = 0.0
        return graph, Stepper(graph.output)
