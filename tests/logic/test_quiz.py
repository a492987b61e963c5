"""Quiz blocks: parsing with errors that name the key, grading every kind, diagnoses, examples."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.misconceptions import CATALOGUE, feedback_for
from tutor.quiz import QuizConfigError, check_examples, grade, parse_quiz, read_quiz

SEEDS = "a = 2; b = -3; c = 10; e = a * b; d = e + c; f = -2; L = d * f"


def quiz(text: str):
    return parse_quiz(tomllib.loads(text))


def config_error(text: str) -> QuizConfigError:
    with pytest.raises(QuizConfigError) as info:
        quiz(text)
    return info.value


NUMERIC = f'''
kind = "numeric"
prompt = "In L = (a*b + c) * f, what is a.grad?"
program = "{SEEDS}"
answer_from = "a.grad"
hints = ["a reaches L through e = a * b", "a.grad = b.data * e.grad"]
max_tries = 3

[[wrong]]
answer_from = "a.data * e.grad"
tag = "own-input-in-mul"
feedback = "That multiplies by a's own value; the multiply rule uses the other operand, b."

[[wrong]]
answer_from = "b.data"
tag = "forgot-upstream"
feedback = "That is the local derivative alone."
'''

CHOICE = """
kind = "choice"
prompt = "Which of these are true of out = a + b?"

[[options]]
text = "a.grad gets out.grad unchanged"
correct = true
feedback = "Yes: the local derivative is 1."
tag = "split-add-gradient"

[[options]]
text = "a.grad gets half of out.grad"
feedback = "No: addition routes the whole gradient to each operand."
tag = "split-add-gradient"

[[options]]
text = "b.grad gets out.grad unchanged"
correct = true
feedback = "Yes, the same as a."

[[options]]
text = "a.grad gets b.data times out.grad"
feedback = "That is the multiply rule."
tag = "own-input-in-mul"
"""

CODE = """
kind = "code"
prompt = "Write the line of the multiply rule that updates self.grad."
rule = "mul"
expect = "self.grad += other.data * out.grad"

[[wrong]]
answer = "self.grad += other.data * out.data"
tag = "wrong-operand"
feedback = "out.data is the product itself; the upstream gradient is out.grad."
"""

ORDER = """
kind = "order"
prompt = "Put one step of the training loop in order."

[[steps]]
text = "ypred = [model(x) for x in xs]"
role = "forward"

[[steps]]
text = "loss = sum((yp - y)**2 for yp, y in zip(ypred, ys))"
role = "loss"

[[steps]]
text = "model.zero_grad()"
role = "zero_grad"

[[steps]]
text = "loss.backward()"
role = "backward"

[[steps]]
text = "for p in model.parameters(): p.data -= 0.05 * p.grad"
role = "update"

