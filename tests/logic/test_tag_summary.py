"""The misconception summary of `tutor progress`: a pure function over the attempts, linear in
their number. A tag counts as put right by the review schedule's rule (right answers on two
later days, `tutor.review.schedule`), the one the mastery view's levels use: both are checked
here on the same made-up history."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from tutor.lessons import builtin_lessons_dir, load_catalog
from tutor.progress import Attempt, tag_summary
from tutor.review import RESOLVED_AFTER_DAYS, review_items
from tutor.review.skills import mastery, skill_of_tag

DAY0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def a(lesson, block, correct, *tags, day=0, minute=0):
    stamp = (DAY0 + timedelta(days=day, minutes=minute)).isoformat()
    return Attempt(lesson, str(block), "x", correct, list(tags), stamp)


def resolved(attempts) -> dict[str, bool]:
    return {e["tag"]: e["resolved"] for e in tag_summary(attempts)}


def reference(attempts: list[Attempt]) -> dict[str, bool]:
    """The rule written out plainly: a tag is put right when every block where a wrong answer
    showed it has answers on RESOLVED_AFTER_DAYS different days after that block's last wrong day."""

    def day(x):
        return datetime.fromisoformat(x.timestamp).date()

    shown: dict[str, set] = {}
    for x in attempts:
        for tag in x.tags:
            shown.setdefault(tag, set())
            if not x.correct:
                shown[tag].add((x.lesson_id, x.block_id))
    out = {}
    for tag, blocks in shown.items():
        ok = bool(blocks)
        for key in blocks:
            on_block = [x for x in attempts if (x.lesson_id, x.block_id) == key]
            last_wrong = max(day(x) for x in on_block if not x.correct)
            ok = ok and len({day(x) for x in on_block if day(x) > last_wrong}) >= RESOLVED_AFTER_DAYS
        out[tag] = ok
    return out


def test_nothing_tagged_nothing_to_say():
    assert tag_summary([]) == [] and tag_summary([a("l", 0, True), a("l", 1, False)]) == []


def test_right_the_same_day_is_not_put_right_nor_one_later_day_but_two_are():
    log = [a("l", 0, False, "t"), a("l", 0, True, minute=1)]
    assert tag_summary(log) == [{"tag": "t", "hits": 1, "lessons": ["l"], "resolved": False}]
    log.append(a("l", 0, True, day=1))
    assert resolved(log) == {"t": False}
    log.append(a("l", 0, True, day=1, minute=5))  # a second right answer that day: still one day
    assert resolved(log) == {"t": False}
    log.append(a("l", 0, True, day=3))
    assert resolved(log) == {"t": True}
    log.append(a("l", 0, False, "t", day=4))  # wrong again: the count starts over
    assert resolved(log) == {"t": False}


def test_a_tag_is_put_right_only_when_every_block_it_showed_in_is():
    log = [
        a("one", 1, False, "wrong-sign"),
        a("two", 0, False, "wrong-sign", "forgot-upstream"),
        a("one", 1, True, day=1),
        a("one", 1, True, day=2),
        a("two", 0, True, day=2),
        a("two", 3, True, "lucky"),  # a right answer with a tag: no mistake to put right
    ]
    summary = tag_summary(log)
    assert [e["tag"] for e in summary] == ["wrong-sign", "forgot-upstream", "lucky"]  # most hits first
    assert summary[0] == {"tag": "wrong-sign", "hits": 2, "lessons": ["one", "two"], "resolved": False}
    log.append(a("two", 0, True, day=5))
    assert resolved(log) == {"wrong-sign": True, "forgot-upstream": True, "lucky": False}


def test_the_summary_follows_the_rule_on_random_histories():
    rng = random.Random(7)
    for _ in range(200):
        log = [
            a(
                f"l{rng.randrange(3)}",
                rng.randrange(3),
                correct := rng.random() < 0.5,
                *([] if correct else rng.sample(["t1", "t2", "t3"], rng.randrange(1, 3))),
                day=rng.randrange(6),
                minute=rng.randrange(60),
            )
            for _ in range(rng.randrange(30))
        ]
        log.sort(key=lambda x: x.timestamp)
        assert resolved(log) == reference(log)


