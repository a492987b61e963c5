"""Walk a backward pass one ``_backward`` call at a time, forwards and back.

`Stepper(root)` lays out what ``root.backward()`` does as a list of steps:

* step 0 is the **seed**: ``root.grad = 1.0``, the first line of ``Value.backward``;
* then one step per node that has a backward rule, in reverse topological order, exactly the
  order ``backward()`` uses. Leaves (inputs, constants) have no rule, so they get no step of
  their own: they only *receive* gradient in their users' steps.

A step is the node's real ``_backward`` call: the stepper watches the operands' grads before
and after, it never re-implements a rule. To know what each step does without disturbing the
graph, the constructor runs the whole pass once, records what every step found (the upstream
grad and the operands' grads), and puts every grad back as it found it; what a step left is
worked out by running its rule again, off the graph, when the step is first looked at.
`forward()` then calls the rule again; `back()` restores the grads the step changed, exactly.

Each step's local derivatives are found by calling the same rule on a stand-in output whose
grad is 1 (the rule adds ``local × 1`` into operands whose grads were set to 0), so they come from
the engine's own code too. They depend only on the nodes' data, which stepping never changes.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Sequence

from engine.mistakes import (
    BACKWARD,
    every_reach_order,
    first_reached_order,
    overwriting_rule,
    overwriting_source,
)
from engine.numfmt import fmt, relation
from engine.ops import OPS, op_of
from engine.value import Value, topological_order

__all__ = ["Stepper", "Step", "Change"]

YOUR_RULE_WORDS = "your rule: the op is your own, so its rule is the one you wrote"

SEED_WORDS = "seed: the output's gradient with respect to itself is 1"


@functools.cache
def _rule_source(rule) -> str:
    return textwrap.dedent(inspect.getsource(rule)).removeprefix("@staticmethod\n")


@functools.lru_cache(maxsize=1)
def _seed_source() -> str:
    return textwrap.dedent(inspect.getsource(Value.backward))


class _StandIn:
    """Plays the output node while its rule runs again off the graph: with grad 1 to probe the
    local derivatives, or with the step's upstream grad to see what the step left in its operands."""

    __slots__ = ("data", "grad", "_prev", "_arg")

    def __init__(self, node, grad=1.0):
        self.data = node.data
        self.grad = grad
        self._prev = node._prev
        self._arg = node._arg


class Change:
    """What one step did to one operand's grad (an operand used twice is one Change)."""

    __slots__ = ("node", "slots", "before", "after", "_step", "_stepper", "_local")

    def __init__(self, node, slots, before, after, step, stepper):
        self.node = node
        self.slots = slots  # positions of this operand in the node's operands
        self.before = before
        self.after = after
        self._step = step
        self._stepper = stepper
        self._local = None

    @property
    def local(self) -> float | None:
        """d(step.node)/d(this operand), summed over its slots; None for the seed."""
        if self._step.kind == "seed":
            return None
        if self._local is None:
            self._step._probe_local_derivatives()
        return self._local

    @property
    def line(self) -> str:
        """The chain-rule line with names and the engine's numbers, e.g.
        ``a.grad += b.data * e.grad   0.0 + (-3.0)(-2.0) = 6.0``."""
        return self._stepper._chain_rule_line(self._step, self)

    def __repr__(self):
        name = self._stepper.name(self.node)
        return f"Change({name}: {self.before} -> {self.after})"


