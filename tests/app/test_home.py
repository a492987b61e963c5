"""The home screen and the app around it, driven with Pilot at the design size (80×24)."""

from __future__ import annotations

from tests.app.conftest import screen_text, squash, toast_text
from tutor.progress import Progress
from tutor.screens.help import HelpScreen
from tutor.screens.home import HomeScreen
from tutor.screens.lesson import LessonScreen, ProblemsScreen
from tutor.screens.too_small import TooSmallScreen

SIZE = (80, 24)


def row_of(text: str, title: str) -> str:
    """The screen line that shows a lesson's title."""
    return next(line for line in text.splitlines() if title in line)


async def test_lessons_grouped_by_section_with_their_states(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()
        order = [
            "Basics",
            "Slopes by nudging",
            "One step back at a time",
            "Going further",
            "Training a tiny net",
            "A lesson with a typo",
        ]
        positions = [next(i for i, line in enumerate(lines) if name in line) for name in order]
        assert positions == sorted(positions)
        assert "not started" in row_of(text, "One step back at a time")
        assert "·" in row_of(text, "One step back at a time")
        broken = row_of(text, "A lesson with a typo")
        assert "✗" in broken and "broken" in broken
        # the first problem is spelled out under the broken lesson
        assert "broken: 40-broken.md:8:1: unknown front-matter key 'colour'" in text


async def test_cursor_starts_on_a_lesson_and_moves_with_arrows(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "▶" in row_of(screen_text(app), "Slopes by nudging")
        assert "Estimate a slope by nudging" in screen_text(app)  # its summary below the list
        await pilot.press("down")
        text = screen_text(app)
        assert "▶" in row_of(text, "One step back at a time")
        assert "▶" not in row_of(text, "Slopes by nudging")
        assert "Builds on: Slopes by nudging" in text
        await pilot.press("down")  # skips the section heading
        assert "▶" in row_of(screen_text(app), "Training a tiny net")


async def test_open_a_lesson_go_back_and_quit(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "chain"
        assert "One step back at a time" in screen_text(app)
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        assert "in progress" in row_of(text, "One step back at a time")
        assert "…" in row_of(text, "One step back at a time")
        assert "▶" in row_of(text, "One step back at a time")  # the cursor stayed on it
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_progress_survives_a_restart(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter", "n")  # into "chain", on to its second part
        assert app.screen.current == 1
        await pilot.press("ctrl+q")
    assert Progress(data_dir).position("chain") == app.catalog.get("chain").blocks[1].id

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(again)
        assert "in progress" in row_of(text, "One step back at a time")
        # the cursor starts on the lesson in progress, and Enter resumes at the saved part
        assert "▶" in row_of(text, "One step back at a time")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(again.screen, LessonScreen)
        assert again.screen.current == 1
        assert again.screen.focused.block_index == 1
        assert "part 2 of 3" in screen_text(again)


async def test_a_broken_lesson_opens_its_problems(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "enter")
        assert isinstance(app.screen, ProblemsScreen)
        text = squash(screen_text(app))
        assert "This lesson cannot open" in text
        assert "40-broken.md:8:1: unknown front-matter key 'colour'" in text
        assert "tutor check" in text
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen)


async def test_a_corrupt_progress_file_is_reported_once(make_app, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "progress.sqlite3").write_bytes(b"this is not a database" * 100)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.progress.notice
        assert "Your progress file could not be read" in toast_text(app)
        assert toast_text(app).count("could not be read") == 1


async def test_too_small_a_terminal_gets_a_message_and_recovers(make_app):
    app = make_app()
    async with app.run_test(size=(50, 15)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        text = squash(screen_text(app))
        assert "tutor needs a terminal of at least 60×20; this one is 50×15" in text
        # nothing behind the message reacts to keys meanwhile
        await pilot.press("enter", "question_mark", "q")
        assert isinstance(app.screen, TooSmallScreen)
        await pilot.resize_terminal(59, 30)
        await pilot.pause()
        assert "this one is 59×30" in squash(screen_text(app))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert "Slopes by nudging" in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, LessonScreen)
        # it comes back over whatever screen is open, and goes away again
        await pilot.resize_terminal(70, 12)
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


async def test_help_lists_the_keys_of_the_current_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = squash(screen_text(app))
        assert "Open: Open the highlighted lesson" in text
        assert "q Quit" in text
        assert "ctrl+p" in text and "ctrl+q" in text
        assert "tab / shift+tab" in text
        assert "n Next" not in text  # the lesson's keys belong to the lesson's help
        await pilot.press("q")  # closes the help, does not quit
        assert isinstance(app.screen, HomeScreen)

        await pilot.press("enter", "f1")
        assert isinstance(app.screen, HelpScreen)
        text = squash(screen_text(app))
        assert "n Next: Go to the next part" in text
        assert "p Prev: Go back to the previous part" in text
        assert "q / esc Back" in text
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)


async def test_every_footer_key_has_an_id_and_a_tooltip(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for keys in ((), ("enter",), ("question_mark",)):
            await pilot.press(*keys)
            for active in app.screen.active_bindings.values():
                binding = active.binding
                if binding.show:
                    assert binding.id and binding.tooltip, (app.screen, binding)


async def test_the_command_palette_jumps_to_a_lesson(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # from inside another lesson
        assert app.screen.lesson.id == "slopes"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"tiny net")
        await pilot.pause(0.3)
        assert "Lesson: Training a tiny net" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "training"
        await pilot.press("q")  # back goes home, not to the lesson it jumped from
        assert isinstance(app.screen, HomeScreen)


async def test_open_lesson_at_start(make_app):
    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "training"
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen)


async def test_unknown_lesson_at_start_says_so(make_app):
    app = make_app(open_lesson="no-such-lesson")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert "There is no lesson with the id 'no-such-lesson'" in toast_text(app)


# ---------------------------------------------------------------------- tutor step


async def test_step_mode_opens_the_debugger_and_leaving_it_quits(make_app):
    from engine import expr
    from tutor.screens import debugger

    program = expr.parse_program("a = 2; b = -3; L = a * b")
    app = make_app(step_program=program, step_title="tutor step -e")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, debugger.DebuggerScreen)
        assert "tutor step -e" in screen_text(app)
        app.screen.dismiss(False)
        await pilot.pause()
    assert app.return_code == 0


async def test_train_mode_opens_the_training_screen_and_leaving_it_quits(make_app):
    from tutor.lessons import read_task
    from tutor.screens.train import TrainScreen

    task = read_task(
        {
            "steps": 5,
            "model": {"layers": [4, 4, 1]},
            "data": {"name": "seeds"},
            "loss": {"kind": "sse"},
            "optimiser": {"kind": "sgd", "lr": 0.1},
        }
    )
    app = make_app(train_task=task, step_title="task.toml")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)
        assert "task.toml" in screen_text(app) and "41 parameters" in screen_text(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_no_lessons_at_all_says_how_to_add_some(tmp_path):
    from tutor.app import TutorApp
    from tutor.lessons import load_catalog

    progress = Progress(tmp_path)
    app = TutorApp(load_catalog([tmp_path / "empty"]), progress)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "down", "enter")
        assert isinstance(app.screen, HomeScreen)
        assert "No lessons found" in squash(screen_text(app))
        assert "--lessons DIR" in squash(screen_text(app))
    progress.close()