[[distractors]]
text = "loss.grad = 0.0"
feedback = "backward seeds the output's grad with 1 itself; 0 would make every gradient 0."
tag = "forgot-seed"
"""

PREDICT = f'''
kind = "predict"
program = "{SEEDS}"
node = "e"
operand = "a"
'''


# ----------------------------------------------------------------------------- parsing


def test_a_full_numeric_block_parses_with_the_answer_computed_by_the_engine():
    q = quiz(NUMERIC)
    assert q.kind == "numeric" and q.answer == 6.0  # the seeds: a.grad = 6
    assert q.hints == ["a reaches L through e = a * b", "a.grad = b.data * e.grad"]
    assert q.max_tries == 3
    assert [w.value for w in q.wrong] == [2.0 * -2.0, -3.0]
    assert q.program == SEEDS


def test_answer_from_as_a_table_with_its_own_program():
    q = quiz(
        'kind = "numeric"\nprompt = "x"\nanswer_from = { program = "a = 3; b = a + a", value = "a.grad" }\n'
    )
    assert q.answer == 2.0  # reuse accumulates: b = a + a gives a.grad = 2


@pytest.mark.parametrize(
    "text, keypath, words",
    [
        ('prompt = "x"', ("kind",), "missing"),
        ('kind = "essay"\nprompt = "x"', ("kind",), "numeric, choice, code, order, predict"),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\ncolour = "red"', ("colour",), "allowed:"),
        ('kind = "numeric"\nprompt = 3\nanswer = 1', ("prompt",), "must be"),
        ('kind = "numeric"\nanswer = 1', ("prompt",), "missing"),
        ('kind = "numeric"\nprompt = "x"', ("answer",), "answer_from"),
        ('kind = "numeric"\nprompt = "x"\nanswer = "six"', ("answer",), "must be a number"),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\nmax_tries = 0', ("max_tries",), "1 or more"),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\nmax_tries = true', ("max_tries",), "whole number"),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\nhints = ["", "b"]', ("hints", "0"), "non-empty"),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\ntolerance = -1', ("tolerance",), "negative"),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\nanswer_from = "a"', ("answer_from",), "not both"),
        ('kind = "numeric"\nprompt = "x"\nanswer_from = "a.grad"', ("answer_from",), "program"),
        (
            'kind = "numeric"\nprompt = "x"\nprogram = "a = 2\\nb = a +"\nanswer_from = "a.grad"',
            ("program",),
            "the program does not run: syntax error",  # its line and column are the Issue's `at`
        ),
        (
            'kind = "numeric"\nprompt = "x"\nprogram = "a = 2; b = a * a"\nanswer_from = "z.grad"',
            ("answer_from",),
            "no value named 'z'",
        ),
        (
            'kind = "numeric"\nprompt = "x"\nprogram = "a = 2; b = a * a"\nanswer_from = "__import__(\'os\')"',
            ("answer_from",),
            "only numbers",
        ),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[wrong]]\nanswer = 2\nfeedback = "f"\ntag = "nope"',
            ("wrong", "0", "tag"),
            "unknown misconception tag",
        ),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[wrong]]\nanswer = 2',
            ("wrong", "0", "feedback"),
            "missing",
        ),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[wrong]]\nanswer = 1.00001\nfeedback = "f"',
            ("wrong", "0", "answer"),
            "is the right answer",
        ),
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\nwrong = 3', ("wrong",), "array of tables"),
        (
            'kind = "choice"\nprompt = "x"\n[[options]]\ntext = "a"\nfeedback = "f"\n[[options]]\ntext = "b"\nfeedback = "f"',
            ("options",),
            "no option has correct = true",
        ),
        (
            'kind = "choice"\nprompt = "x"\n[[options]]\ntext = "a"\ncorrect = true\nfeedback = "f"',
            ("options",),
            "at least two",
        ),
        (
            'kind = "choice"\nprompt = "x"\nmultiple = false\n[[options]]\ntext = "a"\ncorrect = true\nfeedback = "f"\n[[options]]\ntext = "b"\ncorrect = true\nfeedback = "f"',
            ("multiple",),
            "2 options",
        ),
        (
            'kind = "choice"\nprompt = "x"\n[[options]]\ntext = "a"\ncorrect = "yes"\nfeedback = "f"\n[[options]]\ntext = "b"\nfeedback = "f"',
            ("options", "0", "correct"),
            "true or false",
        ),
        (
            'kind = "choice"\nprompt = "x"\n[[options]]\ntext = "a"\ncorrect = true\n[[options]]\ntext = "b"\nfeedback = "f"',
            ("options", "0", "feedback"),
            "missing",
        ),
        (
            'kind = "code"\nprompt = "x"\nrule = "matmul"\nexpect = "self.grad += out.grad"',
            ("rule",),
            '"add", "mul"',
        ),
        ('kind = "code"\nprompt = "x"\nrule = "add"\nexpect = "self.grad +="', ("expect",), "cannot read"),
        (
            'kind = "code"\nprompt = "x"\nrule = "add"\nexpect = "self.grad += out.grad"\n[[wrong]]\nanswer = "self.grad = self.grad + out.grad"\nfeedback = "f"',
            ("wrong", "0", "answer"),
            "does the same",
        ),
        (
            'kind = "order"\nprompt = "x"\n[[steps]]\ntext = "f"\nrole = "forward"',
            ("steps",),
            "role = 'loss'",
        ),
        (
            'kind = "order"\nprompt = "x"\n[[steps]]\ntext = "f"\nrole = "train"',
            ("steps", "0", "role"),
            '"forward", "loss"',
        ),
        (
            'kind = "predict"\nprogram = "a = 2; b = a * a"\nnode = "b"\noperand = "c"',
            ("operand",),
            "no value named 'c'",
        ),
        (
            'kind = "predict"\nprogram = "a = 2; b = 3; c = a * b; d = c + 1"\nnode = "d"\noperand = "a"',
            ("operand",),
            "not an operand of d",
        ),
        ('kind = "predict"\nprogram = "a = 2; b = a * a"\nnode = "a"\noperand = "a"', ("node",), "input"),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[examples]]\nanswer = [1]\nverdict = "right"',
            ("examples", "0", "answer"),
            "cannot be a list",
        ),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[examples]]\nanswer = 1\nverdict = "ok"',
            ("examples", "0", "verdict"),
            "right",
        ),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[examples]]\nanswer = 1\nverdict = "right"\ntag = "forgot-seed"',
            ("examples", "0", "tag"),
            "only a wrong answer",
        ),
    ],
)
def test_config_errors_name_the_key_and_what_is_allowed(text, keypath, words):
    err = config_error(text)
    assert err.keypath == keypath
    assert words in err.message
    assert err.message in str(err)


def test_every_problem_of_a_block_is_reported_at_once_not_only_the_first():
    err = config_error(
        'kind = "numeric"\nprompt = 3\nanswer = "six"\nmax_tries = 0\ntolerance = -1\ncolour = "red"\n'
        '[[wrong]]\nanswer = 2\ntag = "nope"\n'
    )
    got = [(p.path, p.message.split(";")[0]) for p in err.problems]
    assert got == [
        (("colour",), "unknown key 'colour' in a numeric quiz"),
        (("prompt",), "must be the question, as text, not 3"),
        (("max_tries",), "must be 1 or more, not 0"),
        (("answer",), 'must be a number, not "six"'),
        (("tolerance",), "must not be negative"),
        (("wrong", "0", "tag"), "unknown misconception tag 'nope'"),
        (("wrong", "0", "feedback"), "missing"),
    ]
    assert err.keypath == ("colour",) and "(and 6 more problems)" in str(err)


@pytest.mark.parametrize(
    "text, keypath, hint",
    [
        ('kind = "numeric"\nprompt = "x"\nanswer = 1\ntolerence = 0.1', ("tolerence",), "'tolerance'"),
        ('kind = "numerik"\nprompt = "x"', ("kind",), "'numeric'"),
        ('kind = "choice"\nprompt = "x"\n[[option]]\ntext = "a"', ("option",), "'options'"),
        (
            'kind = "choice"\nprompt = "x"\n[[options]]\ntext = "a"\ncorect = true\nfeedback = "f"\n'
            '[[options]]\ntext = "b"\nfeedback = "f"',
            ("options", "0", "corect"),
            "'correct'",
        ),
        ('kind = "code"\nprompt = "x"\nrule = "mull"\nexpect = "self.grad += out.grad"', ("rule",), '"mul"'),
        (
            f'kind = "numeric"\nprompt = "x"\nprogram = "{SEEDS}"\nanswer_from = "aa.grad"',
            ("answer_from",),
            "'a'",
        ),
        (
            f'kind = "numeric"\nprompt = "x"\nanswer_from = {{ program = "{SEEDS}", valeu = "a.grad" }}',
            ("answer_from", "valeu"),
            "'value'",
        ),
        (f'kind = "predict"\nprogram = "{SEEDS}"\nnode = "ee"\noperand = "a"', ("node",), "'e'"),
        (
            'kind = "numeric"\nprompt = "x"\nanswer = 1\n[[wrong]]\nanswer = 2\nfeedback = "f"\ntag = "forgot-zero-grads"',
            ("wrong", "0", "tag"),
            "'forgot-zero-grad'",
        ),
    ],
)
def test_unknown_keys_and_names_get_did_you_mean(text, keypath, hint):
    err = config_error(text)
    assert err.keypath == keypath
    assert f"did you mean {hint}?" in err.message


def test_a_program_that_fails_is_reported_once_however_many_keys_use_it():
    err = config_error(
        'kind = "numeric"\nprompt = "x"\nprogram = "a = 2; b = a +"\nanswer_from = "a.grad"\n'
        '[[wrong]]\nanswer_from = "a.data"\nfeedback = "f"\n'
    )
    assert [p.path for p in err.problems] == [("program",)]


def test_order_steps_given_in_a_wrong_order_are_refused():
    text = (
        ORDER.replace('role = "backward"', 'role = "BACK"')
        .replace('role = "update"', 'role = "backward"')
        .replace('role = "BACK"', 'role = "update"')
    )
    assert config_error(text).keypath == ("steps",)


# ----------------------------------------------------------------------------- numeric


def test_numeric_right_wrong_and_tagged_wrong():
    q = quiz(NUMERIC)
    assert grade(q, "6").correct
    assert grade(q, " 6.0 ").correct
    assert grade(q, 6).correct
    v = grade(q, "-4")
    assert (v.correct, v.tags, v.message_kind) == (False, ["own-input-in-mul"], "wrong")
    assert "other operand" in v.feedback
    assert grade(q, "-3").tags == ["forgot-upstream"]
    v = grade(q, "-6")
    assert v.message_kind == "wrong" and "sign" in v.feedback and v.tags == []
    v = grade(q, "7")
    assert v.message_kind == "wrong" and v.tags == []


def test_numeric_tolerance_edges():
    q = quiz('kind = "numeric"\nprompt = "x"\nanswer = 0.7071\ntolerance = 0.001\nrel_tolerance = 0.0\n')
    assert grade(q, "0.7081").correct  # exactly 0.001 off
    assert grade(q, "0.7061").correct
    assert not grade(q, "0.7082").correct
    assert not grade(q, "0.706").correct
    big = quiz('kind = "numeric"\nprompt = "x"\nanswer = 1000.0\ntolerance = 0.0\nrel_tolerance = 0.01\n')
    assert grade(big, "1010").correct and grade(big, "990").correct
    assert not grade(big, "1011").correct


def test_numeric_without_a_tolerance_grades_to_the_precision_typed():
    q = quiz(
        'kind = "numeric"\nprompt = "x"\nanswer_from = { program = "n = 0.8814; o = tanh(n)", value = "o" }\n'
    )
    assert grade(q, "0.7071").correct
    assert grade(q, "0.707").correct  # 0.70712 to three decimals
    assert grade(q, "0.71").correct  # two significant figures are enough
    assert not grade(q, "0.7").correct  # ... but one is not
    assert not grade(q, "0.7072").correct


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "six",
        "1/2",
        "1,5",
        "--4",
        "nan",
        "inf",
        "1e999",
        "__import__('os').system('ls')",
        "4" * 100_000,
        "−",
        "٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤٤",
        "\x00",
        "6\x00",
        "2**10**10",
        "a.grad",
    ],
    ids=lambda v: repr(v)[:20],
)
def test_numeric_unreadable_input_gets_the_enter_a_number_message(text):
    v = grade(quiz(NUMERIC), text)
    assert (v.correct, v.message_kind, v.tags) == (False, "unreadable", [])
    assert v.feedback == "Enter a number like -4 or 0.5."
    assert not v.counts


def test_numeric_accepts_a_unicode_minus():
    q = quiz('kind = "numeric"\nprompt = "x"\nanswer = -4\n')
    assert grade(q, "\u22124").correct


# ----------------------------------------------------------------------------- choice


def test_choice_all_right_options():
    q = quiz(CHOICE)
    assert q.multiple
    for answer in ("1,3", "3 1", [1, 3], " 1 , 3 "):
        v = grade(q, answer)
        assert v.correct and v.message_kind == "right", answer
    assert "Yes: the local derivative is 1." in grade(q, "1,3").feedback


def test_choice_wrong_option_gives_its_feedback_and_tag():
    v = grade(quiz(CHOICE), "1,2,3")
    assert not v.correct and v.tags == ["split-add-gradient"]
    assert "addition routes the whole gradient" in v.feedback


def test_choice_missing_a_right_option_hits_that_options_tag():
    v = grade(quiz(CHOICE), "3")
    assert not v.correct and v.tags == ["split-add-gradient"]
    assert "missing" in v.feedback


def test_single_choice_refuses_two_picks_without_counting_a_try():
    q = quiz(
        CHOICE.replace(
            'text = "b.grad gets out.grad unchanged"\ncorrect = true',
            'text = "b.grad gets out.grad unchanged"',
        )
    )
    assert not q.multiple
    v = grade(q, "1,3")
    assert v.message_kind == "unreadable" and "one option" in v.feedback
    assert grade(q, 1).correct


@pytest.mark.parametrize(
    "answer, words",
    [
        ("7", "no option 7"),
        ("0", "no option 0"),
        ("a", "option numbers"),
        ("1,1", "only once"),
        ("", "option numbers"),
        ([], "at least one"),
        ("1" * 5000, "characters"),
        (True, "option numbers"),
        (["1"], "option numbers"),
    ],
)
def test_choice_unreadable_answers(answer, words):
    v = grade(quiz(CHOICE), answer)
    assert v.message_kind == "unreadable" and words in v.feedback


# ----------------------------------------------------------------------------- code


def test_code_right_in_another_spelling_and_auto_diagnoses():
    q = quiz(CODE)
    assert grade(q, "self.grad = self.grad + out.grad * other.data").correct
    assert grade(q, "self.grad = other.data * out.grad").tags == ["overwrote-not-accumulated"]
    assert grade(q, "self.grad += self.data * out.grad").tags == ["own-input-in-mul"]
    assert grade(q, "self.grad += other.data").tags == ["forgot-upstream"]
    assert grade(q, "self.grad -= other.data * out.grad").tags == ["rule-wrong-sign"]


def test_code_teachers_wrong_line_matches_by_what_it_does():
    v = grade(quiz(CODE), "self.grad += out.data*other.data")
    assert v.tags == ["wrong-operand"] and "out.data is the product itself" in v.feedback


@pytest.mark.parametrize("answer", ["__import__('os')", "x" * 100_000, "ŝelf.grad += ☃", "\x00", 42, None])
def test_code_hostile_input_is_not_a_line_i_can_read(answer):
    v = grade(quiz(CODE), answer)
    assert v.message_kind == "unreadable" and not v.correct


def test_code_solution_shows_the_expected_line():
    assert "self.grad += other.data * out.grad" in quiz(CODE).solution()


# ----------------------------------------------------------------------------- order

RIGHT = ["forward", "loss", "zero_grad", "backward", "update"]


def test_order_items_are_shown_scrambled_but_the_same_every_time():
    a, b = quiz(ORDER), quiz(ORDER)
    assert [i.text for i in a.items] == [i.text for i in b.items]
    assert [i.role for i in a.items] != RIGHT + [None]
    assert len(a.items) == 6


def test_order_right_in_several_forms():
    q = quiz(ORDER)
    numbers = ",".join(str([i.role for i in q.items].index(r) + 1) for r in RIGHT)
    texts = [s.text for s in q.steps]
    for answer in (
        RIGHT,
        numbers,
        texts,
        "\n".join(texts),
        [[i.role for i in q.items].index(r) + 1 for r in RIGHT],
    ):
        assert grade(q, answer).correct, answer


def test_zero_grad_first_or_last_is_right_too():
    q = quiz(ORDER)
    assert grade(q, ["zero_grad", "forward", "loss", "backward", "update"]).correct
    assert grade(q, ["forward", "loss", "backward", "update", "zero_grad"]).correct


def test_order_missing_zero_grad_shows_a_real_run():
    v = grade(quiz(ORDER), ["forward", "loss", "backward", "update"])
    assert not v.correct and v.tags == ["forgot-zero-grad"]
    assert "your order:" in v.feedback and "right order:" in v.feedback
    assert "pile up" in v.feedback


def test_order_zero_grad_after_backward_shows_the_loss_standing_still():
    v = grade(quiz(ORDER), ["forward", "loss", "backward", "zero_grad", "update"])
    assert v.tags == ["zero-grad-after-backward"]
    assert "never moves" in v.feedback


def test_order_update_before_backward():
    v = grade(quiz(ORDER), ["forward", "loss", "zero_grad", "update", "backward"])
    assert v.tags == ["update-before-backward"]
    assert "your order:" in v.feedback


def test_order_run_numbers_are_the_engines_own_training_run():
    """The 'right order' numbers equal engine.train's Trainer on the same task, and the missing
    zero_grad numbers equal its no_zero_grad mistake mode."""
    from engine.numfmt import fmt as _fmt
    from engine.train import Trainer
    from tutor.lessons import read_task
    from tutor.quiz.order import DEFAULT_RUN, _run_roles

    run = DEFAULT_RUN
    task = read_task(
        {
            "steps": run.steps,
            "seed": run.seed,
            "model": {"inputs": 3, "layers": [*run.hidden, 1]},
            "data": {"name": "seeds"},
            "loss": {"kind": "sse"},
            "optimiser": {"kind": "sgd", "lr": run.lr},
        }
    )
    for roles, mistake in ((tuple(RIGHT), None), (("forward", "loss", "backward", "update"), "no_zero_grad")):
        trainer = Trainer(task, mistake=mistake)
        engine_losses = [trainer.step().loss for _ in range(run.steps)]
        ours, _, _ = _run_roles(roles)
        assert ours == pytest.approx(engine_losses, rel=1e-12)
    v = grade(quiz(ORDER), ["forward", "loss", "backward", "update"])
    assert f"→ {_fmt(_run_roles(tuple(RIGHT))[0][-1])}" in v.feedback


def test_order_default_run_shows_the_missing_zero_grad_doing_worse():
    from tutor.quiz.order import _run_roles

    right, _, _ = _run_roles(tuple(RIGHT))
    without, _, _ = _run_roles(("forward", "loss", "backward", "update"))
    assert without[-1] > 10 * right[-1]  # no contradiction with "the gradients pile up"
    assert not quiz(ORDER).warnings


def test_order_run_can_be_set_by_the_teacher():
    q = quiz("run = { hidden = [3], lr = 0.2, steps = 12, seed = 2 }\n" + ORDER)
    v = grade(q, ["forward", "loss", "backward", "zero_grad", "update"])
    assert "MLP(3, [3, 1]) on the seeds' four samples, lr 0.2, 12 steps" in v.feedback


@pytest.mark.parametrize(
    "run, words",
    [
        ("run = { lr = 0 }", "run.lr: must be above 0"),
        ("run = { steps = 100000 }", "run.steps: must be from 1 to 100"),
        ("run = { hidden = [4, 400] }", "run.hidden: must be 1 to 3 layer sizes"),
        ("run = { lr = 0.1, step = 3 }", "did you mean 'steps'?"),
        ('run = "yes"', "run: must be true, false or a table"),
    ],
)
def test_order_run_out_of_bounds_is_refused(run, words):
    _, problems = read_quiz(tomllib.loads(run + "\n" + ORDER))
    assert any(words in f"{p.dotted}: {p.message}" for p in problems), problems


def test_order_run_that_contradicts_the_feedback_is_a_warning():
    q = quiz("run = { lr = 0.05, seed = 1 }\n" + ORDER)  # the old fixed run
    [warning] = q.warnings
    assert warning.path == ("run",) and "ends at a lower loss" in warning.message


def test_order_distractor_gives_its_feedback_and_tag():
    q = quiz(ORDER)
    v = grade(q, ["forward", "loss", "zero_grad", "loss.grad = 0.0", "backward", "update"])
    assert not v.correct and v.tags == ["forgot-seed"]
    assert "seeds the output's grad with 1" in v.feedback


def test_order_other_problems_are_explained():
    q = quiz(ORDER)
    v = grade(q, ["forward", "loss", "zero_grad", "update"])
    assert not v.correct and "loss.backward()" in v.feedback
    v = grade(q, ["loss", "forward", "zero_grad", "backward", "update"])
    assert not v.correct and "forward pass comes first" in v.feedback


@pytest.mark.parametrize(
    "answer, words",
    [
        ("1,1,2", "only once"),
        ("9", "no line 9"),
        (["jump"], "not one of the lines"),
        ("", "numbers"),
        (3.5, "in order"),
        ("9" * 3000, "characters"),
    ],
)
def test_order_unreadable_answers(answer, words):
    v = grade(quiz(ORDER), answer)
    assert v.message_kind == "unreadable" and words in v.feedback


def test_order_run_can_be_switched_off():
    # `run = false` must be a top-level key, so it goes before the first [[table]]
    q = quiz("run = false\n" + ORDER)
    v = grade(q, ["forward", "loss", "backward", "update"])
    assert v.tags == ["forgot-zero-grad"] and "your order:" not in v.feedback


# ----------------------------------------------------------------------------- predict


def test_predict_right_answer_shows_the_engines_chain_rule_line():
    q = quiz(PREDICT)
    assert "e's backward rule" in q.prompt
    v = grade(q, "6")
    assert v.correct and "a.grad += b.data * e.grad" in v.feedback


@pytest.mark.parametrize(
    "program, node, operand, answer, tag",
    [
        (SEEDS, "e", "a", "-4", "own-input-in-mul"),  # a.data × upstream
        (SEEDS, "e", "a", "-3", "forgot-upstream"),  # local derivative b alone
        (SEEDS, "d", "e", "-1", "split-add-gradient"),  # half of the upstream -2
        ("a = 3; b = a * 2; c = a * 4; L = b + c", "b", "a", "2", "overwrote-not-accumulated"),
        ("x = 0.5; o = tanh(x); L = o * 3", "o", "x", str(3 * (1 - 0.25)), "derivative-at-input"),
    ],
)
def test_predict_diagnoses(program, node, operand, answer, tag):
    q = quiz(f'kind = "predict"\nprogram = "{program}"\nnode = "{node}"\noperand = "{operand}"\n')
    v = grade(q, answer)
    assert not v.correct and v.tags == [tag], v.feedback


def test_predict_with_reuse_wants_the_accumulated_value():
    # c's step runs first in reverse topological order, then b's adds a's second share
    q = quiz(
        'kind = "predict"\nprogram = "a = 3; b = a * 2; c = a * 4; L = b + c"\nnode = "b"\noperand = "a"\n'
    )
    assert grade(q, "6").correct


def test_predict_unreadable():
    v = grade(quiz(PREDICT), "six")
    assert v.message_kind == "unreadable" and v.feedback == "Enter a number like -4 or 0.5."


def test_predict_solution_shows_the_step():
    assert "a.grad = 6" in quiz(PREDICT).solution()


# ----------------------------------------------------------------------------- examples


def test_check_examples_passes_when_every_example_gets_its_verdict():
    text = (
        NUMERIC
        + """
