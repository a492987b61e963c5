"""The built-in course: the path in order, quizzes that catch every misconception, and every number
the prose states computed by the engine.

`NUMBERS` is the heart of this file: one row per number a lesson states, as
(lesson id, the text quoted from the lesson, the number as the lesson writes it, how the engine
gets it). Each row asserts that the quote appears in the lesson file *and* that the engine's value
rounds to the number as written. Change a lesson's wording or the engine's arithmetic, and the row
that no longer agrees says which.

Training runs are cached per config, so each distinct run happens once per test session. The moons
demo (about a minute on its own) has its own single test at the bottom.
"""

from __future__ import annotations

import copy
import functools
import math
import struct
import sys
from decimal import Decimal

import pytest

from engine.expr import parse_program, run_program
from engine.losses import sse
from engine.mistakes import backward_overwriting
from engine.nn import MLP
from engine.optim import learning_rate
from engine.stepper import Stepper
from engine.train import MOONS_DEMO_TASK, SEEDS_TASK, Task, Trainer, TrainingStopped
from engine.value import Value, topological_order
from tutor.lessons import builtin_lessons_dir, load_catalog, read_task
from tutor.misconceptions import CATALOGUE
from tutor.quiz import check_examples, grade

PATH = [
    # (id, section)
    ("derivative", "Foundations"),
    ("values", "Foundations"),
    ("backprop-by-hand", "Foundations"),
    ("local-rules", "Foundations"),
    ("neuron", "Backprop"),
    ("reuse-and-accumulation", "Backprop"),
    ("topological-order", "Backprop"),
    ("mlp", "Networks"),
    ("training-loop", "Training"),
    ("zero-grad", "Training"),
    ("learning-rate", "Training"),
    ("activations-and-losses", "Beyond"),
    ("pytorch", "Beyond"),
    ("your-own-op", "Beyond"),
]


@functools.cache
def catalog():
    return load_catalog([builtin_lessons_dir()])


def lesson(lesson_id):
    found = catalog().get(lesson_id)
    assert found is not None, f"no built-in lesson {lesson_id!r}"
    return found


@functools.cache
def text_of(lesson_id) -> str:
    return lesson(lesson_id).path.read_text(encoding="utf-8")


def blocks(lesson_id, kind):
    return [b for b in lesson(lesson_id).blocks if b.kind == kind]


def quizzes(lesson_id):
    found = [b.quiz for b in blocks(lesson_id, "quiz")]  # each block carries its parsed quiz
    assert all(q is not None and q.kind == b.config["kind"] for q, b in zip(found, blocks(lesson_id, "quiz")))
    return found


def all_quizzes():
    return [(lid, q) for lid, _ in PATH for q in quizzes(lid)]


# ----------------------------------------------------------------------------- the path


def test_the_course_is_the_fourteen_lessons_in_path_order():
    cat = catalog()
    assert [str(p) for p in cat.problems] == []
    assert [(l.id, l.section) for l in cat.lessons] == PATH
    assert [l.order for l in cat.lessons] == [10 * (i + 1) for i in range(len(PATH))]
    sections = [name for name, _ in cat.sections()]
    assert sections == ["Foundations", "Backprop", "Networks", "Training", "Beyond"]


def test_prerequisites_only_point_back_along_the_path():
    ids = [lid for lid, _ in PATH]
    for i, lid in enumerate(ids):
        pre = lesson(lid).prerequisites
        assert all(p in ids[:i] for p in pre), (lid, pre)
        if i:
            assert pre, f"{lid} should name the lesson before it as a prerequisite"


def test_every_lesson_has_a_quiz_and_interactive_work_to_do():
    for lid, _ in PATH:
        assert quizzes(lid), f"{lid} has no quiz"
        others = blocks(lid, "debugger") + blocks(lid, "train") + blocks(lid, "pytorch")
        others += [b for b in blocks(lid, "exercise") if b.exercise.train is not None]  # an op trained
        assert others, f"{lid} has no debugger, train or pytorch block, nor an own op that trains"


def test_every_quiz_lists_a_right_answer_and_passes_its_examples():
    for lid, quiz in all_quizzes():
        assert any(ex.verdict == "right" for ex in quiz.examples), (lid, quiz.prompt)
        assert check_examples(quiz) == [], (lid, quiz.prompt)


def test_every_tag_a_quiz_declares_is_hit_by_one_of_its_examples():
    """'Built-in quizzes always list a right answer and each tagged wrong answer.'"""
    for lid, quiz in all_quizzes():
        declared = {w.tag for w in quiz.wrong if w.tag}
        declared |= {o.tag for o in quiz.options if o.tag and not o.correct}
        declared |= {i.tag for i in quiz.items if i.role is None and i.tag}
        hit = {t for ex in quiz.examples for t in grade(quiz, ex.answer).tags}
        assert declared <= hit, (lid, quiz.prompt, declared - hit)


def test_every_misconception_in_the_catalogue_is_caught_somewhere_in_the_course():
    """By a quiz's example, or by an exercise's wrong rule as grading names it (the examples a
    rule exercise lists are graded as the screen grades a learner's rule)."""
    from tutor.own_op import grade_own_op
    from tutor.rule_grade import grade_rule

    caught = {}
    for lid, quiz in all_quizzes():
        for ex in quiz.examples:
            verdict = grade(quiz, ex.answer)
            if not verdict.correct:
                for tag in verdict.tags:
                    caught.setdefault(tag, lid)
    for lid, _ in PATH:
        for block in blocks(lid, "exercise"):
            exercise = block.exercise
            for ex in exercise.examples:
                if exercise.is_own:
                    verdict = grade_own_op(exercise.own, ex.forward, ex.rule)
                else:
                    verdict = grade_rule(ex.rule, exercise.op, exercise.program)
                if not verdict.correct:
                    for tag in verdict.tags:
                        caught.setdefault(tag, lid)
    assert set(CATALOGUE) - set(caught) == set()


