"""Build a graph once, run it many times: the forward again on new numbers, the real rules back.

micrograd, and PyTorch in its everyday (eager) mode, build the graph anew on every step: each
``a * b`` makes a new node while the forward pass runs, and the graph is thrown away after
``backward()``. When the graph has the same shape every step (the same model on a full batch,
the same loss), all that building makes the same nodes again, in the same order, with only their
numbers different. A framework's graph mode (``torch.compile``, TensorFlow's graphs, JAX's
``jit``) builds it once and then only recomputes the numbers. `Replay` does that, on the engine's
own `Value`s:

* ``Replay(loss)`` takes a graph built the ordinary way and lays out its nodes in topological
  order (the order ``backward()`` uses, read forward), with each node's op from the op table;
* `forward` puts the graph's numbers through again: each node's ``data`` from its operands'
  ``data`` with the op's ``forward`` from `engine.ops` (the same float arithmetic as `Value`, bit
  for bit, in the same order), after the caller has put new numbers into the leaves (training:
  the optimiser has moved the weights, which *are* leaves of the graph). Every grad but the kept
  leaves' goes back to 0 on the way, as a graph built anew starts;
* `backward` is then ``loss.backward()`` on the graph that is already there: the seed, then each
  node's **real** backward rule (``node._grad_fn``, the function in `engine/value.py`) in reverse
  topological order, or the ``=`` twin of each rule for the overwrite mistake.

So a step gives the same losses, gradients and weights as rebuilding the graph, to the last bit,
and makes no new nodes. The nodes are real Values: any of them can be opened in a debugger.
"""

from __future__ import annotations

from engine.cancel import CHECK_EVERY, Cancelled
from engine.mistakes import overwriting_rule
from engine.ops import OPS
from engine.value import Value, topological_order

__all__ = ["Replay"]


class _Kept(Value):
    """A node of a graph `Replay` runs again and again: the same Value, with the tuple ``_prev``
    gives made once and kept (in the slot ``_operands``), so that a rule's ``self, other =
    out._prev`` is a plain read instead of a Python function making the tuple anew: that was a
    third of a rule's time, and every rule runs every step.

    The rules read ``out._prev`` as they are written; only where the tuple comes from changes. It
    has no slot of its own, so a Value becomes one by ``__class__``.
    """

    __slots__ = ()
    _prev = Value._operands  # the slot's own descriptor


# how a node's forward is called: on both operands, on its one operand, or on it and the op's argument
_TWO, _ONE, _WITH_ARG = 2, 1, 0


def _checked_power(x: float, k: float) -> float:
    """``x ** k`` as `Value.__pow__` allows it (a fractional power of a negative number is refused)."""
    if x < 0 and not float(k).is_integer():
        raise ValueError(f"a negative number ({x}) to the fractional power {k}")
    return x**k


class Replay:
    """The graph of ``root`` built once, ready to run forward and backward again and again.

    ``keep`` are leaves whose grads `forward` leaves alone (a model's parameters, which the
    optimiser zeroes, or not, itself); every other node's grad goes back to 0, as in a graph built
    anew. ``overwrite`` runs the ``=``-instead-of-``+=`` twin of every rule.
    """

    def __init__(self, root: Value, keep=(), *, overwrite: bool = False):
        order = topological_order(root)
        self.root = root
        self._count = len(order)
        kept = {id(v) for v in keep}
        # the leaves whose grads forward() sets back to 0 (op nodes get theirs with their data)
        self._zeroed = [v for v in order if v._grad_fn is None and id(v) not in kept]
        made = [v for v in order if v._grad_fn is not None]  # every node an op made, operands first
        for v in made:
            v._operands = v._prev
            v.__class__ = _Kept
        forwards, kinds, seconds = [], [], []
        for v in made:
            op = OPS[v._op]
            if op.operands == 2:
                forwards.append(op.forward)
                kinds.append(_TWO)
                seconds.append(v._b)
            elif op.arg is not None:
                fractional = op.name == "**" and not float(v._arg).is_integer()
                forwards.append(_checked_power if fractional else op.forward)
                kinds.append(_WITH_ARG)
                seconds.append(v._arg)
            else:
                forwards.append(op.forward)
                kinds.append(_ONE)
                seconds.append(None)
        # parallel lists, walked with zip: no object per node beyond the node itself
        self._made, self._forwards, self._kinds, self._seconds = made, forwards, kinds, seconds
        self._firsts = [v._a for v in made]
        rule_of = overwriting_rule if overwrite else (lambda rule: rule)
        self._rules = [rule_of(v._grad_fn) for v in made]  # run in reverse: each node after its users

    def __len__(self):
        return self._count

    def forward(self, should_stop=None) -> float:
        """Recompute every node's ``data`` from its operands', in topological order, with every grad
        but the kept leaves' set back to 0; the root's ``data``.

        ``should_stop`` (see `engine.cancel`) is asked every `CHECK_EVERY` nodes; `Cancelled` when
        it says so (the nodes then hold a mix of old and new numbers until the next forward).
        """
        for v in self._zeroed:
            v.grad = 0.0
        columns = (self._made, self._forwards, self._firsts, self._seconds, self._kinds)
        if should_stop is None:
            self._forward_part(*columns)
        else:
            for start in range(0, len(self._made), CHECK_EVERY):
                if should_stop():
                    raise Cancelled("the step was cancelled during the forward pass")
                self._forward_part(*(column[start : start + CHECK_EVERY] for column in columns))
        return self.root.data

    @staticmethod
    def _forward_part(nodes, forwards, firsts, seconds, kinds):
        for node, forward, a, b, kind in zip(nodes, forwards, firsts, seconds, kinds):
            if kind == _TWO:
                node.data = forward(a.data, b.data)
            elif kind == _ONE:
                node.data = forward(a.data)
            else:
                node.data = forward(a.data, b)
            node.grad = 0.0

    def backward(self, should_stop=None) -> None:
        """``root.backward()`` on the graph as `forward` left it: ``root.grad = 1.0``, then each
        node's rule, every node after all the nodes that use it.

        ``should_stop`` is asked every `CHECK_EVERY` rules; `Cancelled` when it says so.
        """
        self.root.grad = 1.0  # d(root)/d(root) = 1: the seed of the chain rule
        rules, nodes = self._rules, self._made
        if should_stop is None:
            for rule, node in zip(reversed(rules), reversed(nodes)):
                rule(node)
            return
        for end in range(len(nodes), 0, -CHECK_EVERY):
            if should_stop():
                raise Cancelled("the step was cancelled during the backward pass")
            start = max(0, end - CHECK_EVERY)
            for rule, node in zip(reversed(rules[start:end]), reversed(nodes[start:end])):
                rule(node)