[[examples]]
answer = "6"
verdict = "right"

[[examples]]
answer = -4
verdict = "wrong"
tag = "own-input-in-mul"

[[examples]]
answer = "7"
verdict = "wrong"
tags = []

[[examples]]
answer = "__import__('os')"
verdict = "unreadable"
"""
    )
    assert check_examples(quiz(text)) == []


def test_check_examples_reports_each_example_that_comes_out_differently():
    text = (
        NUMERIC
        + """
[[examples]]
answer = "6"
verdict = "right"

[[examples]]
answer = "-4"
verdict = "right"

[[examples]]
answer = "-4"
verdict = "wrong"
tag = "forgot-upstream"

[[examples]]
answer = "-3"
verdict = "wrong"
tags = []
"""
    )
    problems = check_examples(quiz(text))
    assert [i for i, _ in problems] == [1, 2, 3]
    assert "should be right but the grader says wrong" in problems[0][1]
    assert "should hit forgot-upstream but the grader found own-input-in-mul" in problems[1][1]
    assert "should hit no tag" in problems[2][1]


def test_examples_of_every_kind():
    blocks = {
        CHOICE: (
            'answer = [1, 3]\nverdict = "right"',
            'answer = "2"\nverdict = "wrong"\ntag = "split-add-gradient"',
        ),
        CODE: (
            'answer = "self.grad += out.grad * other.data"\nverdict = "right"',
            'answer = "self.grad = other.data * out.grad"\nverdict = "wrong"\ntag = "overwrote-not-accumulated"',
        ),
        ORDER: (
            'answer = ["forward", "loss", "zero_grad", "backward", "update"]\nverdict = "right"',
            'answer = ["forward", "loss", "backward", "update"]\nverdict = "wrong"\ntag = "forgot-zero-grad"',
        ),
        PREDICT: (
            'answer = 6\nverdict = "right"',
            'answer = "-4"\nverdict = "wrong"\ntag = "own-input-in-mul"',
        ),
    }
    for block, (right, wrong) in blocks.items():
        q = quiz(block + f"\n[[examples]]\n{right}\n\n[[examples]]\n{wrong}\n")
        assert len(q.examples) == 2 and check_examples(q) == []


# ----------------------------------------------------------------------------- the catalogue

ISSUE_TAGS = [
    "forgot-zero-grad",
    "overwrote-not-accumulated",
    "own-input-in-mul",
    "forgot-upstream",
    "split-add-gradient",
    "derivative-at-input",
    "update-wrong-sign",
    "forgot-seed",
    "wrong-backward-order",
    "lr-too-high",
    "equal-init",
]


def test_the_catalogue_has_every_tag_of_the_issue_with_explanation_and_pointers():
    for tag in ISSUE_TAGS:
        m = CATALOGUE[tag]
        assert m.tag == tag
        assert len(m.title) > 10 and len(m.explanation) > 60
        assert m.lesson_id and m.debugger_hint
    text = feedback_for(["own-input-in-mul", "not-a-tag"])
    assert "other" in text and "See it:" in text


def _reach(block: str, answer):
    return grade(quiz(block), answer).tags


def test_every_catalogue_tag_can_be_reached_by_grading_an_answer():
    """Every tag is something the graders can actually produce (teacher tags included)."""
    reached = set()
    reached |= set(_reach(ORDER, ["forward", "loss", "backward", "update"]))
    reached |= set(_reach(ORDER, ["forward", "loss", "backward", "zero_grad", "update"]))
    reached |= set(_reach(ORDER, ["forward", "loss", "zero_grad", "update", "backward"]))
    reached |= set(_reach(CODE, "self.grad = other.data * out.grad"))
    reached |= set(_reach(CODE, "self.grad += self.data * out.grad"))
    reached |= set(_reach(CODE, "self.grad += other.data"))
    reached |= set(_reach(CODE, "self.grad -= other.data * out.grad"))
    reached |= set(_reach(CODE, "self.grad += other.grad * out.grad"))
    reached |= set(
        _reach(
            'kind = "code"\nprompt = "x"\nrule = "add"\nexpect = "self.grad += out.grad"',
            "self.grad += out.grad / 2",
        )
    )
    reached |= set(
        _reach(
            'kind = "code"\nprompt = "x"\nrule = "tanh"\nexpect = "self.grad += (1 - out.data**2) * out.grad"',
            "self.grad += (1 - self.data**2) * out.grad",
        )
    )
    update = 'kind = "code"\nprompt = "x"\nrule = "update"\nexpect = "p.data -= lr * p.grad"'
    reached |= set(_reach(update, "p.data += lr * p.grad"))
    reached |= set(_reach(update, "p.data -= p.grad"))
    for tag in ("forgot-seed", "wrong-backward-order", "lr-too-high", "equal-init"):
        # the conceptual ones are reached through teachers' tagged choices and numbers
        block = (
            f'kind = "choice"\nprompt = "x"\n[[options]]\ntext = "right"\ncorrect = true\nfeedback = "f"\n'
            f'[[options]]\ntext = "wrong"\nfeedback = "f"\ntag = "{tag}"\n'
        )
        reached |= set(_reach(block, "2"))
    # and the rule exercises' grader, for the mistakes only a whole written rule shows
    from tutor.rule_code import signature
    from tutor.rule_grade import grade_rule

    reached |= set(
        grade_rule(signature("*") + "    self.grad = out.grad\n    other.grad = out.grad\n", "*").tags
    )
    reached |= set(grade_rule(signature("exp") + "    self.grad += self.data * out.grad\n", "exp").tags)
    assert set(CATALOGUE) <= reached, set(CATALOGUE) - reached


# ----------------------------------------------------------------------------- robustness

KINDS_BLOCKS = [NUMERIC, CHOICE, CODE, ORDER, PREDICT]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(range(5)),
    st.one_of(
        st.text(max_size=80),
        st.integers(),
        st.floats(),
        st.none(),
        st.lists(st.one_of(st.integers(), st.text(max_size=10)), max_size=8),
    ),
)
def test_grade_never_raises_on_any_learner_input(which, answer):
    q = _parsed[which]
    v = grade(q, answer)
    assert v.message_kind in ("right", "wrong", "unreadable")
    assert v.correct == (v.message_kind == "right")
    assert v.feedback and "could not judge" not in v.feedback  # no internal error was swallowed
    assert all(t in CATALOGUE for t in v.tags)


_parsed = [parse_quiz(tomllib.loads(b)) for b in KINDS_BLOCKS]


def test_quiz_logic_imports_without_textual():
    code = "import sys, tutor.quiz, tutor.codeline, tutor.misconceptions; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_quiz_block_in_the_format_doc_parses_and_its_examples_pass():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "quiz-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```quiz\n(.*?)^```$", doc, flags=re.S | re.M)
    assert len(blocks) >= 6
    kinds = set()
    for block in blocks:
        q = parse_quiz(tomllib.loads(block))
        kinds.add(q.kind)
        assert q.examples, q.prompt
        assert check_examples(q) == [], q.prompt
    assert kinds == {"numeric", "choice", "code", "order", "predict"}
