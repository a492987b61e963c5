"""The misconception catalogue: the named mistakes a quiz answer can show.

Every wrong answer a quiz can diagnose carries one or more *tags* from this catalogue. A tag names
the misconception, explains it in two or three sentences, and points to the lesson and the
debugger view where the learner can watch the mistake happen. The quiz screen shows all of that;
``tutor progress`` lists the tags a learner has hit.

A teacher adds their own: a lesson's front matter or a course's manifest declares
``[[misconceptions]]`` tables (``tag``, ``title``, ``explanation``, ``see``), read by
:func:`read_declared`. While a lesson's blocks are read, its declared tags are in effect
(:func:`declared`), so its quizzes may use them like the built-in ones (:func:`known`); each quiz
keeps the ones it may show (``Quiz.misconceptions``), and ``tutor progress`` names them.

Pure data and standard library only: nothing here imports Textual.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "CATALOGUE",
    "DECLARATION",
    "RENAMED",
    "Misconception",
    "declared",
    "describe",
    "feedback_for",
    "known",
    "current",
    "read_declared",
]


@dataclass(frozen=True)
class Misconception:
    """One named mistake.

    ``lesson_id`` is the built-in lesson that teaches the point; ``debugger_hint`` says how to see
    the mistake for yourself in the debugger (or on the training screen). ``source`` is "" for
    the built-in catalogue, else the file that declared it (a lesson or a course manifest).
    """

    tag: str
    title: str
    explanation: str
    lesson_id: str
    debugger_hint: str
    source: str = ""


def _entries() -> list[Misconception]:
    return [
        Misconception(
            "forgot-zero-grad",
            "forgot to zero the gradients",
            "backward() adds into every .grad with +=, so without zero_grad the gradients of "
            "this step pile on top of the ones from every earlier step and the updates grow "
            "larger and larger.",
            "zero-grad",
            "Training screen: rerun the task with the 'no zero_grad' bug on; the two loss curves "
            "part ways from step 3 (step 2's update is the first to use piled-up gradients).",
        ),
        Misconception(
            "overwrote-not-accumulated",
            "overwrote a gradient instead of accumulating it",
            "A value used twice (b = a + a) gets a share of gradient from each use. Writing = "
            "keeps only the last share; += adds them up, as the chain rule for several paths asks.",
            "reuse-and-accumulation",
            "Debugger on 'a = 3; b = a + a': press m (mistake mode) and a.grad shows 1 instead of 2.",
        ),
        Misconception(
            "own-input-in-mul",
            "used a multiply's own input instead of the other one",
            "For out = a * b the local derivative with respect to a is b, the *other* operand: "
            "nudging a by 1 moves out by b. Using a itself scales by the wrong number.",
            "local-rules",
            "Debugger on 'L = (a*b + c) * f': step to the * node and compare a.grad with b.data × "
            "the upstream grad in the inspector.",
        ),
        Misconception(
            "forgot-upstream",
            "forgot the upstream gradient",
            "The chain rule multiplies the local derivative by the gradient arriving from above "
            "(out.grad). The local derivative alone only says how this node moves its own output, "
            "not how the loss moves.",
            "local-rules",
            "Debugger: the inspector's chain-rule line shows 'local × upstream'; look at the second factor.",
        ),
        Misconception(
            "split-add-gradient",
            "split an add's gradient between its operands",
            "For out = a + b, both local derivatives are 1: each operand gets the whole upstream "
            "gradient, not half of it. Addition routes the gradient, it does not share it out.",
            "local-rules",
            "Debugger on 'd = e + c': step the + node; both operands receive the full upstream grad.",
        ),
        Misconception(
            "derivative-at-input",
            "took a derivative at the input instead of the output (or the other way round)",
            "Some rules are written from the op's output: tanh's 1 - out², exp's out, sigmoid's "
            "out·(1 - out). Putting the input's value where out.data belongs (or out.data where a "
            "rule such as log's 1/x needs the input) computes the slope at the wrong point.",
            "neuron",
            "Debugger: step the op's node; the inspector's rule line shows whether it reads "
            "out.data or the operand's data.",
        ),
        Misconception(
            "forgot-local-derivative",
            "passed the upstream gradient on without the local derivative",
            "Each operand gets local derivative × upstream gradient. Passing out.grad on unchanged "
            "is right only where the local derivative is 1, as for an add; a multiply, a power or "
            "an activation scales it.",
            "local-rules",
            "Debugger: the inspector's chain-rule line shows 'local × upstream'; look at the first factor.",
        ),
        Misconception(
            "update-wrong-sign",
            "updated in the direction of the gradient",
            "The gradient points uphill: the direction that makes the loss grow. Gradient descent "
            "steps against it, p.data -= lr * p.grad; with += the loss climbs.",
            "training-loop",
            "Training screen: rerun with the 'ascend' bug on and watch the loss rise.",
        ),
        Misconception(
            "forgot-seed",
            "forgot to seed the output gradient with 1",
            "Backpropagation starts from d(L)/d(L) = 1. Every other gradient is that 1 multiplied "
            "by local derivatives; if the output's grad stays 0, every gradient comes out 0.",
            "backprop-by-hand",
            "Debugger: the first step sets the output's grad to 1.0 before any rule runs.",
        ),
        Misconception(
            "wrong-backward-order",
            "ran the backward rules in the wrong order",
            "A node may pass its gradient down only after every node that uses it has added its "
            "share. Reverse topological order guarantees that; any other order can pass on an "
            "incomplete gradient.",
            "topological-order",
            "Debugger: the highlighted node walks the reverse topological order; see which nodes "
            "have finished before a reused value passes its grad on.",
        ),
        Misconception(
            "lr-too-high",
            "a learning rate so high the loss explodes",
            "A step of lr × gradient only helps while the loss is close to a straight line over "
            "that distance. Too large a step overshoots the valley, and the loss grows until it "
            "becomes inf.",
            "learning-rate",
            "Training screen: rerun with a learning rate 10 or 100 times larger and watch the curve.",
        ),
        Misconception(
            "equal-init",
            "initialised all weights to the same value",
            "Neurons that start equal get equal gradients and stay equal forever: a layer of them "
            "is no better than one neuron. Random initialisation breaks that symmetry.",
            "mlp",
            "Debugger on a small layer: with equal weights every neuron's weights get the same grad.",
        ),
        Misconception(
            "zero-grad-after-backward",
            "zeroed the gradients after backward, before the update",
            "zero_grad between backward and the update wipes the gradients just computed, so the "
            "update moves nothing and the model never learns.",
            "training-loop",
            "Order quiz: the real run of that loop shows the loss standing still.",
        ),
        Misconception(
            "update-before-backward",
            "updated before backward computed the gradients",
            "The update uses p.grad, which is only filled in by backward. Updating first uses "
            "gradients that are zero or left over from the step before.",
            "training-loop",
            "Order quiz: the real run of that loop shows what the stale gradients do to the loss.",
        ),
        Misconception(
            "rule-wrong-sign",
            "flipped the sign in a backward rule",
            "Each rule adds local derivative × upstream gradient. A minus sign that is not in the "
            "derivative sends the gradient the wrong way, and every value below it inherits the error.",
            "local-rules",
            "Debugger: press g (gradient check); the numeric gradient has the opposite sign.",
        ),
        Misconception(
            "wrong-operand",
            "used the wrong value in a rule",
            "Each rule needs specific values: the operands' data for the local derivative and "
            "out.grad for the upstream gradient. Mixing up data and grad, or one operand for "
            "another, gives a number with no meaning.",
            "local-rules",
            "Debugger: the inspector shows which values the rule that ran used.",
        ),
        Misconception(
            "forgot-learning-rate",
            "updated without the learning rate",
            "p.data -= p.grad takes a step as long as the whole gradient. The learning rate scales "
            "it down to a small step, where the gradient's straight-line picture still holds.",
            "training-loop",
            "Training screen: a learning rate of 1.0 is what this line does; compare the curves.",
        ),
    ]


CATALOGUE: dict[str, Misconception] = {m.tag: m for m in _entries()}


# Built-in tags that were merged into another: a lesson may still use the old name, and answers
# stored under it count under the new one (`current`, applied as the progress store reads them).
RENAMED: Mapping[str, str] = types.MappingProxyType(
    {"tanh-on-input": "derivative-at-input"}  # tanh's case of the one mistake, for every op
)


def current(tag: str) -> str:
    """The tag's name today: the new name of a merged built-in tag, else the tag itself."""
    return RENAMED.get(tag, tag)


