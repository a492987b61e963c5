"""One learner on two `tutor serve` hosts at once, one PostgreSQL database: answers given on
each, and `tutor class report --db` shows the answers from both (issue 17).

Needs the learner's `tutor` to keep its progress in the database it is given (TUTOR_DB and
TUTOR_LEARNER, set by `tutor serve`): until tutor/cli.py reads them this fails at the report."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from tests.e2e.conftest import Terminals
from tests.e2e.test_serve import open_lesson, start_serve
from tests.e2e.test_serve_hosts import add_key
from tests.e2e.test_ssh import QUIZ_A, answer_quiz_a, go_to_part


def test_one_learner_on_two_hosts_at_once_and_the_report_has_both_hosts_answers(tmp_path, pg_url):
    first = start_serve(tmp_path / "m1", "--db", pg_url)
    servers = [first]
    try:
        (tmp_path / "m2" / "class").mkdir(parents=True)
        shutil.copyfile(first.class_dir / "host_key", tmp_path / "m2" / "class" / "host_key")
        os.chmod(tmp_path / "m2" / "class" / "host_key", 0o600)
        second = start_serve(tmp_path / "m2", "--db", pg_url)
        servers.append(second)
        alice = add_key(first, "alice", pg_url)
        with tempfile.TemporaryDirectory(prefix="tmx") as short:
            panes = []
            try:
                for n, served in enumerate(servers):
                    (Path(short) / str(n)).mkdir()
                    terms = Terminals(Path(short) / str(n), served)
                    panes.append((terms, terms.open("", key=alice)))
                for _, pane in panes:  # both sessions open at once
                    open_lesson(pane)
                for _, pane in panes:
                    go_to_part(pane, QUIZ_A + 1)
                    answer_quiz_a(pane)  # wrong, then right, on each host
            finally:
                for terms, _ in panes:
                    terms.close()
        done = first.tutor(
            "class", "report", "--json", "--db", pg_url, "--lessons", str(first.dir / "lessons")
        )
        assert done.returncode == 0, done.stderr
        row = next(r for r in json.loads(done.stdout)["learners"] if r["name"] == "alice")
        assert sorted(a["answer"] for a in row["answers"]) == ["-3", "-3", "2", "2"]
    finally:
        for served in servers:
            served.stop()
