"""The built-in course asks before it tells: a quiz's answer, or a gradient the debugger asks the
learner to predict, is not written in the prose above it in the same section (the text since the
last heading), nor stated outright as "name.grad = value" anywhere above it in the lesson. A
learner who has just read "x.grad = -18" is not predicting when asked for it.

A number in the prose gives an answer away when it is the answer rounded to the places it is
written with ("-2.47" gives away -2.4731; "3" does not give away 2.72). Some numbers cannot be
kept out of the prose and tell nothing: 0 and 1, and the values the program itself sets (a
gradient equal to an input's value is still to be worked out, but the input is on the card).
"""

from __future__ import annotations

import functools
import math
import re

import pytest

from engine.expr import parse_program
from tutor.lessons import builtin_lessons_dir, load_catalog

NUMBER = re.compile(r"(?<![\w.])([-−]?)(\d+(?:\.\d+)?)(?![\w])")
HEADING = re.compile(r"^#{1,6} ", re.MULTILINE)
STATED_GRAD = re.compile(r"\w+\.grad`?\s*=\s*`?([-−]?\d+(?:\.\d+)?)(?![\w])")


@functools.cache
def course():
    return [lesson for _, lessons in load_catalog([builtin_lessons_dir()]).sections() for lesson in lessons]


def numbers_in(text: str) -> list[tuple[float, int, str]]:
    """Each number written in the text: its value, how many decimal places it has, as written."""
    found = []
    for sign, digits in NUMBER.findall(text):
        places = len(digits.split(".")[1]) if "." in digits else 0
        value = float(digits) * (-1 if sign else 1)
        found.append((value, places, sign + digits))
    return found


def gives_away(written: float, places: int, answer: float) -> bool:
    if places == 0 and abs(answer - round(answer)) > 1e-9:
        return False  # a whole number is not a rounded fraction
    return (
        math.copysign(1, written) == math.copysign(1, answer) and abs(written - answer) <= 0.5 * 10**-places
    )


def prose_above(lesson, block, *, whole_lesson: bool = False) -> str:
    """The prose between the last heading above ``block`` and the block (or all of it above)."""
    text = []
    for earlier in reversed(lesson.blocks[: block.index]):
        if earlier.kind != "markdown":
            continue
        headings = list(HEADING.finditer(earlier.text))
        if headings and not whole_lesson:
            text.append(earlier.text[headings[-1].start() :])
            break
        text.append(earlier.text)
    return "\n".join(reversed(text))


def stated_gradients(text: str) -> list[tuple[float, int, str]]:
    """Each gradient the text states outright ("a.grad = 6"), wherever it is above."""
    return [n for stated in STATED_GRAD.findall(text) for n in numbers_in(stated)]


def answers(block) -> list[tuple[str, float, set[float]]]:
    """(what is asked, its answer, the numbers the program sets) for a block that asks for numbers."""
    if block.kind == "quiz" and block.quiz is not None:
        quiz = block.quiz
        if quiz.kind == "numeric":
            program = getattr(quiz, "program", "") or ""
            given = set(parse_program(program).inputs.values()) if program else set()
            return [("the answer", quiz.answer, given)]
        if quiz.kind == "predict":
            q, _ = quiz.question()
            given = set(parse_program(quiz.program).inputs.values())
            return [(f"{q.operand}.grad", q.after, given)]
        return []
    if block.kind == "debugger" and block.spec is not None and block.spec.predict:
        program = block.spec.program
        graph = program.build()
        graph.output.backward()
        given = set(program.inputs.values())
        return [
            (f"{name}.grad", node.grad, given)
            for name, node in graph.values.items()
            if node is not graph.output
        ]
    return []


def giveaways(lesson) -> list[str]:
    found = []
    for block in lesson.blocks:
        asked = answers(block)
        if not asked:
            continue
        # any number in the same section; a gradient stated outright anywhere above
        written = numbers_in(prose_above(lesson, block))
        written += stated_gradients(prose_above(lesson, block, whole_lesson=True))
        for what, answer, given in asked:
            if any(math.isclose(answer, v, abs_tol=1e-9) for v in (0.0, 1.0, *given)):
                continue
            for value, places, text in written:
                if gives_away(value, places, answer):
                    found.append(
                        f"{lesson.path.name}:{block.line}: the prose above says {text}, "
                        f"the {block.kind}'s {what} ({answer:.4g})"
                    )
                    break
    return found


def test_the_scan_finds_a_giveaway():
    """The scan itself: prose that states the answer is caught, prose that does not is let be."""
    assert gives_away(-2.47, 2, -2.4731)
    assert gives_away(-18.0, 0, -18.0)
    assert not gives_away(3.0, 0, 2.72)
    assert not gives_away(3.0, 0, -3.0)
    assert [n[2] for n in numbers_in("x.grad = -18 and y.grad = -2.4731; x2 = 3")] == ["-18", "-2.4731", "3"]
    assert [n[2] for n in stated_gradients("so `a.grad = 6` and `b.grad` = -4, with b = 3")] == ["6", "-4"]


@pytest.mark.parametrize("lesson", course(), ids=lambda lesson: lesson.id)
def test_prose_does_not_give_the_answer_away(lesson):
    assert giveaways(lesson) == []


LIST_ITEM = re.compile(r"^\s*(?:\d{1,9}[.)]|[-*+])(?:\s|$)")
ONE_STARTS_A_LIST = re.compile(r"^ {0,3}1[.)](?:\s|$)")


def sentences_turned_into_lists(lesson) -> list[str]:
    """A paragraph line that starts with "1." or "1)" turns the rest of the sentence into a
    numbered list (Markdown lets such a line interrupt a paragraph): the line before it must be
    blank or a list item for that to be meant."""
    found = []
    for block in lesson.blocks:
        if block.kind != "markdown":
            continue
        lines = block.text.splitlines()
        for i in range(1, len(lines)):
            before = lines[i - 1]
            if ONE_STARTS_A_LIST.match(lines[i]) and before.strip() and not LIST_ITEM.match(before):
                found.append(f"{lesson.path.name}:{block.line + i}: {lines[i].strip()[:40]!r}")
    return found


def test_the_list_scan_finds_a_sentence_cut_in_two():
    lesson = type("L", (), {})()
    lesson.path = type("P", (), {"name": "x.md"})()
    lesson.blocks = [type("B", (), {"kind": "markdown", "line": 1, "text": "never pass\n1. Take it"})()]
    assert sentences_turned_into_lists(lesson) == ["x.md:2: '1. Take it'"]
    lesson.blocks[0].text = "a list:\n\n1. one\n2. two"
    assert sentences_turned_into_lists(lesson) == []


@pytest.mark.parametrize("lesson", course(), ids=lambda lesson: lesson.id)
def test_no_sentence_turns_into_a_list(lesson):
    assert sentences_turned_into_lists(lesson) == []