def test_the_catalogue_sends_learners_to_lessons_that_exist():
    ids = {lid for lid, _ in PATH}
    for tag, m in CATALOGUE.items():
        assert m.lesson_id in ids, (tag, m.lesson_id)


def test_code_and_tables_fit_an_80_column_terminal():
    """Prose is re-wrapped on screen; code fences and table rows are not."""
    for lid, _ in PATH:
        for block in lesson(lid).blocks:
            lines = block.text.splitlines()
            if block.kind == "code":
                too_wide = [l for l in lines if len(l) > 66]
            elif block.kind == "markdown":
                too_wide = [l for l in lines if len(l) > 76 and (l.startswith("|") or l.startswith("    "))]
            else:
                continue
            assert too_wide == [], (lid, too_wide)


# ----------------------------------------------------------------------------- blocks


def test_train_blocks_are_the_tasks_the_course_promises():
    (seeds,) = blocks("training-loop", "train")
    assert read_task(seeds.config) == read_task(SEEDS_TASK)
    (moons,) = blocks("activations-and-losses", "train")
    assert read_task(moons.config) == read_task(MOONS_DEMO_TASK)
    (bug,) = blocks("zero-grad", "train")
    assert read_task(bug.config).mistake == "no_zero_grad"
    small, explodes, decays = (read_task(b.config) for b in blocks("learning-rate", "train"))
    assert (small.optimiser.lr, small.model.linear_output) == (0.01, False)
    assert (explodes.optimiser.lr, explodes.model.linear_output, explodes.optimiser.decay) == (
        0.1,
        True,
        "none",
    )
    assert decays == Task(
        explodes.model,
        explodes.data,
        explodes.loss,
        type(explodes.optimiser)("sgd", 0.1, "linear"),
        explodes.steps,
    )


def test_every_debugger_block_builds_and_can_be_stepped_to_the_end():
    for lid, _ in PATH:
        for block in blocks(lid, "debugger"):
            graph = parse_program(block.config["program"]).build()
            stepper = Stepper(graph.output)
            stepper.run_to_end()
            assert stepper.done and graph.output.grad == 1.0


def debugger_graph(lesson_id, index=0, mistake=None):
    """The graph of a lesson's debugger block after a full backward pass: name -> Value."""
    block = blocks(lesson_id, "debugger")[index]
    graph = parse_program(block.config["program"]).build()
    if mistake == "overwrite":
        backward_overwriting(graph.output)
    else:
        graph.output.backward()
    return graph.values


def grad(lesson_id, name, index=0, mistake=None):
    return debugger_graph(lesson_id, index, mistake)[name].grad


def data(lesson_id, name, index=0):
    return debugger_graph(lesson_id, index)[name].data


def program(text, mistake=None):
    graph = run_program(text)
    if mistake == "overwrite":
        backward_overwriting(graph.output)
    else:
        graph.output.backward()
    return graph.values


def quiz_answer(lesson_id, index):
    return quizzes(lesson_id)[index].answer


# ----------------------------------------------------------------------------- engine runs


@functools.cache
def _run(config_key, mistake):
    """Every StepReport of a run, its final (loss, accuracy), its trainer, and why it stopped."""
    config = _thaw(config_key)
    trainer = Trainer(read_task(config), mistake)
    reports, stopped = [], None
    try:
        for report in trainer.run():
            reports.append(report)
    except TrainingStopped as err:
        stopped = err.reason
    return reports, trainer, stopped


def _freeze(obj):
    if isinstance(obj, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in obj.items()))
    if isinstance(obj, list):
        return ("__list__",) + tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj):
    if isinstance(obj, tuple) and obj and obj[0] == "__list__":
        return [_thaw(v) for v in obj[1:]]
    if isinstance(obj, tuple):
        return {k: _thaw(v) for k, v in obj}
    return obj


def run(config, mistake=None):
    return _run(_freeze(config), mistake)


def reports(config, mistake=None):
    return run(config, mistake)[0]


def loss_at(config, step, mistake=None):
    return reports(config, mistake)[step - 1].loss


def seeds(lr=0.1, linear_output=False, decay="none"):
    config = copy.deepcopy(SEEDS_TASK)
    config["optimiser"].update(lr=lr, decay=decay)
    config["model"]["linear_output"] = linear_output
    return config


def train_block(lesson_id, index=0):
    return blocks(lesson_id, "train")[index].config


def max_weight(config, mistake=None):
    trainer = run(config, mistake)[1]
    return max(abs(p.data) for p in trainer.model.parameters())


def predictions(config, mistake=None):
    trainer = run(config, mistake)[1]
    return [trainer.predict(x) for x in trainer.data.xs]


def f(x):
    return 3 * x**2 - 4 * x + 5


def slope(h, x=3.0):
    return (f(x + h) - f(x)) / h


def x_squared_descent(lr, steps=3, x=1.0):
    """Gradient descent on loss = x**2 with the engine: x after each step."""
    p = Value(x)
    seen = []
    for _ in range(steps):
        loss = p**2
        p.grad = 0.0
        loss.backward()
        p.data -= lr * p.grad
        seen.append(p.data)
    return seen


