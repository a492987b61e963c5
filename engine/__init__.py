"""A small scalar autograd engine in the style of micrograd: the thing the tutor teaches.

Pure Python and the standard library only: nothing here imports the tutor or any UI.

    from engine import Value, MLP
    from engine.stepper import Stepper       # a backward pass, one _backward call at a time
    from engine.expr import parse_program    # the small language lessons describe graphs in
    from engine.train import Task, Trainer   # training runs, with the classic bugs on demand
"""

from engine.nn import MLP, Layer, Module, Neuron
from engine.value import Value, topological_order

__all__ = ["Value", "topological_order", "Module", "Neuron", "Layer", "MLP"]
