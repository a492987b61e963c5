"""The `tutor` command, run through main([...]) as a user would type it."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import tutor
from tutor import cli, cli_progress
from tutor.cli import main
from tutor.lessons import builtin_lessons_dir, lesson_files, load_lesson
from tutor.progress import Progress

FIXTURES = Path(__file__).parent / "fixtures"
TEACHER = FIXTURES / "teacher"

FRONT = """+++
id = "sample"
title = "A sample"
section = "Testing"
order = 5
summary = "Used by the tests."
prerequisites = []
+++
"""


@pytest.fixture
def env(tmp_path):
    """A clean environment: progress in a tmp dir, no extra lesson directories."""
    return {"TUTOR_HOME": str(tmp_path / "home")}


@pytest.fixture
def launched(monkeypatch):
    """Record what would open the app instead of opening it."""
    calls = []

    def fake_launch(catalog, progress, **kwargs):
        calls.append((catalog, progress, kwargs))
        return 0

    monkeypatch.setattr(cli, "_launch", fake_launch)
    return calls


def run(capsys, *argv, env):
    code = main(list(argv), environ=env)
    out, err = capsys.readouterr()
    return code, out, err


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


# ------------------------------------------------------------------------------ check


def test_check_passes_the_builtin_lessons(capsys, env):
    code, out, err = run(capsys, "check", env=env)
    count = len(lesson_files(builtin_lessons_dir()))
    assert count >= 2
    assert out == f"checked {count} lessons: 0 problems\n" and code == 0


def test_check_a_good_teacher_directory(capsys, env):
    code, out, _ = run(capsys, "check", str(TEACHER), env=env)
    assert (code, out) == (0, "checked 2 lessons: 0 problems\n")


ERROR_CASES = [
    # name, file text, the text on the line the problem must point at, column, words in the message
    (
        "bad-toml",
        FRONT.replace('title = "A sample"', "title = A sample"),
        "title = A sample",
        9,
        "not valid TOML",
    ),
    ("missing-key", FRONT.replace('summary = "Used by the tests."\n', ""), "+++", 1, "no 'summary' key"),
    (
        "unknown-key",
        FRONT.replace("order = 5\n", "order = 5\nlevel = 2\n"),
        "level = 2",
        1,
        "unknown front-matter key 'level'",
    ),
    (
        "wrong-type",
        FRONT.replace("order = 5", 'order = "five"'),
        'order = "five"',
        1,
        "'order' must be a whole number",
    ),
    (
        "bad-program",
        FRONT + '\n```debugger\ncaption = "c"\nprogram = """\na = 2\nb = a * zz\n"""\n```\n',
        "b = a * zz",
        9,
        "unknown name 'zz'",
    ),
    (
        "bad-program-one-line",
        FRONT + '\n```debugger\nprogram = "a = 1; b = log(a - 1)"\n```\n',
        "program =",
        23,
        "log",
    ),
    (
        "bad-block-key",
        FRONT + '\n```debugger\nprogram = "a = 1"\nanimate = true\n```\n',
        "animate = true",
        1,
        "unknown key 'animate'",
    ),
    (
        "bad-train",
        FRONT + '\n```train\nsteps = "many"\n[model]\nlayers = [1]\n[data]\nname = "seeds"\n[loss]\n'
        'kind = "sse"\n[optimiser]\nkind = "sgd"\nlr = 0.1\n```\n',
        'steps = "many"',
        1,
        "train block, steps",
    ),
    (
        "over-budget-train",
        FRONT + '\n```train\nsteps = 100\n[model]\nlayers = [64, 64, 64, 1]\n[data]\nname = "moons"\n'
        'samples = 1000\n[loss]\nkind = "sse"\n[optimiser]\nkind = "sgd"\nlr = 0.1\n```\n',
        "samples = 1000",
        1,
        "train block, data.samples: this task builds about 17,000,000 values per step",
    ),
    (
        "bad-quiz",
        FRONT + '\n```quiz\nkind = "numeric"\nprompt = "2 + 2?"\nanswer = "four"\n```\n',
        'answer = "four"',
        1,
        "quiz block, answer: must be a number",
    ),
    ("unclosed-block", FRONT + '\n```debugger\nprogram = "a = 1"\n', "```debugger", 1, "never closed"),
]


@pytest.mark.parametrize("name, text, needle, col, words", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_check_reports_each_kind_of_error_at_its_line(capsys, env, tmp_path, name, text, needle, col, words):
    path = tmp_path / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path), env=env)
    lines = out.splitlines()
    assert code == 1
    assert lines[-1] == "checked 1 lesson: 1 problem"
    assert lines[0].startswith(f"{path}:{line_of(text, needle)}:{col}: "), lines[0]
    assert words in lines[0]


def test_check_reports_every_problem_of_a_block_at_once(capsys, env, tmp_path):
    text = FRONT + '\n```train\nsteps = "many"\nmistake = "no_zerograd"\n[model]\nlayer = [4, 1]\n```\n'
    path = tmp_path / "many.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path), env=env)
    assert code == 1
    assert out.splitlines() == [
        f"{path}:{line_of(text, '```train')}:1: train block, data: missing; add a [data] table with "
        'name = "moons" or similar',
        f"{path}:{line_of(text, '```train')}:1: train block, loss: missing; add a [loss] table with "
        'kind = "sse" or similar',
        f"{path}:{line_of(text, '```train')}:1: train block, optimiser: missing; add an [optimiser] table, "
        'kind = "sgd"',
        f'{path}:{line_of(text, "steps =")}:1: train block, steps: must be a whole number, not "many"',
        f'{path}:{line_of(text, "mistake =")}:1: train block, mistake: must be one of "none", '
        '"no_zero_grad", "overwrite", "ascend", "high_lr", not "no_zerograd"; did you mean "no_zero_grad"?',
        # (model.layers is not called missing as well: 'layer' was taken for it)
        f"{path}:{line_of(text, 'layer =')}:1: train block, model.layer: unknown key 'layer' in the [model] "
        "table; did you mean 'layers'? (allowed: layers, inputs, activation, linear_output)",
        "checked 1 lesson: 6 problems",
    ]


def test_check_warns_about_a_block_fence_inside_a_list_and_still_passes(capsys, env, tmp_path):
    text = FRONT + '\n- first\n\n  ```quiz\n  kind = "choice"\n  ```\n'
    path = tmp_path / "listed.md"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path), env=env)
    assert code == 0
    assert out.splitlines() == [
        f"{path}:{line_of(text, '```quiz')}:3: warning: this ```quiz fence is inside a list item, so the "
        "lesson shows it as code, not as a quiz block: end the list first (a blank line, then the fence "
        "at the start of a line, not indented)",
        "checked 1 lesson: 0 problems, 1 warning",
    ]


def test_check_reports_binary_and_oversized_files(capsys, env, tmp_path):
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"+++\n\x89PNG\x00\x00")
    huge = tmp_path / "huge.md"
    huge.write_bytes(FRONT.encode() + b"a" * (1024 * 1024))
    code, out, _ = run(capsys, "check", str(binary), str(huge), env=env)
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f"{binary}:2:5: file refused") and "binary" in lines[0]
    assert lines[1].startswith(f"{huge}:1:1: file refused") and "larger than 1 MiB" in lines[1]
    assert lines[2] == "checked 2 lessons: 2 problems"


def test_check_duplicate_id_and_unknown_prerequisite_across_files(capsys, env, tmp_path):
    d = tmp_path / "lessons"
    d.mkdir()
    (d / "a.md").write_text(FRONT)
    (d / "b.md").write_text(FRONT.replace("order = 5", "order = 6"))
    third = FRONT.replace('"sample"', '"third"').replace("prerequisites = []", 'prerequisites = ["sampel"]')
    (d / "c.md").write_text(third)
    code, out, _ = run(capsys, "check", str(d), env=env)
    assert code == 1
    assert out.splitlines() == [
        f"{d / 'b.md'}:2:1: lesson id 'sample' is already used by {d / 'a.md'}; each lesson needs its own id",
        f"{d / 'c.md'}:7:1: prerequisite 'sampel' is not the id of any lesson; did you mean 'sample'?",
        "checked 3 lessons: 2 problems",
    ]


def test_check_a_lesson_that_clashes_with_a_builtin_id(capsys, env, tmp_path):
    clash = tmp_path / "mine.md"
    clash.write_text(FRONT.replace('"sample"', '"derivative"'))
    code, out, _ = run(capsys, "check", str(clash), env=env)
    assert code == 1 and out.startswith(f"{clash}:2:1: lesson id 'derivative' is already used by ")


def test_check_a_path_that_does_not_exist(capsys, env, tmp_path):
    code, out, _ = run(capsys, "check", str(tmp_path / "nope.md"), env=env)
    assert code == 1
    assert out.splitlines() == [
        f"{tmp_path / 'nope.md'}: no such file or directory",
        "checked 0 lessons: 1 problem",
    ]


def test_check_without_paths_includes_the_lessons_flag_and_environment(capsys, env, tmp_path):
    bad = tmp_path / "extra"
    bad.mkdir()
    (bad / "x.md").write_text(FRONT.replace("order = 5", "order = []"))
    code, out, _ = run(capsys, "--lessons", str(TEACHER), "check", env={**env, "TUTOR_LESSONS": str(bad)})
    count = len(lesson_files(builtin_lessons_dir())) + 3
    assert code == 1
    assert out.splitlines() == [
        f"{bad / 'x.md'}:5:1: 'order' must be a whole number, e.g. 30 (lessons are listed by it), not a list",
        f"checked {count} lessons: 1 problem",
    ]


# ------------------------------------------------------------------------------ progress


def test_progress_table_and_json(capsys, env, tmp_path, monkeypatch):
    import tutor.progress.store as store

    day = [datetime(2026, 3, 2, 9, 30, tzinfo=UTC)]
    ticks = itertools.count(1)
    monkeypatch.setattr(store, "now", lambda: (day[0] + timedelta(microseconds=next(ticks))).isoformat())
    third = load_lesson(builtin_lessons_dir() / "03-backprop-by-hand.md", check=False).blocks[3].id
    with Progress(Path(env["TUTOR_HOME"])) as progress:
        progress.complete_lesson("derivative")
        progress.set_position("backprop-by-hand", third)
        progress.complete_block("backprop-by-hand", third)
        progress.record_attempt("backprop-by-hand", third, "-4", False, ["used-own-input"])
        progress.record_attempt("backprop-by-hand", third, "6", True, [])
        progress.record_attempt("backprop-by-hand", "quiz-5", "1", False, ["forgot-upstream"])
        progress.record_attempt("backprop-by-hand", "quiz-5", "-6", True, [])  # right, but the same day
        for _ in range(2):  # the first block right again on two later days: put right
            day[0] += timedelta(days=1)
            progress.record_attempt("backprop-by-hand", third, "6", True, [])
        progress.set_position("retired-lesson", 1)
    code, out, _ = run(capsys, "progress", env=env)
    assert code == 0
    assert re.search(r"✓ derivative +done +What a derivative is", out)
    assert re.search(r"… backprop-by-hand +in progress +Backprop by hand", out)
    assert "Lessons not installed any more" in out and "retired-lesson" in out
    assert re.search(r"used-own-input.*: 1 time, put right \(right answers on two later days\)", out)
    assert re.search(r"forgot-upstream.*: 1 time, not yet put right", out)

    code, out, _ = run(capsys, "progress", "--json", env=env)
    data = json.loads(out)
    states = {l["id"]: l["state"] for l in data["lessons"]}
    assert states["derivative"] == "done" and states["backprop-by-hand"] == "in progress"
    by_hand = next(l for l in data["lessons"] if l["id"] == "backprop-by-hand")
    assert by_hand["position"] == third and by_hand["completed_blocks"] == [third]
    tags = {t["tag"]: t for t in data["misconceptions"]}
    assert tags["used-own-input"]["resolved"] is True and tags["forgot-upstream"]["resolved"] is False
    assert data["not_installed"] == [{"id": "retired-lesson", "state": "in progress"}]


def test_progress_shows_broken_lessons(capsys, env, tmp_path):
    d = tmp_path / "extra"
    d.mkdir()
    (d / "bad.md").write_text(FRONT.replace("order = 5", "order = 5.5"))
    code, out, _ = run(capsys, "--lessons", str(d), "progress", "--json", env=env)
    (bad,) = [l for l in json.loads(out)["lessons"] if l["id"] == "sample"]
    assert bad["state"] == "broken" and bad["problem"].startswith(f"{d / 'bad.md'}:5:1:")


def test_progress_data_dir_flag_after_the_command(capsys, env, tmp_path):
    other = tmp_path / "other"
    with Progress(other) as progress:
        progress.complete_lesson("derivative")
    _, out, _ = run(capsys, "progress", "--json", "--data-dir", str(other), env=env)
    data = json.loads(out)
    assert data["data_dir"] == str(other)
    assert {l["id"]: l["state"] for l in data["lessons"]}["derivative"] == "done"


def test_progress_reports_a_corrupt_store(capsys, env):
    home = Path(env["TUTOR_HOME"])
    home.mkdir()
    (home / "progress.sqlite3").write_bytes(b"garbage" * 1000)
    code, out, err = run(capsys, "progress", env=env)
    assert code == 0 and "moved to" in err and "0 of" in out


# ------------------------------------------------------------------------------ reset


class FakeTty(io.StringIO):
    def isatty(self):
        return True


def _some_progress(env):
    with Progress(Path(env["TUTOR_HOME"])) as progress:
        progress.complete_lesson("derivative")
        progress.set_position("backprop-by-hand", 2)


def _states(env):
    with Progress(Path(env["TUTOR_HOME"])) as progress:
        return progress.state("derivative"), progress.state("backprop-by-hand")


def test_reset_with_yes(capsys, env):
    _some_progress(env)
    code, out, _ = run(capsys, "reset", "derivative", "--yes", env=env)
    assert code == 0 and "Reset your progress in lesson 'derivative'" in out
    assert _states(env) == ("not started", "in progress")
    code, out, _ = run(capsys, "reset", "--yes", env=env)
    assert code == 0 and _states(env) == ("not started", "not started")


def test_reset_refuses_without_a_terminal_and_without_yes(capsys, env, monkeypatch):
    _some_progress(env)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped input is not a confirmation
    code, out, err = run(capsys, "reset", env=env)
    assert code == 1 and "--yes" in err and "terminal" in err
    assert _states(env) == ("done", "in progress")


@pytest.mark.parametrize(
    "answer, kept", [("y\n", False), ("yes\n", False), ("n\n", True), ("\n", True), ("", True)]
)
def test_reset_asks_on_a_terminal(capsys, env, monkeypatch, answer, kept):
    _some_progress(env)
    monkeypatch.setattr("sys.stdin", FakeTty(answer))
    code, out, _ = run(capsys, "reset", env=env)
    assert "[y/N]" in out and "ALL your progress (2 lessons)" in out
    assert _states(env) == (("done", "in progress") if kept else ("not started", "not started"))
    assert code == (1 if kept else 0)


def test_reset_unknown_lesson_and_nothing_to_reset(capsys, env):
    code, _, err = run(capsys, "reset", "no-such-lesson", "--yes", env=env)
    assert code == 1 and "no lesson with id 'no-such-lesson'" in err
    code, out, _ = run(capsys, "reset", "derivative", "--yes", env=env)
    assert code == 0 and "Nothing to reset" in out


# ------------------------------------------------------------------------------ step and open


def test_step_with_a_bad_program_prints_its_position_and_does_not_open_the_app(capsys, env, launched):
    code, out, err = run(capsys, "step", "-e", "a = 2; b = -3; L = a * c", env=env)
    assert code == 1 and launched == []
    assert err == "-e:1:24: unknown name 'c'; names must be assigned before they are used\n"


def test_step_reports_runtime_errors_before_opening(capsys, env, launched, tmp_path):
    program = tmp_path / "prog.txt"
    program.write_text("# a comment\na = 2\nb = -3\nL = log(a * b)\n")
    code, _, err = run(capsys, "step", str(program), env=env)
    assert code == 1 and launched == []
    assert err.startswith(f"{program}:4:5: ") and "log" in err


def test_step_refuses_a_graph_whose_backward_pass_cannot_be_computed(capsys, env, launched):
    code, _, err = run(capsys, "step", "-e", "x = 0; y = x ** 0.5", env=env)
    assert code == 1 and launched == []
    assert err.startswith("-e:1:8: the backward pass cannot be computed")


def test_step_opens_the_debugger_on_a_good_program(capsys, env, launched, tmp_path):
    code, _, _ = run(capsys, "step", "-e", "a = 2; b = -3; L = a * b", env=env)
    assert code == 0
    ((_, _, kwargs),) = launched
    assert kwargs["step_program"].names == ("a", "b", "L") and kwargs["step_title"]
    program = tmp_path / "p.txt"
    program.write_text("x = 3\ny = x * x\n")
    assert run(capsys, "step", str(program), env=env)[0] == 0
    assert launched[1][2]["step_title"] == "p.txt" and launched[1][2]["step_program"].output == "y"


def test_step_needs_a_program(capsys, env, launched, tmp_path):
    code, _, err = run(capsys, "step", env=env)
    assert code == 2 and "PROGRAM_FILE" in err and launched == []
    code, _, err = run(capsys, "step", str(tmp_path / "missing.txt"), env=env)
    assert code == 1 and "cannot read" in err


def test_open_by_id_by_path_and_unknown(capsys, env, launched, tmp_path):
    assert run(capsys, env=env)[0] == 0
    assert launched[-1][2] == {"open_lesson": None}
    assert run(capsys, "backprop-by-hand", env=env)[0] == 0
    assert launched[-1][2] == {"open_lesson": "backprop-by-hand"}
    assert run(capsys, "--lessons", str(TEACHER), "reuse", env=env)[0] == 0
    assert launched[-1][2] == {"open_lesson": "reuse"} and launched[-1][0].get("chain-rule")
    lesson = tmp_path / "mine.md"
    lesson.write_text(FRONT)
    assert run(capsys, str(lesson), env=env)[0] == 0
    assert launched[-1][2] == {"open_lesson": "sample"}
    code, _, err = run(capsys, "no-such-lesson", env=env)
    assert code == 1 and "no lesson with id 'no-such-lesson'" in err and "derivative" in err
    assert len(launched) == 4


def test_version_and_help(capsys, env):
    code, out, _ = run(capsys, "--version", env=env)
    assert code == 0 and out == f"tutor {tutor.__version__}\n" and tutor.__version__ != "0+unknown"
    code, out, _ = run(capsys, "--help", env=env)
    assert code == 0
    for command in ("step", "check", "progress", "reset", "--lessons", "--data-dir", "tutor LESSON"):
        assert command in out
    code, _, err = run(capsys, "check", "--frobnicate", env=env)
    assert code == 2 and "unrecognized arguments" in err


# ------------------------------------------------------------------------------ train

TASK = """steps = 30
[model]
layers = [4, 4, 1]
[data]
name = "seeds"
[loss]
kind = "sse"
[optimiser]
kind = "sgd"
lr = 0.1
"""


def test_train_opens_the_training_screen_on_a_good_task(capsys, env, launched, tmp_path):
    task = tmp_path / "task.toml"
    task.write_text(TASK)
    assert run(capsys, "train", str(task), env=env)[0] == 0
    ((_, _, kwargs),) = launched
    assert kwargs["train_task"].steps == 30 and kwargs["step_title"] == "task.toml"


@pytest.mark.parametrize(
    "text, where, words",
    [
        (TASK.replace('"seeds"', '"seedz"'), "5:1", 'data.name: must be one of "seeds"'),
        (TASK.replace("lr = 0.1", "lr = -1"), "10:1", "optimiser.lr"),
        (TASK.replace("steps = 30", "steps = "), "1:9", "Invalid value"),
        (TASK.replace('[loss]\nkind = "sse"\n', ""), "1:1", "loss"),
    ],
)
def test_train_reports_a_bad_task_at_its_line_and_does_not_open(
    capsys, env, launched, tmp_path, text, where, words
):
    task = tmp_path / "task.toml"
    task.write_text(text)
    code, _, err = run(capsys, "train", str(task), env=env)
    assert code == 1 and launched == []
    assert err.startswith(f"{task}:{where}: ") and words in err


def test_train_refuses_a_task_over_the_budget_at_its_samples_line(capsys, env, launched, tmp_path):
    task = tmp_path / "big.toml"
    task.write_text(
        TASK.replace("layers = [4, 4, 1]", "layers = [64, 64, 64, 1]").replace(
            'name = "seeds"', 'name = "moons"\nsamples = 1000'
        )
    )
    code, _, err = run(capsys, "train", str(task), env=env)
    assert code == 1 and launched == []
    assert err.startswith(f"{task}:6:1: data.samples: this task builds about 17,000,000 values per step")
    assert "the limit is 1,000,000" in err and "use fewer samples (1000 → 58)" in err


def test_train_prints_every_problem_of_the_task_at_its_line(capsys, env, launched, tmp_path):
    task = tmp_path / "task.toml"
    task.write_text(TASK.replace("steps = 30", "steps = 0").replace("lr = 0.1", "lr = 0.1\nmomentun = 0.5"))
    code, _, err = run(capsys, "train", str(task), env=env)
    assert code == 1 and launched == []
    assert err.splitlines() == [
        f"{task}:1:1: steps: must be from 1 to 10000, not 0",
        f"{task}:11:1: optimiser.momentun: unknown key 'momentun' in the [optimiser] table; did you mean "
        "'momentum'? (allowed: kind, lr, decay, momentum, beta1, beta2)",
    ]


def test_train_refuses_what_it_cannot_read(capsys, env, launched, tmp_path):
    code, _, err = run(capsys, "train", str(tmp_path / "missing.toml"), env=env)
    assert code == 1 and "cannot read" in err
    binary = tmp_path / "task.toml"
    binary.write_bytes(b"\xff\xfe\x00steps")
    code, _, err = run(capsys, "train", str(binary), env=env)
    assert code == 1 and "not UTF-8" in err and launched == []


def test_the_app_refuses_to_start_without_a_terminal(capsys, env, monkeypatch):
    # `ssh host tutor` without -t: no terminal, so the app could never be used or quit; it must
    # say so and end instead of lingering on the server. (Under capsys stdout is not a terminal.)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(capsys, env=env)
    assert code == 1 and out == ""
    assert "needs a terminal" in err and "ssh -t" in err


def test_reset_says_so_when_it_could_not_be_written(capsys, env, monkeypatch):
    """Another session holds the write lock for longer than reset waits: the real error, exit 1,
    and the reset never lands later."""
    import subprocess
    import sys

    _some_progress(env)
    db = Path(env["TUTOR_HOME"]) / "progress.sqlite3"
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.readline()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        monkeypatch.setattr(cli_progress, "COMMAND_WAIT_S", 1.0)
        code, out, err = run(capsys, "reset", "--yes", env=env)
        assert code == 1 and "Reset" not in out
        assert "nothing was reset" in err and "database is locked" in err
    finally:
        locker.communicate("go\n", timeout=30)
    assert _states(env) == ("done", "in progress")


# ------------------------------------------------------------------------------ not a regular file


def run_promptly(capsys, *argv, env, fifo):
    """`run`, failing instead of hanging if the command blocks on the FIFO."""
    from tests.logic.test_files import promptly

    code = promptly(lambda: main(list(argv), environ=env), fifo=fifo)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command, what", [("step", "a program"), ("train", "a task")])
def test_step_and_train_refuse_a_fifo_at_once(capsys, env, launched, tmp_path, command, what):
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    code, _, err = run_promptly(capsys, command, str(fifo), env=env, fifo=fifo)
    assert code == 1 and launched == []
    assert err == (
        f"tutor: {fifo} is not a regular file (a FIFO); give the path of a text file holding {what}\n"
    )


def test_step_refuses_a_directory_the_same_way(capsys, env, launched, tmp_path):
    code, _, err = run(capsys, "step", str(tmp_path), env=env)
    assert code == 1 and launched == []
    assert f"{tmp_path} is not a regular file (a directory)" in err


def test_check_refuses_a_fifo_lesson_at_once(capsys, env, tmp_path):
    fifo = tmp_path / "lesson.md"
    os.mkfifo(fifo)
    code, out, _ = run_promptly(capsys, "check", str(fifo), env=env, fifo=fifo)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"{fifo}: file refused: it is not a regular file (a FIFO); give the path of a lesson's text file"
    )
    assert lines[-1] == "checked 1 lesson: 1 problem"


def test_a_fifo_given_as_a_lessons_directory_is_refused_at_once(capsys, env, tmp_path):
    fifo = tmp_path / "lessons"
    os.mkfifo(fifo)
    code, out, _ = run_promptly(capsys, "--lessons", str(fifo), "check", env=env, fifo=fifo)
    assert code == 1 and f"{fifo}: file refused: it is not a regular file (a FIFO)" in out
