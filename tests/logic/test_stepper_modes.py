"""The stepper's wrong-order mistake mode (engine.mistakes.first_reached_order) run for real."""

from __future__ import annotations

import pytest

from engine.expr import parse_program
from engine.mistakes import BACKWARD, MISTAKES, backward_first_reached, first_reached_order
from engine.stepper import Stepper
from engine.value import Value

ORDER = "x = 2; y = x * x; s = y * y; L = y + s"


def test_first_reached_walks_down_from_the_output_first_operand_first():
    values = parse_program(ORDER).build().values
    assert first_reached_order(values["L"]) == [values["L"], values["y"], values["s"]]


def test_the_wrong_order_gives_the_lessons_4_where_backward_gives_36():
    graph = parse_program(ORDER).build()
    stepper = Stepper(graph.output, mistake="wrong_order")
    assert [stepper.name(step.node) for step in stepper.steps] == ["L", "L", "y", "s"]
    stepper.run_to_end()
    assert graph.values["x"].grad == 4.0
    stepper.reset()
    assert all(v.grad == 0.0 for v in graph.values.values())  # undone exactly
    again = parse_program(ORDER).build()
    backward_first_reached(again.output)
    assert again.values["x"].grad == 4.0
    right = parse_program(ORDER).build()
    right.output.backward()
    assert right.values["x"].grad == 36.0


def test_wrong_order_is_a_backward_mistake_of_the_registry():
    assert "wrong_order" in BACKWARD and MISTAKES["wrong_order"].label == "wrong order"


def test_a_long_chain_does_not_recurse():
    x = Value(1.0, label="x")
    out = x
    for _ in range(5000):
        out = out + 1.0
    assert len(first_reached_order(out)) == 5000
    Stepper(out, mistake="wrong_order").run_to_end()
    assert x.grad == 1.0


def test_every_time_reached_runs_y_once_per_path_and_x_grad_is_the_lessons_76():
    from engine import Value
    from engine.mistakes import every_reach_order

    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    s = y * y
    s.label = "s"
    L = y + s
    L.label = "L"
    assert [n.label for n in every_reach_order(L)] == ["L", "y", "s", "y", "y"]
    stepper = Stepper(L, mistake="every_reach")
    stepper.run_to_end()
    assert x.grad == 76.0  # 4 from L's share, then 36 twice through s
    stepper.reset()
    assert x.grad == 0.0


def test_every_time_reached_refuses_a_graph_of_too_many_paths():
    from engine import Value
    from engine.mistakes import MAX_REACHES, TooManyReaches, every_reach_order

    v = Value(1.0)
    for _ in range(14):  # 2**14 = 16,384 paths from the top to the bottom
        v = v + v
    with pytest.raises(TooManyReaches, match="too many"):
        every_reach_order(v)
    with pytest.raises(TooManyReaches):
        Stepper(v, mistake="every_reach")
    assert len(every_reach_order(v, limit=2**15)) > MAX_REACHES