def naive_first_visit(text):
    """Backward that runs each rule the first time a walk from the output reaches it."""
    graph = run_program(text)
    graph.output.grad = 1.0
    seen = set()

    def walk(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        node._backward()
        for child in node._prev:
            walk(child)

    walk(graph.output)
    return graph.values


def naive_every_visit(text):
    """Backward that runs a rule every time the walk reaches the node, once per arrow."""
    graph = run_program(text)
    graph.output.grad = 1.0

    def walk(node):
        node._backward()
        for child in node._prev:
            walk(child)

    walk(graph.output)
    return graph.values


def two_backward_passes(text, name):
    graph = run_program(text)
    graph.output.backward()
    graph.output.backward()
    return graph.values[name].grad


def float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def stepper_of(lesson_id, index=0):
    block = blocks(lesson_id, "debugger")[index]
    graph = parse_program(block.config["program"]).build()
    return graph, Stepper(graph.output)


SEEDS_L = "a = 2; b = -3; c = 10; f = -2; e = a * b; d = e + c; L = d * f"
TOPO = "x = 2; y = x * x; s = y * y; L = y + s"
PATHS = "a = -2; b = 3; d = a * b; e = a + b; f = d * e"


def moons40():
    return train_block("zero-grad")


def moons40_correct():
    config = copy.deepcopy(moons40())
    config.pop("mistake")
    return config


# (lesson id, quoted text, the number as written in the quote, the engine's computation)
NUMBERS = [
    # 1 derivative
    ("derivative", "At `x = 3` it gives `3·9 - 12 + 5 = 20`", "20", lambda: data("derivative", "fx")),
    ("derivative", "rise = f(x + h) - f(x)     # about 0.0014", "0.0014", lambda: f(3.0001) - f(3)),
    ("derivative", "print(rise / h)            # about 14.0003", "14.0003", lambda: slope(1e-4)),
    ("derivative", "| 1      | 17   ", "17", lambda: slope(1)),
    ("derivative", "| 0.1    | 14.3 ", "14.3", lambda: slope(0.1)),
    ("derivative", "| 0.01   | 14.03 ", "14.03", lambda: slope(0.01)),
    ("derivative", "| 0.001  | 14.003 ", "14.003", lambda: slope(0.001)),
    ("derivative", "| 0.0001 | 14.0003 ", "14.0003", lambda: slope(0.0001)),
    ("derivative", "`6·3 - 4 = 14`", "14", lambda: grad("derivative", "x")),
    ("derivative", "the estimate comes out near 10.7", "10.7", lambda: slope(1e-15)),
    ("derivative", 'the nudge vanishes\nentirely and the "slope" is 0', "0", lambda: slope(1e-16)),
    (
        "derivative",
        "A computer stores about 16\nsignificant digits",
        "16",
        lambda: sys.float_info.mant_dig * math.log10(2),
    ),
    ("derivative", "`f(2.99) ≈ 19.86`", "19.86", lambda: f(2.99)),
    (
        "derivative",
        "the slope is `6·0 - 4 = -4`",
        "-4",
        lambda: program("x = 0; fx = 3 * x**2 - 4 * x + 5")["x"].grad,
    ),
    (
        "derivative",
        "At `x = 2/3` the slope is `0`",
        "0",
        lambda: program("x = 0.6666666666666666; fx = 3 * x**2 - 4 * x + 5")["x"].grad,
    ),
    ("derivative", "The engine lands on exactly `14`", "14", lambda: grad("derivative", "x")),
    # 2 values
    ("values", "`d` is simply `4`", "4", lambda: 2 * -3 + 10),
    ("values", "e = a * b    # e.data == -6.0", "-6.0", lambda: program(SEEDS_L)["e"].data),
    ("values", "d = e + c    # d.data == 4.0", "4.0", lambda: program(SEEDS_L)["d"].data),
    ("values", "`b` is used three times, so it carries the mark `↺3`", "3", lambda: _uses_of_b()),
    ("values", 'answer = "-8"', "-8", lambda: quiz_answer("values", 1)),
    # 3 backprop by hand
    ("backprop-by-hand", "e = a * b          # -6", "-6", lambda: data("backprop-by-hand", "e")),
    ("backprop-by-hand", "d = e + c          #  4", "4", lambda: data("backprop-by-hand", "d")),
    ("backprop-by-hand", "L = d * f          # -8", "-8", lambda: data("backprop-by-hand", "L")),
    (
        "backprop-by-hand",
        "| `d`   | multiply: the other is `f` | `-2 × 1`         | -2",
        "-2",
        lambda: grad("backprop-by-hand", "d"),
    ),
    (
        "backprop-by-hand",
        "| `f`   | multiply: the other is `d` | `4 × 1`          | 4",
        "4",
        lambda: grad("backprop-by-hand", "f"),
    ),
    (
        "backprop-by-hand",
        "| `e`   | add: pass it along         | `d.grad`         | -2",
        "-2",
        lambda: grad("backprop-by-hand", "e"),
    ),
    (
        "backprop-by-hand",
        "| `c`   | add: pass it along         | `d.grad`         | -2",
        "-2",
        lambda: grad("backprop-by-hand", "c"),
    ),
    (
        "backprop-by-hand",
        "| `a`   | multiply: the other is `b` | `-3 × -2`        | 6",
        "6",
        lambda: grad("backprop-by-hand", "a"),
    ),
    (
        "backprop-by-hand",
        "| `b`   | multiply: the other is `a` | `2 × -2`         | -4",
        "-4",
        lambda: grad("backprop-by-hand", "b"),
    ),
    ("backprop-by-hand", "raise `a` by 0.01 and `L` rises by about 0.06", "0.06", lambda: _nudge("a")),
    ("backprop-by-hand", "raise `b` by 0.01 and `L` *falls* by about 0.04", "0.04", lambda: -_nudge("b")),
    ("backprop-by-hand", "raise `c` by 0.01 and `L` falls by about 0.02", "0.02", lambda: -_nudge("c")),
    ("backprop-by-hand", "raise `f` by 0.01 and `L` rises by about 0.04", "0.04", lambda: _nudge("f")),
    ("backprop-by-hand", 'answer = "-4"', "-4", lambda: quiz_answer("backprop-by-hand", 0)),
    # 4 local rules
    (
        "local-rules",
        "For `x**3` at `x = 2` the value is 8",
        "8",
        lambda: program("x = 2; p = x**3")["p"].data,
    ),
    (
        "local-rules",
        "the local slope\n  is `3 · 2² = 12`",
        "12",
        lambda: program("x = 2; p = x**3")["x"].grad,
    ),
    (
        "local-rules",
        "at `a = 1`, both the value and the slope are\n  2.7183",
        "2.7183",
        lambda: program("a = 1; e = exp(a)")["a"].grad,
    ),
    (
        "local-rules",
        "at `a = 1`, both the value and the slope are\n  2.7183",
        "2.7183",
        lambda: program("a = 1; e = exp(a)")["e"].data,
    ),
    (
        "local-rules",
        "that is `0.3333` for `a`",
        "0.3333",
        lambda: program("a = 6; b = 3; q = a / b")["a"].grad,
    ),
    ("local-rules", "and `-0.6667` for `b`", "-0.6667", lambda: program("a = 6; b = 3; q = a / b")["b"].grad),
    ("local-rules", "so `x.grad = -18`", "-18", lambda: grad("local-rules", "x")),
    ("local-rules", "so `y.grad = -2.4731`", "-2.4731", lambda: grad("local-rules", "y")),
    ("local-rules", 'answer = "-12"', "-12", lambda: quiz_answer("local-rules", 2)),
    # 5 neuron
    ("neuron", "| 0.5 | 0.4621  | 0.7864 |", "0.4621", lambda: math.tanh(0.5)),
    ("neuron", "| 0.5 | 0.4621  | 0.7864 |", "0.7864", lambda: program("n = 0.5; o = tanh(n)")["n"].grad),
    ("neuron", "| 1   | 0.7616  | 0.42   |", "0.7616", lambda: math.tanh(1)),
    ("neuron", "| 1   | 0.7616  | 0.42   |", "0.42", lambda: program("n = 1; o = tanh(n)")["n"].grad),
    ("neuron", "| 2   | 0.964   | 0.0707 |", "0.964", lambda: math.tanh(2)),
    ("neuron", "| 2   | 0.964   | 0.0707 |", "0.0707", lambda: program("n = 2; o = tanh(n)")["n"].grad),
    ("neuron", "| 3   | 0.9951  | 0.0099 |", "0.9951", lambda: math.tanh(3)),
    ("neuron", "| 3   | 0.9951  | 0.0099 |", "0.0099", lambda: program("n = 3; o = tanh(n)")["n"].grad),
    ("neuron", "| 0   | 0       | 1      |", "1", lambda: program("n = 0; o = tanh(n)")["n"].grad),
    ("neuron", "makes `n` come out at 0.8814", "0.8814", lambda: data("neuron", "n")),
    ("neuron", "where `tanh` gives\n`o = 0.7071`", "0.7071", lambda: data("neuron", "o")),
    ("neuron", "`1 - o²` is one half, so `(1 - o²) × 1 = 0.5`", "0.5", lambda: 1 - data("neuron", "o") ** 2),
    ("neuron", "so `(1 - o²) × 1 = 0.5`", "0.5", lambda: grad("neuron", "n")),
    ("neuron", "`x1w1` and `x2w2` all receive 0.5", "0.5", lambda: grad("neuron", "x1w1")),
    ("neuron", "`x1w1` and `x2w2` all receive 0.5", "0.5", lambda: grad("neuron", "x2w2")),
    ("neuron", "`x1w1` and `x2w2` all receive 0.5", "0.5", lambda: grad("neuron", "b")),
    ("neuron", "`x1w1` and `x2w2` all receive 0.5", "0.5", lambda: grad("neuron", "s")),
    ("neuron", "`w1.grad = x1 × 0.5 = 1`", "1", lambda: grad("neuron", "w1")),
    ("neuron", "`x1.grad = w1 × 0.5 = -1.5`", "-1.5", lambda: grad("neuron", "x1")),
    ("neuron", "`w2.grad = x2 × 0.5 = 0`", "0", lambda: grad("neuron", "w2")),
    ("neuron", 'answer = "0.2232"', "0.2232", lambda: 1 - data("neuron", "n") ** 2),
    ("neuron", 'answer = "0.5"', "0.5", lambda: grad("neuron", "n")),
    # 6 reuse and accumulation
    ("reuse-and-accumulation", "so `b = 6`", "6", lambda: data("reuse-and-accumulation", "b")),
    (
        "reuse-and-accumulation",
        "so `b` moves by 0.02",
        "0.02",
        lambda: program("a = 3.01; b = a + a")["b"].data - data("reuse-and-accumulation", "b"),
    ),
    (
        "reuse-and-accumulation",
        "of `b` with respect to `a` is 2",
        "2",
        lambda: grad("reuse-and-accumulation", "a"),
    ),
    (
        "reuse-and-accumulation",
        "the two shares add up to 2",
        "2",
        lambda: grad("reuse-and-accumulation", "a"),
    ),
    (
        "reuse-and-accumulation",
        "`a.grad`\nends at 1",
        "1",
        lambda: grad("reuse-and-accumulation", "a", mistake="overwrite"),
    ),
    (
        "reuse-and-accumulation",
        "lists the input's gradient both ways: 2 against 1",
        "2",
        lambda: grad("reuse-and-accumulation", "a"),
    ),
    (
        "reuse-and-accumulation",
        "lists the input's gradient both ways: 2 against 1",
        "1",
        lambda: grad("reuse-and-accumulation", "a", mistake="overwrite"),
    ),
    ("reuse-and-accumulation", "Now `b.grad` is 2", "2", lambda: grad("reuse-and-accumulation", "b", 1)),
    ("reuse-and-accumulation", "and `a.grad` is 4", "4", lambda: grad("reuse-and-accumulation", "a", 1)),
    (
        "reuse-and-accumulation",
        "and `a.grad` comes out as 1.",
        "1",
        lambda: grad("reuse-and-accumulation", "a", 1, mistake="overwrite"),
    ),
    ("reuse-and-accumulation", "d = a * b         # -6", "-6", lambda: program(PATHS)["d"].data),
    ("reuse-and-accumulation", "e = a + b         #  1", "1", lambda: program(PATHS)["e"].data),
    ("reuse-and-accumulation", "f = d * e         # -6", "-6", lambda: program(PATHS)["f"].data),
    ("reuse-and-accumulation", "its share, `e.grad = -6`", "-6", lambda: program(PATHS)["e"].grad),
    (
        "reuse-and-accumulation",
        "`b × d.grad = 3`",
        "3",
        lambda: program(PATHS)["b"].data * program(PATHS)["d"].grad,
    ),
    ("reuse-and-accumulation", "The total is `-3`", "-3", lambda: program(PATHS)["a"].grad),
    (
        "reuse-and-accumulation",
        "and `a.grad` comes out as 3.",
        "3",
        lambda: program(PATHS, "overwrite")["a"].grad,
    ),
    ("reuse-and-accumulation", "`a.grad` goes from 6 to 24", "6", lambda: program(SEEDS_L)["a"].grad),
    ("reuse-and-accumulation", "`a.grad` goes from 6 to 24", "24", lambda: two_backward_passes(SEEDS_L, "a")),
    # 7 topological order
    ("topological-order", "y = x * x      # 4", "4", lambda: program(TOPO)["y"].data),
    ("topological-order", "s = y * y      # 16", "16", lambda: program(TOPO)["s"].data),
    ("topological-order", "L = y + s      # 20", "20", lambda: program(TOPO)["L"].data),
    ("topological-order", "so `y.grad = 9`", "9", lambda: program(TOPO)["y"].grad),
    ("topological-order", "plus `2·y = 8` from `s`", "8", lambda: 2 * program(TOPO)["y"].data),
    ("topological-order", "`x.grad = 2·x · 9 = 36`", "36", lambda: program(TOPO)["x"].grad),
    ("topological-order", "Result: `x.grad = 4`.", "4", lambda: naive_first_visit(TOPO)["x"].grad),
    ("topological-order", "Result: `x.grad = 76`.", "76", lambda: naive_every_visit(TOPO)["x"].grad),
    ("topological-order", "its gradient is already the full 9", "9", lambda: grad("topological-order", "y")),
    ("topological-order", "answer = 4\ntag", "4", lambda: naive_first_visit(TOPO)["x"].grad),
    ("topological-order", "answer = 76\ntag", "76", lambda: naive_every_visit(TOPO)["x"].grad),
    ("topological-order", 'answer = "36"', "36", lambda: quiz_answer("topological-order", 0)),
    # 8 MLP
    (
        "mlp",
        "len(model.parameters())         # 41",
        "41",
        lambda: len(MLP(3, [4, 4, 1], seed=1).parameters()),
    ),
    ("mlp", "| 4 × (3 + 1) = 16 |", "16", lambda: len(MLP(3, [4, 4, 1]).layers[0].parameters())),
    ("mlp", "| 4 × (4 + 1) = 20 |", "20", lambda: len(MLP(3, [4, 4, 1]).layers[1].parameters())),
    ("mlp", "| 1 × (4 + 1) = 5  |", "5", lambda: len(MLP(3, [4, 4, 1]).layers[2].parameters())),
    ("mlp", "16 + 20 + 5 = **41**", "41", lambda: len(MLP(3, [4, 4, 1]).parameters())),
    (
        "mlp",
        "a graph of 126 nodes",
        "126",
        lambda: len(topological_order(MLP(3, [4, 4, 1], seed=1)([2.0, 3.0, -1.0]))),
    ),
    ("mlp", "`w21.grad` (both 0.3932)", "0.3932", lambda: grad("mlp", "w11")),
    ("mlp", "`w21.grad` (both 0.3932)", "0.3932", lambda: grad("mlp", "w21")),
    ("mlp", "`w22.grad`\n(both -0.7864)", "-0.7864", lambda: grad("mlp", "w12")),
    ("mlp", "`w22.grad`\n(both -0.7864)", "-0.7864", lambda: grad("mlp", "w22")),
    ("mlp", "answer = 37", "37", lambda: len(MLP(2, [4, 4, 1]).parameters())),
    (
        "mlp",
        "answer = 28",
        "28",
        lambda: sum(len(n.w) for layer in MLP(2, [4, 4, 1]).layers for n in layer.neurons),
    ),
    # 9 training loop
    (
        "training-loop",
        "`MLP(3, [4, 4, 1])`, 41 parameters",
        "41",
        lambda: len(MLP(3, [4, 4, 1]).parameters()),
    ),
    ("training-loop", "it starts at about 6.24", "6.24", lambda: loss_at(SEEDS_TASK, 1)),
    (
        "training-loop",
        "falls below 0.01 by the\nlast step",
        "0.01",
        lambda: _below(loss_at(SEEDS_TASK, 100), 0.01),
    ),
    (
        "training-loop",
        "prediction in the table is within 0.04 of",
        "0.04",
        lambda: _below(max(abs(p - y) for p, y in zip(predictions(SEEDS_TASK), [1, -1, -1, 1])), 0.04),
    ),
    ("training-loop", "from 1.34 to 1.58", "1.34", lambda: loss_at(SEEDS_TASK, 4)),
    ("training-loop", "from 1.34 to 1.58", "1.58", lambda: loss_at(SEEDS_TASK, 6)),
    (
        "training-loop",
        "A step\nof size 0.1",
        "0.1",
        lambda: read_task(train_block("training-loop")).optimiser.lr,
    ),
    # 10 zero_grad
    (
        "zero-grad",
        "the buggy loss drops faster: 0.48 at step 25",
        "0.48",
        lambda: loss_at(moons40(), 25, "no_zero_grad"),
    ),
    (
        "zero-grad",
        "where the correct run is still above 10",
        "10",
        lambda: _above(loss_at(moons40_correct(), 25), 10),
    ),
    (
        "zero-grad",
        "loss climbs back to about 48 by step 70",
        "48",
        lambda: loss_at(moons40(), 70, "no_zero_grad"),
    ),
    ("zero-grad", "It ends at 16, with 90 % of", "16", lambda: loss_at(moons40(), 100, "no_zero_grad")),
    (
        "zero-grad",
        "It ends at 16, with 90 % of",
        "90",
        lambda: 100 * reports(moons40(), "no_zero_grad")[-1].accuracy,
    ),
    ("zero-grad", "from 18.82 to 0.52", "18.82", lambda: loss_at(moons40_correct(), 1)),
    ("zero-grad", "from 18.82 to 0.52", "0.52", lambda: loss_at(moons40_correct(), 100)),
    (
        "zero-grad",
        "to 16.4 around step 37",
        "16.4",
        lambda: max(r.loss for r in reports(moons40_correct())[29:40]),
    ),
    (
        "zero-grad",
        "to 16.4 around step 37",
        "37",
        lambda: max(reports(moons40_correct())[29:40], key=lambda r: r.loss).step,
    ),
    (
        "zero-grad",
        "buggy gradient is about 489 long",
        "489",
        lambda: reports(moons40(), "no_zero_grad")[-1].grad_norm,
    ),
    (
        "zero-grad",
        "against 1.02 for the correct run",
        "1.02",
        lambda: reports(moons40_correct())[-1].grad_norm,
    ),
    ("zero-grad", "has grown to about 149", "149", lambda: max_weight(moons40(), "no_zero_grad")),
    (
        "zero-grad",
        "where the correct run\nstays below 2",
        "2",
        lambda: _below(max_weight(moons40_correct()), 2),
    ),
    (
        "zero-grad",
        "(3.58 at step 3, against 1.88 without the\nbug)",
        "3.58",
        lambda: loss_at(SEEDS_TASK, 3, "no_zero_grad"),
    ),
    ("zero-grad", "(3.58 at step 3, against 1.88 without the\nbug)", "1.88", lambda: loss_at(SEEDS_TASK, 3)),
    ("zero-grad", "and the loss\nreads 0", "0", lambda: loss_at(SEEDS_TASK, 100, "no_zero_grad")),
    (
        "zero-grad",
        "the weights have drifted to about\n71",
        "71",
        lambda: max_weight(SEEDS_TASK, "no_zero_grad"),
    ),
    (
        "zero-grad",
        "the gradient stays about 13.7 long",
        "13.7",
        lambda: reports(SEEDS_TASK, "no_zero_grad")[-1].grad_norm,
    ),
    ("zero-grad", "answer = 6\n", "6", lambda: two_backward_passes("w = 0.5; x = 3; L = w * x", "w")),
    ("zero-grad", "answer = 3\n", "3", lambda: program("w = 0.5; x = 3; L = w * x")["w"].grad),
    # 11 learning rate
    ("learning-rate", "| 0.1 | 0.8, 0.64, 0.512      |", "0.8", lambda: x_squared_descent(0.1)[0]),
    ("learning-rate", "| 0.1 | 0.8, 0.64, 0.512      |", "0.64", lambda: x_squared_descent(0.1)[1]),
    ("learning-rate", "| 0.1 | 0.8, 0.64, 0.512      |", "0.512", lambda: x_squared_descent(0.1)[2]),
    ("learning-rate", "| 1.0 | -1, 1, -1             |", "-1", lambda: x_squared_descent(1.0)[0]),
    ("learning-rate", "| 1.0 | -1, 1, -1             |", "1", lambda: x_squared_descent(1.0)[1]),
    ("learning-rate", "| 1.0 | -1, 1, -1             |", "-1", lambda: x_squared_descent(1.0)[2]),
    ("learning-rate", "| 1.5 | -2, 4, -8             |", "-2", lambda: x_squared_descent(1.5)[0]),
    ("learning-rate", "| 1.5 | -2, 4, -8             |", "4", lambda: x_squared_descent(1.5)[1]),
    ("learning-rate", "| 1.5 | -2, 4, -8             |", "-8", lambda: x_squared_descent(1.5)[2]),
    ("learning-rate", "reached a loss of 0.0027 in 100 steps", "0.0027", lambda: loss_at(SEEDS_TASK, 100)),
    (
        "learning-rate",
        "the loss is still\nabout 0.059",
        "0.059",
        lambda: loss_at(train_block("learning-rate", 0), 100),
    ),
    (
        "learning-rate",
        "more than 20 times higher",
        "20",
        lambda: _above(loss_at(train_block("learning-rate", 0), 100) / loss_at(SEEDS_TASK, 100), 20),
    ),
    ("learning-rate", "the loss jumps to 8 at step 2", "8", lambda: loss_at(seeds(lr=1.0), 2)),
    ("learning-rate", "`2² + 2² = 8`", "8", lambda: loss_at(seeds(lr=1.0), 100)),
    (
        "learning-rate",
        "passes\n1000 at step 25",
        "25",
        lambda: _first_step_above(train_block("learning-rate", 1), 1000),
    ),
    (
        "learning-rate",
        "and a million at step 30",
        "30",
        lambda: _first_step_above(train_block("learning-rate", 1), 1e6),
    ),
    ("learning-rate", "ends around 1.4e72", "1.4e72", lambda: loss_at(train_block("learning-rate", 1), 100)),
    (
        "learning-rate",
        "(up to 13.6)",
        "13.6",
        lambda: max(r.loss for r in reports(train_block("learning-rate", 2))),
    ),
    (
        "learning-rate",
        "settles at about 0.0003",
        "0.0003",
        lambda: loss_at(train_block("learning-rate", 2), 100),
    ),
    (
        "learning-rate",
        "ends at 1.4e72. What do you change first?",
        "1.4e72",
        lambda: loss_at(train_block("learning-rate", 1), 100),
    ),
    ("learning-rate", 'answer = "0.3"', "0.3", lambda: quiz_answer("learning-rate", 1)),
    # 12 activations and losses
    ("activations-and-losses", "`z = w·x + b =\n-1.5`", "-1.5", lambda: data("activations-and-losses", "z")),
    ("activations-and-losses", "`h.grad` is 3", "3", lambda: grad("activations-and-losses", "h")),
    (
        "activations-and-losses",
        "`w`, `b` and `x` all end with a\ngradient of 0",
        "0",
        lambda: grad("activations-and-losses", "w"),
    ),
    (
        "activations-and-losses",
        "`w`, `b` and `x` all end with a\ngradient of 0",
        "0",
        lambda: grad("activations-and-losses", "b"),
    ),
    (
        "activations-and-losses",
        "`w`, `b` and `x` all end with a\ngradient of 0",
        "0",
        lambda: grad("activations-and-losses", "x"),
    ),
    (
        "activations-and-losses",
        "That is at most 0.25 (at\n`z = 0`",
        "0.25",
        lambda: program("z = 0; s = sigmoid(z)")["z"].grad,
    ),
    ("activations-and-losses", "where `s = 0.5`", "0.5", lambda: program("z = 0; s = sigmoid(z)")["s"].data),
    (
        "activations-and-losses",
        "at `z = 4`, `s = 0.982`",
        "0.982",
        lambda: program("z = 4; s = sigmoid(z)")["s"].data,
    ),
    (
        "activations-and-losses",
        "the slope is only 0.0177",
        "0.0177",
        lambda: program("z = 4; s = sigmoid(z)")["z"].grad,
    ),
    (
        "activations-and-losses",
        "a score of 2 costs 0",
        "0",
        lambda: program("s = 2; y = 1; L = relu(1 - y * s)")["L"].data,
    ),
    (
        "activations-and-losses",
        "a score of 0.3 costs 0.7",
        "0.7",
        lambda: program("s = 0.3; y = 1; L = relu(1 - y * s)")["L"].data,
    ),
    (
        "activations-and-losses",
        "a score\n  of -1 costs 2",
        "2",
        lambda: program("s = -1; y = 1; L = relu(1 - y * s)")["L"].data,
    ),
    (
        "activations-and-losses",
        "(`p = 0.9` costs 0.1054)",
        "0.1054",
        lambda: -program("p = 0.9; L = log(p)")["L"].data,
    ),
    (
        "activations-and-losses",
        "a coin flip costs 0.6931",
        "0.6931",
        lambda: -program("p = 0.5; L = log(p)")["L"].data,
    ),
    (
        "activations-and-losses",
        "(`p = 0.01` costs 4.6052)",
        "4.6052",
        lambda: -program("p = 0.01; L = log(p)")["L"].data,
    ),
    (
        "activations-and-losses",
        "`2 · alpha · p`",
        "2",
        lambda: program("p = 3; alpha = 1; r = alpha * p * p")["p"].grad / 3,
    ),
    (
        "activations-and-losses",
        "output that serves as a score; 337 parameters",
        "337",
        lambda: len(MLP(2, [16, 16, 1], "relu", True).parameters()),
    ),
    (
        "activations-and-losses",
        "plus L2 with\n  `alpha = 1e-4`",
        "1e-4",
        lambda: read_task(train_block("activations-and-losses")).loss.l2,
    ),
    (
        "activations-and-losses",
        "learning rate 1.0, decaying linearly to about 0.1",
        "0.1",
        lambda: _last_decayed_lr(MOONS_DEMO_TASK),
    ),
    (
        "activations-and-losses",
        "1 - y · score = 1.5 > 0",
        "1.5",
        lambda: program("s = -0.5; y = 1; m = 1 - y * s")["m"].data,
    ),
    ("activations-and-losses", 'answer = "6"', "6", lambda: program("x = 2; v = 3; m = x * v")["m"].data),
    # 13 PyTorch
    (
        "pytorch",
        "print(L.data, a.grad, b.grad)    # -8.0 6.0 -4.0",
        "-8.0",
        lambda: program(SEEDS_L)["L"].data,
    ),
    (
        "pytorch",
        "print(L.data, a.grad, b.grad)    # -8.0 6.0 -4.0",
        "6.0",
        lambda: program(SEEDS_L)["a"].grad,
    ),
    (
        "pytorch",
        "print(L.data, a.grad, b.grad)    # -8.0 6.0 -4.0",
        "-4.0",
        lambda: program(SEEDS_L)["b"].grad,
    ),
    (
        "pytorch",
        "64 bits: about 16 significant digits",
        "16",
        lambda: sys.float_info.mant_dig * math.log10(2),
    ),
    ("pytorch", "32 bits unless told\n  otherwise: about 7 digits", "7", lambda: 24 * math.log10(2)),
    ("pytorch", "0.1 is stored as\n  0.10000000149011612", "0.10000000149011612", lambda: float32(0.1)),
    ("pytorch", 'answer = "4"', "4", lambda: quiz_answer("pytorch", 0)),
    (
        "pytorch",
        'answer = "3"',
        "3",
        lambda: program("x = 2; y = 3; n = x * y; z = n + x", "overwrite")["x"].grad,
    ),
]


def _uses_of_b():
    graph, stepper = stepper_of("values")
    return stepper.uses(graph.values["b"])


def _nudge(name, by=0.01):
    base = program(SEEDS_L)["L"].data
    inputs = parse_program(SEEDS_L).inputs
    nudged = dict(inputs, **{name: inputs[name] + by})
    return parse_program(SEEDS_L).build(nudged).output.data - base


def _below(value, limit):
    """The quoted limit itself when ``value`` is below it (so the row checks 'below')."""
    assert value < limit, f"{value} is not below {limit}"
    return limit


def _above(value, limit):
    assert value > limit, f"{value} is not above {limit}"
    return limit


def _first_step_above(config, level):
    return next(r.step for r in reports(config) if r.loss > level)


def _last_decayed_lr(config):
    """The rate of the last step (k = 99 of 100) under the config's decay."""
    task = read_task(config)
    return learning_rate(task.optimiser.lr, task.steps - 1, task.steps, task.optimiser.decay)


def agrees(shown: str, value: float) -> bool:
    """``value`` written to the precision of ``shown`` ("0.48", "1.4e72", "16") gives ``shown``."""
    exact = Decimal(shown)
    last_digit = Decimal(1).scaleb(exact.as_tuple().exponent)
    return abs(Decimal(repr(float(value))) - exact) <= last_digit / 2 + Decimal("1e-12")


@pytest.mark.parametrize(
    "lesson_id, quote, shown, compute",
    NUMBERS,
    ids=[f"{lid}:{shown}:{quote[:30]}" for lid, quote, shown, _ in NUMBERS],
)
def test_every_number_a_lesson_states_is_what_the_engine_computes(lesson_id, quote, shown, compute):
    assert quote in text_of(lesson_id), f"the lesson no longer says {quote!r}"
    assert shown in quote
    value = compute()
    assert agrees(shown, value), f"{lesson_id}: the lesson says {shown}, the engine gives {value!r}"


def test_agrees_reads_the_precision_the_lesson_wrote():
    assert agrees("14.0003", 14.000300000063248) and not agrees("14.0003", 14.0004)
    assert agrees("0.48", 0.4823) and not agrees("0.48", 0.486)
    assert agrees("1.4e72", 1.431e72) and not agrees("1.4e72", 1.46e72)
    assert agrees("16", 15.95) and not agrees("16", 15.4)


# ----------------------------------------------------------------------------- claims in words


def test_the_training_loop_listing_is_what_the_trainer_runs():
    """Lesson 9's code listing, written out here, gives the same losses as the train block."""
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], seed=1)
    losses = []
    for _ in range(100):
        ypred = [model(x) for x in xs]
        loss = sse(ypred, ys)
        losses.append(loss.data)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    assert losses == [r.loss for r in reports(SEEDS_TASK)]
    listing = text_of("training-loop")
    for line in ("loss = sse(ypred, ys)", "model.zero_grad()", "loss.backward()", "p.data -= 0.1 * p.grad"):
        assert line in listing