def describe(tag: str, extra: Mapping[str, Misconception] | None = None) -> Misconception | None:
    """The entry for ``tag``: one a teacher declared (``extra``, else those in effect), else
    the built-in catalogue's (under its current name); None for a tag neither knows."""
    found = (extra if extra is not None else _declared.get()).get(tag)
    return found if found is not None else CATALOGUE.get(current(tag))


# ------------------------------------------------------------------------ a teacher's own

_NONE_DECLARED: Mapping[str, Misconception] = types.MappingProxyType({})
_declared: contextvars.ContextVar[Mapping[str, Misconception]] = contextvars.ContextVar(
    "declared_misconceptions", default=_NONE_DECLARED
)


@contextlib.contextmanager
def declared(extra: Mapping[str, Misconception]) -> Iterator[None]:
    """While reading one lesson's blocks: its (and its course's) declared tags are known."""
    token = _declared.set(types.MappingProxyType(dict(extra)))
    try:
        yield
    finally:
        _declared.reset(token)


def known() -> dict[str, Misconception]:
    """Every tag a quiz may use right now: the built-in catalogue (old names of merged tags
    too) and the declared ones."""
    return {**CATALOGUE, **{old: CATALOGUE[new] for old, new in RENAMED.items()}, **_declared.get()}


def in_effect() -> dict[str, Misconception]:
    """The declared tags in effect (not the built-in ones)."""
    return dict(_declared.get())


