"""The PyTorch comparison (lesson 13): the listing, the tutor's own walk of the program with
tensors, the child process, and — when PyTorch is installed — a real run agreeing with the engine."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

from engine.expr import parse_program
from tests import fake_torch
from tests.engine.test_expr import programs
from tutor import torch_compare as tc

SEEDS = "a = 2\nb = -3\nc = 10\nf = -2\ne = a * b\nd = e + c\nL = d * f"
NEURON = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432; n = x1*w1 + x2*w2 + b; o = tanh(n)"
EVERY_OP = (
    "x = 0.5; y = -1.5\n"
    "a = x / y - x ** 2 + exp(y) * log(x + 2)\n"
    "b = relu(a) + sigmoid(y) + (x * y).tanh() + a.relu() + y.sigmoid()\n"
    "c = -b * (1/3) + 2 - x + 3 / (x + 4) - (-y)\n"
    "d = c.exp() / 7 + +x + x ** -1 + (x + 1) ** 0.5"
)


@pytest.fixture
def fake(monkeypatch):
    return fake_torch.load("", monkeypatch)


@pytest.fixture
def child_uses_fake(monkeypatch):
    """The child Python imports the stand-in as `torch` (it comes first on its path)."""
    path = os.pathsep.join([str(fake_torch.DIR), *filter(None, [os.environ.get("PYTHONPATH")])])
    monkeypatch.setenv("PYTHONPATH", path)

    def mode(name: str) -> None:
        monkeypatch.setenv("FAKE_TORCH", name)

    mode("")
    return mode


# ------------------------------------------------------------------ the code on screen


def test_the_listings_are_the_program_in_each_library():
    program = parse_program(SEEDS)
    assert tc.torch_listing(program) == [
        "a = leaf(2.0)",
        "b = leaf(-3.0)",
        "c = leaf(10.0)",
        "f = leaf(-2.0)",
        "e = a * b",
        "d = e + c",
        "L = d * f",
        "L.backward()",
    ]
    assert tc.engine_listing(program)[:2] == ["a = Value(2.0)", "b = Value(-3.0)"]
    assert tc.engine_listing(program)[-1] == "L.backward()"


def test_functions_become_torch_functions_and_methods_stay_methods():
    program = parse_program("x = 1; y = tanh(x) + x.exp() + relu(sigmoid(x)) + log(x + 1)\ny")
    listing = tc.torch_listing(program)
    assert listing[1] == "y = torch.tanh(x) + x.exp() + torch.relu(torch.sigmoid(x)) + torch.log(x + 1)"
    assert listing[-1] == "y.backward()"  # the line naming the output is not code
    assert tc.engine_listing(program)[1] == "y = tanh(x) + x.exp() + relu(sigmoid(x)) + log(x + 1)"


def test_the_output_chosen_by_the_block_is_the_one_backward_runs_on():
    program = parse_program("a = 2; b = a * 3; c = b + 1", output="b")
    assert tc.torch_listing(program)[-1] == "b.backward()"


# ------------------------------------------------------------------ walking the program with tensors


def test_a_stand_in_that_computes_like_the_engine_agrees_exactly(fake):
    comparison = tc.compare(parse_program(SEEDS), fake)
    assert comparison.agrees and comparison.largest_difference == 0
    rows = {row.name: row for row in comparison.rows}
    assert [row.name for row in comparison.rows] == ["a", "b", "c", "f", "e", "d", "L"]
    assert (rows["a"].torch_grad, rows["b"].torch_grad, rows["L"].torch_value) == (6.0, -4.0, -8.0)
    assert rows["e"].torch_grad == -2.0  # a middle node: its gradient was retained to compare it
    assert comparison.summary().startswith("All 14 numbers agree exactly")


def test_every_operation_of_the_language_is_walked_as_written(fake):
    comparison = tc.compare(parse_program(EVERY_OP), fake)
    assert comparison.agrees, [r for r in comparison.rows if not r.agrees]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=programs())
def test_random_programs_walked_with_tensors_agree_with_the_engine(fake, generated):
    lines, _ = generated
    try:
        program = parse_program("\n".join(lines))
        tc.run_in_engine(program)
    except Exception:  # log of a negative number and the like: not a program a lesson could hold
        return
    comparison = tc.compare(program, fake)
    assert comparison.agrees, (lines, [r for r in comparison.rows if not r.agrees])


def test_a_node_the_output_does_not_use_has_no_torch_gradient_and_counts_as_zero(fake):
    comparison = tc.compare(parse_program("a = 2; b = 3; u = a * 2; L = b * 3\nL"), fake)
    rows = {row.name: row for row in comparison.rows}
    assert rows["u"].grad == 0.0 and rows["u"].agrees
    assert comparison.agrees


def test_a_difference_is_reported_with_the_nodes_it_touches(monkeypatch):
    wrong = fake_torch.load("wrong-tanh", monkeypatch)
    comparison = tc.compare(parse_program(NEURON), wrong)
    assert not comparison.agrees
    bad = [row.name for row in comparison.rows if not row.agrees]
    assert bad == ["o"]
    assert "1 of 7 nodes differ by more than rounding (o)" in comparison.summary()


def test_rows_agree_within_rounding_and_not_beyond():
    row = tc.Row("x", False, 0.7071067811865477, 1.0, 0.7071067811865476, 1.0)
    assert row.agrees and 0 < row.difference < 1e-15
    assert not tc.Row("x", False, 1.0, 1.0, 1.0 + 1e-9, 1.0).agrees
    assert not tc.Row("x", False, 1.0, 1.0, math.nan, 1.0).agrees


# ------------------------------------------------------------------ the child process


def test_the_child_answers_one_json_line(monkeypatch):
    monkeypatch.setenv("FAKE_TORCH", "")
    out = io.StringIO()
    request = io.StringIO(json.dumps({"program": "a = 2; b = 3; L = a * b", "output": "L"}))
    fake = fake_torch.load()
    real_import = tc.import_torch
    tc.import_torch = lambda: fake  # the child's side, run in this process with the stand-in
    try:
        assert tc._child(request, out) == 0
    finally:
        tc.import_torch = real_import
    reply = json.loads(out.getvalue())
    assert reply["version"] == "0.0"
    assert reply["results"] == [["a", 2.0, 3.0], ["b", 3.0, 2.0], ["L", 6.0, 1.0]]


def test_the_comparison_runs_in_a_child_python(child_uses_fake):
    comparison = tc.compare_in_subprocess(parse_program(NEURON))
    assert comparison.agrees and comparison.torch_version == "0.0"
    assert len(comparison.rows) == 7


def test_a_child_without_pytorch_says_how_to_install_it(child_uses_fake):
    child_uses_fake("missing")
    with pytest.raises(tc.TorchUnavailable) as err:
        tc.compare_in_subprocess(parse_program(SEEDS))
    message = str(err.value)
    assert "not installed" in message and f"{sys.executable} -m pip install torch" in message


def test_a_child_that_dies_is_reported_not_raised(child_uses_fake):
    child_uses_fake("crash")
    with pytest.raises(tc.TorchUnavailable, match="stopped without an answer"):
        tc.compare_in_subprocess(parse_program(SEEDS))


def test_a_child_can_be_stopped_and_one_that_hangs_times_out(child_uses_fake):
    child_uses_fake("slow")
    children = []

    def stop(child: subprocess.Popen) -> None:
        children.append(child)
        child.kill()

    with pytest.raises(tc.TorchUnavailable, match="was stopped"):
        tc.compare_in_subprocess(parse_program(SEEDS), started=stop)
    assert children[0].poll() is not None
    with pytest.raises(tc.TorchUnavailable, match="did not answer within 1 s"):
        tc.compare_in_subprocess(parse_program(SEEDS), timeout=1)


def test_importing_pytorch_when_it_is_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what Python does for a module it cannot find
    with pytest.raises(tc.TorchUnavailable, match="pip install torch"):
        tc.import_torch()


# ------------------------------------------------------------------ the real thing, when installed


def test_real_pytorch_computes_what_the_engine_computes():
    """Runs only where PyTorch is installed (`pip install torch`); the rest of this file covers the
    tutor's side without it."""
    torch = pytest.importorskip("torch")
    for text in (SEEDS, NEURON, EVERY_OP):
        comparison = tc.compare(parse_program(text), torch)
        assert comparison.agrees, (text, [r for r in comparison.rows if not r.agrees])
    seeds = {row.name: row for row in tc.compare(parse_program(SEEDS), torch).rows}
    assert [seeds[n].torch_grad for n in "abcf"] == [6.0, -4.0, -2.0, 4.0]
    assert seeds["L"].torch_value == -8.0
    # and through the child Python the app uses
    comparison = tc.compare_in_subprocess(parse_program(NEURON))
    assert comparison.agrees and comparison.torch_version == torch.__version__.split("+")[0]


def test_the_tutor_side_never_imports_pytorch():
    code = (
        "import sys, tutor.torch_compare, tutor.screens.pytorch, tutor.widgets.block_card; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