def test_the_summary_and_the_mastery_view_agree_on_what_is_put_right():
    """One made-up history, read day by day by both: a tag is put right in `tutor progress`
    exactly when the mastery view has its skill solid (each tag here is its skill's only one)."""
    catalog = load_catalog([builtin_lessons_dir()])
    days = [
        [
            a("local-rules", "q-add", False, "split-add-gradient"),
            a("local-rules", "q-sub", False, "rule-wrong-sign"),
        ],
        [a("local-rules", "q-add", True, day=0, minute=3), a("local-rules", "q-sub", True, day=0, minute=4)],
        [a("local-rules", "q-add", True, day=1)],
        [a("local-rules", "q-add", True, day=2), a("local-rules", "q-sub", True, day=2)],
        [a("local-rules", "q-sub", True, day=3)],
        [a("local-rules", "q-add", False, "split-add-gradient", day=4)],
    ]
    expected = [  # (split-add-gradient, rule-wrong-sign) put right after each day
        (False, False),
        (False, False),  # right the same day: not yet
        (False, False),  # add: one later day
        (True, False),  # add: two later days; sub: one
        (True, True),
        (False, True),  # add wrong again
    ]
    log: list[Attempt] = []
    for n, (answers, want) in enumerate(zip(days, expected)):
        log += answers
        today = date(2026, 3, 2) + timedelta(days=n)
        summary = resolved(log)
        levels = {lv.skill.name: lv.level for lv in mastery(catalog, log, review_items(log), today)}
        for tag, put_right in zip(("split-add-gradient", "rule-wrong-sign"), want):
            skill = skill_of_tag(tag)
            assert skill is not None and skill.tags == (tag,)
            assert summary[tag] is put_right, (n, tag)
            assert (levels[skill.name] == "solid") is put_right, (n, tag, levels[skill.name])


def test_thirty_thousand_attempts():
    rng = random.Random(1)
    attempts = []
    for i in range(30_000):
        block = rng.randrange(20)
        correct = block % 2 == 0 and rng.random() < 1 / 3  # odd blocks are never answered right
        attempts.append(
            a(
                f"lesson-{rng.randrange(10)}",
                block,
                correct,
                *([] if correct else [f"tag-{i % 8}"]),
                day=i // 1000,
            )
        )
    summary = tag_summary(attempts)
    assert sum(e["hits"] for e in summary) == sum(1 for x in attempts if not x.correct)
    assert {e["tag"] for e in summary} == {f"tag-{k}" for k in range(8)}
    assert not any(e["resolved"] for e in summary)


def test_every_built_in_tag_belongs_to_exactly_one_skill():
    """The mastery view counts a mistake under its skill: a tag in no skill would never show there."""
    from tutor.misconceptions import CATALOGUE
    from tutor.review.skills import SKILLS

    owners = {tag: [s.name for s in SKILLS if tag in s.tags] for tag in CATALOGUE}
    assert {tag: names for tag, names in owners.items() if len(names) != 1} == {}


def test_answers_stored_under_a_merged_tag_count_under_its_name_today(tmp_path):
    """tanh-on-input became derivative-at-input (one tag for the mistake, every op): a learner's
    history, read back from the store, shows one mistake, and a lesson still using the old name
    reads as the new one."""
    from tutor.misconceptions import CATALOGUE, RENAMED, describe, known, read_declared
    from tutor.progress import Progress
    from tutor.schema import Issues

    assert RENAMED["tanh-on-input"] == "derivative-at-input" and "tanh-on-input" not in CATALOGUE
    assert describe("tanh-on-input") is CATALOGUE["derivative-at-input"] and "tanh-on-input" in known()
    issues = Issues()
    declared = read_declared([{"tag": "tanh-on-input", "title": "t", "explanation": "e"}], issues)
    assert not declared and "is a built-in tag" in str(list(issues))

    progress = Progress(tmp_path)
    try:
        progress.record_attempt("neuron", "3", "0.75", False, ["tanh-on-input"])
        progress.record_attempt("neuron", "3", "0.75", False, ["tanh-on-input", "derivative-at-input"])
        progress.record_attempt("activations-and-losses", "5", "x", False, ["derivative-at-input"])
        attempts = progress.attempts()
    finally:
        progress.close()
    assert [x.tags for x in attempts] == [["derivative-at-input"]] * 3
    (entry,) = tag_summary(attempts)
    assert entry["tag"] == "derivative-at-input" and not entry["resolved"]


def test_a_lesson_still_using_the_old_name_checks_and_grades_as_the_new_one(tmp_path, capsys):
    from tutor.cli import main
    from tutor.lessons import load_catalog

    quiz = (
        '```quiz\nkind = "numeric"\nprompt = "x.grad?"\n'
        'program = "x = 0.5; o = tanh(x); L = o * 3"\nanswer_from = "x.grad"\n\n'
        '[[wrong]]\nanswer_from = "3 * (1 - x.data**2)"\ntag = "tanh-on-input"\nfeedback = "1 - x² is the slope at the input."\n```\n'
    )
    front = '+++\nid = "old"\ntitle = "Old"\nsection = "S"\norder = 1\nsummary = "s"\nprerequisites = []\n+++\n\n# Old\n\n'
    (tmp_path / "01-old.md").write_text(front + quiz)
    assert main(["check", str(tmp_path)], environ={}) == 0, capsys.readouterr()
    (lesson,) = load_catalog([tmp_path]).lessons
    block = next(b for b in lesson.blocks if b.kind == "quiz")
    from tutor.quiz import grade

    verdict = grade(block.quiz, "2.25")
    assert not verdict.correct
    from tutor.misconceptions import describe

    assert [describe(t).tag for t in verdict.tags] == ["derivative-at-input"]
