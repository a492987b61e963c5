"""`d = o - y` and `q = a / b` are shown as the teacher wrote them: one node each, their own rule."""

from __future__ import annotations

from engine.expr import parse_program
from engine.stepper import Stepper
from engine.value import topological_order
from tutor.widgets.inspector import definition, local_derivatives


def stepped(text: str):
    graph = parse_program(text).build()
    stepper = Stepper(graph.output)
    stepper.run_to_end()
    return graph, stepper


def test_subtraction_is_one_node_with_its_own_rule():
    graph, stepper = stepped("o = 3; y = 1; d = o - y; L = d * d")
    d = graph.values["d"]
    assert definition(stepper, d) == "d = o - y"
    assert {stepper.name(n) for n in topological_order(graph.output)} == {"o", "y", "d", "L"}  # no n1
    step = next(s for s in stepper.steps if s.kind == "rule" and s.node is d)
    lines = {stepper.name(c.node): c.line for c in step.changes}
    assert lines["o"] == "o.grad += d.grad   0.0 + (1.0)(4.0) = 4.0"
    assert lines["y"].startswith("y.grad += -d.grad   0.0 + (-1.0)(4.0)")
    assert local_derivatives(stepper, step) == "∂d/∂o = 1   ∂d/∂y = -1"
    assert (graph.values["o"].grad, graph.values["y"].grad) == (4.0, -4.0)


def test_division_is_one_node_with_the_quotient_rule():
    graph, stepper = stepped("a = 6; b = 3; q = a / b")
    q = graph.output
    assert definition(stepper, q) == "q = a / b"
    (step,) = [s for s in stepper.steps if s.kind == "rule"]
    assert local_derivatives(stepper, step) == "∂q/∂a = 1/b   ∂q/∂b = -a/b²"
    lines = {stepper.name(c.node): c.line for c in step.changes}
    assert lines["b"].startswith("b.grad += (-a.data / b.data**2) * q.grad")
    assert round(graph.values["a"].grad, 4) == 0.3333 and round(graph.values["b"].grad, 4) == -0.6667


def test_predict_mode_diagnoses_the_new_ops():
    from tutor.quiz import grade, parse_quiz

    sub = parse_quiz(
        {"kind": "predict", "program": "o = 3; y = 1; d = o - y; L = d * d", "node": "d", "operand": "y"}
    )
    assert grade(sub, "-4").correct and grade(sub, "-1").tags == ["forgot-upstream"]
    assert "y.grad += -d.grad" in grade(sub, "-4").feedback
    div = parse_quiz(
        {"kind": "predict", "program": "a = 6; b = 3; q = a / b; L = q * q", "node": "q", "operand": "b"}
    )
    assert grade(div, "-2.6667").correct and grade(div, "-0.6667").tags == ["forgot-upstream"]
