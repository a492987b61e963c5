"""Lesson files: parsing, and every kind of problem pointing at the right line of the .md file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.lessons import (
    MAX_LESSON_BYTES,
    Problem,
    builtin_lessons_dir,
    lesson_dirs,
    lesson_files,
    load_catalog,
    load_lesson,
)

FIXTURES = Path(__file__).parent / "fixtures"
TEACHER = FIXTURES / "teacher"


def front(**overrides) -> str:
    """Front matter with every key; a value of None leaves the key out, strings are put in as
    raw TOML (so a test can write a wrong type)."""
    keys = {
        "id": '"sample"',
        "title": '"A sample"',
        "section": '"Testing"',
        "order": "5",
        "summary": '"Used by the tests."',
        "prerequisites": "[]",
    }
    keys.update(overrides)
    body = "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)
    return "+++\n" + body + "+++\n"


def write(tmp_path: Path, text: str, name: str = "lesson.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing needle."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def only_problem(lesson) -> Problem:
    assert len(lesson.problems) == 1, [str(p) for p in lesson.problems]
    return lesson.problems[0]


# ----------------------------------------------------------------------- the built-in lessons


def test_builtin_lessons_load_without_problems():
    catalog = load_catalog([builtin_lessons_dir()])
    assert [str(p) for p in catalog.problems] == []
    ids = [lesson.id for lesson in catalog.lessons]
    assert ids[:1] == ["derivative"]
    assert "backprop-by-hand" in ids
    assert ids.index("derivative") < ids.index("backprop-by-hand")
    by_hand = catalog.get("backprop-by-hand")
    assert by_hand.section == "Foundations" and by_hand.order == 30
    assert by_hand.prerequisites == ["derivative"]
    debugger = [b for b in by_hand.interactive_blocks if b.kind == "debugger"]
    assert debugger and debugger[0].config["predict"] is True


def test_builtin_backprop_lesson_program_is_the_seeds_graph():
    from engine.expr import parse_program

    lesson = load_catalog([builtin_lessons_dir()]).get("backprop-by-hand")
    (block,) = [b for b in lesson.interactive_blocks if b.kind == "debugger"]
    graph = parse_program(block.config["program"]).build()
    graph.output.backward()
    assert graph.output.data == -8
    grads = {name: v.grad for name, v in graph.values.items()}
    assert grads == {"a": 6, "b": -4, "c": -2, "f": 4, "e": -2, "d": -2, "L": 1}


def test_builtin_derivative_lesson_numbers_match_the_engine():
    from engine.expr import parse_program

    lesson = load_catalog([builtin_lessons_dir()]).get("derivative")
    (debugger,) = [b for b in lesson.interactive_blocks if b.kind == "debugger"]
    graph = parse_program(debugger.config["program"]).build()
    graph.output.backward()
    assert graph.output.data == 20 and graph.values["x"].grad == 14

    def f(x):
        return 3 * x**2 - 4 * x + 5

    text = "\n".join(b.text for b in lesson.blocks)
    assert f"{(f(3 + 0.0001) - f(3)) / 0.0001:.4f}" == "14.0003" and "14.0003" in text
    for h, shown in [(1, "17"), (0.1, "14.3"), (0.01, "14.03"), (0.001, "14.003")]:
        assert round((f(3 + h) - f(3)) / h, 6) == float(shown)
        assert f"| {shown} " in text
    assert f"{(f(3 + 1e-15) - f(3)) / 1e-15:.1f}" == "10.7" and "near 10.7" in text
    assert f"{f(2.99):.2f}" == "19.86" and "19.86" in text


def test_lesson_dirs_order_builtin_then_flags_then_environment(tmp_path):
    one, two, three = tmp_path / "one", tmp_path / "two", tmp_path / "three"
    env = {"TUTOR_LESSONS": f"{two}{__import__('os').pathsep}{three}"}
    assert lesson_dirs([str(one)], environ=env) == [builtin_lessons_dir(), one, two, three]
    assert lesson_dirs(environ={}) == [builtin_lessons_dir()]


# ----------------------------------------------------------------------- a good lesson's parts


def test_blocks_in_reading_order_with_their_lines():
    lesson = load_lesson(TEACHER / "10-chain-rule.md")
    assert lesson.problems == []
    assert (lesson.id, lesson.title, lesson.section, lesson.order) == (
        "chain-rule",
        "The chain rule, once more",
        "Practice",
        10,
    )
    text = (TEACHER / "10-chain-rule.md").read_text()
    kinds = [(b.kind, b.lang, b.line) for b in lesson.blocks]
    assert kinds == [
        ("markdown", "", line_of(text, "A teacher's own lesson")),
        ("code", "python", line_of(text, "```python")),
        ("debugger", "", line_of(text, "```debugger")),
        ("markdown", "", line_of(text, "Then a small training run.")),
        ("train", "", line_of(text, "```train")),
    ]
    assert [b.index for b in lesson.blocks] == [0, 1, 2, 3, 4]
    assert [b.kind for b in lesson.interactive_blocks] == ["debugger", "train"]
    code = lesson.blocks[1]
    assert code.text == '# shown as code, never run\nprint("hello")' and not code.interactive
    debugger = lesson.blocks[2]
    assert debugger.config["output"] == "o" and debugger.config["predict"] is False
    assert debugger.config["program"].startswith("x = 0.5\n")
    assert lesson.blocks[4].config["optimiser"] == {"kind": "sgd", "lr": 0.1}


def test_other_fences_and_tilde_fences_are_code(tmp_path):
    text = front() + "\n~~~\n```debugger\nnot toml at all\n~~~\n\n````markdown\n```quiz\n````\n"
    lesson = load_lesson(write(tmp_path, text))
    assert lesson.problems == []
    assert [(b.kind, b.lang) for b in lesson.blocks] == [("code", ""), ("code", "markdown")]


# ----------------------------------------------------------------------- front matter problems


def test_file_without_front_matter(tmp_path):
    path = write(tmp_path, "# Just prose\n")
    p = only_problem(load_lesson(path))
    assert (p.line, p.col) == (1, 1) and "front matter" in p.message


def test_front_matter_never_closed(tmp_path):
    p = only_problem(load_lesson(write(tmp_path, '+++\nid = "x"\n\nSome prose.\n')))
    assert (p.line, p.col) == (1, 1) and "never closed" in p.message


def test_bad_toml_in_front_matter_points_at_its_line_and_column(tmp_path):
    text = front(title='"unterminated', order="5")
    text = text.replace('title = "unterminated\n', "title = Hello world\n")
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, "title = Hello") and p.col == 9
    assert "not valid TOML" in p.message and "(at line" not in p.message


def test_missing_key(tmp_path):
    lesson = load_lesson(write(tmp_path, front(summary=None)))
    p = only_problem(lesson)
    assert (p.line, p.col) == (1, 1)
    assert "no 'summary' key" in p.message


def test_unknown_key_suggests_the_close_one(tmp_path):
    text = front().replace("order = 5\n", "order = 5\nprerequisite = []\n")
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, "prerequisite = []") and p.col == 1
    assert "unknown front-matter key 'prerequisite'" in p.message and "prerequisites" in p.message


@pytest.mark.parametrize(
    "key, value, wanted",
    [
        ("order", '"ten"', "a whole number"),
        ("order", "true", "a whole number"),
        ("order", "1.5", "a whole number"),
        ("title", "3", "a string"),
        ("prerequisites", '"derivative"', "a list of lesson ids"),
        ("prerequisites", "[1]", "a list of lesson ids"),
        ("id", '"Has Spaces"', "lowercase letters, digits and dashes"),
        ("section", '"  "', "must not be empty"),
    ],
)
def test_wrong_type_points_at_the_key(tmp_path, key, value, wanted):
    text = front(**{key: value})
    lesson = load_lesson(write(tmp_path, text))
    p = only_problem(lesson)
    assert p.line == line_of(text, f"{key} = ") and p.col == 1
    assert wanted in p.message and key in p.message
    assert lesson.broken and lesson.first_problem == p


def test_broken_lesson_keeps_readable_id_and_falls_back_to_file_name(tmp_path):
    path = write(tmp_path, front(order='"x"'), name="07-thing.md")
    lesson = load_lesson(path)
    assert lesson.id == "sample" and lesson.title == "A sample" and lesson.broken
    unreadable = load_lesson(write(tmp_path, "+++\nid = \n+++\n", name="08-other.md"))
    assert unreadable.id == "08-other" and unreadable.title == "08-other.md" and unreadable.broken


# ----------------------------------------------------------------------- block problems


def test_bad_toml_inside_a_block(tmp_path):
    text = front() + '\nProse.\n\n```debugger\nprogram = "a = 1"\npredict = yes\n```\n'
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, "predict = yes") and p.col == 11
    assert "debugger block is not valid TOML" in p.message


def test_debugger_block_missing_unknown_and_wrong_keys(tmp_path):
    text = (
        front()
        + '\n```debugger\ncaption = "no program"\n```\n\n```debugger\nprogram = "a = 1"\nspeed = 3\npredict = "yes"\n```\n'
    )
    lesson = load_lesson(write(tmp_path, text))
    got = [(p.line, p.col, p.message.split(";")[0]) for p in lesson.problems]
    assert got == [
        (line_of(text, "```debugger"), 1, "the debugger block has no 'program' key"),
        (line_of(text, "speed = 3"), 1, "unknown key 'speed' in a debugger block"),
        (line_of(text, 'predict = "yes"'), 1, "'predict' must be true or false, not \"yes\""),
    ]


def test_program_error_in_a_one_line_string_maps_to_its_column(tmp_path):
    text = front() + '\n```debugger\nprogram = "a = 2; b = -3; L = a * q"\n```\n'
    p = only_problem(load_lesson(write(tmp_path, text)))
    line = line_of(text, "program =")
    assert p.line == line
    assert p.col == text.splitlines()[line - 1].index("q") + 1
    assert "unknown name 'q'" in p.message


def test_program_error_in_a_multiline_string_maps_to_its_line(tmp_path):
    text = (
        front()
        + '\nSome prose.\n\n```debugger\ncaption = "x"\nprogram = """\na = 2\nb = -3\nL = log(a * b)\n"""\n```\n'
    )
    p = only_problem(load_lesson(write(tmp_path, text)))
    line = line_of(text, "L = log(a * b)")
    assert (p.line, p.col) == (line, 5)
    assert "log" in p.message and p.message.startswith("in the program:")


def test_program_starting_on_the_key_line_of_a_multiline_string(tmp_path):
    text = front() + '\n```debugger\nprogram = """a = 1\nb = a +* 2"""\n```\n'
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert (p.line, p.col) == (line_of(text, "b = a +* 2"), 8)


def test_hostile_program_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = front() + f"\n```debugger\nprogram = \"x = __import__('os').system('touch {marker}')\"\n```\n"
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, "program =") and "in the program" in p.message
    assert not marker.exists()


def test_output_must_be_a_name_of_the_program(tmp_path):
    text = front() + '\n```debugger\nprogram = "a = 2; b = a * 3"\noutput = "c"\n```\n'
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, "output =") and "output 'c'" in p.message and "a, b" in p.message
    ok = front() + '\n```debugger\nprogram = "a = 2; b = a * 3; c = b + 1"\noutput = "b"\n```\n'
    assert load_lesson(write(tmp_path, ok, name="ok.md")).problems == []


def test_pytorch_block_is_checked_like_a_program_block_without_needing_pytorch(tmp_path):
    text = (
        front() + '\n```pytorch\ncaption = "no program"\n```\n\n```pytorch\nprogram = "a = 2; b = a * q"\n'
        'predict = true\n```\n\n```pytorch\nprogram = "a = 2; b = tanh(a)"\noutput = "c"\n```\n'
    )
    lesson = load_lesson(write(tmp_path, text))
    got = [(p.line, p.message.split(";")[0]) for p in lesson.problems]
    assert got == [
        (line_of(text, "```pytorch"), "the pytorch block has no 'program' key"),
        # every problem of a block at once: the program's, and the unknown key beside it
        (line_of(text, 'program = "a = 2; b = a * q"'), "in the program: unknown name 'q'"),
        (line_of(text, "predict = true"), "unknown key 'predict' in a pytorch block"),
        (line_of(text, 'output = "c"'), "output 'c' is not a name the program assigns (it assigns: a, b)"),
    ]
    bad_program = front() + '\n```pytorch\nprogram = "a = 2; b = a * q"\n```\n'
    p = only_problem(load_lesson(write(tmp_path, bad_program, name="bad.md")))
    assert p.line == line_of(bad_program, "program =") and "unknown name 'q'" in p.message
    good = front() + '\n```pytorch\nprogram = "a = 2; b = tanh(a)"\ncaption = "c"\n```\n'
    lesson = load_lesson(write(tmp_path, good, name="good.md"))
    assert lesson.problems == [] and [b.kind for b in lesson.interactive_blocks] == ["pytorch"]


def test_train_block_problem_points_at_the_key_inside_its_table(tmp_path):
    good = (TEACHER / "10-chain-rule.md").read_text()
    text = good.replace("lr = 0.1", 'lr = "fast"')
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, 'lr = "fast"') and p.col == 1
    assert p.message.startswith("train block, optimiser.lr:")
    missing = good.replace('name = "seeds"\n', "")
    p = only_problem(load_lesson(write(tmp_path, missing, name="m.md")))
    assert p.line == line_of(missing, "[data]") and "data.name" in p.message


QUIZ = """
```quiz
kind = "choice"
prompt = "Which way is downhill when the slope is -4?"

[[options]]
text = "right"
correct = true
feedback = "Yes."

[[options]]
text = "left"
feedback = "No: that is uphill."

[[examples]]
answer = 1
verdict = "right"

[[examples]]
answer = 2
verdict = "wrong"
```
"""


def test_good_quiz_block_passes(tmp_path):
    lesson = load_lesson(write(tmp_path, front() + QUIZ))
    assert lesson.problems == [] and lesson.interactive_blocks[0].config["kind"] == "choice"


def test_quiz_problem_points_at_the_key_in_the_right_table(tmp_path):
    text = front() + QUIZ.replace('feedback = "No: that is uphill."', 'feedback = "No."\ncolour = "red"')
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert (p.line, p.col) == (line_of(text, 'colour = "red"'), 1)
    assert p.message.startswith("quiz block, options[1].colour: unknown key 'colour'")


def test_quiz_example_that_grades_differently_points_at_its_table(tmp_path):
    text = front() + QUIZ.replace('answer = 2\nverdict = "wrong"', 'answer = 2\nverdict = "right"')
    path = write(tmp_path, text)
    assert load_lesson(path).problems == []  # the app does not grade examples: that is tutor check's job
    p = only_problem(load_lesson(path, grade_examples=True))
    assert (p.line, p.col) == (line_of(text, "[[examples]]") + 4, 1)
    assert p.message.startswith("quiz block, examples[1]: ") and "should be right" in p.message


def test_every_builtin_quiz_lists_examples_that_pass():
    catalog = load_catalog([builtin_lessons_dir()], grade_examples=True)
    assert catalog.problems == []
    quizzes = [b for l in catalog.lessons for b in l.interactive_blocks if b.kind == "quiz"]
    assert len(quizzes) >= 2
    assert all(len(b.config.get("examples", [])) >= 2 for b in quizzes)


def test_unclosed_interactive_block(tmp_path):
    text = front() + '\nProse.\n\n```debugger\nprogram = "a = 1"\n'
    problems = load_lesson(write(tmp_path, text)).problems
    assert problems and problems[0].line == line_of(text, "```debugger")
    assert "never closed" in problems[0].message


# ----------------------------------------------------------------------- refused files


def test_binary_file_is_refused_with_the_position_of_the_nul(tmp_path):
    path = tmp_path / "image.md"
    path.write_bytes(b"+++\nid = 1\x00\x01\x02\n")
    p = only_problem(load_lesson(path))
    assert (p.line, p.col) == (2, 7) and "binary" in p.message


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes(front().encode() + "caf\xe9\n".encode("latin-1"))
    p = only_problem(load_lesson(path))
    assert p.line == 9 and p.col == 4 and "UTF-8" in p.message


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "huge.md"
    path.write_bytes(front().encode() + b"x" * MAX_LESSON_BYTES)
    p = only_problem(load_lesson(path))
    assert (p.line, p.col) == (1, 1) and "larger than 1 MiB" in p.message
    assert str(p).startswith(f"{path}:1:1: ")


def test_a_file_just_under_the_limit_is_read(tmp_path):
    text = front() + "\n" + "word " * ((MAX_LESSON_BYTES - 200) // 5) + "\n"
    assert len(text.encode()) <= MAX_LESSON_BYTES
    assert load_lesson(write(tmp_path, text)).problems == []


def test_unreadable_path_gives_a_problem_not_an_exception(tmp_path):
    lesson = load_lesson(tmp_path / "missing.md")
    assert lesson.broken and "cannot read" in lesson.first_problem.message
    assert str(lesson.first_problem) == f"{tmp_path / 'missing.md'}: {lesson.first_problem.message}"


_TOKENS = list("+=[]\"'`~\n #abc123.-{}") + [
    "```debugger\n",
    "```train\n",
    "```quiz\n",
    "program = ",
    "+++\n",
    '"""',
    "[[examples]]\n",
    "\u00e9",
    "\r\n",
]
_FUZZ = st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_FUZZ, _FUZZ.map(lambda b: front() + b)))
def test_any_text_gives_a_lesson_and_never_raises(tmp_path, body):
    path = tmp_path / "fuzz.md"
    path.write_text(body, encoding="utf-8")
    lesson = load_lesson(path)
    for p in lesson.problems:
        assert p.line >= 0 and p.col >= 0 and p.message
    assert [b.index for b in lesson.blocks] == list(range(len(lesson.blocks)))