class Step:
    """One ``_backward`` call (or the seed), with what it changed."""

    __slots__ = ("index", "kind", "node", "op", "upstream", "mistake", "_stepper", "_changes")

    def __init__(self, index, kind, node, upstream, stepper):
        self.index = index
        self.kind = kind  # "seed" or "rule"
        self.node = node
        self.op = node._op if kind == "rule" else "seed"
        self.upstream = upstream  # node.grad when its rule ran
        self.mistake = stepper.mistake
        self._stepper = stepper
        self._changes = None

    @property
    def changes(self) -> tuple[Change, ...]:
        """One Change per distinct operand (for the seed: the output itself)."""
        if self._changes is None:
            self._changes = self._stepper._changes_of(self)
        return self._changes

    def _probe_local_derivatives(self):
        """Call the rule on a stand-in output with grad 1, operands' grads set to 0 meanwhile:
        what lands in each operand is its local derivative, computed by the engine's own code."""
        changes = self.changes
        saved = [c.node.grad for c in changes]
        for c in changes:
            c.node.grad = 0.0
        self._stepper._rule(self.node)(_StandIn(self.node))
        for c, grad in zip(changes, saved):
            c._local = c.node.grad
            c.node.grad = grad

    @property
    def rule_text(self) -> str:
        """The op's rule in words."""
        if self.kind == "seed":
            return SEED_WORDS
        if self.op not in OPS:  # an op of the learner's own (engine.custom): its rule is theirs
            return YOUR_RULE_WORDS
        return OPS[self.op].words

    @property
    def overridden(self) -> bool:
        """Whether this step ran a rule given to the stepper (``rules``) instead of the engine's."""
        return self.kind == "rule" and (self.op in self._stepper.rules or self.op not in OPS)

    @property
    def source(self) -> str:
        """The source of the code that ran in this step: read from the engine itself, or the
        given rule's own ``source`` (a learner's text) for an op ``rules`` overrides."""
        if self.kind == "seed":
            return _seed_source()
        if self.overridden:
            rule = self._stepper.rules.get(self.op) or self.node._grad_fn  # (a custom op's own)
            return getattr(rule, "source", None) or _rule_source(rule)
        rule = self.node._grad_fn
        if self.mistake == "overwrite":
            return overwriting_source(rule)
        return _rule_source(rule)

    def __repr__(self):
        return f"Step({self.index}, {self.kind}, op={self.op!r})"


class _Steps(Sequence):
    """The steps as a list whose Step objects are made when first looked at."""

    def __init__(self, stepper):
        self._stepper = stepper
        self._made = {}

    def __len__(self):
        return len(self._stepper._rule_nodes) + 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        step = self._made.get(index)
        if step is None:
            stepper = self._stepper
            if index == 0:
                step = Step(0, "seed", stepper.root, 1.0, stepper)
            else:
                node, upstream = stepper._rule_nodes[index - 1], stepper._log[3 * (index - 1)]
                step = Step(index, "rule", node, upstream, stepper)
            self._made[index] = step
        return step


