"""A course as a unit: a folder with a course.toml (name, version, lesson order, whether the
built-in lessons show), --no-builtin, and a course installed as a pip package that registers
itself (an entry point in tutor.courses). What the home list draws at 80×24."""

from __future__ import annotations

import pytest

from tests.app.conftest import screen_text
from tutor import cli
from tutor.app import TutorApp
from tutor.lessons.course import ENTRY_POINT_GROUP
from tutor.progress import Progress

LESSON = """+++
id = "{id}"
title = "{title}"
section = "Cells"
order = {order}
summary = "A lesson of the biology course."
prerequisites = []
+++

Prose of {title}.
"""
BUILTIN_TITLE = "What a derivative is"  # the first built-in lesson, as the home list shows it


def _course(folder, manifest: str | None):
    folder.mkdir(parents=True)
    # the front matter's order says membranes, signals, growth; the manifest says otherwise
    for lesson_id, title, order in (
        ("membranes", "Membranes", 1),
        ("signals", "Signals", 2),
        ("growth", "Growth", 3),
    ):
        (folder / f"{lesson_id}.md").write_text(
            LESSON.format(id=lesson_id, title=title, order=order), "utf-8"
        )
    if manifest is not None:
        (folder / "course.toml").write_text(manifest, encoding="utf-8")
    return folder


MANIFEST = 'name = "Biology"\nversion = "1.0"\nlessons = ["growth", "membranes", "signals"]\n'


def _catalog(monkeypatch, data, *argv):
    """The catalogue `tutor ARGV` would open the app with."""
    seen = []
    monkeypatch.setattr(cli, "_launch", lambda catalog, progress, **kw: seen.append((catalog, progress)) or 0)
    assert cli.main(list(argv), environ={"TUTOR_HOME": data}) == 0
    catalog, progress = seen[0]
    progress.close()
    return catalog


async def _home(catalog, data) -> list[str]:
    app = TutorApp(catalog, Progress(data))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    app.progress.close()
    return text


def _order(text: str, *titles: str) -> list[str]:
    rows = {t: next((i for i, line in enumerate(text.splitlines()) if t in line), None) for t in titles}
    return [t for t in sorted(rows, key=lambda t: (rows[t] is None, rows[t])) if rows[t] is not None]


async def test_the_manifest_orders_the_lessons_and_no_builtin_hides_the_built_in_course(
    tmp_path, monkeypatch
):
    folder = _course(tmp_path / "biology", MANIFEST)
    data = str(tmp_path / "data")
    catalog = _catalog(monkeypatch, data, "--no-builtin", "--lessons", str(folder))
    text = await _home(catalog, tmp_path / "data")
    assert _order(text, "Growth", "Membranes", "Signals") == ["Growth", "Membranes", "Signals"]
    assert BUILTIN_TITLE not in text
    assert [c.name for c in catalog.courses] == ["Biology"] and catalog.courses[0].version == "1.0"

    # without the flag, the built-in course shows, before the teacher's
    catalog = _catalog(monkeypatch, data, "--lessons", str(folder))
    text = await _home(catalog, tmp_path / "data")
    assert BUILTIN_TITLE in text


async def test_builtin_false_in_the_manifest_hides_the_built_in_course(tmp_path, monkeypatch):
    folder = _course(tmp_path / "biology", MANIFEST + "builtin = false\n")
    data = str(tmp_path / "data")
    catalog = _catalog(monkeypatch, data, "--lessons", str(folder))
    text = await _home(catalog, tmp_path / "data")
    assert BUILTIN_TITLE not in text and "Growth" in text


def test_a_bad_manifest_is_reported_at_its_line(tmp_path, capsys):
    folder = _course(
        tmp_path / "biology", 'name = "Biology"\nlessons = ["growth", "mitosis"]\nbuiltn = false\n'
    )
    code = cli.main(["--lessons", str(folder), "check"], environ={"TUTOR_HOME": str(tmp_path / "data")})
    out = capsys.readouterr().out
    assert code == 1
    assert "course.toml:2:1: 'lessons' lists 'mitosis', which is not the id of a lesson" in out
    assert "course.toml:3:1: unknown key 'builtn'" in out and "did you mean 'builtin'" in out
    # checking the folder alone reports its manifest too
    code = cli.main(["check", str(folder)], environ={"TUTOR_HOME": str(tmp_path / "data")})
    out = capsys.readouterr().out
    assert code == 1 and "course.toml:2:1: 'lessons' lists 'mitosis'" in out


async def test_a_course_installed_as_a_package_is_found_through_its_entry_point(tmp_path, monkeypatch):
    site = tmp_path / "site"
    package = _course(site / "biology_course", MANIFEST + "builtin = false\n")
    (package / "__init__.py").write_text("raise RuntimeError('a course package is never imported')\n")
    info = site / "biology_course-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: biology-course\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbiology = biology_course\n")
    monkeypatch.syspath_prepend(str(site))
    data = str(tmp_path / "data")
    catalog = _catalog(monkeypatch, data)
    text = await _home(catalog, tmp_path / "data")
    assert _order(text, "Growth", "Membranes", "Signals") == ["Growth", "Membranes", "Signals"]
    assert BUILTIN_TITLE not in text


def test_an_entry_point_whose_package_is_gone_is_a_problem_not_a_crash(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    info = site / "gone-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gone\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ngone = no_such_course_package\n")
    monkeypatch.syspath_prepend(str(site))
    code = cli.main(["check"], environ={"TUTOR_HOME": str(tmp_path / "data")})
    out = capsys.readouterr().out
    assert code == 1 and "course 'gone'" in out and "cannot be found" in out


@pytest.fixture(autouse=True)
def _no_lessons_from_the_environment(monkeypatch):
    monkeypatch.delenv("TUTOR_LESSONS", raising=False)


COURSE_TAG = """
[[misconceptions]]
tag = "mixed-up-axes"
title = "mixed up the rows and the columns"
explanation = "Each row of a layer's weights is one neuron; each column is one input."
"""
TAGGED = """+++
id = "layers"
title = "Layers"
section = "Cells"
order = 9
summary = "Rows and columns."
prerequisites = []
+++

```quiz
kind = "numeric"
prompt = "A layer of 4 neurons takes 3 inputs. How many weights does one neuron have?"
answer = 3

[[wrong]]
answer = 4
tag = "mixed-up-axes"
feedback = "4 is the number of neurons."
```
"""


def test_a_courses_tags_are_known_to_its_lessons_checked_together_or_alone(tmp_path, capsys):
    folder = _course(tmp_path / "biology", MANIFEST + COURSE_TAG)
    (folder / "layers.md").write_text(TAGGED, encoding="utf-8")
    env = {"TUTOR_HOME": str(tmp_path / "data")}
    assert cli.main(["check", str(folder)], environ=env) == 0
    assert cli.main(["check", str(folder / "layers.md")], environ=env) == 0
    capsys.readouterr()
    (folder / "course.toml").write_text(MANIFEST, encoding="utf-8")  # the course no longer declares it
    assert cli.main(["check", str(folder / "layers.md")], environ=env) == 1
    assert "unknown misconception tag 'mixed-up-axes'" in capsys.readouterr().out
