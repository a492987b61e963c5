"""Block ids: derived from kind and text (so an inserted block shifts no other id), or given
with ``id = "..."``; a bad or repeated id is a problem at its line."""

from __future__ import annotations

from tutor.lessons import load_lesson

FRONT = '+++\nid = "ids"\ntitle = "T"\nsection = "S"\norder = 1\nsummary = "s"\nprerequisites = []\n+++\n'
QUIZ = '\n```quiz\n{extra}kind = "numeric"\nprompt = "{prompt}"\nanswer = 6\n```\n'


def _lesson(tmp_path, body: str):
    path = tmp_path / "ids.md"
    path.write_text(FRONT + body, encoding="utf-8")
    return load_lesson(path)


def test_inserting_a_block_leaves_the_other_ids_as_they_were(tmp_path):
    before = _lesson(tmp_path, "Prose.\n" + QUIZ.format(extra="", prompt="a?"))
    after = _lesson(
        tmp_path, "Prose.\n" + QUIZ.format(extra="", prompt="new?") + QUIZ.format(extra="", prompt="a?")
    )
    assert not before.problems and not after.problems
    assert [b.id for b in before.blocks] == [after.blocks[0].id, after.blocks[2].id]
    assert after.blocks[1].id.startswith("quiz-") and after.blocks[1].id not in {b.id for b in before.blocks}


def test_a_repeated_block_gets_a_suffix_and_an_explicit_id_is_used(tmp_path):
    lesson = _lesson(
        tmp_path,
        QUIZ.format(extra="", prompt="a?")
        + QUIZ.format(extra="", prompt="a?")
        + QUIZ.format(extra='id = "mine"\n', prompt="b?"),
    )
    first, second, third = lesson.blocks
    assert second.id == first.id + "-2" and third.id == "mine"
    assert not lesson.problems and third.quiz is not None  # the id is not a quiz key


def test_a_bad_or_repeated_id_is_a_problem_at_its_line(tmp_path):
    lesson = _lesson(
        tmp_path,
        QUIZ.format(extra='id = "Not OK"\n', prompt="a?")
        + QUIZ.format(extra='id = "same"\n', prompt="b?")
        + QUIZ.format(extra='id = "same"\n', prompt="c?")
        + QUIZ.format(extra="id = 3\n", prompt="d?"),
    )
    messages = [(p.line, p.message) for p in lesson.problems]
    assert messages[0][0] == 11 and "may hold only lowercase letters" in messages[0][1]
    assert any(line == 25 and "already used by the block on line 17" in m for line, m in messages)
    assert any(line == 32 and "id must be a line of its own" in m for line, m in messages)
