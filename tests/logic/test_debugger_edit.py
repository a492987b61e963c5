"""The debugger's "change the numbers" line, read back without evaluating anything."""

from __future__ import annotations

import pytest

from engine.expr import parse_program
from tutor.screens.debugger_edit import EditError, apply_edit, editable_text


def test_a_program_becomes_one_line_without_its_comments():
    program = parse_program("x = 2\ny = x * x   # 4\ns = y * y\nL = y + s")
    assert editable_text(program) == "x = 2; y = x * x; s = y * y; L = y + s"


def test_an_edited_leaf_is_named_in_what_changed():
    program = parse_program("x = 2; y = x * x")
    new, what = apply_edit(program, "x = 3; y = x * x")
    assert what == "Rerun with x 2.0 → 3.0."
    assert new.build().output.data == 9.0


@pytest.mark.parametrize("typed", ["", "x = __import__('os')", "x = 2; y = x *", "x" * 5000])
def test_what_cannot_run_is_an_edit_error(typed):
    with pytest.raises(EditError):
        apply_edit(parse_program("x = 2; y = x * x"), typed)


class _Sample:
    """A program that is no expression program (as the training screen's sample is)."""

    text = "# a network's loss"
    inputs = {"x1": 0.5}

    def build(self, inputs=None):
        return parse_program(f"x1 = {dict(self.inputs, **(inputs or {}))['x1']}; L = x1 * x1").build()


def test_other_programs_take_name_equals_number_for_their_inputs_only():
    sample = _Sample()
    assert editable_text(sample) == "x1 = 0.5"
    new, what = apply_edit(sample, "x1 = 2")
    assert what == "Rerun with x1 0.5 → 2.0." and new.build().output.data == 4.0
    with pytest.raises(EditError, match="x1"):
        apply_edit(sample, "w = 2")
    with pytest.raises(EditError):
        apply_edit(sample, "x1 = 2 + 2")
