"""A number that remembers how it was computed, so the gradient can flow back through it.

This is the file the tutor is teaching. Each operation below is written in two parts, side by side:

* the **forward** computation: the new value's ``data`` from its operands' ``data``;
* its **backward rule**, right under it: the chain rule for this one operation. It adds
  ``local derivative × out.grad`` into each operand's ``grad``, with ``+=`` because an operand
  can feed several nodes and each of them adds its share.

When the debugger highlights a step, the rule it shows is the function below that ran, read from
this file; the ``=`` mistake mode is that same function with one character changed (``+=`` made
``=``, see `engine.mistakes`), run on the same nodes. The names are micrograd's: ``_prev`` holds a
node's operands, ``_op`` the operation that made it, ``_backward`` runs its rule, and inside a rule
``self`` and ``other`` are the operands and ``out`` the node it made.

One thing is written differently from micrograd, and the end of this docstring says why: a rule is
one plain function per operation, handed the node (``out``), that finds its operands in
``out._prev``, instead of a new closure made for every node. An operation that takes a plain
number besides its operands (the ``k`` of ``x ** k``, the slope of ``leaky_relu``) keeps it in
``out._arg``: it is not a node, so it gets no gradient.

What the rest of the tutor says about each operation (its rule in words, its symbol, its
derivative in symbols, what PyTorch calls it) is in one table, `engine.ops`.

Why one function per operation, not a closure per node: micrograd's closure points back at the
node that holds it, and such a cycle (node → rule → node) means no graph is freed until Python's
cyclic garbage collector runs; the closures are also four more objects per node for that collector
to walk. Here nothing points back up the graph, so a graph is freed the moment the last name for
it goes away. And each node is one object: its operands sit in two slots of the Value itself
(``_a`` and ``_b``), and ``_prev`` hands them out as the tuple micrograd keeps, made when asked.
A new node is made by `_node`, which fills in the slots without the cost of a class call; the
numbers it gets are already floats. (benchmarks/README.md has the figures.)
"""

from __future__ import annotations

import math

from engine.cancel import CHECK_EVERY, Cancelled

__all__ = ["Value", "topological_order"]