def test_without_zero_grad_the_runs_agree_for_two_steps_then_part():
    bug, good = reports(moons40(), "no_zero_grad"), reports(moons40_correct())
    assert [r.loss for r in bug[:2]] == [r.loss for r in good[:2]]
    assert bug[2].loss != good[2].loss
    assert "Steps 1 and 2 are identical" in text_of("zero-grad")


def test_the_correct_moons_run_gets_every_point_right():
    trainer = run(moons40_correct())[1]
    assert trainer.forward()[1] == 1.0 and reports(moons40_correct())[-1].accuracy == 1.0
    assert "gets every point right" in text_of("zero-grad")


def test_max_margin_sends_gradient_exactly_for_the_options_marked_right():
    """Lesson 12's choice quiz: a score sends gradient back iff the engine's hinge passes some."""
    (quiz,) = [q for q in quizzes("activations-and-losses") if q.kind == "choice"]
    for option in quiz.options:
        score = float(option.text.rsplit(" ", 1)[1])
        values = program(f"s = {score}; y = 1; L = relu(1 - y * s)")
        assert (values["s"].grad != 0) == option.correct, option.text


def test_the_seeds_bug_run_pins_every_output_at_plus_or_minus_one():
    assert sorted(predictions(SEEDS_TASK, "no_zero_grad")) == [-1.0, -1.0, 1.0, 1.0]
    assert "pinned at exactly -1 or 1" in text_of("zero-grad")


