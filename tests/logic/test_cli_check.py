"""The teacher's loop: `tutor check --watch`, `--strict`, and `tutor train TASK --print`."""

from __future__ import annotations

import io
from pathlib import Path

from tests.logic.test_lessons_checks import lesson
from tutor import cli_check
from tutor.cli import build_parser, main

TRAIN_FIXTURES = Path(__file__).resolve().parents[1] / "app" / "train_fixtures"

QUIZ = '```quiz\nkind = "numeric"\nprompt = "p"\nanswer = 2\n{examples}```\n'
RIGHT = '\n[[examples]]\nanswer = "2"\nverdict = "right"\n'


def test_watch_checks_again_when_a_lesson_is_saved_and_ctrl_c_ends_it(tmp_path):
    path = tmp_path / "10-w.md"
    path.write_text(lesson("w", ["no-such-lesson"]))
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:  # the teacher fixes the lesson and saves it
            path.write_text(lesson("w", ["derivative"]))
        if len(sleeps) == 4:
            raise KeyboardInterrupt

    args = build_parser().parse_args(["check", "--watch", str(path)])
    args.lessons = []
    out = io.StringIO()
    status = cli_check.watch(args, {}, sleep=sleep, out=out)
    text = out.getvalue()
    first, _, second = text.partition("changed:")
    assert "prerequisite 'no-such-lesson' is not the id of any lesson" in first
    assert "checked 1 lesson: 1 problem" in first and "watching 1 file" in first
    assert str(path) in second.splitlines()[0] and "checked 1 lesson: 0 problems" in second
    assert second.count("checked") == 1  # unchanged files are not checked again
    assert status == 0 and sleeps == [cli_check.WATCH_INTERVAL_S] * 4


def test_watch_ends_by_itself_after_its_bound(tmp_path, monkeypatch):
    path = tmp_path / "10-w.md"
    path.write_text(lesson("w"))
    now = [0.0]

    def clock():
        now[0] += 3600.0
        return now[0]

    args = build_parser().parse_args(["check", "--watch", str(path)])
    args.lessons = []
    out = io.StringIO()
    assert cli_check.watch(args, {}, sleep=lambda s: None, clock=clock, out=out) == 0
    assert "stopped watching after 12 hours" in out.getvalue()


def test_strict_fails_a_quiz_without_examples(tmp_path, capsys):
    path = tmp_path / "10-s.md"
    path.write_text(lesson("s", body=QUIZ.format(examples="")))
    assert main(["check", str(path)], environ={}) == 0
    capsys.readouterr()
    assert main(["check", "--strict", str(path)], environ={}) == 1
    out = capsys.readouterr().out
    assert "10-s.md:10:1: quiz block: no [[examples]] (--strict)" in out
    path.write_text(lesson("s", body=QUIZ.format(examples=RIGHT)))
    assert main(["check", "--strict", str(path)], environ={}) == 0


def test_train_print_runs_the_task_headless(capsys):
    code = main(["train", str(TRAIN_FIXTURES / "xor_small.toml"), "--print", "--every", "10"], environ={})
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "40 steps, printing every 10"
    assert [line.split()[0] for line in lines[2:7]] == ["1", "10", "20", "30", "40"]
    assert "%" in lines[2]  # the accuracy, for a classification task
    assert lines[-1].startswith("after step 40: loss ")


def test_train_print_says_where_a_run_breaks(capsys):
    code = main(["train", str(TRAIN_FIXTURES / "diverges.toml"), "--print"], environ={})
    assert code == 1
    assert "stopped: loss became inf at step" in capsys.readouterr().out


def test_lessons_lists_every_lesson_with_its_id_and_file(capsys, tmp_path):
    (tmp_path / "10-mine.md").write_text(lesson("mine-a"))
    assert main(["lessons", "--lessons", str(tmp_path)], environ={}) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "15 lessons"
    assert "  derivative" in out and "What a derivative is" in out and "01-derivative.md" in out
    assert "  mine-a" in out and "10-mine.md" in out


DOCS = Path(__file__).resolve().parents[2] / "docs" / "lesson-format.md"


def test_the_lesson_format_doc_lists_every_train_key_and_every_built_in_id():
    from tutor.lessons import builtin_lessons_dir, load_catalog
    from tutor.lessons.train import TASK

    doc = DOCS.read_text(encoding="utf-8")
    for key in TASK.keys:
        if key.table is None:
            assert f"| `{key.name}` |" in doc, key.name
            continue
        for inner in key.table.keys:
            assert f"| `[{key.name}]` `{inner.name}` |" in doc, (key.name, inner.name)
    for built_in in load_catalog([builtin_lessons_dir()], check=False).lessons:
        assert f"`{built_in.id}`" in doc, built_in.id
    assert "tutor lessons" in doc and "`n1`" in doc
