"""The installed tutor over a real SSH connection, read off a real terminal (tmux, 80×24).

Each test logs in to the test sshd (see conftest.py) with ``ssh -tt`` inside a tmux pane, drives
the tutor with keys and reads the pane: a lesson, the debugger stepping until a gradient shows,
a quiz answered wrong then right. One test drops the connection mid-lesson and checks that the
progress up to the last answer is kept and that nothing is left running on the server; the other
runs with ``TERM=xterm`` and ``NO_COLOR=1`` and checks that the screen holds no colour at all
while every marker the learner needs is still there.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from tests.e2e.conftest import poll, sgr_colours, tutor_pids
from tutor.lessons import load_lesson

LESSON = '''\
+++
id = "ssh-check"
title = "Gradients over SSH"
section = "Remote check"
order = 1
summary = "A multiply, stepped backward, then two questions about it."
prerequisites = []
+++

# Gradients over SSH

A product of two numbers: L = a * b with a = 2 and b = -3.

```debugger
program = """
a = 2
b = -3
L = a * b
"""
caption = "L = a * b"
```

```quiz
kind = "numeric"
prompt = "In L = a * b with a = 2 and b = -3, what is a.grad?"
answer = -3

[[wrong]]
answer = 2
tag = "own-input-in-mul"
feedback = "That is a's own value; the multiply rule uses the other operand, b."

[[examples]]
answer = "-3"
verdict = "right"
```

```quiz
kind = "numeric"
prompt = "And b.grad?"
answer = 2

[[examples]]
answer = "2"
verdict = "right"
```

That is all.
'''

# the block indexes of the lesson above (progress_json reads the saved block ids back as these): 0 prose, 1 debugger, 2 first quiz, 3 second quiz, 4 prose
DEBUGGER, QUIZ_A, QUIZ_B = 1, 2, 3
PARTS = 5


@pytest.fixture
def learner(tmp_path):
    """A data directory (TUTOR_HOME) and a lesson directory of one learner."""
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "50-ssh.md").write_text(LESSON, encoding="utf-8")
    home = tmp_path / "home"
    return home, lessons


def tree_row(screen: str, name: str) -> tuple[str, str] | None:
    """(data, grad) as the graph tree's line for node ``name`` shows them, or None."""
    for line in screen.splitlines():
        match = re.match(rf"^\W*\b{re.escape(name)}\s+(?:\S+\s+)?(-?\d+\.\d+)\s+(-?\d+\.\d+)", line)
        if match:
            return match.group(1), match.group(2)
    return None


def at_the_end(flat: str) -> bool:
    """The header on the end card: "· end", or "· lesson complete ✓" when reaching it finished
    the lesson."""
    return "Remote check · end" in flat or "Remote check · lesson complete" in flat


def go_to_part(pane, part: int) -> None:
    """On the lesson screen, press n (or p) one part at a time until the header says
    ``part N of 5`` (``PARTS + 1`` is the end card)."""
    for _ in range(PARTS + 1):
        flat = pane.flat()
        found = re.search(r"part (\d+) of \d+", flat)
        if found:
            current = int(found.group(1))
        elif at_the_end(flat):
            current = PARTS + 1
        else:
            raise AssertionError(f"not on the lesson screen:\n{pane.last}")
        if current == part:
            return
        step = 1 if current < part else -1
        pane.keys("n" if step > 0 else "p")
        if current + step <= PARTS:
            pane.wait_for(f"part {current + step} of {PARTS}")
        elif not poll(lambda: at_the_end(pane.flat()), 15):
            raise AssertionError(f"the end card never came:\n{pane.last}")
    raise AssertionError(f"could not reach part {part}:\n{pane.last}")