async def test_a_click_on_a_lesson_opens_it(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        row = next(i for i, line in enumerate(lines) if "Training a tiny net" in line)
        await pilot.click(offset=(10, row))
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "training"


# ------------------------------------------------------- lessons listed first, checked just after


def _lazy_catalog(tmp_path):
    """The fixture lessons plus one whose front matter is fine but whose program is not, loaded
    as `tutor` loads them: blocks unchecked, for the first screen to appear sooner."""
    import shutil

    from tests.app.conftest import LESSONS
    from tutor.lessons import load_catalog

    for path in LESSONS.glob("*.md"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "50-later.md").write_text(
        '+++\nid = "later"\ntitle = "Broken inside"\nsection = "Going further"\norder = 50\n'
        'summary = "Its program uses a name it never sets."\nprerequisites = []\n+++\n\n'
        '```debugger\nprogram = "a = 2; L = a * zz"\n```\n',
        encoding="utf-8",
    )
    return load_catalog([tmp_path], check=False)


async def test_a_lesson_broken_inside_shows_broken_once_checked(tmp_path, data_dir):
    from tutor.app import TutorApp

    catalog = _lazy_catalog(tmp_path)
    assert not catalog.get("later").broken  # not yet known when the list is first drawn
    progress = Progress(data_dir)
    app = TutorApp(catalog, progress)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert catalog.unchecked == []
            text = screen_text(app)
            assert "✗" in row_of(text, "Broken inside") and "broken" in row_of(text, "Broken inside")
            assert "broken: 50-later.md:11:27: in the program: unknown name 'zz'" in text
            # the good lessons stayed good
            assert "not started" in row_of(text, "One step back at a time")
    finally:
        progress.close()


async def test_opening_a_lesson_before_the_check_reaches_it_checks_it_first(tmp_path, data_dir, monkeypatch):
    from tutor.app import TutorApp

    monkeypatch.setattr(TutorApp, "_check_lessons", lambda self: None)  # the background check never runs
    catalog = _lazy_catalog(tmp_path)
    progress = Progress(data_dir)
    app = TutorApp(catalog, progress)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert "not started" in row_of(screen_text(app), "Broken inside")
            await pilot.press("end")  # the last row
            assert "▶" in row_of(screen_text(app), "Broken inside")
            await pilot.press("enter")
            assert isinstance(app.screen, ProblemsScreen)
            assert "zz" in squash(screen_text(app))
            await pilot.press("q")
            assert "✗" in row_of(screen_text(app), "Broken inside")  # and the list now says so
            # a good lesson opened the same way gets its checked blocks
            await pilot.press("home")
            await pilot.press("enter")
            assert isinstance(app.screen, LessonScreen)
            assert catalog.get("slopes").checked
    finally:
        progress.close()


async def test_keys_typed_in_one_burst_are_applied_in_order(make_app):
    """Down Down Enter arriving together (a fast typist, a paste, a laggy SSH link) opens the
    lesson two rows down, not the one the cursor started on."""
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "▶" in row_of(screen_text(app), "Slopes by nudging")
        for key, char in (("down", None), ("down", None), ("enter", "\r")):
            app.post_message(events.Key(key, char))  # all queued before any is handled
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "training"  # Slopes -> One step back -> (heading) -> Training
