"""tutor.lessons.toml_text: TOML that would stall tomllib is refused before it is parsed."""

from __future__ import annotations

import time

import pytest

from tutor.lessons import load_lesson
from tutor.lessons.toml_text import MAX_DEPTH, MAX_KEY_PARTS, TomlRefused, loads

FRONT = '+++\nid = "t"\ntitle = "T"\nsection = "S"\norder = 1\nsummary = "s"\nprerequisites = []\n+++\n\n'


@pytest.mark.parametrize(
    "text",
    [
        'kind = "numeric"\nprompt = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"\nanswer = 1.5',
        "xs = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5]",
        "[model.inner.deep]\nlayers = [4, 4, 1]\n[[examples]]\nanswer = '-3'",
        'a = {b.c = 1, d = {e = [[1, 2], [3]]}, f = {}}\ng = """\nx.y.z = 1 # not a key\n"""',
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o = 1  # fifteen parts is fine",
    ],
)
def test_ordinary_toml_reads_as_tomllib_reads_it(text):
    import tomllib

    assert loads(text) == tomllib.loads(text)


def test_a_dotted_key_of_thirty_thousand_parts_is_refused_at_once():
    key = ".".join(["a"] * 30_000)  # tomllib would take minutes: it is quadratic in the parts
    started = time.monotonic()
    with pytest.raises(TomlRefused) as refused:
        loads(f"kind = 'numeric'\n{key} = 1\n")
    assert time.monotonic() - started < 5
    assert (refused.value.line, refused.value.col) == (2, 2 * MAX_KEY_PARTS)
    assert f"more than {MAX_KEY_PARTS} dotted parts" in refused.value.message


@pytest.mark.parametrize("open_, close", [("[", "]"), ("{a = ", "}")])
def test_deep_nesting_is_refused_not_a_recursion_error(open_, close):
    with pytest.raises(TomlRefused) as refused:
        loads("x = " + open_ * 10_000 + "1" + close * 10_000)
    assert f"more than {MAX_DEPTH} levels deep" in refused.value.message


def test_a_lesson_with_such_a_block_is_checked_at_once_with_the_block_refused(tmp_path):
    key = ".".join(["a"] * 30_000)
    path = tmp_path / "dotted.md"
    path.write_text(FRONT + '```quiz\nkind = "numeric"\nprompt = "p"\nanswer = 1\n' + key + " = 1\n```\n")
    started = time.monotonic()
    lesson = load_lesson(path)
    assert time.monotonic() - started < 5
    (problem,) = lesson.problems
    assert (problem.line, problem.col) == (14, 2 * MAX_KEY_PARTS)
    assert problem.message.startswith("the quiz block is refused: a key or table name of more than")


def test_front_matter_is_guarded_too(tmp_path):
    path = tmp_path / "front.md"
    path.write_text(FRONT.replace("order = 1\n", "order = " + "[" * 100 + "]" * 100 + "\n"))
    (problem,) = [p for p in load_lesson(path).problems if "refused" in p.message]
    assert problem.line == 5 and "nested more than" in problem.message


def test_a_lesson_past_its_share_of_blocks_or_fences_is_refused_at_once(tmp_path):
    many = tmp_path / "many.md"
    block = '```debugger\nprogram = "a = 2; b = -3; L = a * b"\n```\n\n'
    many.write_text(FRONT + block * 120)
    (problem,) = load_lesson(many).problems
    assert problem.line == 10 + 4 * 100 and "at most 100" in problem.message

    fences = tmp_path / "fences.md"
    fences.write_text(FRONT + "```python\nx = 1\n```\n" * 30_000)  # ~ 0.5 MiB of fences
    started = time.monotonic()
    (problem,) = load_lesson(fences).problems
    assert time.monotonic() - started < 5
    assert "60,000 fence lines" in problem.message and "split it" in problem.message