# ----------------------------------------------------------------------- the catalog


def make_lesson(directory: Path, name: str, lesson_id: str, *, section="S", order=1, pre=()) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pres = ", ".join(f'"{p}"' for p in pre)
    return write(
        directory,
        front(id=f'"{lesson_id}"', section=f'"{section}"', order=str(order), prerequisites=f"[{pres}]"),
        name=name,
    )


def test_catalog_sorts_sections_by_smallest_order_then_lessons_by_order_and_id(tmp_path):
    d = tmp_path / "l"
    make_lesson(d, "a.md", "late", section="Later", order=50)
    make_lesson(d, "b.md", "zeta", section="First", order=20)
    make_lesson(d, "c.md", "alpha", section="First", order=20)
    make_lesson(d, "d.md", "early", section="Later", order=5)
    make_lesson(d, "e.md", "mid", section="First", order=10)
    catalog = load_catalog([d])
    assert catalog.problems == []
    assert [(s, [l.id for l in ls]) for s, ls in catalog.sections()] == [
        ("Later", ["early", "late"]),
        ("First", ["mid", "alpha", "zeta"]),
    ]
    assert catalog.get("alpha").path == d / "c.md" and catalog.get("nope") is None


def test_duplicate_id_is_reported_on_the_later_file_at_its_id_line(tmp_path):
    d = tmp_path / "l"
    make_lesson(d, "a.md", "same", order=1)
    second = make_lesson(d, "b.md", "same", order=2)
    catalog = load_catalog([d])
    assert [str(p) for p in catalog.problems] == [
        f"{second}:{line_of(second.read_text(), 'id = ')}:1: lesson id 'same' is already used by {d / 'a.md'}; "
        "each lesson needs its own id"
    ]
    assert not load_catalog([d]).lessons[0].broken