_TAG_RE = re.compile(r"[a-z0-9-]+\Z")
MAX_DECLARED = 100


def _tag_name(value: str) -> str | None:
    if not _TAG_RE.match(value) or len(value) > 64:
        return f'a tag may hold only lowercase letters, digits and dashes (at most 64), e.g. "mixed-up-axes", not {value!r}'
    if value in CATALOGUE or value in RENAMED:
        return f"{value!r} is a built-in tag: use it without declaring it, or give yours another name"
    return None


def _declaration_table():
    from tutor.schema import Key, Table  # the schema module imports nothing of ours

    return Table(
        "a [[misconceptions]] table",
        (
            Key("tag", "str", 'the tag\'s name, e.g. "mixed-up-axes"', required=True, check=_tag_name),
            Key("title", "str", 'a few words, shown as "Mistake: <title>."', required=True),
            Key("explanation", "str", "two or three sentences: what the mistake is and why", required=True),
            Key("see", "str", 'where to see it for yourself, shown after "See it:"', default=""),
        ),
    )


DECLARATION = _declaration_table()


def read_declared(tables, issues, path=("misconceptions",), source: str = "") -> dict[str, Misconception]:
    """The misconceptions ``[[misconceptions]]`` tables declare (already read by a schema Table
    whose key holds :data:`DECLARATION`, or raw), each problem into ``issues``."""
    out: dict[str, Misconception] = {}
    for i, table in enumerate(tables or []):
        if i >= MAX_DECLARED:
            issues.add([*path, str(i)], f"at most {MAX_DECLARED} misconceptions may be declared in one place")
            break
        values = DECLARATION.read(table, issues, (*path, str(i))) if table is not None else None
        if not values or not {"tag", "title", "explanation"} <= set(values):
            continue
        tag = values["tag"]
        if tag in out:
            issues.add([*path, str(i), "tag"], f"the tag {tag!r} is declared twice; each needs its own name")
            continue
        for key in ("title", "explanation"):
            if not values[key].strip():
                issues.add([*path, str(i), key], f"'{key}' must not be empty")
        out[tag] = Misconception(
            tag,
            values["title"].strip(),
            values["explanation"].strip(),
            "",
            values.get("see", "").strip(),
            source,
        )
    return out


def feedback_for(tags: list[str]) -> str:
    """A plain paragraph per tag: the title, what it means, and where to see it."""
    parts = []
    for tag in tags:
        m = describe(tag)
        if m is None:
            continue
        parts.append(f"Mistake: {m.title}. {m.explanation}\nSee it: {m.debugger_hint}")
    return "\n\n".join(parts)