class Value:
    """One number in a computation graph, with the gradient of the output with respect to it."""

    # (_operands: where `engine.replay` keeps the tuple ``_prev`` gives, for a graph it runs again
    # and again; left empty otherwise)
    __slots__ = ("data", "grad", "label", "_a", "_b", "_op", "_grad_fn", "_arg", "_operands", "__weakref__")

    def __init__(self, data, _children=(), _op="", label="", _grad_fn=None, _arg=None):
        if data.__class__ is not float:
            if isinstance(data, Value):
                raise TypeError("Value(...) takes a number, not another Value")
            data = float(data)
        self.data = data
        self.grad = 0.0  # d(output)/d(this value); 0 until backward() reaches it
        self.label = label
        operands = tuple(_children)  # in operand order: none for a leaf, one or two for an op
        if len(operands) > 2:
            raise ValueError("an operation takes one or two operands")
        self._a = operands[0] if operands else None  # the first operand (None for a leaf)
        self._b = operands[1] if len(operands) == 2 else None  # the second (None for one operand)
        self._op = _op  # the operation that produced this value ("" for a leaf)
        self._grad_fn = _grad_fn  # that operation's backward rule (None for a leaf)
        self._arg = _arg  # the op's plain-number argument (k of x ** k), if it takes one

    @property
    def _prev(self):
        """The operands, in operand order, as micrograd's tuple: ``()``, ``(a,)`` or ``(a, b)``."""
        b = self._b
        if b is not None:
            return (self._a, b)
        a = self._a
        return () if a is None else (a,)

    def __repr__(self):
        if self.label:
            return f"Value(data={self.data}, grad={self.grad}, label={self.label!r})"
        return f"Value(data={self.data}, grad={self.grad})"

    def _backward(self):
        """Run this node's backward rule: push self.grad into the operands' grads."""
        if self._grad_fn is not None:
            self._grad_fn(self)

    # ----------------------------------------------------------------- the operations
    # Each rule is a plain function of `out`; `self` and `other` name its operands, as in
    # micrograd, so the lines read the same: self.grad += other.data * out.grad

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data + other.data, "+", Value._add_backward, self, other)

    @staticmethod
    def _add_backward(out):
        self, other = out._prev
        # d(a+b)/da = 1, d(a+b)/db = 1: add passes the gradient on as it is
        self.grad += out.grad
        other.grad += out.grad

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data * other.data, "*", Value._mul_backward, self, other)

    @staticmethod
    def _mul_backward(out):
        self, other = out._prev
        # d(a*b)/da = b, d(a*b)/db = a: each side gets the *other* side
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    def __pow__(self, k):
        if not isinstance(k, (int, float)) or isinstance(k, bool):
            raise TypeError("only a plain int or float exponent is supported")
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"0 raised to the negative power {k}")
        if self.data < 0 and not float(k).is_integer():
            raise ValueError(f"a negative number ({self.data}) to the fractional power {k}")
        return _node(self.data**k, "**", Value._pow_backward, self, arg=k)

    @staticmethod
    def _pow_backward(out):
        (self,) = out._prev
        k = out._arg  # a plain number, not a node: it gets no gradient
        # power rule: d(a**k)/da = k * a**(k - 1)
        self.grad += k * self.data ** (k - 1) * out.grad

    def tanh(self):
        return _node(math.tanh(self.data), "tanh", Value._tanh_backward, self)

    @staticmethod
    def _tanh_backward(out):
        (self,) = out._prev
        # d tanh(x)/dx = 1 - tanh(x)**2, and tanh(x) is out.data
        self.grad += (1 - out.data**2) * out.grad

    def exp(self):
        return _node(math.exp(self.data), "exp", Value._exp_backward, self)

    @staticmethod
    def _exp_backward(out):
        (self,) = out._prev
        # d e**x/dx = e**x: the derivative is the output itself
        self.grad += out.data * out.grad

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number ({self.data})")
        return _node(math.log(self.data), "log", Value._log_backward, self)

    @staticmethod
    def _log_backward(out):
        (self,) = out._prev
        # d ln(x)/dx = 1 / x
        self.grad += (1 / self.data) * out.grad

    def relu(self):
        return _node(self.data if self.data > 0 else 0.0, "relu", Value._relu_backward, self)

    @staticmethod
    def _relu_backward(out):
        (self,) = out._prev
        # slope 1 where the unit is on (output > 0), 0 where it is off
        self.grad += (out.data > 0) * out.grad

    def leaky_relu(self, slope=0.01):
        if not isinstance(slope, (int, float)) or isinstance(slope, bool) or not 0 <= slope <= 1:
            raise ValueError(f"the slope of leaky_relu must be a number from 0 to 1, not {slope!r}")
        x = self.data
        return _node(x if x > 0 else slope * x, "leaky_relu", Value._leaky_relu_backward, self, arg=slope)

    @staticmethod
    def _leaky_relu_backward(out):
        (self,) = out._prev
        slope = out._arg
        # slope 1 where the input is positive, `slope` (a small number) where it is not
        self.grad += (1 if self.data > 0 else slope) * out.grad

    def sigmoid(self):
        x = self.data
        # two forms of 1 / (1 + e**-x), each safe from overflow on its own side of 0
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        return _node(s, "sigmoid", Value._sigmoid_backward, self)

    @staticmethod
    def _sigmoid_backward(out):
        (self,) = out._prev
        # d sigmoid(x)/dx = s * (1 - s), with s the output
        self.grad += out.data * (1 - out.data) * out.grad

    # ------------------------------------------- built from the operations above

    def __neg__(self):  # -a
        return self * -1

    def __sub__(self, other):  # a - b
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data - other.data, "-", Value._sub_backward, self, other)

    @staticmethod
    def _sub_backward(out):
        self, other = out._prev
        # d(a-b)/da = 1, d(a-b)/db = -1: b gets the upstream gradient with its sign turned
        self.grad += out.grad
        other.grad += -out.grad

    def __truediv__(self, other):  # a / b
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data / other.data, "/", Value._div_backward, self, other)

    @staticmethod
    def _div_backward(out):
        self, other = out._prev
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2
        self.grad += (1 / other.data) * out.grad
        other.grad += (-self.data / other.data**2) * out.grad

    __radd__ = __add__  # 2 + a is worked out as a + 2

    __rmul__ = __mul__  # 2 * a is worked out as a * 2

    def __rsub__(self, other):  # 2 - a
        return Value(other) - self

    def __rtruediv__(self, other):  # 2 / a
        return Value(other) / self

    # ------------------------------------------------------------------ backpropagation

    def backward(self):
        """Fill in d(self)/d(v) as v.grad for every value v that self was computed from."""
        order = topological_order(self)
        self.grad = 1.0  # d(self)/d(self) = 1: the seed of the chain rule
        for node in reversed(order):  # every node after all the nodes that use it
            node._backward()


