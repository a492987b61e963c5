"""The misconception summary of `tutor progress`: a pure function over the attempts, linear in
their number, with the meaning it always had."""

from __future__ import annotations

import random

from tutor.progress import Attempt, tag_summary


def quadratic_summary(attempts: list[Attempt]) -> list[dict]:
    """The summary as `tutor progress` computed it before (a scan of every later attempt for each
    tagged one), kept here as the reference for what the answer must be."""
    summary: dict[str, dict] = {}
    for i, attempt in enumerate(attempts):
        for tag in attempt.tags:
            entry = summary.setdefault(tag, {"tag": tag, "hits": 0, "lessons": [], "resolved": False})
            entry["hits"] += 1
            if attempt.lesson_id not in entry["lessons"]:
                entry["lessons"].append(attempt.lesson_id)
            later_right = any(
                a.correct and a.lesson_id == attempt.lesson_id and a.block_id == attempt.block_id
                for a in attempts[i + 1 :]
            )
            entry.setdefault("_open", set())
            key = (attempt.lesson_id, attempt.block_id)
            if later_right:
                entry["_open"].discard(key)
            else:
                entry["_open"].add(key)
    out = []
    for entry in summary.values():
        entry["resolved"] = not entry.pop("_open")
        out.append(entry)
    return sorted(out, key=lambda e: (-e["hits"], e["tag"]))


def a(lesson, block, correct, *tags):
    return Attempt(lesson, block, "x", correct, list(tags))


def test_nothing_tagged_nothing_to_say():
    assert tag_summary([]) == [] and tag_summary([a("l", 0, True), a("l", 1, False)]) == []


def test_a_tag_is_resolved_only_when_every_block_it_showed_in_was_answered_right_later():
    attempts = [
        a("one", 1, False, "wrong-sign"),
        a("two", 0, False, "wrong-sign", "forgot-upstream"),
        a("one", 1, True),  # block one/1 answered right after the mistake
        a("two", 0, False, "forgot-upstream"),
        a("two", 0, True),
        a("one", 2, True),
        a("one", 2, False, "own-input"),  # right before, never after
        a("two", 3, True, "lucky"),  # a right answer with a tag: right, but not *later*
    ]
    summary = tag_summary(attempts)
    assert summary == quadratic_summary(attempts)
    by_tag = {e["tag"]: e for e in summary}
    assert by_tag["wrong-sign"] == {
        "tag": "wrong-sign",
        "hits": 2,
        "lessons": ["one", "two"],
        "resolved": True,
    }
    assert by_tag["forgot-upstream"] == {
        "tag": "forgot-upstream",
        "hits": 2,
        "lessons": ["two"],
        "resolved": True,
    }
    assert by_tag["own-input"]["resolved"] is False and by_tag["lucky"]["resolved"] is False
    assert [e["tag"] for e in summary] == [
        "forgot-upstream",
        "wrong-sign",
        "lucky",
        "own-input",
    ]  # most hits first


def test_the_last_time_a_tag_showed_in_a_block_decides():
    attempts = [a("l", 0, False, "t"), a("l", 0, True), a("l", 0, False, "t")]
    assert (
        tag_summary(attempts)
        == quadratic_summary(attempts)
        == [{"tag": "t", "hits": 2, "lessons": ["l"], "resolved": False}]
    )
    attempts.append(a("l", 0, True))
    assert tag_summary(attempts)[0]["resolved"] is True


def test_same_answers_as_before_on_random_histories():
    rng = random.Random(7)
    for _ in range(200):
        attempts = [
            a(
                f"l{rng.randrange(3)}",
                rng.randrange(3),
                rng.random() < 0.4,
                *rng.sample(["t1", "t2", "t3", "t4"], rng.randrange(3)),
            )
            for _ in range(rng.randrange(40))
        ]
        assert tag_summary(attempts) == quadratic_summary(attempts)


def test_thirty_thousand_attempts():
    rng = random.Random(1)
    attempts = []
    for i in range(30_000):
        block = rng.randrange(20)
        correct = block % 2 == 0 and rng.random() < 1 / 3  # odd blocks are never answered right
        attempts.append(
            a(f"lesson-{rng.randrange(10)}", block, correct, *([] if correct else [f"tag-{i % 8}"]))
        )
    summary = tag_summary(attempts)
    assert sum(e["hits"] for e in summary) == sum(1 for x in attempts if not x.correct)
    assert {e["tag"] for e in summary} == {f"tag-{k}" for k in range(8)}
    assert not any(e["resolved"] for e in summary)
