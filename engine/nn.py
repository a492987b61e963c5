"""Neurons, layers and multi-layer perceptrons built from `Value`s.

A neuron is nothing new: it is a few multiplications and additions followed by a squashing
function, all made of the same `Value` operations as everything else. So ``loss.backward()``
reaches every weight with no extra machinery.

    MLP(3, [4, 4, 1])      3 inputs -> 4 neurons -> 4 neurons -> 1 output
                           (3·4 + 4) + (4·4 + 4) + (4·1 + 1) = 41 parameters

Every weight and bias starts at a random number in [-1, 1], drawn from the model's *own*
random generator, made from ``seed``: the same seed gives the same network, and Python's global
``random`` state is never touched.

Parameters carry labels that say where they live: ``w[1][0][2]`` is
``model.layers[1].neurons[0].w[2]``, the weight that neuron 0 of layer 1 gives to its input 2;
``b[1][0]`` is that neuron's bias. Inside a forward pass, ``z[1][0]`` is the neuron's weighted sum
and ``h[1][0]`` its output after the activation.
"""

from __future__ import annotations

import random

from engine import ops
from engine.value import Value

__all__ = ["ACTIVATIONS", "DISPLAY_NAMES", "float_activation", "Module", "Neuron", "Layer", "MLP"]

# name -> what a neuron does to its weighted sum z: every activation op of engine.ops, and "linear"
ACTIVATIONS = {name: getattr(Value, name) for name in ops.ACTIVATIONS} | {"linear": None}
DISPLAY_NAMES = {name: ops.OPS[name].activation for name in ops.ACTIVATIONS} | {"linear": "Linear"}


def float_activation(name: str):
    """The activation on a plain float, from the op table (the training screen's fast sample view)."""
    if name == "linear":
        return lambda z: z
    op = ops.OPS[name]
    if op.arg is None:
        return op.forward
    return lambda z: op.forward(z, op.arg_default)


class Module:
    """Anything with parameters: the same two methods as PyTorch's ``nn.Module``."""

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Forget the last backward pass: grads *accumulate* (+=), so each step starts from 0."""
        for p in self.parameters():
            p.grad = 0.0

    def parameter_values(self) -> list[float]:
        """The parameters' numbers, in ``parameters()`` order (to save or compare weights)."""
        return [p.data for p in self.parameters()]

    def set_parameter_values(self, numbers) -> None:
        """Overwrite the parameters' numbers, in ``parameters()`` order."""
        params = self.parameters()
        numbers = list(numbers)
        if len(numbers) != len(params):
            raise ValueError(f"expected {len(params)} numbers, got {len(numbers)}")
        for p, x in zip(params, numbers):
            p.data = float(x)


def _is_custom(activation) -> bool:
    """An op of the caller's own (an `engine.custom.CustomOp`): callable on a Value, with a name."""
    return callable(activation) and isinstance(getattr(activation, "name", None), str)


def _squash_of(activation):
    """What a neuron applies to z: the Value method of an activation op, a custom op, or None."""
    return activation if _is_custom(activation) else ACTIVATIONS[activation]


def _display(activation) -> str:
    return activation.activation if _is_custom(activation) else DISPLAY_NAMES[activation]


def _check_activation(activation) -> None:
    if _is_custom(activation):
        return
    if activation not in ACTIVATIONS:
        allowed = ", ".join(repr(a) for a in ACTIVATIONS)
        raise ValueError(f"unknown activation {activation!r}; use one of {allowed}")


class Neuron(Module):
    """``activation(w · x + b)``: one weight per input, one bias."""

    def __init__(self, nin: int, activation: str = "tanh", seed=None, *, rng=None, tag: str = ""):
        """``activation`` is a name of `ACTIVATIONS` or an `engine.custom.CustomOp`.
        ``rng`` (a ``random.Random``) is shared when a layer builds many neurons; else ``seed``
        makes a new one. ``tag`` is where the neuron sits, e.g. ``"[1][0]"``, for the labels."""
        _check_activation(activation)
        rng = rng if rng is not None else random.Random(seed)
        self.activation = activation
        self.w = [Value(rng.uniform(-1, 1), label=f"w{tag}[{i}]") for i in range(nin)]
        self.b = Value(rng.uniform(-1, 1), label=f"b{tag}")
        self.tag = tag
        self._labels = (f"z{tag}", f"h{tag}")  # its weighted sum's and its output's, made once

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        # the weighted sum, starting from the bias: b + w0*x0 + w1*x1 + ... (the nodes and the
        # additions of sum((wi * xi for ...), b), in the same order, without a generator)
        z = self.b
        for wi, xi in zip(self.w, x):
            z = z + wi * xi
        squash = _squash_of(self.activation)
        if squash is None:
            z.label = self._labels[1]
            return z
        z.label, h_label = self._labels
        out = squash(z)
        out.label = h_label
        return out

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{_display(self.activation)}Neuron({len(self.w)})"


class Layer(Module):
    """Several neurons that all read the same inputs, each with its own weights."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", seed=None, *, rng=None, tag: str = ""):
        rng = rng if rng is not None else random.Random(seed)
        self.neurons = [Neuron(nin, activation, rng=rng, tag=f"{tag}[{n}]") for n in range(nout)]

    def outputs(self, x) -> list[Value]:
        """Every neuron's output, always as a list."""
        return [n(x) for n in self.neurons]

    def __call__(self, x):
        outs = self.outputs(x)
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers in a row: each layer's outputs are the next layer's inputs.

    ``MLP(3, [4, 4, 1])`` is the seeds' network (tanh everywhere). micrograd's demo is
    ``MLP(2, [16, 16, 1], activation="relu", linear_output=True)``: the last layer then gives a
    raw score instead of squashing it.
    """

    def __init__(self, nin: int, nouts, activation: str = "tanh", linear_output: bool = False, seed=None):
        _check_activation(activation)
        nouts = list(nouts)
        if nin < 1 or not nouts or min(nouts) < 1:
            raise ValueError("an MLP needs at least 1 input and layers of at least 1 neuron each")
        rng = random.Random(seed)  # the model's own generator: global random state untouched
        sizes = [nin] + nouts
        self.layers = []
        for i in range(len(nouts)):
            last = i == len(nouts) - 1
            act = "linear" if (last and linear_output) else activation
            self.layers.append(Layer(sizes[i], sizes[i + 1], act, rng=rng, tag=f"[{i}]"))

    def __call__(self, x):
        for layer in self.layers:
            x = layer.outputs(x)
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
