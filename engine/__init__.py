"""A small scalar autograd engine in the style of micrograd: the thing the tutor teaches.

Pure Python and the standard library only: nothing here imports the tutor or any UI.
"""

from engine.value import Value, topological_order

__all__ = ["Value", "topological_order"]