class Stepper:
    """The backward pass of ``root`` as a list of steps you can move through.

    ``mistake`` switches on a classic bug for the whole pass: a key of `engine.mistakes.MISTAKES`
    that applies to the backward pass (``"overwrite"`` or ``"no_seed"``), or None.

    ``rules`` puts another rule in place of the engine's for some ops (op name -> ``f(out)``, e.g.
    a learner's rule run by the tutor's interpreter; its ``source`` attribute, if it has one, is
    what `Step.source` shows). Every other op runs the engine's rule.
    """

    def __init__(self, root: Value, *, mistake: str | None = None, rules=None):
        if mistake is not None and mistake not in BACKWARD:
            raise ValueError(f"unknown mistake {mistake!r}; choose one of {[None, *BACKWARD]}")
        self.root = root
        self.mistake = mistake
        self.rules = dict(rules or {})
        self._plain = mistake is None and not self.rules  # every step is node._backward()
        self.nodes = topological_order(root)
        # the nodes whose rules run, in order (a plain pass: _record lists them as it walks)
        self._rule_nodes = [] if self._plain else self._rule_order()
        self.steps = _Steps(self)
        self.position = 0
        self._names = {}
        self._uses = None  # id(node) -> how many operand slots it fills; counted when first asked
        self._step_of = None  # id(node) -> index of its own step
        self._last_touch = None  # id(node) -> index of the last step that changes its grad
        self._record()

    # ------------------------------------------------------------------ recording

    def _rule_order(self) -> list[Value]:
        """The nodes whose rules run, in the order this pass runs them: reversed topological
        order, or for the ``wrong_order`` mistake the order a walk from the output first reaches
        them (`engine.mistakes.first_reached_order`), or for ``every_reach`` once for every time
        it reaches them (`engine.mistakes.every_reach_order`, which refuses a graph of too many
        paths with `engine.mistakes.TooManyReaches`)."""
        if self.mistake == "wrong_order":
            return first_reached_order(self.root)
        if self.mistake == "every_reach":
            return every_reach_order(self.root)
        return [node for node in reversed(self.nodes) if node._grad_fn is not None]

    def _rule(self, node):
        """The backward rule this pass runs for ``node``: a given one, the engine's, or its = twin."""
        given = self.rules.get(node._op) if self.rules else None
        if given is not None:
            return given
        if self.mistake == "overwrite":
            return overwriting_rule(node._grad_fn)
        return node._grad_fn

    def _record(self):
        """Run the whole pass once, keeping what each step found, then put every grad back.

        For each step three numbers go into one flat list, ``_log``: the node's grad when its
        rule ran (the upstream) and its operands' grads just before (None in the third place for
        an op of one operand). No object is made per step, so the walk costs little more than
        ``backward()``'s own. What a step left in the grads is worked out when the step is first
        looked at (`_changes_of`), by running its rule again off the graph.
        """
        root, nodes = self.root, self.nodes
        found = [node.grad for node in nodes]  # every grad as the pass found it, put back below
        self._seed_before = root.grad
        log = []
        put = log.append
        try:
            self._apply_seed()
            self._seed_after = root.grad
            if self._plain:  # node._backward() for every node with a rule: backward()'s own loop
                rule_nodes = []
                keep = rule_nodes.append
                for node in reversed(nodes):
                    rule = node._grad_fn
                    if rule is None:  # a leaf: no step of its own
                        continue
                    keep(node)
                    b = node._b  # the operands (node._prev), read from their slots for speed
                    put(node.grad)
                    put(node._a.grad)
                    put(None if b is None else b.grad)
                    rule(node)
                self._rule_nodes = rule_nodes
            else:
                rule_of = self._rule
                for node in self._rule_nodes:
                    rule = rule_of(node)
                    b = node._b
                    put(node.grad)
                    put(node._a.grad)
                    put(None if b is None else b.grad)
                    rule(node)
        finally:
            for node, grad in zip(nodes, found):
                node.grad = grad
        self._log = log
        self.position = 0

    def _changes_of(self, step):
        if step.kind == "seed":
            return (Change(self.root, (), self._seed_before, self._seed_after, step, self),)
        node = step.node
        operands = node._prev
        base = 3 * (step.index - 1) + 1
        before = self._log[base : base + len(operands)]
        # what the step left: its rule run again on a stand-in output holding the step's upstream
        # grad, the operands' grads set to what the step found; then they get back what they hold
        holding = [operand.grad for operand in operands]
        for operand, grad in zip(operands, before):
            operand.grad = grad
        try:
            self._rule(node)(_StandIn(node, step.upstream))
            after = [operand.grad for operand in operands]
        finally:
            for operand, grad in zip(operands, holding):
                operand.grad = grad
        changes = []
        for slot, operand in enumerate(operands):
            for change in changes:
                if change.node is operand:  # a + a: one operand in two slots
                    change.slots += (slot,)
                    break
            else:
                changes.append(Change(operand, (slot,), before[slot], after[slot], step, self))
        return tuple(changes)

    def _apply_seed(self):
        if self.mistake != "no_seed":
            self.root.grad = 1.0

    # ------------------------------------------------------------------- moving

    @property
    def done(self) -> bool:
        return self.position == len(self.steps)

    @property
    def current(self) -> Step | None:
        """The step applied last (None before the first)."""
        return self.steps[self.position - 1] if self.position else None

    @property
    def upcoming(self) -> Step | None:
        """The step `forward()` would apply next (None at the end)."""
        return None if self.done else self.steps[self.position]

    def forward(self) -> Step | None:
        """Apply the next step: the node's real backward rule runs."""
        if self.done:
            return None
        if self.position == 0:
            self._apply_seed()
        else:
            node = self._rule_nodes[self.position - 1]
            if self._plain:
                node._backward()
            else:
                self._rule(node)(node)
        self.position += 1
        return self.steps[self.position - 1]

    def back(self) -> Step | None:
        """Undo the last applied step: its operands get back the grads they had."""
        if self.position == 0:
            return None
        self._undo()
        return self.steps[self.position]

    def _undo(self):
        self.position -= 1
        if self.position == 0:
            self.root.grad = self._seed_before
            return
        i = self.position - 1
        node = self._rule_nodes[i]
        log = self._log
        node._a.grad = log[3 * i + 1]
        if node._b is not None:  # for a + a both slots hold the same grad, so either order restores it
            node._b.grad = log[3 * i + 2]

    def reset(self) -> None:
        while self.position:
            self._undo()

    def run_to_end(self) -> None:
        """Apply every step left: the calls `forward` makes, without a Step object for each."""
        if self.done:
            return
        if self.position == 0:
            self._apply_seed()
            self.position = 1
        nodes = self._rule_nodes
        start = self.position - 1
        i = start
        try:
            if self._plain:
                for i in range(start, len(nodes)):
                    nodes[i]._backward()
            else:
                for i in range(start, len(nodes)):
                    self._rule(nodes[i])(nodes[i])
        except BaseException:
            self.position = i + 1  # as forward() leaves it: the step that raised is not applied
            raise
        self.position = len(nodes) + 1

    def go_to(self, position: int) -> None:
        """Move to just after ``position`` steps are applied, stepping either way."""
        position = max(0, min(position, len(self.steps)))
        while self.position > position:
            self._undo()
        while self.position < position:
            self.forward()

    def run_until(self, node: Value) -> None:
        """Run (or undo) until ``node``'s rule has run; for a leaf, until its grad is final."""
        index = self.step_index(node)
        if index is None:
            index = self.last_change_index(node)
        if index is None:
            raise ValueError(f"{self.name(node)} is not part of this graph")
        self.go_to(index + 1)

    # ------------------------------------------------------------------ describing

    def _index(self):
        step_of, last_touch = {}, {id(self.root): 0}
        for i, node in enumerate(self._rule_nodes, start=1):
            step_of[id(node)] = i
            for operand in node._prev:
                last_touch[id(operand)] = i
        self._step_of, self._last_touch = step_of, last_touch

    def step_index(self, node: Value) -> int | None:
        """The index of ``node``'s own rule step (None for a leaf)."""
        if self._step_of is None:
            self._index()
        return self._step_of.get(id(node))

    def last_change_index(self, node: Value) -> int | None:
        """The index of the last step that changes ``node``'s grad."""
        if self._last_touch is None:
            self._index()
        return self._last_touch.get(id(node))

    def uses(self, node: Value) -> int:
        """How many times ``node`` is an operand in this graph (a + a counts 2)."""
        if self._uses is None:
            uses = {}
            for n in self.nodes:
                for child in n._prev:
                    uses[id(child)] = uses.get(id(child), 0) + 1
            self._uses = uses
        return self._uses.get(id(node), 0)

    def name(self, node: Value) -> str:
        """The label, a constant's number, or n<k> for an unnamed intermediate value (numbered in
        backward order, output first, so every stepper of the same program names it the same)."""
        if node.label:
            return node.label
        if not node._prev:  # a constant such as the -1 in a - b == a + (-1 * b)
            return f"({fmt(node.data)})"
        if not self._names:  # n1, n2, ... in the order the backward pass meets them
            unnamed = (n for n in reversed(self.nodes) if n._prev and not n.label)
            self._names = {id(n): f"n{k}" for k, n in enumerate(unnamed, start=1)}
        return self._names.get(id(node), "n?")

    def _chain_rule_line(self, step: Step, change: Change) -> str:
        out = self.name(step.node)
        if step.kind == "seed":
            if self.mistake == "no_seed":
                return f"(skipped) {out}.grad = 1.0   stays {fmt(change.after)}"
            return f"{out}.grad = 1.0   d{out}/d{out} = 1"
        node = step.node
        op = op_of(node)
        if step.overridden:  # a given rule: its numbers, not the op table's line
            return f"{self.name(change.node)}.grad: your rule   {fmt(change.before)} → {fmt(change.after)}"
        overwrite = self.mistake == "overwrite"
        slot_lines = []
        for slot in change.slots:
            other = node._prev[1 - slot] if len(node._prev) == 2 else node
            o = self.name(other)
            line = op.rule_line(self.name(change.node), o, out, node._arg, slot=slot)
            if not other._prev and not other.label:  # a constant: its number, not "(2.0).data"
                line = line.replace(f"{o}.data", o)
            slot_lines.append(line.replace(".grad +=", ".grad =") if overwrite else line)
        symbolic = "; ".join(slot_lines)
        # An operand used in both slots (a + a, a * a) gets one equal share per slot: for both
        # two-operand ops, + and *, the two local derivatives are the same when the operands are.
        # With = instead of +=, the probe already saw only the last write.
        share = change.local if overwrite else change.local / len(change.slots)
        plain_add = op.name == "+"  # its local derivative is 1: the term is the upstream alone
        factors = [(step.upstream,) if plain_add else (share, step.upstream) for _ in change.slots]
        terms = [f"({fmt(f[0])})" if plain_add else f"({fmt(f[0])})({fmt(f[1])})" for f in factors]
        if overwrite:
            numbers = f"{terms[-1]} {relation(0.0, factors[-1:], change.after)} {fmt(change.after)}"
            if len(terms) > 1:
                numbers += "  (the second write replaces the first)"
        else:
            sign = relation(change.before, factors, change.after)
            numbers = f"{fmt(change.before)} + " + " + ".join(terms) + f" {sign} {fmt(change.after)}"
        return f"{symbolic}   {numbers}"