def test_unknown_prerequisite_points_at_the_prerequisites_line(tmp_path):
    d = tmp_path / "l"
    make_lesson(d, "a.md", "derivative-basics")
    bad = make_lesson(d, "b.md", "next", pre=["derivative-basic"])
    (p,) = load_catalog([d]).problems
    assert (p.path, p.line, p.col) == (str(bad), line_of(bad.read_text(), "prerequisites ="), 1)
    assert "prerequisite 'derivative-basic' is not the id of any lesson" in p.message
    assert "did you mean 'derivative-basics'" in p.message


def test_prerequisite_cycle_and_self_reference(tmp_path):
    d = tmp_path / "l"
    make_lesson(d, "a.md", "one", pre=["two"])
    make_lesson(d, "b.md", "two", pre=["one"])
    make_lesson(d, "c.md", "three", pre=["three"])
    messages = [p.message for p in load_catalog([d]).problems]
    assert any("circle: one -> two -> one" in m or "circle: two -> one -> two" in m for m in messages)
    assert "lesson 'three' lists itself as a prerequisite" in messages
    assert len(messages) == 2


def test_teacher_directory_builds_on_builtin_lessons(tmp_path):
    catalog = load_catalog([builtin_lessons_dir(), TEACHER])
    assert [str(p) for p in catalog.problems] == []
    assert [s for s, _ in catalog.sections()][:1] == ["Foundations"]
    assert catalog.get("reuse").prerequisites == ["chain-rule"]
    # README.md is not a lesson
    assert [p.name for p in lesson_files(TEACHER)] == ["10-chain-rule.md", "20-reuse.md"]