def step_debugger(pane) -> str:
    """Open the debugger card under the cursor, step the backward pass, watch a.grad change.
    Returns the screen after the last step."""
    pane.keys("Enter")
    screen = pane.wait_for("Debugger — L = a * b", "Step 0 of 2")
    # before the backward pass every grad is 0
    assert tree_row(screen, "L") == ("-6.0", "0.0")
    assert tree_row(screen, "a") == ("2.0", "0.0")
    pane.keys("n")
    screen = pane.wait_for("Step 1 of 2")
    assert tree_row(screen, "L") == ("-6.0", "1.0")  # the seed
    assert tree_row(screen, "a") == ("2.0", "0.0")
    pane.keys("n")
    screen = pane.wait_for("Step 2 of 2", "pass complete")
    assert tree_row(screen, "a") == ("2.0", "-3.0")
    assert tree_row(screen, "b") == ("-3.0", "2.0")
    assert "a.grad += b.data * L.grad" in screen  # the rule that ran, with its numbers
    pane.keys("q")
    pane.wait_for("Debugger ✓ done", f"part {DEBUGGER + 1} of {PARTS}")
    return screen


def answer_box(screen: str) -> str | None:
    """The text in the quiz's answer box (the row between its ▔ and ▁ edges), or None."""
    rows = screen.splitlines()
    for i, row in enumerate(rows[:-2]):
        if "▊▔" in row and "▊▁" in rows[i + 2]:
            return rows[i + 1].strip().strip("▊▎").strip()
    return None


def type_answer(pane, text: str) -> None:
    """Clear the answer box, type ``text`` and check it, watching the screen after each key the
    way a person watches what they type.

    Textual handles a typed letter in the box's own queue but an editing key (ctrl+u, backspace)
    through the app's bindings, so keys that arrive together can apply out of order
    (Textualize/textual#6605), and a ctrl+u sent the instant the box takes the focus can be lost.
    Over SSH keys often arrive together; waiting and pressing ctrl+u again, as a person would,
    keeps this test about SSH rather than about that."""
    for _ in range(5):
        if not answer_box(pane.screen()):
            break
        pane.keys("C-u")
        if poll(lambda: answer_box(pane.screen()) == "", 1.0):
            break
    else:
        raise AssertionError(f"ctrl+u did not clear the answer box:\n{pane.last}")
    pane.type(text)
    pane.wait_until(lambda s: answer_box(s) == text, f"the answer box to show {text!r}")
    pane.keys("Enter")


def answer_quiz_a(pane) -> None:
    """The first quiz, answered wrong (a named misconception) and then right."""
    pane.keys("Enter")
    pane.wait_for("Quiz · a number", "what is a.grad?", "Enter checks")
    type_answer(pane, "2")
    pane.wait_for("✗ Not right", "That is a's own value", "Mistake:")
    pane.keys("Enter")  # from the feedback back to the answer box, which still holds the 2
    pane.wait_for("Enter checks")
    type_answer(pane, "-3")
    pane.wait_for("✓ Right", "✓ answered")
    pane.keys("Enter")
    pane.wait_for("Quiz ✓ done", f"part {QUIZ_A + 1} of {PARTS}")


def progress_json(server, home, lessons) -> dict:
    done = server.run(server.tutor_remote(home, "--lessons", str(lessons), "progress", "--json"))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    saved = next(lesson for lesson in data["lessons"] if lesson["id"] == "ssh-check")
    # progress names blocks by id: read them back as the indexes above
    index = {block.id: block.index for block in load_lesson(lessons / "50-ssh.md", check=False).blocks}
    saved["completed_blocks"] = sorted(index[b] for b in saved["completed_blocks"])
    saved["position"] = index.get(saved["position"], saved["position"])
    return saved | {"misconceptions": data["misconceptions"]}


def quit_cleanly(pane, home) -> None:
    pane.keys("C-q")
    assert poll(lambda: pane.dead, 15), f"ctrl+q did not end the session:\n{pane.screen()}"
    ended = pane.ended()
    assert ended == "status 0", f"ssh ended with {ended}\n{pane.screen()}"  # the tutor's own status
    assert poll(lambda: not tutor_pids(home), 5), f"tutor still running: {tutor_pids(home)}"


