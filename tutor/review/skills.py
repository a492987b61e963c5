"""The skills of backprop, and the learner's level in each, from their own answers.

:data:`SKILLS` is the one table: each skill names the misconception tags that show it is not
there yet (every built-in tag of :mod:`tutor.misconceptions` belongs to exactly one skill) and
the lesson that teaches it. A block belongs to a skill when its text names one of the skill's
tags (a quiz's known wrong answers do) or when an answer to it showed one (the debugger's
predictions are diagnosed with these tags too).

:func:`mastery` reads the attempts and the review items into one :class:`SkillLevel` per skill:

* ``not met``: no answer yet to a block of the skill;
* ``needs work``: a block of the skill was answered wrong and not yet put right on a later day;
* ``practising``: as above, but answered right on one later day already;
* ``solid``: answered, and every mistake put right on later days (or none made).

and what to do next: the due review, or the lesson part that teaches the skill.

Pure logic: no Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tutor.progress.records import Attempt
from tutor.review.schedule import ReviewItem

__all__ = ["LEVELS", "SKILLS", "Skill", "SkillLevel", "mastery", "skill_of_tag", "where_it_shows"]


@dataclass(frozen=True)
class Skill:
    name: str  # stable key
    title: str  # as the mastery view shows it
    tags: tuple[str, ...]  # misconception tags that show it missing
    lesson_id: str  # the lesson that teaches it


SKILLS: tuple[Skill, ...] = (
    Skill(
        "chain-rule",
        "local × upstream",
        ("forgot-upstream", "forgot-seed", "forgot-local-derivative"),
        "backprop-by-hand",
    ),
    Skill("add-rule", "the add rule", ("split-add-gradient",), "local-rules"),
    Skill("mul-rule", "the mul rule", ("own-input-in-mul", "wrong-operand"), "local-rules"),
    Skill("rule-signs", "signs in the rules", ("rule-wrong-sign",), "local-rules"),
    Skill("tanh-rule", "out.data or input", ("derivative-at-input",), "neuron"),
    Skill("accumulation", "accumulation (+=)", ("overwrote-not-accumulated",), "reuse-and-accumulation"),
    Skill("backward-order", "the backward order", ("wrong-backward-order",), "topological-order"),
    Skill("initialisation", "initialising weights", ("equal-init",), "mlp"),
    Skill("zero-grad", "zero_grad", ("forgot-zero-grad", "zero-grad-after-backward"), "zero-grad"),
    Skill("update-sign", "the update's sign", ("update-wrong-sign",), "training-loop"),
    Skill("step-order", "the step's order", ("update-before-backward",), "training-loop"),
    Skill("learning-rate", "the learning rate", ("lr-too-high", "forgot-learning-rate"), "learning-rate"),
)

LEVELS = ("not met", "needs work", "practising", "solid")
_BY_TAG = {tag: skill for skill in SKILLS for tag in skill.tags}


def skill_of_tag(tag: str) -> Skill | None:
    return _BY_TAG.get(tag)


@dataclass(frozen=True)
class SkillLevel:
    skill: Skill
    level: str  # one of LEVELS
    answered: int  # answers given to the skill's blocks
    right: int  # ... of them right
    due: int  # review items of the skill due today
    next_step: str  # what to do next, in words


def where_it_shows(catalog, lesson_id: str, tags: Iterable[str]) -> str:
    """ "<lesson title>, part N": the first interactive block of the lesson that names a tag."""
    lesson = catalog.get(lesson_id)
    if lesson is None:
        return lesson_id
    quoted = [f'"{tag}"' for tag in tags]
    for block in lesson.blocks:
        if block.interactive and any(q in block.text for q in quoted):
            return f"{lesson.title}, part {block.index + 1}"
    return lesson.title


def _skill_blocks(catalog, attempts: list[Attempt]) -> dict[str, set[tuple[str, str]]]:
    """skill name -> the (lesson id, block id) of its blocks."""
    out: dict[str, set[tuple[str, str]]] = {s.name: set() for s in SKILLS}
    for lesson in catalog.lessons:
        for block in lesson.blocks:
            if not block.interactive:
                continue
            for skill in SKILLS:
                if any(f'"{tag}"' in block.text for tag in skill.tags):
                    out[skill.name].add((lesson.id, block.id))
    for attempt in attempts:
        for tag in attempt.tags:
            skill = _BY_TAG.get(tag)
            if skill is not None:
                out[skill.name].add((attempt.lesson_id, attempt.block_id))
    return out


def mastery(
    catalog, attempts: Iterable[Attempt], items: Iterable[ReviewItem], today: date
) -> list[SkillLevel]:
    """One level per skill, in the order of :data:`SKILLS`."""
    attempts = list(attempts)
    items_by_block = {(i.lesson_id, i.block_id): i for i in items}
    blocks = _skill_blocks(catalog, attempts)
    out = []
    for skill in SKILLS:
        mine = blocks[skill.name]
        answers = [a for a in attempts if (a.lesson_id, a.block_id) in mine]
        open_items = [
            items_by_block[k] for k in mine if k in items_by_block and not items_by_block[k].resolved
        ]
        due = sum(item.is_due(today) for item in open_items)
        where = where_it_shows(catalog, skill.lesson_id, skill.tags)
        if not answers:
            level, step = "not met", f"→ {where}"
        elif open_items:
            level = "practising" if all(i.right_days >= 1 for i in open_items) else "needs work"
            if due:
                step = f"review: {due} due now"
            else:
                wait = min(i.wait_days(today) or 0 for i in open_items)
                step = f"review in {wait} day{'s' * (wait != 1)}"
        else:
            level, step = "solid", "nothing: keep going"
        right = sum(a.correct for a in answers)
        out.append(SkillLevel(skill, level, len(answers), right, due, step))
    return out