def topological_order(root, should_stop=None):
    """Every value ``root`` depends on, each listed after all of its operands.

    The same depth-first walk as micrograd's recursive ``build_topo``, operands in operand order,
    so the order is the same in every run. It keeps its own stack instead of recursing, so a chain
    of a million values does not hit Python's recursion limit: a node goes on the stack with a mark
    above it, then its second operand; its first operand is walked at once (the inner loop goes
    down first operands as far as they are new, as the recursion does); when the mark comes off,
    both operands' walks are done and the node is placed. A node whose operands are visited
    already is placed straight away: they are placed by then, since the only values visited and
    not yet placed are those the walk came down through, and none of them is an operand here. A
    node is marked visited when the walk reaches it, not when it goes on the stack, so an operand
    reached through the first operand's walk is placed there, as the recursion places it. (It
    reads the operand slots ``_a`` and ``_b`` directly rather than ``_prev``: no tuple per node.)

    ``should_stop`` (optional, see `engine.cancel`) is asked every few thousand values placed; the
    walk raises `Cancelled` when it returns True. It does not change the order.
    """
    order = []
    place = order.append
    visited = set()
    seen = visited.add
    stack = [root]  # what is still to walk, the next on top; _PLACE: place the node under it
    push, pop = stack.append, stack.pop
    check_at = CHECK_EVERY if should_stop is not None else 0
    while stack:
        node = pop()
        if node is _PLACE:  # both its operands' walks are done: the node under the mark follows
            place(pop())
            if check_at and len(order) >= check_at:
                check_at += CHECK_EVERY
                if should_stop():
                    raise Cancelled("the graph walk was cancelled")
            continue
        if node in visited:  # (reached through an operand walked first)
            continue
        seen(node)
        a = node._a
        while a is not None:  # down the first operands, as far as they are new
            b = node._b
            walk_b = b is not None and b not in visited
            if a in visited:
                if walk_b:  # only the second operand is new: walk it, then place the node
                    push(node)
                    push(_PLACE)
                    push(b)
                else:
                    place(node)
                break
            push(node)
            push(_PLACE)
            if walk_b:
                push(b)  # under the first operand's walk: walked after it
            node = a
            seen(node)
            a = node._a
        else:  # a leaf (the last of the first operands): nothing to walk
            place(node)
    return order


_PLACE = object()  # topological_order's mark on its stack


_new = object.__new__


def _node(data, op, rule, a, b=None, arg=None):
    """The Value an operation makes: ``Value(data, (a, b), op, _grad_fn=rule, _arg=arg)``.

    The same node, made faster: a class call runs ``__init__`` with its checks and conversions,
    while here ``data`` is already the operation's float and the operands are already Values.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._a = a
    out._b = b
    out._op = op
    out._grad_fn = rule
    out._arg = arg
    return out