def test_a_lesson_over_ssh_in_256_colours_survives_a_dropped_connection(ssh_server, terminals, learner):
    home, lessons = learner
    pane = terminals.open(ssh_server.tutor_remote(home, "--lessons", str(lessons)), term="xterm-256color")
    assert pane.size() == (80, 24)

    # the lesson list, then the command palette to jump to the lesson by its title
    pane.wait_for("tutor — Lessons", "Remote check", "Gradients over SSH")
    pane.keys("C-p")
    pane.wait_for("Search for commands")
    pane.type("Gradients over")
    pane.wait_for("Lesson: Gradients over SSH")
    pane.keys("Enter")
    pane.wait_for("Gradients over SSH — Remote check", f"part 1 of {PARTS}")

    # COLORTERM is not forwarded: the tutor must draw with the 256-colour palette, never 24-bit
    colours = sgr_colours(pane.screen(escapes=True))
    assert any(c.startswith("38;5;") for c in colours), colours
    assert not any(";2;" in c for c in colours), f"24-bit colour sent to a 256-colour terminal: {colours}"

    go_to_part(pane, DEBUGGER + 1)
    step_debugger(pane)
    go_to_part(pane, QUIZ_A + 1)
    answer_quiz_a(pane)

    # mid-lesson, half-way through typing the next answer: the connection drops
    go_to_part(pane, QUIZ_B + 1)
    pane.keys("Enter")
    pane.wait_for("And b.grad?", "Enter checks")
    pane.type("7")
    pane.wait_until(lambda s: answer_box(s) == "7", "the 7 in the answer box")
    assert tutor_pids(home), "no tutor process found for this TUTOR_HOME while the session is open"
    os.kill(pane.pid, signal.SIGKILL)
    assert poll(lambda: pane.dead, 10)
    # the server notices, hangs up the tutor's terminal, and the tutor goes
    left = poll(lambda: not tutor_pids(home), 5) or tutor_pids(home)
    assert left is True, f"tutor processes left on the server after the client died: {left}"

    # everything up to the last answer was kept
    saved = progress_json(ssh_server, home, lessons)
    assert saved["state"] == "in progress"
    assert saved["completed_blocks"] == [DEBUGGER, QUIZ_A]
    assert saved["position"] == QUIZ_B
    tags = {m["tag"]: m for m in saved["misconceptions"]}
    # answered right in the same session: not put right until right answers on two later days
    assert tags["own-input-in-mul"]["hits"] == 1 and tags["own-input-in-mul"]["resolved"] is False

    # reconnect: the list shows the lesson in progress, Enter resumes it at the part left
    pane = terminals.open(ssh_server.tutor_remote(home, "--lessons", str(lessons)), term="xterm-256color")
    screen = pane.wait_for("Gradients over SSH", "in progress")
    row = next(line for line in screen.splitlines() if "Gradients over SSH" in line)
    assert "▶" in row and "…" in row and "in progress" in row  # the cursor starts on it
    pane.keys("Enter")
    pane.wait_for(f"part {QUIZ_B + 1} of {PARTS}", "And b.grad?", "Quiz ✓ done")
    pane.keys("Enter")
    screen = pane.wait_for("Quiz · a number", "And b.grad?", "Enter checks")
    assert answer_box(screen) == ""  # the half-typed 7 went with the old session; answers stay
    type_answer(pane, "2")
    pane.wait_for("✓ Right")
    # the connection drops again, right after the right answer, the quiz still open: it is done
    os.kill(pane.pid, signal.SIGKILL)
    assert poll(lambda: pane.dead, 10)
    assert poll(lambda: not tutor_pids(home), 5), f"tutor still running: {tutor_pids(home)}"
    assert progress_json(ssh_server, home, lessons)["completed_blocks"] == [DEBUGGER, QUIZ_A, QUIZ_B]

    pane = terminals.open(ssh_server.tutor_remote(home, "--lessons", str(lessons)), term="xterm-256color")
    pane.wait_for("Gradients over SSH", "in progress")
    pane.keys("Enter")
    pane.wait_for(f"part {QUIZ_B + 1} of {PARTS}", "Quiz ✓ done")
    go_to_part(pane, PARTS + 1)
    pane.wait_for("You have finished it")
    pane.keys("q")
    screen = pane.wait_for("tutor — Lessons", "Gradients over SSH")
    row = next(line for line in screen.splitlines() if "Gradients over SSH" in line)
    assert "✓" in row and "done" in row
    quit_cleanly(pane, home)
    assert progress_json(ssh_server, home, lessons)["state"] == "done"


