"""`tutor serve` when things go wrong: the server sent SIGTERM with ten learners connected (every
answer given is in the report after a restart, which keeps the host key), and the idle timeout
(a warning, then a clean end). The client killed mid-lesson is in test_serve.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.e2e.conftest import Terminals, poll, tutor_pids
from tests.e2e.test_serve import open_lesson, start_serve
from tests.e2e.test_ssh import QUIZ_A, answer_box, go_to_part

LEARNERS = 10


def test_sigterm_with_ten_learners_keeps_every_answer_and_a_restart_keeps_the_host_key(tmp_path):
    served = start_serve(tmp_path, "--max-sessions", "12")
    names = [f"learner{i}" for i in range(LEARNERS)]
    keys = {name: served.add_key(name) for name in names}
    host_key = (served.class_dir / "host_key.pub").read_text()
    with tempfile.TemporaryDirectory(prefix="tmx") as short:
        terms = Terminals(Path(short), served)
        try:
            panes = {name: terms.open("", key=keys[name]) for name in names}
            for name, pane in panes.items():
                open_lesson(pane)
                go_to_part(pane, QUIZ_A + 1)
                pane.keys("Enter")
                pane.wait_for("what is a.grad?", "Enter checks")
                answer = str(10 + names.index(name))
                pane.type(answer)
                pane.wait_until(lambda s: answer_box(s) == answer, f"{answer} in the answer box")
                pane.keys("Enter")
                pane.wait_for("✗ Not right")
            assert all(tutor_pids(served.home(name)) for name in names)

            status = served.stop(timeout=30)
            assert status == 0, served.log_text()
            for pane in panes.values():
                pane.wait_for("The class is closing", timeout=10)
                assert poll(lambda: pane.dead, 10)
            left = {name: tutor_pids(served.home(name)) for name in names}
            assert not any(left.values()), f"tutors left after the server stopped: {left}"
        finally:
            terms.close()

    # every answer given is in the report
    for row in served.report()["learners"]:
        i = names.index(row["name"])
        assert [(a["answer"], a["correct"]) for a in row["answers"]] == [(str(10 + i), False)], row

    # a restart: the same host key, so a learner's known_hosts still holds; nothing lost
    again = start_serve(tmp_path)
    try:
        assert (again.class_dir / "host_key.pub").read_text() == host_key
        known = tmp_path / "known_hosts"
        known.write_text(f"[127.0.0.1]:{again.port} {' '.join(host_key.split()[:2])}\n")
        done = again.run(
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "StrictHostKeyChecking=yes",
            key=keys["learner0"],
            tty="-T",
        )
        assert done.returncode == 1 and "use ssh -t" in done.stderr, done.stderr  # the host key was accepted
        assert again.learner("learner3")["answers"][0]["answer"] == "13"
    finally:
        again.stop()


def test_the_idle_timeout_warns_then_ends_the_session_cleanly(tmp_path):
    served = start_serve(tmp_path, "--idle-timeout", "7", "--idle-warning", "4")
    key = served.add_key("alice")
    home = served.home("alice")
    with tempfile.TemporaryDirectory(prefix="tmx") as short:
        terms = Terminals(Path(short), served)
        try:
            pane = terms.open("", key=key)
            pane.wait_for("tutor — Lessons")
            pane.wait_for("Idle: this session ends in", timeout=10)
            assert not pane.dead
            # a key pressed puts the clock back and the tutor draws over the warning
            pane.keys("Down")
            pane.wait_for("Idle: this session ends in", gone=True, timeout=5)
            pane.wait_for("tutor — Lessons")
            pane.wait_for("Idle: this session ends in", timeout=10)
            pane.wait_for("Session ended: no key was pressed", timeout=10)
            assert poll(lambda: pane.dead, 10)
            ended = pane.ended()
            assert ended == "status 0", (ended, pane.screen())
            assert poll(lambda: not tutor_pids(home), 5), tutor_pids(home)
            # the learner's terminal is given back as it was: no alternate screen, no mouse mode
            assert "tutor — Lessons" not in pane.screen()
        finally:
            terms.close()
            served.stop()
