"""``order``: the steps of a training loop put in order (distractor lines allowed); a wrong order
is run for real on a small network to show what it does."""

from __future__ import annotations

import functools
import math
import random
import re
import zlib
from dataclasses import dataclass, field

from engine.numfmt import fmt
from tutor.quiz.common import MAX_ANSWER_CHARS, Quiz, Verdict, parse_indices, quiz_table, tag_key, unreadable
from tutor.schema import Issue, Issues, Key, Table, show

KIND = "order"
ROLES = ("forward", "loss", "zero_grad", "backward", "update")
MAX_LINES = 9


@dataclass(frozen=True)
class Run:
    """The real training run a wrong order is shown on: MLP(3, [*hidden, 1]) on the seeds' four
    samples, plain SGD with ``lr``, ``steps`` steps, weights drawn with ``seed``."""

    hidden: tuple[int, ...] = (4, 4)
    lr: float = 0.1
    steps: int = 30
    seed: int = 3

    def describe(self) -> str:
        layers = ", ".join(str(n) for n in (*self.hidden, 1))
        return f"MLP(3, [{layers}]) on the seeds' four samples, lr {fmt(self.lr)}, {self.steps} steps"


# The default shows each diagnosed order's mistake: without zero_grad the piled-up gradients
# throw the net into tanh's flat tails (loss 8.0, the right order 0.0104); lr 0.05 with seed 1,
# the old default, let the run without zero_grad end *lower* than the right one.
DEFAULT_RUN = Run()
MAX_HIDDEN_LAYERS = 3
MAX_HIDDEN_WIDTH = 8
MAX_RUN_STEPS = 100


def _hidden_problem(value) -> str | None:
    if (
        not value
        or len(value) > MAX_HIDDEN_LAYERS
        or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_HIDDEN_WIDTH for n in value
        )
    ):
        return (
            f"must be 1 to {MAX_HIDDEN_LAYERS} layer sizes, each a whole number from 1 to "
            f"{MAX_HIDDEN_WIDTH}, like [4, 4]"
        )
    return None


RUN = Table(
    "run",
    (
        Key("hidden", "list", "the hidden layers' sizes, like [4, 4]", check=_hidden_problem),
        Key("lr", "number", "a learning rate above 0 and at most 1, like 0.1", lo=0.0, hi=1.0, above=True),
        Key("steps", "int", f"a whole number of steps from 1 to {MAX_RUN_STEPS}", lo=1, hi=MAX_RUN_STEPS),
        Key("seed", "int", "a whole number from 0 to 1000000", lo=0, hi=1_000_000),
    ),
)

STEPS = Table(
    "a [[steps]] table",
    (
        Key("text", "str", "the line as the learner sees it", required=True),
        Key("role", "str", "what the step does", required=True, choices=ROLES),
    ),
)
DISTRACTORS = Table(
    "a [[distractors]] table",
    (
        Key("text", "str", "the line as the learner sees it", required=True),
        Key("feedback", "str", "why this line does not belong", required=True),
        tag_key(),
    ),
)
TABLE = quiz_table(
    KIND,
    (
        Key(
            "steps",
            "tables",
            "the loop's steps in the right order, each with text and role",
            required=True,
            example="[[steps]] tables, in the right order, each with text and role",
            table=STEPS,
        ),
        Key("distractors", "tables", "lines that do not belong", table=DISTRACTORS),
        Key(
            "run",
            "any",
            "true, false, or a table { hidden = [4, 4], lr = 0.1, steps = 30, seed = 3 }",
            default=True,
        ),
    ),
)


@dataclass(frozen=True)
class Item:
    """One line of an order question: a real step (with its role) or a distractor."""

    text: str
    role: str | None  # one of ROLES, or None for a distractor
    feedback: str = ""
    tag: str | None = None