def test_a_learning_rate_of_one_pins_every_output_at_the_same_end():
    outs = predictions(seeds(lr=1.0))
    assert all(abs(abs(o) - 1) < 0.01 for o in outs) and len({o > 0 for o in outs}) == 1
    assert reports(seeds(lr=1.0))[-1].accuracy == 0.5
    assert "Two samples are\nright by luck" in text_of("learning-rate")


def test_the_exploding_network_trains_fine_at_half_the_rate():
    assert loss_at(seeds(lr=0.05, linear_output=True), 100) < 1e-3
    assert "The same network trains fine at `lr = 0.05`" in text_of("learning-rate")


def test_a_long_chain_breaks_a_recursive_sort_but_not_the_engine():
    """Lesson 7: recursion stops about a thousand calls deep; the engine's own stack does not."""
    x = Value(1.0)
    node = x
    for _ in range(3 * sys.getrecursionlimit()):
        node = node + 1.0

    def build_topo(v, seen, order):  # micrograd's recursive sort
        if v not in seen:
            seen.add(v)
            for child in v._prev:
                build_topo(child, seen, order)
            order.append(v)

    with pytest.raises(RecursionError):
        build_topo(node, set(), [])
    assert len(topological_order(node)) == 2 * 3 * sys.getrecursionlimit() + 1
    assert sys.getrecursionlimit() == 1000 and "about a thousand deep" in text_of("topological-order")