# 16-colour values that are grey: black, white, bright black, bright white (fore- and background)
GREYS_16 = {"30", "37", "90", "97", "40", "47", "100", "107"}


def test_a_lesson_over_ssh_with_term_xterm_and_no_color(ssh_server, terminals, learner):
    home, lessons = learner
    pane = terminals.open(
        ssh_server.tutor_remote(home, "--lessons", str(lessons), "ssh-check"), term="xterm", no_color=True
    )
    pane.wait_for("Gradients over SSH — Remote check", f"part 1 of {PARTS}")
    colours = sgr_colours(pane.screen(escapes=True))
    assert colours <= GREYS_16, f"NO_COLOR=1 over TERM=xterm still shows colours: {colours - GREYS_16}"

    go_to_part(pane, DEBUGGER + 1)
    # the focused card is marked without colour: a ▶ in its title and a double frame
    screen = pane.wait_for("▶ Debugger")
    assert "╔═" in screen
    screen = step_debugger(pane)
    # the grads the last step changed are marked with an arrow, not only a colour
    changed = [line for line in screen.splitlines() if tree_row(line, "a") or tree_row(line, "b")]
    assert len(changed) == 2 and all(line.rstrip().endswith("←") for line in changed), changed

    go_to_part(pane, QUIZ_A + 1)
    answer_quiz_a(pane)
    colours = sgr_colours(pane.screen(escapes=True))
    assert colours <= GREYS_16, f"colour after answering: {colours - GREYS_16}"
    quit_cleanly(pane, home)
    saved = progress_json(ssh_server, home, lessons)
    assert saved["completed_blocks"] == [DEBUGGER, QUIZ_A]


HOSTING = Path(__file__).resolve().parents[2] / "docs" / "hosting.md"


def hosting_guide() -> tuple[str, list[str]]:
    """The tutor-login script and the shared account's authorized_keys lines, as the hosting guide
    prints them."""
    text = HOSTING.read_text(encoding="utf-8")
    script = re.search(r"```sh\n(#!/bin/sh\n# /usr/local/bin/tutor-login.*?)```", text, re.S)
    lines = [line for line in text.splitlines() if line.startswith('restrict,pty,command="TUTOR_HOME=')]
    assert script and len(lines) == 2, "docs/hosting.md lost its tutor-login script or key lines"
    return script.group(1), lines


def test_the_hosting_guides_shared_account_lines_work(ssh_server, terminals, tmp_path):
    script_text, lines = hosting_guide()
    login = tmp_path / "tutor-login"
    login.write_text(script_text.replace("/opt/tutor/bin/tutor", ssh_server.tutor), encoding="utf-8")
    login.chmod(0o755)
    for n, line in enumerate(lines):
        home = tmp_path / f"learner{n}"
        options = line.split(" ssh-ed25519 ")[0]
        options = re.sub(r"TUTOR_HOME=\S+", f"TUTOR_HOME={home}", options)
        options = options.replace("/usr/local/bin/tutor-login", str(login))
        options = options.replace("/opt/tutor/bin/tutor", ssh_server.tutor)
        key = ssh_server.add_key(tmp_path / f"key{n}", options)

        # with a terminal: the learner asks for a shell and gets the tutor, with their own data
        pane = terminals.open("bash", key=key)
        pane.wait_for("tutor — Lessons")
        assert tutor_pids(home), f"no tutor with TUTOR_HOME={home}: {line}"
        quit_cleanly(pane, home)

    # without a terminal (ssh server ls, scp): tutor-login says why and nothing is left running
    done = ssh_server.run("ls", key=key, timeout=20)
    assert done.returncode == 1
    assert "needs a terminal" in done.stderr
    assert poll(lambda: not tutor_pids(home), 5)