@dataclass
class OrderQuiz(Quiz):
    kind = KIND
    answer_types = (str, list)

    steps: list[Item] = field(default_factory=list)  # the right order
    items: list[Item] = field(default_factory=list)  # every line, in the order they are shown
    run: Run | None = DEFAULT_RUN  # None: no run is shown

    @property
    def answer_help(self) -> str:
        return "put the steps in order; leave out lines that do not belong"

    def solution(self) -> str:
        return "The loop in order:\n" + "\n".join(f"{i}. {s.text}" for i, s in enumerate(self.steps, 1))

    def grade(self, answer) -> Verdict:
        order = self._read(answer)
        if isinstance(order, str):
            return unreadable(order)
        if not order:
            return Verdict(False, [], "Choose the lines of the loop, in order.", "unreadable")
        tags: list[str] = []
        notes: list[str] = []
        for i in order:
            item = self.items[i]
            if item.role is None:
                notes.append(f"'{item.text}' does not belong in the loop: {item.feedback.rstrip('.')}")
                if item.tag:
                    tags.append(item.tag)
        used = {self.items[i].text for i in order}
        missing = [s for s in self.steps if s.text not in used]
        if any(s.role == "zero_grad" for s in missing):
            tags.append("forgot-zero-grad")
            notes.append("there is no zero_grad: the gradients of every step pile up on the ones before")
        others = [s for s in missing if s.role != "zero_grad"]
        if others:
            notes.append("the loop also needs " + ", ".join(f"'{s.text}'" for s in others))
        for tag, note in order_problems(order, self.items):
            if tag:
                tags.append(tag)
            notes.append(note)
        if not notes:
            message = "Right: forward, loss, backward, update, with zero_grad before backward."
            if [self.items[i].role for i in order] != [s.role for s in self.steps]:
                message = (
                    "Right. Your order differs from the usual one but does the same: zero_grad anywhere "
                    "outside backward → update works, because the gradients start at 0."
                )
            return Verdict(True, [], message, "right")
        feedback = "Not quite: " + "; ".join(notes) + "."
        if (
            self.run is not None
            and not others
            and not any(self.items[i].role is None for i in order)
            and tags
        ):
            summary = _run_summary(
                tuple(self.items[i].role for i in order), tuple(s.role for s in self.steps), self.run
            )
            if summary:
                feedback += "\n\n" + summary
        return Verdict(False, list(dict.fromkeys(tags)), feedback, "wrong")

    def _read(self, answer) -> list[int] | str:
        """Indices into items, from texts, roles, 1-based numbers, or text like "3,1,2"."""
        n = len(self.items)
        if isinstance(answer, str):
            if len(answer) > MAX_ANSWER_CHARS:
                return f"that answer is {len(answer):,} characters long; enter step numbers like 3,1,2"
            if re.fullmatch(r"[\s\d,;]*", answer):
                numbers = parse_indices(answer, n, "line")
                return numbers if isinstance(numbers, str) else [k - 1 for k in numbers]
            answer = [line for line in answer.splitlines() if line.strip()]
        if not isinstance(answer, (list, tuple)):
            return "enter the lines in order, or their numbers like 3,1,2"
        out = []
        for part in answer:
            if isinstance(part, int) and not isinstance(part, bool):
                if not 1 <= part <= n:
                    return f"there is no line {part}: they are numbered 1 to {n}"
                out.append(part - 1)
                continue
            if not isinstance(part, str):
                return "enter the lines in order, or their numbers like 3,1,2"
            text = part.strip()
            index = next((i for i, it in enumerate(self.items) if it.text == text), None)
            if index is None:
                by_role = [i for i, it in enumerate(self.items) if it.role == text]
                if len(by_role) == 1:
                    index = by_role[0]
            if index is None and text.isascii() and text.isdigit() and 1 <= int(text) <= n:
                index = int(text) - 1
            if index is None:
                shown = text if len(text) <= 40 else text[:40] + "…"
                return f"{shown!r} is not one of the lines"
            out.append(index)
        if len(set(out)) != len(out):
            return "each line may appear only once"
        return out


def order_problems(order: list[int], items: list[Item]) -> list[tuple[str | None, str]]:
    """(tag, message) for each way the roles in ``order`` break the training loop."""
    roles = [items[i].role for i in order if items[i].role]
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for pos, role in enumerate(roles):
        first.setdefault(role, pos)
        last[role] = pos
    problems = []
    if "forward" in first and "loss" in first and first["loss"] < last["forward"]:
        problems.append((None, "the loss is computed from the predictions, so the forward pass comes first"))
    if "loss" in first and "backward" in first and first["backward"] < last["loss"]:
        problems.append((None, "backward starts from the loss, so the loss must be computed before it"))
    if "backward" in first and "update" in first and first["update"] < last["backward"]:
        problems.append(
            (
                "update-before-backward",
                "the update comes before backward, so it uses gradients that are zero or left over "
                "from the step before",
            )
        )
    if "zero_grad" in first and "backward" in first and "update" in first:
        for pos, role in enumerate(roles):
            if role == "zero_grad" and first["backward"] < pos < first["update"]:
                problems.append(
                    (
                        "zero-grad-after-backward",
                        "zero_grad between backward and the update wipes the fresh gradients "
                        "before they are used",
                    )
                )
                break
    return problems


def build(config: dict, values: dict, common: dict, issues: Issues) -> OrderQuiz:
    quiz = OrderQuiz(**common, run=_read_run(values.get("run", True), issues))
    if "steps" not in values or issues.under(["steps"]):
        return quiz
    quiz.steps = [Item(t["text"].strip(), t["role"]) for t in values["steps"]]
    roles = [s.role for s in quiz.steps]
    missing = [role for role in ("forward", "loss", "backward", "update") if role not in roles]
    for role in missing:
        issues.add(["steps"], f"the loop has no step with role = {role!r}")
    if not missing and order_problems(list(range(len(quiz.steps))), quiz.steps):
        issues.add(
            ["steps"], "the steps are not in a right order (forward, loss, zero_grad, backward, update)"
        )
    distractors = [
        Item(t["text"].strip(), None, t["feedback"].strip(), t.get("tag"))
        for t in values.get("distractors") or []
        if "text" in t and "feedback" in t
    ]
    texts = [it.text for it in quiz.steps + distractors]
    twice = sorted({t for i, t in enumerate(texts) if texts.index(t) != i})
    for text in twice:
        issues.add(["steps"], f"two lines have the same text {text!r}; make each line different")
    if len(texts) > MAX_LINES:
        issues.add(["steps"], "give at most nine lines in all (steps and distractors)")
    quiz.items = _shuffled(quiz.steps + distractors)
    if quiz.run is not None and not issues:
        quiz.warnings = _contradictions(tuple(s.role for s in quiz.steps), quiz.run)
    return quiz


