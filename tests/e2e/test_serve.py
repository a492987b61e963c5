"""`tutor serve` with the real OpenSSH client in an 80×24 tmux pane (see conftest.py for the
panes): a learner added by key, a learner enrolled by code, a resize, the report, and a client
killed mid-lesson. The refusals and the faults are in test_serve_refusals.py and
test_serve_faults.py, which share the helpers here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import Terminals, _keygen, ensure_tools, free_port, poll, tutor_command, tutor_pids
from tests.e2e.test_ssh import LESSON, PARTS, QUIZ_A, answer_quiz_a, go_to_part

LESSON_TITLE = "Gradients over SSH"


@dataclass
class Served:
    """A running `tutor serve` on 127.0.0.1, and the keys made for its learners."""

    dir: Path
    port: int
    process: subprocess.Popen
    log: Path
    keys: dict[str, Path] = field(default_factory=dict)

    @property
    def class_dir(self) -> Path:
        return self.dir / "class"

    def home(self, name: str) -> Path:
        return self.class_dir / "learners" / name

    def ssh_argv(
        self, remote: str = "", *, send_env: tuple[str, ...] = (), key: Path | None = None, tty: str = "-tt"
    ) -> list[str]:
        argv = ["ssh"] + ([tty] if tty else [])
        argv += ["-F", "/dev/null", "-p", str(self.port), "-i", str(key)]
        argv += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        argv += ["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
        for name in send_env:
            argv += ["-o", f"SendEnv={name}"]
        return argv + ["learner@127.0.0.1"] + ([remote] if remote else [])

    def run(self, *args: str, key: Path, remote: str = "", tty: str = "", timeout: float = 20, env=None):
        """The ssh client without tmux (no terminal unless ``tty``)."""
        argv = self.ssh_argv(remote, key=key, tty=tty)
        argv[1:1] = list(args)
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env
        )

    def tutor(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [tutor_command(), *args, "--class-dir", str(self.class_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def add_key(self, name: str) -> Path:
        key = self.dir / f"key-{name}"
        _keygen(key)
        done = self.tutor("class", "add", name, "--key", f"{key}.pub")
        assert done.returncode == 0, done.stderr
        self.keys[name] = key
        return key

    def new_key(self, label: str) -> Path:
        key = self.dir / f"key-{label}"
        _keygen(key)
        return key

    def report(self) -> dict:
        done = self.tutor("class", "report", "--json", "--lessons", str(self.dir / "lessons"))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def learner(self, name: str) -> dict:
        return next(row for row in self.report()["learners"] if row["name"] == name)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 20) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def start_serve(dir: Path, *flags: str) -> Served:
    """`tutor serve` on a free port of 127.0.0.1, with the ssh-check lesson; returns once it listens."""
    ensure_tools()
    lessons = dir / "lessons"
    if not lessons.exists():
        lessons.mkdir(parents=True)
        (lessons / "50-ssh.md").write_text(LESSON, encoding="utf-8")
    for _ in range(3):
        port = free_port()
        log = dir / f"serve-{port}.log"
        argv = [tutor_command(), "serve", "--class-dir", str(dir / "class"), "--port", str(port)]
        argv += ["--lessons", str(lessons), *flags]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        with open(log, "wb") as fh:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=fh)
        served = Served(dir, port, process, log)
        poll(lambda: process.poll() is not None or "serving " in served.log_text(), 20)
        if process.poll() is None:
            return served
        if "in use" not in served.log_text():
            pytest.fail(f"tutor serve exited at start-up:\n{served.log_text()}")
    pytest.fail(f"tutor serve could not bind a free port:\n{served.log_text()}")


@pytest.fixture(name="served")
def served_fixture(tmp_path):
    server = start_serve(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="panes")
def panes_fixture(served):
    with tempfile.TemporaryDirectory(prefix="tmx") as short:
        terms = Terminals(Path(short), served)
        try:
            yield terms
        finally:
            terms.close()


def open_lesson(pane) -> None:
    """From the lesson list, the ssh-check lesson by the command palette."""
    pane.wait_for("tutor — Lessons", LESSON_TITLE)
    pane.keys("C-p")
    pane.wait_for("Search for commands")
    pane.type("Gradients over")
    pane.wait_for(f"Lesson: {LESSON_TITLE}")
    pane.keys("Enter")
    pane.wait_for(f"{LESSON_TITLE} — Remote check", f"part 1 of {PARTS}")


def widest_row(screen: str) -> int:
    return max(len(line.rstrip()) for line in screen.splitlines())


def test_a_learner_added_by_key_answers_a_quiz_the_report_shows_it_and_a_resize_reaches_the_app(
    served, panes
):
    key = served.add_key("alice")
    home = served.home("alice")
    pane = panes.open("", key=key)
    pane.wait_for("tutor — Lessons", LESSON_TITLE)
    assert tutor_pids(home), "no tutor runs with alice's progress directory"
    assert widest_row(pane.screen()) <= 80

    # a resize reaches the app: the list is drawn again at the new width
    pane._tmux("resize-window", "-t", pane.name, "-x", "100", "-y", "30")
    pane.wait_until(lambda s: widest_row(s) > 80 and len(s.splitlines()) >= 30, "the list redrawn at 100×30")
    pane._tmux("resize-window", "-t", pane.name, "-x", "80", "-y", "24")
    pane.wait_until(lambda s: widest_row(s) <= 80, "the list redrawn at 80×24")

    open_lesson(pane)
    go_to_part(pane, QUIZ_A + 1)
    answer_quiz_a(pane)  # wrong (a named misconception), then right

    # the client is killed mid-lesson: nothing lost, no process left
    os.kill(pane.pid, signal.SIGKILL)
    assert poll(lambda: pane.dead, 10)
    left = poll(lambda: not tutor_pids(home), 8) or tutor_pids(home)
    assert left is True, f"tutor left running after the client was killed: {left}"

    row = served.learner("alice")
    answers = [(a["lesson"], a["answer"], a["correct"]) for a in row["answers"]]
    assert answers == [("ssh-check", "2", False), ("ssh-check", "-3", True)]
    assert row["now"]["lesson"] == "ssh-check" and row["attempts"] == 2
    assert row["first_try_rate"] == 0.0
    tags = {t["tag"]: t for t in row["misconceptions"]}
    # answered right in the same session: not put right until right answers on two later days
    assert tags["own-input-in-mul"]["hits"] == 1 and tags["own-input-in-mul"]["resolved"] is False
    by_tag = {t["tag"]: t for t in served.report()["misconceptions"]}
    assert [x["name"] for x in by_tag["own-input-in-mul"]["learners"]] == ["alice"]

    # a teacher's key gets the live view of the class instead of the course
    teacher = served.new_key("teacher")
    (served.class_dir / "teachers").write_text(Path(f"{teacher}.pub").read_text())
    pane = panes.open("", key=teacher)
    screen = pane.wait_for("tutor — class", "alice", LESSON_TITLE)
    row = next(line for line in screen.splitlines() if " alice " in line)
    assert "50%" not in row and " 2 " in row and "0%" in row  # two answers, none right first try
    pane.keys("q")
    assert poll(lambda: pane.dead, 10)


def test_a_learner_enrolled_by_code_types_it_once(served, panes):
    done = served.tutor("class", "add", "bob")
    assert done.returncode == 0, done.stderr
    code = done.stdout.split("Enrolment code for bob: ")[1].split()[0]
    key = served.new_key("bob")

    pane = panes.open("", key=key)
    pane.wait_for("Enrolment code:")
    assert not tutor_pids(served.home("bob")), "a tutor started before the code was given"
    pane.type("WRONG-CODE")
    pane.keys("Enter")
    pane.wait_for("That code is not right")
    pane.type(code.lower())  # case and the dash do not matter
    pane.keys("Enter")
    pane.wait_for("tutor — Lessons")
    assert tutor_pids(served.home("bob"))
    pane.keys("C-q")
    assert poll(lambda: pane.dead, 15)
    ended = pane.ended()
    assert ended == "status 0", f"ssh ended with {ended}:\n{pane.last}"

    # the second time, the same key gets straight in
    pane = panes.open("", key=key)
    pane.wait_for("tutor — Lessons")
    assert "Enrolment code" not in pane.screen()
    pane.keys("C-q")
    assert poll(lambda: pane.dead, 15)

    # the code is used up: another new key is refused before anything runs
    other = served.new_key("mallory")
    refused = served.run(key=other, tty="-tt")
    assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr
    listed = served.tutor("class", "list")
    assert "bob: 1 key(s)" in listed.stdout and "waiting" not in listed.stdout


def test_an_open_class_asks_a_new_key_for_a_name(tmp_path):
    served = start_serve(tmp_path, "--open", "--login-timeout", "5")
    key = served.new_key("dana")
    with tempfile.TemporaryDirectory(prefix="tmx") as short:
        terms = Terminals(Path(short), served)
        try:
            pane = terms.open("", key=key)
            pane.wait_for("Choose a name")
            pane.type("dana")
            pane.keys("Enter")
            pane.wait_for("tutor — Lessons")
            assert tutor_pids(served.home("dana"))
            pane.keys("C-q")
            assert poll(lambda: pane.dead, 15)
            # the name is hers now: another new key cannot take it
            other = terms.open("", key=served.new_key("eve"))
            other.wait_for("Choose a name")
            other.type("dana")
            other.keys("Enter")
            other.wait_for("That name is taken")
            # the prompt has the login timeout: nobody holds a connection at it for long
            other.wait_for("Too slow", timeout=10)
            assert poll(lambda: other.dead, 5)
            assert not list((served.class_dir / "learners").glob("eve*"))
        finally:
            terms.close()
            served.stop()
    assert "dana: 1 key(s)" in served.tutor("class", "list").stdout
