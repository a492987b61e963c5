"""engine.gradcheck: the numeric check of backprop, and stopping it part way."""

import pytest

from engine.cancel import Cancelled
from engine.expr import parse_program
from engine.gradcheck import check_program

SEEDS = "a = 2; b = -3; c = 10; f = -2\ne = a * b\nd = e + c\nL = d * f"


class Counting:
    """A program that counts its builds."""

    def __init__(self, text):
        self.program = parse_program(text)
        self.inputs = self.program.inputs
        self.builds = 0

    def build(self, inputs=None):
        self.builds += 1
        return self.program.build(inputs)


def test_a_check_that_is_never_stopped_gives_the_same_results():
    program = parse_program(SEEDS)
    asked = []
    watched = check_program(program, should_stop=lambda: asked.append(1) and False)
    assert watched == check_program(program)
    assert len(asked) == 4  # once per input
    assert all(c.ok for c in watched)


@pytest.mark.parametrize("after", [0, 1, 3])
def test_should_stop_ends_the_check_before_the_next_input_is_nudged(after):
    program = Counting(SEEDS)
    answers = iter([False] * after + [True])
    with pytest.raises(Cancelled, match=f"after {after} of 4 inputs"):
        check_program(program, should_stop=lambda: next(answers))
    assert program.builds == 1 + 2 * after  # the analytic build, then two per nudged input