def test_same_directory_twice_and_missing_directory(tmp_path):
    catalog = load_catalog([TEACHER, TEACHER, tmp_path / "nowhere"], files=[TEACHER / "20-reuse.md"])
    assert sorted(l.id for l in catalog.lessons) == ["chain-rule", "reuse"]
    assert [str(p) for p in catalog.problems if p.line == 0] == [
        f"{tmp_path / 'nowhere'}: no such lesson directory"
    ]


def test_broken_lesson_is_still_listed(tmp_path):
    d = tmp_path / "l"
    make_lesson(d, "a.md", "good", order=1)
    (d / "b.md").write_bytes(b"\x00\x00")
    catalog = load_catalog([d])
    assert [l.id for l in catalog.lessons] == ["good", "b"]
    broken = catalog.get("b")
    assert broken.broken and "binary" in broken.first_problem.message and broken.section == "Unsorted"


def test_the_complete_example_in_the_lesson_format_doc_passes(tmp_path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lesson-format.md").read_text()
    example = doc.split("## A complete example", 1)[1].split("````markdown\n", 1)[1].split("\n````\n", 1)[0]
    lesson = load_lesson(write(tmp_path, example + "\n", name="10-neuron.md"))
    catalog = load_catalog([builtin_lessons_dir()], files=[lesson.path])
    assert [str(p) for p in catalog.problems] == []
    assert [b.kind for b in catalog.get("one-neuron").interactive_blocks] == ["debugger", "train", "quiz"]


def test_the_block_examples_in_the_format_guide_pass_the_check(tmp_path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lesson-format.md").read_text()
    examples = [part.split("\n````\n", 1)[0] for part in doc.split("````markdown\n")[1:]]
    # (the train example lists every key with its options, so it is a reference, not a lesson)
    blocks = [e for e in examples if e.startswith(("```debugger", "```pytorch"))]
    assert any(b.startswith("```pytorch") for b in blocks)
    for i, block in enumerate(blocks):
        lesson = load_lesson(write(tmp_path, front() + "\n" + block + "\n", name=f"example{i}.md"))
        assert [str(p) for p in lesson.problems] == [], block


def test_windows_line_endings_give_the_same_lines(tmp_path):
    text = front() + '\nProse.\n\n```debugger\nprogram = """\na = 2\nb = a * q\n"""\n```\n'
    path = tmp_path / "crlf.md"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    p = only_problem(load_lesson(path))
    assert (p.line, p.col) == (line_of(text, "b = a * q"), 9)


# ----------------------------------------------------------------------- checking blocks later


def _lesson_with_a_bad_program(tmp_path: Path) -> Path:
    text = front(id='"later"') + (
        '\nProse.\n\n```debugger\nprogram = "a = 2; b = a * zz"\n```\n\n```quiz\nkind = "choice"\n```\n'
    )
    return write(tmp_path, text, "later.md")


def test_unchecked_lessons_list_first_and_find_block_problems_when_checked(tmp_path):
    path = _lesson_with_a_bad_program(tmp_path)
    full = load_catalog([tmp_path])
    lazy = load_catalog([tmp_path], check=False)
    lesson = lazy.get("later")
    # the front matter is read, so the list can show the lesson; its blocks wait
    assert lesson.title == "A sample" and not lesson.broken and not lesson.checked
    assert lazy.unchecked == [lesson] and lazy.problems == []

    found = lazy.check(lesson)
    # the same problems, at the same places, as a catalogue checked at once
    assert found == full.get("later").problems and len(found) >= 2
    program_line = line_of(path.read_text(), "program =")
    assert str(found[0]).startswith(f"{path}:{program_line}:")  # the program's line in the file
    assert "zz" in found[0].message
    assert lesson.broken and lesson.checked and lesson.problems == found
    assert lazy.problems == full.problems and lazy.unchecked == []
    assert lazy.check(lesson) == [] and len(lesson.problems) == len(found)  # checked once only


def test_checking_from_two_threads_reports_each_problem_once(tmp_path):
    import threading

    _lesson_with_a_bad_program(tmp_path)
    expected = load_catalog([tmp_path]).problems
    for _ in range(20):
        lazy = load_catalog([tmp_path], check=False)
        lesson = lazy.get("later")
        threads = [threading.Thread(target=lazy.check, args=(lesson,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert lazy.problems == expected and lesson.problems == expected


def test_builtin_lessons_checked_later_have_no_problems():
    lazy = load_catalog([builtin_lessons_dir()], check=False)
    assert len(lazy.unchecked) == len(lazy.lessons) >= 13
    for lesson in lazy.unchecked:
        assert lazy.check(lesson) == []
    # the debugger blocks got their defaults, as when checked at once
    debuggers = [b for l in lazy.lessons for b in l.blocks if b.kind == "debugger"]
    assert debuggers and all("predict" in b.config for b in debuggers)


def test_a_program_whose_backward_pass_fails_is_a_problem_not_a_crash_later(tmp_path):
    text = front() + '\n```debugger\nprogram = """\nx = 0\ny = x ** 0.5\n"""\n```\n'
    p = only_problem(load_lesson(write(tmp_path, text)))
    assert p.line == line_of(text, "y = x ** 0.5") and "backward pass cannot be computed" in p.message


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    from tests.logic.test_files import promptly

    fifo = tmp_path / "lesson.md"
    os.mkfifo(fifo)
    lesson = promptly(lambda: load_lesson(fifo), fifo=fifo)
    assert lesson.broken
    assert lesson.first_problem.message == (
        "file refused: it is not a regular file (a FIFO); give the path of a lesson's text file"
    )
    assert str(lesson.first_problem).startswith(f"{fifo}: ")


# ----------------------------------------------------------------------- fences as the widget sees them


def _widget_fences(body: str) -> list[tuple[int, int, str]]:
    """(start, end, info) of the top-level fences Textual's Markdown widget renders, from one
    parse of the whole body with the parser the widget uses."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("gfm-like").parse(body)
    depth, out = 0, []
    for t in tokens:
        if t.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            depth += 1
        elif t.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            depth -= 1
        elif t.type == "fence" and t.level == 0 and depth == 0:
            out.append((t.map[0], t.map[1], t.info.split()[0] if t.info.strip() else ""))
    return out


_MD_TOKENS = [
    "```quiz\n",
    "```python\n",
    "````\n",
    "```\n",
    "~~~\n",
    "  ```debugger\n",
    "    ```quiz\n",
    "- item\n",
    "1. item\n",
    "  indented\n",
    "> quote\n",
    "> ```quiz\n",
    "<!--\n",
    "-->\n",
    "<div>\n",
    "| a | b |\n|---|---|\n",
    "text\n",
    "x = 1\n",
    "\n",
    "\n",
    "---\n",
    "\t```\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_MD_TOKENS), max_size=40).map("".join))
def test_blocks_are_exactly_the_top_level_fences_the_markdown_widget_renders(body):
    from tutor.lessons.markdown import top_level_fences

    lines = body.split("\n")
    got = [(s, e, lang) for s, e, _, _, lang in top_level_fences(lines, 1, "x", [])]
    assert got == _widget_fences(body)


def test_a_fence_in_a_list_or_a_quote_is_shown_as_code_and_check_warns(tmp_path):
    text = front() + (
        "\nSteps:\n\n- first\n\n  ```quiz\n  kind = 1\n  ```\n\n> ```debugger\n> program = 2\n> ```\n\n"
        "    ```train\n    steps = 1\n    ```\n"
    )
    lesson = load_lesson(write(tmp_path, text))
    assert lesson.problems == [] and not lesson.broken  # valid Markdown: shown as code, as drawn
    assert [b.kind for b in lesson.blocks] == ["markdown"]
    got = [(w.line, w.col, w.message.split(",")[0]) for w in lesson.warnings]
    assert got == [
        (line_of(text, "  ```quiz"), 3, "this ```quiz fence is inside a list item"),
        (line_of(text, "> ```debugger"), 3, "this ```debugger fence is inside a quote"),
        (line_of(text, "    ```train"), 5, "this ```train fence is indented by 4 spaces or more"),
    ]
    assert "end the list first" in lesson.warnings[0].message
    assert "take it out of the quote" in lesson.warnings[1].message
    assert str(lesson.warnings[0]).startswith(f"{tmp_path / 'lesson.md'}:{got[0][0]}:3: warning: ")


def test_a_fence_with_blank_lines_and_unindented_code_inside_is_one_block(tmp_path):
    text = (
        front()
        + "\n```python\ndef f():\n    pass\n\nx = 1\n\n<!-- not html: inside the fence\n```\n\nAfter.\n"
    )
    lesson = load_lesson(write(tmp_path, text))
    assert [(b.kind, b.line) for b in lesson.blocks] == [("code", 10), ("markdown", line_of(text, "After."))]
    assert "x = 1" in lesson.blocks[0].text and lesson.problems == lesson.warnings == []


def test_a_fence_inside_an_html_comment_is_not_a_block(tmp_path):
    text = front() + '\n<!--\n\n```quiz\nkind = "choice"\n```\n\n-->\n\nProse.\n'
    lesson = load_lesson(write(tmp_path, text))
    assert [b.kind for b in lesson.blocks] == ["markdown"] and lesson.problems == []


@pytest.mark.parametrize(
    "body",
    [
        "```" + " " * 200_000 + "`\n",  # the old fence regex backtracked quadratically: > 30 s
        "```" + "a b" * 66_667 + "`\ncode\n```\n",
        "```debugger " + "x" * 200_000 + '\nprogram = "a = 1"\n```\n',
        # a TOML table header padded to 200,000 characters: its problem is placed by the key scan
        '```debugger\nprogram = "a = 1"\n[' + " " * 100_000 + "extra" + " " * 100_000 + "]\n```\n",
    ],
    ids=["spaces-then-backtick", "backtick-ended", "long-info", "long-table-header"],
)
def test_a_200_000_character_line_is_read_at_once(tmp_path, body):
    import time

    path = write(tmp_path, front() + "\n" + body)
    started = time.perf_counter()
    load_lesson(path, grade_examples=True)
    assert time.perf_counter() - started < 5


def test_a_1_mib_lesson_is_checked_in_well_under_five_seconds(tmp_path):
    import time

    from tutor.lessons.catalog import MAX_FENCE_LINES

    prose = (
        "## A part\n\nProse with *emphasis*, `code` and [a link](http://example.com).\n\n"
        "- a list item\n- another\n\n> a quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    )
    code = "```python\nprint('hi')\n\nx = 1\n```\n\n"
    # as many code blocks as a lesson may hold (two fence lines each), the rest prose
    blocks = MAX_FENCE_LINES // 2
    units = (MAX_LESSON_BYTES - 400 - blocks * len(code)) // len(prose)
    every = units // blocks
    text = (
        front()
        + "\n"
        + "".join(prose + (code if i % every == 0 and i // every < blocks else "") for i in range(units))
    )
    assert len(text.encode()) <= MAX_LESSON_BYTES
    path = write(tmp_path, text)
    started = time.perf_counter()
    lesson = load_lesson(path, grade_examples=True)
    assert time.perf_counter() - started < 5  # a guard against a hang, not a speed target
    assert lesson.problems == [] and sum(b.kind == "code" for b in lesson.blocks) == blocks


# ----------------------------------------------------------------------- what a checked block carries


def test_a_block_that_checks_out_carries_what_it_was_read_into(tmp_path):
    from engine.train import Task
    from tutor.lessons import block_result
    from tutor.quiz import Quiz

    lesson = load_lesson(TEACHER / "10-chain-rule.md")
    debugger, train = lesson.blocks[2], lesson.blocks[4]
    assert debugger.program.output == "o" and debugger.program.names[0] == "x"
    assert debugger.spec.predict is False and debugger.task is None and debugger.quiz is None
    assert isinstance(train.task, Task) and train.task.optimiser.lr == 0.1 and train.program is None
    quiz = load_lesson(write(tmp_path, front() + QUIZ)).interactive_blocks[0]
    assert isinstance(quiz.quiz, Quiz) and quiz.quiz.kind == "choice" and len(quiz.quiz.options) == 2
    # a new config drops the result; asking for it checks the block again
    debugger.config = dict(debugger.config, program="a = 2; b = a * zz")
    assert debugger.program is None
    assert block_result(debugger) is None and "unknown name 'zz'" in debugger.problems[0].message


def test_a_block_with_a_problem_carries_nothing(tmp_path):
    text = front() + '\n```debugger\nprogram = "a = 2; b = a * q"\n```\n'
    (block,) = load_lesson(write(tmp_path, text)).interactive_blocks
    assert block.checked and block.program is None and block.problems


def test_every_circle_of_prerequisites_is_reported_once(tmp_path):
    d = tmp_path / "l"
    make_lesson(d, "a.md", "one", pre=["two"])
    make_lesson(d, "b.md", "two", pre=["three"])
    make_lesson(d, "c.md", "three", pre=["one"])
    make_lesson(d, "d.md", "four", pre=["five"])
    make_lesson(d, "e.md", "five", pre=["four", "one"])
    messages = sorted(p.message for p in load_catalog([d]).problems)
    assert len(messages) == 2 and all("go round in a circle" in m for m in messages)
    three = next(m for m in messages if "one" in m.split(":")[1] and "two" in m)
    assert {"one", "two", "three"} <= set(three.split(": ")[1].split(" -> "))
    cycle = three.split(": ")[1].split(" -> ")
    assert cycle[0] == cycle[-1] and len(cycle) == 4


def test_every_front_matter_problem_is_reported_at_once(tmp_path):
    text = front(order='"ten"', title="3", summary=None).replace("section =", "sektion =")
    got = [p.message.split(";")[0] for p in load_lesson(write(tmp_path, text)).problems]
    assert got == [  # not "no 'section' key" as well: 'sektion' was taken for it
        "the front matter has no 'summary' key",
        "'title' must be a string, e.g. \"Backprop by hand\", not 3",
        "unknown front-matter key 'sektion'",
        "'order' must be a whole number, e.g. 30 (lessons are listed by it), not \"ten\"",
    ]
