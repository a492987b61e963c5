"""engine.stepper: the debugger's view of a backward pass, and the mistake modes it can show."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value, topological_order
from engine.mistakes import BACKWARD, backward_overwriting, backward_unseeded
from engine.stepper import Stepper
from tests.engine.graphs import build, recipes
from tests.engine.test_value import seeds_expression


def grads(nodes):
    return [n.grad for n in nodes]


def test_steps_follow_reverse_topological_order_with_the_seed_first():
    v = seeds_expression()
    s = Stepper(v["L"])
    order = [n for n in reversed(topological_order(v["L"])) if n._prev]
    assert [st.kind for st in s.steps] == ["seed", "rule", "rule", "rule"]
    assert [st.node for st in s.steps[1:]] == order
    assert [s.name(st.node) for st in s.steps] == ["L", "L", "d", "e"]


def test_constructing_a_stepper_leaves_every_grad_as_it_was():
    v = seeds_expression()
    v["a"].grad = 0.25  # whatever was there stays there
    Stepper(v["L"])
    assert v["a"].grad == 0.25 and v["L"].grad == 0.0


def test_seeds_expression_step_by_step():
    v = seeds_expression()
    s = Stepper(v["L"])
    assert all(n.grad == 0.0 for n in v.values())
    s.forward()
    assert v["L"].grad == 1.0
    s.forward()
    assert (v["d"].grad, v["f"].grad) == (-2.0, 4.0)
    s.forward()
    assert (v["e"].grad, v["c"].grad) == (-2.0, -2.0)
    step = s.forward()
    assert (v["a"].grad, v["b"].grad) == (6.0, -4.0)
    assert s.done and s.forward() is None
    assert step.changes[0].line == "a.grad += b.data * e.grad   0.0 + (-3.0)(-2.0) = 6.0"
    assert step.changes[1].line == "b.grad += a.data * e.grad   0.0 + (2.0)(-2.0) = -4.0"
    assert [c.local for c in step.changes] == [-3.0, 2.0]
    assert step.upstream == -2.0
    assert "self.grad += other.data * out.grad" in step.source
    assert "multiply" in step.rule_text


def test_back_and_reset_restore_the_grads():
    v = seeds_expression()
    s = Stepper(v["L"])
    nodes = list(v.values())
    history = [grads(nodes)]
    while s.forward():
        history.append(grads(nodes))
    while s.back():
        history.pop()
        assert grads(nodes) == history[-1]
    s.run_to_end()
    s.reset()
    assert s.position == 0 and grads(nodes) == history[0]


def test_run_until_a_node_and_a_leaf():
    v = seeds_expression()
    s = Stepper(v["L"])
    s.run_until(v["d"])
    assert s.current.node is v["d"] and v["c"].grad == -2.0 and v["a"].grad == 0.0
    s.run_until(v["f"])  # f's grad is final after L's rule: go back to there
    assert s.current.node is v["L"] and v["f"].grad == 4.0 and v["c"].grad == 0.0
    with pytest.raises(ValueError):
        s.run_until(Value(1.0))


def test_reuse_is_one_change_with_both_slots():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    s = Stepper(b)
    s.run_to_end()
    (change,) = s.steps[1].changes
    assert change.slots == (0, 1) and change.local == 2.0 and a.grad == 2.0
    assert change.line == "a.grad += b.grad; a.grad += b.grad   0.0 + (1.0) + (1.0) = 2.0"
    assert s.uses(a) == 2


def test_overwrite_mode_loses_the_second_contribution():
    a = Value(3.0, label="a")
    b = a + a
    s = Stepper(b, mistake="overwrite")
    s.run_to_end()
    assert a.grad == 1.0
    assert ".grad = out.grad" in s.steps[1].source and "+=" not in s.steps[1].source
    a = Value(3.0)
    b = a + a
    c = b + b
    Stepper(c, mistake="overwrite").run_to_end()
    assert a.grad == 1.0  # correct: 4.0


@pytest.mark.parametrize("op", ["-", "/"])
def test_overwrite_mode_also_overwrites_the_second_operand_of_a_subtract_or_divide(op):
    """Every rule accumulates with +=, the second operand of - and / too (b.grad += -out.grad),
    so the = mistake reaches it: b used twice keeps only the share of the rule that ran last."""
    a, b = Value(3.0), Value(2.0)
    out = (a - b if op == "-" else a / b) + b * 5.0
    Stepper(out, mistake="overwrite").run_to_end()
    overwritten = b.grad
    for n in topological_order(out):
        n.grad = 0.0
    out.backward()
    share = -1.0 if op == "-" else -3.0 / 4.0
    assert out.grad == 1.0 and b.grad == pytest.approx(5.0 + share)
    assert overwritten in (pytest.approx(5.0), pytest.approx(share))


def test_overwrite_mode_matches_backward_overwriting():
    v = seeds_expression()
    x = v["a"]
    out = (v["L"] * x + x.tanh() * v["b"]).sigmoid()
    nodes = topological_order(out)
    Stepper(out, mistake="overwrite").run_to_end()
    stepped = grads(nodes)
    for n in nodes:
        n.grad = 0.0
    backward_overwriting(out)
    assert grads(nodes) == stepped
    for n in nodes:
        n.grad = 0.0
    out.backward()
    assert grads(nodes) != stepped  # a is used three times: = loses two of them


def test_no_seed_mode_leaves_every_grad_at_zero():
    v = seeds_expression()
    s = Stepper(v["L"], mistake="no_seed")
    s.run_to_end()
    assert all(n.grad == 0.0 for n in v.values())
    backward_unseeded(v["L"])
    assert all(n.grad == 0.0 for n in v.values())
    assert "skipped" in s.steps[0].changes[0].line


def test_unknown_mistake_is_refused():
    with pytest.raises(ValueError):
        Stepper(Value(1.0), mistake="typo")


def test_a_leaf_output_has_only_the_seed():
    a = Value(2.0, label="a")
    s = Stepper(a)
    s.run_to_end()
    assert len(s.steps) == 1 and a.grad == 1.0


def test_names_for_unlabelled_values():
    x = Value(0.5, label="x")
    y = 2 * x
    s = Stepper(y)
    assert s.name(y) == "n1" and s.name(y._prev[1]) == "(2.0)"
    assert s.steps[1].changes[0].line == "x.grad += (2.0) * n1.grad   0.0 + (2.0)(1.0) = 2.0"


def test_power_line_shows_the_exponent():
    x = Value(0.5, label="x")
    y = x**3
    s = Stepper(y)
    s.run_to_end()
    assert s.steps[1].changes[0].line.startswith("x.grad += 3 * x.data**2 * n1.grad")


def test_a_chain_rule_line_says_approximately_when_the_rounding_shows():
    # 1/750 is shown as 0.0013333: 0.0013333 + (-3.0)(0.0013333) is -0.0026666 as shown, while the
    # true grad rounds to -0.0026667, so the line must not claim the shown numbers add up
    x, w = Value(2.0, label="x"), Value(1 / 750, label="w")
    y = x * -3.0
    z = x + y
    L = z * w
    L.label = "L"
    s = Stepper(L)
    s.run_to_end()
    lines = [c.line for step in s.steps[1:] for c in step.changes if c.node is x]
    assert lines[-1].endswith("0.0013333 + (-3.0)(0.0013333) ≈ -0.0026667")
    assert all("=" in line.split("   ")[1] for line in lines[:-1])


def test_leaky_relu_steps_with_its_slope_in_the_line():
    x = Value(-2.0, label="x")
    y = x.leaky_relu(0.1)
    y.label = "y"
    s = Stepper(y)
    step = s.forward() and s.forward()
    assert step.rule_text.startswith("leaky_relu:")
    assert step.changes[0].line == "x.grad += (1 if x.data > 0 else 0.1) * y.grad   0.0 + (0.1)(1.0) = 0.1"
    assert "slope = out._arg" in step.source


@settings(max_examples=150, deadline=None)
@given(recipes(), st.lists(st.booleans(), max_size=40))
def test_stepping_matches_backward_and_undo_restores(recipe, moves):
    out, _ = build(recipe)
    nodes = topological_order(out)
    out.backward()
    expected = grads(nodes)
    for n in nodes:
        n.grad = 0.0

    s = Stepper(out)
    start = grads(nodes)
    seen = {0: start}
    for forward in moves:  # a random walk forwards and back
        s.forward() if forward else s.back()
        if s.position in seen:
            assert grads(nodes) == seen[s.position]
        seen[s.position] = grads(nodes)
    s.run_to_end()
    assert grads(nodes) == expected  # exactly, not approximately: the same calls in the same order
    s.reset()
    assert grads(nodes) == start
    for step in s.steps[1:]:
        for change in step.changes:
            assert change.after == pytest.approx(
                change.before + change.local * step.upstream, rel=1e-12, abs=1e-12
            )


def test_unlabelled_names_do_not_depend_on_who_asks_first():
    def graph():
        x = Value(0.5, label="x")
        return (x**3 - x).tanh()

    first, second = Stepper(graph()), Stepper(graph())
    names_first = [first.name(n) for n in first.nodes]
    names_second = [second.name(n) for n in reversed(second.nodes)][::-1]
    assert names_first == names_second
    assert first.name(first.root) == "n1"  # numbered in backward order, output first


@settings(max_examples=100, deadline=None)
@given(
    recipes(),
    st.sampled_from([None, *sorted(BACKWARD)]),
    st.lists(st.integers(0, 40), max_size=6),
)
def test_each_step_shows_the_grads_its_rule_found_and_left_wherever_it_is_looked_at(recipe, mistake, looks):
    # the stepper records only what a step found; what it left is worked out when the step is
    # first shown, by running the rule again off the graph: it must be what stepping live gives,
    # and showing it from any position must not disturb the grads there
    out, _ = build(recipe)
    nodes = topological_order(out)
    s = Stepper(out, mistake=mistake)
    for position in looks:  # look at some steps first, from somewhere in the pass
        s.go_to(position)
        here = grads(nodes)
        shown = [step.changes for step in s.steps[1 : 1 + position % 4]]
        assert all(shown)  # every rule step changes at least one operand
        assert grads(nodes) == here
    s.reset()
    s.forward()  # the seed
    while not s.done:
        step = s.upcoming
        before = [c.node.grad for c in step.changes]
        s.forward()
        assert [c.before for c in step.changes] == before
        assert [c.after for c in step.changes] == [c.node.grad for c in step.changes]


def test_a_rule_that_fails_while_recording_leaves_every_grad_as_it_was():
    x = Value(0.5, label="x")
    y = Value(-1.5, label="y")
    x.grad, y.grad = 0.25, 0.75
    out = (x * y).tanh() + x

    def failing(out):
        raise RuntimeError("this rule cannot run")

    with pytest.raises(RuntimeError):
        Stepper(out, rules={"tanh": failing})
    assert (x.grad, y.grad, out.grad) == (0.25, 0.75, 0.0)
    assert all(n.grad == 0.0 for n in topological_order(out) if n._prev)