def _read_run(value, issues: Issues) -> Run | None:
    if isinstance(value, bool):
        return DEFAULT_RUN if value else None
    if not isinstance(value, dict):
        issues.add(
            ["run"], f"must be true, false or a table like {{ lr = 0.1, steps = 30 }}, not {show(value)}"
        )
        return None
    before = len(issues)
    read = RUN.read(value, issues, ("run",))
    if len(issues) > before:
        return None
    return Run(
        hidden=tuple(read.get("hidden", DEFAULT_RUN.hidden)),
        lr=read.get("lr", DEFAULT_RUN.lr),
        steps=read.get("steps", DEFAULT_RUN.steps),
        seed=read.get("seed", DEFAULT_RUN.seed),
    )


def _contradictions(right: tuple[str, ...], run: Run) -> list[Issue]:
    """The run shown for a loop without zero_grad must not learn better than the right loop:
    the feedback says its gradients pile up."""
    without = tuple(r for r in right if r != "zero_grad")
    try:
        good, _, _ = _run_roles(right, run)
        mine, _, stopped = _run_roles(without, run)
    except Exception:  # the engine cannot run it: the quiz then shows no run (see _run_summary)
        return []
    if stopped or not (mine[-1] <= good[-1]):
        return []
    return [
        Issue(
            ("run",),
            f"in this run ({run.describe()}) the loop without zero_grad ends at a lower loss "
            f"({fmt(mine[-1])}) than the right loop ({fmt(good[-1])}), which contradicts the "
            "feedback a learner gets; choose another run, e.g. run = { lr = 0.1, seed = 3 }",
        )
    ]


def _shuffled(items: list[Item]) -> list[Item]:
    """The lines in a scrambled order that is the same every time (seeded by their text)."""
    rng = random.Random(zlib.crc32("\n".join(i.text for i in items).encode()))
    out = list(items)
    rng.shuffle(out)
    if out == items and len(out) > 1:
        out = out[1:] + out[:1]
    return out


@functools.lru_cache(maxsize=32)
def _run_roles(roles: tuple[str, ...], run: Run = DEFAULT_RUN) -> tuple[list[float], float, str | None]:
    """Train ``run``'s network on the seeds' four samples doing ``roles`` in that order each step.

    Returns the loss after each step, the size of the gradient at the end, and a reason if the
    loss stopped being finite. This is a real run of the engine, nothing is canned.
    """
    from engine.data import seeds
    from engine.losses import sse
    from engine.nn import MLP

    model, data = MLP(3, [*run.hidden, 1], seed=run.seed), seeds()
    params = model.parameters()
    losses: list[float] = []
    predictions = loss = None
    for step in range(1, run.steps + 1):
        for role in roles:
            if role == "forward":
                predictions = [model(x) for x in data.xs]
            elif role == "loss":
                loss = sse(predictions, data.ys)
            elif role == "zero_grad":
                for p in params:
                    p.grad = 0.0
            elif role == "backward":
                loss.backward()
            elif role == "update":
                for p in params:
                    p.data -= run.lr * p.grad
        losses.append(loss.data)
        if not math.isfinite(loss.data):
            return losses, math.nan, f"the loss became {loss.data} at step {step}"
    norm = math.sqrt(sum(p.grad**2 for p in params))
    return losses, norm, None


def _run_summary(roles: tuple[str, ...], right: tuple[str, ...], run: Run = DEFAULT_RUN) -> str:
    try:
        mine, mine_norm, stopped = _run_roles(roles, run)
        good, good_norm, _ = _run_roles(right, run)
    except Exception:  # the engine is not there or cannot run this: say nothing rather than crash
        return ""
    head = f"What this order does, for real ({run.describe()}):"
    if stopped:
        yours = f"  your order:  {stopped}"
    else:
        yours = (
            f"  your order:  loss {fmt(mine[0])} → {fmt(mine[-1])}, gradient size at the end {fmt(mine_norm)}"
        )
    ours = f"  right order: loss {fmt(good[0])} → {fmt(good[-1])}, gradient size at the end {fmt(good_norm)}"
    lines = [head, yours, ours]
    if not stopped and all(x == mine[0] for x in mine):
        lines.append("The loss never moves: the updates never see a gradient.")
    elif not stopped and mine_norm > 5 * max(good_norm, 1e-12):
        lines.append(
            "The gradients pile up: they stay large where the loss is flat, so they no longer "
            "say which way is downhill."
        )
    elif not stopped and roles.index("update") < roles.index("backward") and mine[-1] < mine[0]:
        lines.append(
            "It still learns here, one step late: each update uses the gradient of the "
            "weights as they were a step before, not as they are now."
        )
    return "\n".join(lines)
