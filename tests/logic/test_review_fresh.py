"""Fresh numbers for reviews: new leaves of the same sign and size, programs that still run
sensibly, and answers (right and known-wrong) that are what the engine computes on them."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from engine.expr import parse_program, run_program
from engine.value import topological_order
from tutor.lessons import builtin_lessons_dir, load_catalog
from tutor.quiz import grade
from tutor.review import ReviewItem
from tutor.review.fresh import draw_leaf, fresh_program, fresh_quiz, quotes_numbers, right_number
from tutor.review.questions import review_question

CATALOG = load_catalog([builtin_lessons_dir()])
TODAY = date(2026, 3, 3)


def blocks(kinds):
    for lesson in CATALOG.lessons:
        for block in lesson.blocks:
            kind = block.quiz.kind if block.kind == "quiz" and block.quiz else block.kind
            if block.interactive and kind in kinds:
                yield lesson, block


def item_for(lesson, block, attempts=1) -> ReviewItem:
    return ReviewItem(lesson.id, block.id, box=1, due=TODAY, last_wrong=TODAY, attempts=attempts)


@pytest.mark.parametrize("value", [2.0, -3.0, 0.5, -0.02, 10.0, 250.0, 0.0])
def test_a_drawn_leaf_keeps_its_sign_and_size_with_one_figure(value):
    rng = random.Random(7)
    for _ in range(200):
        new = draw_leaf(value, rng)
        if value == 0:
            assert new == 0
            continue
        assert math.copysign(1, new) == math.copysign(1, value)
        scale = 10 ** math.floor(math.log10(abs(value)))
        assert scale * 0.999 <= abs(new) <= 9 * scale * 1.001
        assert len(f"{abs(new) / scale:.6g}") == 1  # one significant figure: 1 to 9 times the scale


def test_the_same_seed_draws_the_same_numbers_and_others_draw_others():
    text = "a = 2; b = -3; c = 10; f = -2; e = a * b; d = e + c; L = d * f"
    first, again = fresh_program(text, "s1"), fresh_program(text, "s1")
    assert first[0] == again[0]
    texts = {fresh_program(text, f"s{i}")[0] for i in range(20)}
    assert len(texts) > 10 and text not in texts
    for new in texts:  # only the numbers changed: same names, same output, same structure
        program = parse_program(new)
        assert program.names == parse_program(text).names and program.output == "L"
        assert new.replace(" ", "").count("*") == text.replace(" ", "").count("*")


def test_draws_that_divide_by_nearly_zero_are_refused():
    text = "a = 2; b = 0.1; d = a - b * 19.9; L = d ** -1"
    program = parse_program(text)
    # drawn with no check, some leaves put d within 0.05 of 0 ...
    rng = random.Random(0)
    near = 0
    for _ in range(2000):
        a, b = draw_leaf(2.0, rng), draw_leaf(0.1, rng)
        near += abs(a - b * 19.9) < 0.05
    assert near > 0
    # ... and none of those is ever handed out
    for seed in range(300):
        made = fresh_program(text, seed)
        if made is None:
            continue
        graph = made[1].build()
        assert abs(graph.values["d"].data) >= 0.05
    assert program.inputs == {"a": 2.0, "b": 0.1}


def test_a_program_whose_every_draw_fails_has_no_fresh_numbers():
    assert fresh_program("a = 0; L = a * 2", "x") is None  # its only leaf is 0: nothing to redraw
    assert fresh_program("L = 2 * 3", "x") is None  # no leaf at all


def engine_reads(text: str, value: str) -> float:
    """The number ``value`` ("L", "x.grad", "b.data") on a fresh engine run of the program."""
    graph = run_program(text)
    graph.output.backward()
    name, _, attr = value.partition(".")
    node = graph.values[name]
    return node.grad if attr == "grad" else node.data


def engine_after_step(text: str, node_name: str, operand: str) -> float:
    """The operand's grad right after ``node``'s backward rule runs, stepping the engine by hand."""
    graph = run_program(text)
    graph.output.grad = 1.0
    for node in reversed(topological_order(graph.output)):
        node._backward()
        if node is graph.values[node_name]:
            return graph.values[operand].grad
    raise AssertionError("node not reached")


NUMERIC = [
    (lesson, block)
    for lesson, block in blocks({"numeric"})
    if isinstance(block.config.get("answer_from"), str)
]


@pytest.mark.parametrize("lesson,block", NUMERIC, ids=[f"{lsn.id}:{b.id}" for lsn, b in NUMERIC])
def test_fresh_numeric_quizzes_want_what_the_engine_computes(lesson, block):
    for seed in range(5):
        quiz, text = fresh_quiz(block.config, right_number(block.quiz), seed, lesson.misconceptions)
        assert text != block.config["program"] and quiz.program == text
        want = engine_reads(text, block.config["answer_from"])
        assert quiz.answer == pytest.approx(want)
        if block.quiz.answer != 0:  # (a relu that is off answers 0 whatever the numbers)
            assert want != pytest.approx(block.quiz.answer)
        assert grade(quiz, repr(want)).correct
        assert not quotes_numbers(quiz.prompt) or not quotes_numbers(block.quiz.prompt)
        # every known wrong answer kept is recomputed too, and still diagnosed with its tag
        for table, wrong in zip((w for w in block.config.get("wrong", []) if "answer_from" in w), quiz.wrong):
            value = table["answer_from"]
            if all(ch.isalnum() or ch in "._" for ch in value):
                assert wrong.value == pytest.approx(engine_reads(text, value))
            verdict = grade(quiz, repr(wrong.value))
            assert not verdict.correct and verdict.tags == ([wrong.tag] if wrong.tag else [])


def test_the_backprop_quiz_diagnoses_the_own_input_mistake_on_the_new_numbers():
    lesson = CATALOG.get("backprop-by-hand")
    block = next(b for b in lesson.blocks if b.kind == "quiz" and b.config.get("answer_from") == "b.grad")
    quiz, text = fresh_quiz(block.config, block.quiz.answer, "r", lesson.misconceptions)
    graph = run_program(text)
    graph.output.backward()
    b, e = graph.values["b"], graph.values["e"]
    verdict = grade(quiz, repr(b.data * e.grad))
    assert verdict.tags == ["own-input-in-mul"] and "2" not in quiz.prompt


PREDICT = list(blocks({"predict"}))


@pytest.mark.parametrize("lesson,block", PREDICT, ids=[f"{lsn.id}:{b.id}" for lsn, b in PREDICT])
def test_fresh_predict_quizzes_want_the_engines_step(lesson, block):
    quiz, text = fresh_quiz(block.config, right_number(block.quiz), "p", lesson.misconceptions)
    want = engine_after_step(text, block.config["node"], block.config["operand"])
    assert right_number(quiz) == pytest.approx(want)
    assert grade(quiz, repr(want)).correct


DEBUGGER = [(lesson, block) for lesson, block in blocks({"debugger"}) if block.spec.predict]


@pytest.mark.parametrize("lesson,block", DEBUGGER, ids=[f"{lsn.id}:{b.id}" for lsn, b in DEBUGGER])
def test_debugger_predict_blocks_come_back_with_new_leaves(lesson, block):
    question = review_question(item_for(lesson, block), CATALOG, TODAY)
    old, new = block.spec.program, question.program
    assert question.fresh and new.text != old.text
    assert new.names == old.names and new.output == old.output
    assert set(new.inputs) == set(old.inputs) and new.inputs != old.inputs
    # the debugger steps this program: its gradients are the engine's on the new leaves
    graph = new.build()
    graph.output.backward()
    assert graph.output.data == pytest.approx(run_program(new.text, output=old.output).output.data)


CHOICE_ORDER = list(blocks({"choice", "order", "code"}))


@pytest.mark.parametrize(
    "lesson,block", CHOICE_ORDER[:4], ids=[f"{lsn.id}:{b.id}" for lsn, b in CHOICE_ORDER[:4]]
)
def test_blocks_with_nothing_to_redraw_come_back_as_they_were(lesson, block):
    question = review_question(item_for(lesson, block), CATALOG, TODAY)
    assert question.quiz is block.quiz and not question.fresh


def test_a_review_asks_new_numbers_after_each_answer():
    lesson = CATALOG.get("backprop-by-hand")
    block = next(b for b in lesson.blocks if b.kind == "quiz" and b.quiz.kind == "numeric")
    first = review_question(item_for(lesson, block, attempts=2), CATALOG, TODAY)
    same = review_question(item_for(lesson, block, attempts=2), CATALOG, TODAY)
    later = [review_question(item_for(lesson, block, attempts=n), CATALOG, TODAY) for n in range(3, 8)]
    assert first.quiz.program == same.quiz.program  # reopened the same day: the same question
    assert any(q.quiz.program != first.quiz.program for q in later)


def test_a_long_program_keeps_its_numbers_and_draws_are_bounded_in_time():
    from tutor.review import fresh

    long_text = "a = 2\n" + "".join(f"n{i} = a * {i % 7 + 1}\n" for i in range(600))
    assert len(long_text) > fresh.MAX_PROGRAM_CHARS
    assert fresh_program(long_text, "x") is None
    calls = []

    def refuse(text):
        calls.append(text)
        return None

    assert fresh_program("a = 2; b = 3; L = a * b", "x", accept=refuse) is None
    assert 0 < len(calls) <= fresh.MAX_DRAWS
