"""`tutor class report` over learners' own stores, written as their tutors write them."""

from __future__ import annotations

import csv
import io
import itertools
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tutor.cli import main
from tutor.lessons import lesson_dirs, load_catalog
from tutor.progress import Progress
from tutor.serve.report import class_report, to_csv
from tutor.serve.roster import ClassDir

DAY0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def days(monkeypatch):
    """The progress store stamps answers on a simulated day: ``("day", n)`` in ``write``'s steps
    moves it to DAY0 + n days (a mistake is put right by right answers on later days)."""
    import tutor.progress.store as store

    day, ticks = [DAY0], itertools.count(1)
    monkeypatch.setattr(store, "now", lambda: (day[0] + timedelta(microseconds=next(ticks))).isoformat())
    return day


def write(cls: ClassDir, name: str, steps, day=None) -> None:
    """Carry out ``steps`` on the learner's store; ``("day", n)`` moves ``day`` (the `days`
    fixture's) to DAY0 + n days, and is passed over without it (every answer stamped now)."""
    cls.roster().add(name)
    with Progress(cls.learner_dir(name)) as progress:
        for step in steps:
            if step[0] == "day":
                if day is not None:
                    day[0] = DAY0 + timedelta(days=step[1])
            else:
                getattr(progress, step[0])(*step[1:])


def block(lesson_id: str, index: int) -> str:
    """The id of a built-in lesson's block at ``index`` (progress names blocks by id)."""
    return load_catalog(lesson_dirs([], {}), (), check=False).get(lesson_id).blocks[index].id


def make_class(tmp_path, day=None) -> ClassDir:
    D2, V3 = block("derivative", 2), block("values", 3)
    cls = ClassDir(tmp_path / "c")
    write(
        cls,
        "alice",
        [
            ("set_position", "derivative", D2),
            ("record_attempt", "derivative", D2, "5", False, ["own-input-in-mul"]),
            ("day", 1),
            ("record_attempt", "derivative", D2, "14", True, []),
            ("complete_block", "derivative", D2),
            ("complete_lesson", "derivative"),
            ("day", 2),
            ("record_attempt", "derivative", D2, "14", True, []),  # right on two later days: put right
            ("set_position", "values", V3),
            ("record_attempt", "values", V3, "1", True, []),
        ],
        day,
    )
    write(
        cls,
        "bob",
        [("set_position", "derivative", D2)]
        + [("record_attempt", "derivative", D2, str(n), False, ["own-input-in-mul"]) for n in range(3)],
    )
    cls.roster().add("carol")  # never connected
    return cls


def test_the_report_per_learner_and_per_misconception(tmp_path, days):
    cls = make_class(tmp_path, days)
    catalog = load_catalog(lesson_dirs([], {}), (), check=False)
    report = class_report(cls, catalog)
    rows = {r["name"]: r for r in report["learners"]}
    alice, bob = rows["alice"], rows["bob"]
    assert alice["lessons_done"] == ["derivative"]
    assert alice["now"]["lesson"] == "values" and alice["now"]["part"] == 4
    assert alice["now"]["parts"] == len(catalog.get("values").blocks)
    assert (alice["attempts"], alice["parts_answered"], alice["right_first_try"]) == (4, 2, 1)
    assert alice["first_try_rate"] == 0.5
    assert [(t["tag"], t["hits"], t["resolved"]) for t in alice["misconceptions"]] == [
        ("own-input-in-mul", 1, True)
    ]
    assert alice["stuck_on"] == []
    assert bob["first_try_rate"] == 0.0 and bob["stuck_on"][0]["wrong_in_a_row"] == 3
    assert rows["carol"]["connected"] is False
    (tag,) = report["misconceptions"]
    assert tag["tag"] == "own-input-in-mul"
    assert tag["learners"] == [
        {"name": "alice", "hits": 1, "resolved": True},
        {"name": "bob", "hits": 3, "resolved": False},
    ]
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [(r["learner"], r["misconception"], r["hits"], r["resolved"]) for r in rows] == [
        ("alice", "own-input-in-mul", "1", "yes"),
        ("bob", "own-input-in-mul", "3", "no"),
        ("carol", "", "", ""),
    ]
    assert rows[0]["first_try_rate"] == "0.5" and rows[0]["now_lesson"] == "values"


def test_tutor_class_report_prints_text_json_and_csv(tmp_path, capsys, days):
    make_class(tmp_path, days)
    d = str(tmp_path / "c")
    assert main(["class", "report", "--class-dir", d]) == 0
    out = capsys.readouterr().out
    assert "alice: 1 lesson(s) done, now in" in out and "50% right first try" in out
    assert "carol: has not connected yet" in out
    assert "own-input-in-mul" in out and "bob (3×, open)" in out
    assert main(["class", "report", "--json", "--class-dir", d]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["answer"] for a in data["learners"][0]["answers"]] == ["5", "14", "14", "1"]
    assert main(["class", "report", "--csv", "--class-dir", d]) == 0
    assert capsys.readouterr().out.startswith("learner,lessons_done,now_lesson")
    assert main(["class", "report", "--class-dir", str(tmp_path / "nowhere")]) == 1
    assert "is not a class directory" in capsys.readouterr().err


def test_tutor_starts_without_asyncssh_and_class_commands_without_textual(tmp_path):
    code = (
        "import sys, json\n"
        "import tutor.cli, tutor.cli_class, tutor.serve.report, tutor.serve.roster, tutor.serve.limits\n"
        "import tutor.serve.live\n"
        "from tutor.serve.roster import ClassDir\n"
        "ClassDir(sys.argv[1]).roster().names()\n"  # a class without a database: no psycopg
        "heavy = ('asyncssh', 'textual', 'psycopg')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "c")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_the_report_with_a_database_shows_answers_written_from_two_hosts_at_once(tmp_path, pg_url, capsys):
    """Alice's tutor on two hosts at once (two stores of one learner, as two `tutor serve`
    machines start them with TUTOR_DB and TUTOR_LEARNER): the report reads every answer."""
    from tutor.progress import open_store

    D2 = block("derivative", 2)
    d = str(tmp_path / "c")
    assert main(["class", "add", "alice", "--class-dir", d, "--db", pg_url]) == 0
    assert main(["class", "add", "carol", "--class-dir", d, "--db", pg_url]) == 0
    capsys.readouterr()
    one = open_store(pg_url, tmp_path / "host1" / "alice", "alice")
    two = open_store(pg_url, tmp_path / "host2" / "alice", "alice")
    try:
        one.set_position("derivative", D2)
        one.record_attempt("derivative", D2, "5", False, ["own-input-in-mul"])
        two.record_attempt("derivative", D2, "14", True, [])
    finally:
        one.close()
        two.close()
    assert main(["class", "report", "--json", "--class-dir", d, "--db", pg_url]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["learners"]}
    assert sorted(a["answer"] for a in rows["alice"]["answers"]) == ["14", "5"]
    assert rows["alice"]["now"]["lesson"] == "derivative"
    assert rows["carol"]["connected"] is False
    assert main(["class", "report", "--class-dir", d], environ={"TUTOR_DB": pg_url}) == 0
    out = capsys.readouterr().out
    assert "alice: 0 lesson(s) done" in out and "carol: has not connected yet" in out