def test_the_topological_order_is_the_one_the_lesson_shows():
    graph = run_program(TOPO)
    assert [n.label for n in topological_order(graph.output)] == ["x", "y", "s", "L"]
    assert "    x, y, s, L" in text_of("topological-order")
    graph, stepper = stepper_of("topological-order")
    order = [stepper.name(step.node) for step in stepper.steps if step.kind != "seed"]
    assert order == ["L", "s", "y"]


def test_the_values_lesson_names_the_hidden_nodes_as_the_debugger_does():
    graph, stepper = stepper_of("values")
    names = {stepper.name(n) for n in topological_order(graph.output)}
    assert {"n1", "n2", "(-1.0)"} <= names
    assert "`n1` and `n2`" in text_of("values") and "`(-1.0)`" in text_of("values")
    b = graph.values["b"]
    assert stepper.uses(b) == 3 and "`↺3`" in text_of("values")


def test_equal_weights_give_equal_gradients():
    values = debugger_graph("mlp")
    assert values["w11"].grad == values["w21"].grad and values["w12"].grad == values["w22"].grad


# ----------------------------------------------------------------------------- the slow one


def test_moons_demo_reaches_100_percent_in_100_steps():
    """micrograd's demo, exactly as lesson 12's train block runs it (about a minute)."""
    (block,) = blocks("activations-and-losses", "train")
    trainer = Trainer(read_task(block.config))
    for _ in trainer.run():
        pass
    loss, accuracy = trainer.forward()
    assert accuracy == 1.0
    assert "100 % training accuracy" in text_of("activations-and-losses")
