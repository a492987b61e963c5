"""Quiz questions that name the mistake: reading a ``quiz`` block, grading answers, proving examples.

A lesson's ```quiz block holds TOML. :func:`read_quiz` turns the parsed table into a quiz and
every problem it has (:func:`parse_quiz` raises :class:`QuizConfigError` listing them). Each
problem names the key that is wrong and what is allowed. :func:`grade` judges one answer and
returns a :class:`Verdict`: right or wrong, the misconception tags the answer shows (see
:mod:`tutor.misconceptions`), and feedback to show. :func:`check_examples` grades the example
answers a teacher listed in the block, for ``tutor check``.

One module per kind of question (the format is documented for teachers in
``docs/quiz-format.md``), each with its keys, its parsing, its grading, its solution and its
answer help:

``numeric``  a number, typed in or computed from an expression program by the engine;
             tolerance; tagged wrong answers with their own feedback.
``choice``   options, one or several right; feedback on every option.
``code``     one line of a backward rule or of a training loop, judged by :mod:`tutor.codeline`.
``order``    the steps of a training loop put in order (distractor lines allowed); a wrong order
             is run for real on a small network to show what it does.
``predict``  the debugger's predict-the-gradient step: what will this operand's grad be after
             this node's backward rule runs? Diagnosed by :mod:`tutor.predict_diagnosis`.

What they share (the quiz object, the common keys, examples, tags, reading numbers) is in
:mod:`tutor.quiz.common`. Learner text is never evaluated as Python. ``grade`` never raises on
learner input: anything it cannot read comes back as ``message_kind == "unreadable"`` with a
plain message.

Pure logic: no Textual.
"""

from __future__ import annotations

from tutor.misconceptions import in_effect
from tutor.quiz import choice, code, numeric, order, predict
from tutor.quiz.common import Example, Quiz, QuizConfigError, Verdict, read_common, read_examples
from tutor.quiz.order import ROLES
from tutor.schema import Issue, Issues, did_you_mean, show

__all__ = [
    "KINDS",
    "ROLES",
    "QuizConfigError",
    "Quiz",
    "Example",
    "Verdict",
    "read_quiz",
    "parse_quiz",
    "grade",
    "check_examples",
]

MODULES = {m.KIND: m for m in (numeric, choice, code, order, predict)}
KINDS = tuple(MODULES)


def read_quiz(config) -> tuple[Quiz | None, list[Issue]]:
    """The quiz a ```quiz block describes and every problem found in it (the quiz is None when
    there is any). Problems are in the order of the block's keys, then of what depends on them."""
    issues = Issues()
    if not isinstance(config, dict):
        issues.add([], "a quiz block must be a TOML table of keys")
        return None, issues
    kind = config.get("kind")
    if kind is None:
        issues.add(["kind"], "missing; give the kind of question: " + ", ".join(KINDS))
        return None, issues
    if not isinstance(kind, str) or kind not in MODULES:
        issues.add(
            ["kind"],
            f"unknown kind {show(kind)}{did_you_mean(kind, KINDS)}; choose one of {', '.join(KINDS)}",
        )
        return None, issues
    module = MODULES[kind]
    values = module.TABLE.read(config, issues)
    quiz = module.build(config, values, read_common(values, issues), issues)
    quiz.examples = read_examples(values, type(quiz).answer_types, kind, issues)
    quiz.misconceptions = in_effect()  # the teacher's own tags it may show (see tutor.misconceptions)
    unique = list(dict.fromkeys(issues))  # one program that fails is said once, not per key using it
    return (None, unique) if unique else (quiz, [])


def parse_quiz(config) -> Quiz:
    """Build a quiz from the parsed TOML of a ```quiz block.

    Raises :class:`QuizConfigError` (listing every problem) for a missing or unknown key, a value
    of the wrong type, or a block that cannot work (a program that does not run, an expected line
    the judge cannot read, a wrong answer equal to the right one, an example that is not a
    possible answer).
    """
    quiz, problems = read_quiz(config)
    if problems:
        raise QuizConfigError(problems)
    return quiz


def grade(quiz: Quiz, answer) -> Verdict:
    """Judge one answer. Never raises on learner input."""
    try:
        return quiz.grade(answer)
    except QuizConfigError:
        raise
    except Exception as err:  # a bug of ours must not crash the screen; say so plainly
        return Verdict(
            False,
            [],
            f"The grader could not judge that answer ({type(err).__name__}); "
            "please report it. Try writing it another way.",
            "unreadable",
        )


def check_examples(quiz: Quiz) -> list[tuple[int, str]]:
    """Grade every example the block lists; (0-based example index, what came out differently)."""
    problems = []
    for i, ex in enumerate(quiz.examples):
        v = grade(quiz, ex.answer)
        got = "right" if v.correct else v.message_kind
        shown = (
            repr(ex.answer)
            if not isinstance(ex.answer, str) or len(ex.answer) < 60
            else repr(ex.answer[:57] + "...")
        )
        if got != ex.verdict:
            problems.append(
                (
                    i,
                    f"example {shown} should be {ex.verdict} but the grader says {got}"
                    + (f" ({', '.join(v.tags)})" if v.tags else ""),
                )
            )
            continue
        if ex.tags is not None:
            missing = [t for t in ex.tags if t not in v.tags]
            if missing or (ex.tags == () and v.tags):
                want = ", ".join(ex.tags) or "no tag"
                have = ", ".join(v.tags) or "no tag"
                problems.append((i, f"example {shown} should hit {want} but the grader found {have}"))
    return problems
