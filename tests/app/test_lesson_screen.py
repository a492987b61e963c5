"""The lesson screen, driven with Pilot at 80×24: parts, moving, saving, cards, finishing."""

from __future__ import annotations

import sys
import types

import pytest
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tests.app.conftest import screen_text, squash, toast_text
from tutor.progress import Progress
from tutor.screens.home import HomeScreen
from tutor.screens.lesson import LessonScreen
from tutor.widgets.block_card import BlockCard, EndCard

SIZE = (80, 24)


def bid(lesson_id: str, index: int) -> str:
    """The id of the fixture lesson's block at ``index`` (progress is keyed by block ids)."""
    from tests.app.conftest import LESSONS
    from tutor.lessons import load_catalog

    return load_catalog([LESSONS], check=False).get(lesson_id).blocks[index].id


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


# ---------------------------------------------------------------------- a stand-in debugger
# The real DebuggerScreen is another helper's; these tests pin down what the lesson screen does
# with whatever it returns, so they use a stand-in with the same constructor.


class FakeProgramError(Exception):
    def __init__(self, message, line, col):
        super().__init__(f"line {line}, col {col}: {message}")
        self.message, self.line, self.col = message, line, col


class FakeDebugger(Screen):
    opened: list = []

    def __init__(self, program, *, title="", predict=False, **hooks):
        super().__init__()
        FakeDebugger.opened.append((program, title, predict))

    def compose(self) -> ComposeResult:
        yield Static("stand-in debugger")


@pytest.fixture
def fake_debugger(monkeypatch):
    FakeDebugger.opened = []
    screens = types.ModuleType("tutor.screens.debugger")
    screens.DebuggerScreen = FakeDebugger
    expr = types.ModuleType("engine.expr")
    expr.ProgramError = FakeProgramError

    def parse_program(text, *, output=None):
        if "syntax error" in text:
            raise FakeProgramError("unknown name 'x'", 2, 5)
        return ("program", text, output)

    expr.parse_program = parse_program
    monkeypatch.setitem(sys.modules, "tutor.screens.debugger", screens)
    monkeypatch.setitem(sys.modules, "engine.expr", expr)
    return FakeDebugger


# ---------------------------------------------------------------------- parts and moving


async def test_parts_are_shown_in_order_and_n_p_move_between_them(make_app, data_dir):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        text = screen_text(app)
        assert "One step back at a time" in text  # the Markdown heading
        assert "Each node passes gradient to its operands" in text
        assert "Debugger" in text and "e = a * b" in text  # the card shows its program
        assert "part 1 of 3" in text
        assert screen.current == 0

        await pilot.press("n")
        assert screen.current == 1
        text = screen_text(app)
        assert "part 2 of 3" in text
        assert "▶ Debugger" in text  # the current card is marked without colour
        await pilot.press("n")
        assert screen.current == 2
        await pilot.press("n")
        assert isinstance(screen.focused, EndCard)
        assert "End of the lesson" in screen_text(app)
        await pilot.press("n")  # nothing after the end
        assert isinstance(screen.focused, EndCard)
        await pilot.press("p", "p")
        assert screen.current == 1
        assert "part 2 of 3" in screen_text(app)
        # tab walks the same parts
        await pilot.press("tab")
        assert screen.current == 2
        await pilot.press("shift+tab")
        assert screen.current == 1
    assert Progress(data_dir).position("chain") == bid("chain", 1)


async def test_the_end_card_saves_the_last_block_as_the_position(make_app, data_dir):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n")
        assert isinstance(app.screen.focused, EndCard)
    assert Progress(data_dir).position("chain") == bid("chain", 2)


async def test_arrows_and_page_keys_scroll_the_lesson(make_app):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        parts = app.screen.query_one("#parts")
        assert parts.max_scroll_y > 0  # the lesson is taller than the screen at 80×24
        assert parts.scroll_y == 0
        await pilot.press("down")
        await pilot.pause()
        assert parts.scroll_y == 1
        await pilot.press("pagedown")
        await pilot.pause()
        assert parts.scroll_y == parts.max_scroll_y or parts.scroll_y > 1
        await pilot.press("up", "pageup")
        await pilot.pause()
        assert parts.scroll_y == 0


async def test_q_goes_back_to_the_list(make_app):
    app = make_app(open_lesson="slopes")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


# ---------------------------------------------------------------------- the training and quiz cards


async def test_a_training_card_opens_the_training_screen_and_a_full_run_completes_it(make_app, data_dir):
    from tutor.screens.train import TrainScreen

    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert app.screen.focused.block.kind == "train"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)
        assert app.screen.train_task.steps == 20
        app.screen.dismiss(True)  # what the screen answers once a full run has reached its end
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
    assert Progress(data_dir).completed_blocks("training") == {bid("training", 1)}


async def test_a_finished_run_is_a_finished_part_before_the_training_screen_is_left(make_app, data_dir):
    from tutor.screens.train import TrainScreen

    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)
        app.screen.advance(19)
        assert app.progress.flush(5) and Progress(data_dir).completed_blocks("training") == set()
        app.screen.advance(1)  # the 20th and last step
        assert app.progress.flush(5)
        assert Progress(data_dir).completed_blocks("training") == {
            bid("training", 1)
        }  # the screen still open


async def test_a_training_card_shows_its_task_and_what_enter_does(make_app):
    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        card = app.screen.focused
        assert isinstance(card, BlockCard) and card.block.kind == "train"
        text = squash(screen_text(app))
        assert "▶ Training" in text
        assert "steps = 20" in text and 'name = "seeds"' in text
        assert "Enter: open the training" in text


async def test_reaching_the_end_with_nothing_openable_left_marks_the_lesson_done(make_app, data_dir):
    app = make_app(open_lesson="slopes")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n")
        assert Progress(data_dir).state("slopes") == "in progress"
        await pilot.press("n", "n")
        await pilot.pause()
        assert isinstance(app.screen.focused, EndCard)
        # said in the header and on the end card, with no toast over the text
        assert "lesson complete ✓" in screen_text(app).splitlines()[0]
        assert toast_text(app) == ""
        assert "You have finished it" in squash(screen_text(app))
        await pilot.press("q")
        await pilot.pause()
        assert "done" in next(line for line in screen_text(app).splitlines() if "Slopes by nudging" in line)
    assert Progress(data_dir).state("slopes") == "done"


async def test_reaching_the_end_first_lists_every_card_still_to_do(make_app, data_dir):
    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "n")
        await pilot.pause()
        assert isinstance(app.screen.focused, EndCard)
        text = squash(screen_text(app))
        assert "Still to do before it counts as done: part 2 (train), part 4 (quiz)." in text
    assert Progress(data_dir).state("training") == "in progress"


async def test_a_quiz_card_opens_the_quiz_and_a_right_answer_completes_it(make_app, data_dir):
    from tutor.screens.quiz import QuizScreen

    with Progress(data_dir) as progress:  # the training run was finished earlier,
        progress.complete_block(
            "training", bid("training", 1)
        )  # so the quiz is the last thing the lesson asks for
    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n")
        text = squash(screen_text(app))
        assert "▶ Quiz" in text
        assert "what is dL/da?" in text and "Enter: answer the quiz" in text
        assert "answer = 6" not in text  # the card never shows the answer
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("6", "enter")
        await pilot.pause()
        assert app.screen.solved
        app.screen.dismiss(True)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        text = squash(screen_text(app))
        assert "Quiz ✓ done" in text and "Done. Enter: open the quiz again" in text
        await pilot.press("n")
        await pilot.pause()
    assert Progress(data_dir).completed_blocks("training") == {bid("training", 1), bid("training", 3)}
    assert Progress(data_dir).state("training") == "done"


async def test_a_right_answer_is_a_finished_part_before_the_quiz_is_left(make_app, data_dir):
    """A connection that drops right after "✓ Right" (the quiz still open) must not ask again."""
    from tutor.screens.quiz import QuizScreen

    app = make_app(open_lesson="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("6", "enter")
        await pilot.pause()
        assert "✓ Right" in screen_text(app)
        # read by another process, while the quiz is still on screen
        assert app.progress.flush(5)
        assert Progress(data_dir).completed_blocks("training") == {bid("training", 3)}


async def test_open_is_in_the_footer_only_with_a_card_to_open(make_app):
    """On a card, or on the prose above a card that is wholly on screen (the card says
    "Enter: open the debugger" there too), or below one whose "Enter: ..." line is still on
    screen; not once the card has scrolled out of sight."""
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "part 1 of" in screen_text(app).splitlines()[0] and "Enter: open the debugger" in screen_text(
            app
        )
        assert "Open" in footer(app)
        assert "n Next" in footer(app) and "q Back" in footer(app) and "? Help" in footer(app)
        await pilot.press("n")
        await pilot.pause()
        assert "Open" in footer(app)
        await pilot.press("n")
        await pilot.pause()
        # past the card, its Enter line still on screen above (this lesson is short): Enter opens it
        assert "Enter: open the debugger" in screen_text(app) and "Open" in footer(app)


async def test_open_leaves_the_footer_once_the_card_has_scrolled_out_of_sight(course):
    """The PyTorch lesson's part 9 is prose two screens below its last card: nothing to open."""
    app = course(open_lesson="pytorch")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(40):
            if "part 9 of" in screen_text(app).splitlines()[0]:
                break
            await pilot.press("n")
            await pilot.pause()
        assert "part 9 of" in screen_text(app).splitlines()[0]
        assert "Enter:" not in screen_text(app)
        assert "Open" not in footer(app)


# ---------------------------------------------------------------------- the debugger card


async def test_debugger_card_opens_the_debugger_with_its_program(make_app, fake_debugger):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert "Enter: open the debugger" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FakeDebugger)
        program, title, predict = fake_debugger.opened[0]  # the program parsed when the lesson was read
        assert "L = d * f" in program.text and program.output == "L"
        assert title == "Backward through L = (a*b + c) * f"  # the block's caption
        assert predict is False


async def test_leaving_the_debugger_unfinished_completes_nothing(make_app, fake_debugger, data_dir):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        app.screen.dismiss(False)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert "✓ done" not in screen_text(app)
    assert Progress(data_dir).completed_blocks("chain") == set()


async def test_finishing_the_debugger_then_reaching_the_end_completes_the_lesson(
    make_app, fake_debugger, data_dir
):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        app.screen.dismiss(True)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        text = squash(screen_text(app))
        assert "Debugger ✓ done" in text and "Done. Enter: open the debugger again" in text
        assert Progress(data_dir).completed_blocks("chain") == {bid("chain", 1)}
        assert Progress(data_dir).state("chain") == "in progress"  # the end is not reached yet
        await pilot.press("n", "n")
        await pilot.pause()
        assert "lesson complete ✓" in screen_text(app).splitlines()[0]
    assert Progress(data_dir).state("chain") == "done"


async def test_reaching_the_end_first_lists_what_is_left(make_app, fake_debugger, data_dir):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n", "n", "n")
        await pilot.pause()
        text = squash(screen_text(app))
        assert "Still to do before it counts as done: part 2 (debugger)" in text
        assert Progress(data_dir).state("chain") == "in progress"
        await pilot.press("p", "p", "enter")
        await pilot.pause()
        app.screen.dismiss(True)
        await pilot.pause()
        assert "lesson complete ✓" in screen_text(app).splitlines()[0]
        assert toast_text(app) == ""
    assert Progress(data_dir).state("chain") == "done"


async def test_a_finished_debugger_block_shows_done_after_a_restart(make_app, fake_debugger):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        app.screen.dismiss(True)
        await pilot.pause()
    again = make_app(open_lesson="chain")
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.screen.current == 1
        text = squash(screen_text(again))
        assert "Debugger ✓ done" in text and "Done. Enter: open the debugger again" in text


async def test_a_program_that_does_not_parse_is_reported_not_opened(make_app, fake_debugger):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n")
        card = app.screen.focused
        card.block.config = dict(card.block.config, program="syntax error here")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        text = toast_text(app)
        assert "does not parse" in text and "unknown name 'x'" in text
        assert fake_debugger.opened == []


async def test_the_real_debugger_opens_from_the_card(make_app, data_dir):
    from tutor.screens import debugger

    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, debugger.DebuggerScreen)
        app.screen.dismiss(False)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
    assert Progress(data_dir).completed_blocks("chain") == set()


async def test_predictions_and_the_finished_pass_are_saved_while_the_debugger_is_open(make_app, data_dir):
    """A dropped connection in the debugger loses neither the predictions made (with the mistake
    each one showed, for `tutor progress`) nor a backward pass already run to its end."""
    from tutor.screens.debugger import DebuggerScreen

    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)
        await pilot.press("n", "n", "n", "t", "n")  # three steps, then predict the next
        await pilot.pause()
        await pilot.press("minus", "3", "enter")  # b.data alone: forgot the upstream
        await pilot.pause()
        other = Progress(data_dir)  # what another session (or a restart) reads right now
        try:
            (attempt,) = other.attempts("chain")
            assert (attempt.answer, attempt.correct, attempt.block_id) == ("-3", False, bid("chain", 1))
            assert attempt.tags == ["forgot-upstream"]
            assert other.completed_blocks("chain") == set()
            await pilot.press("escape", "t", "e")  # skip the question, run to the end
            await pilot.pause()
            assert isinstance(app.screen, DebuggerScreen)  # still in it
            assert other.completed_blocks("chain") == {bid("chain", 1)}
        finally:
            other.close()


# ---------------------------------------------------------------------- a part taller than the screen


async def test_n_pages_through_a_long_part_before_moving_on(tmp_path):
    from tests.app.conftest import FIXTURES
    from tutor.app import TutorApp
    from tutor.lessons import load_catalog

    progress = Progress(tmp_path)
    app = TutorApp(load_catalog([FIXTURES / "long"]), progress, open_lesson="long")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        seen = set()
        for _ in range(12):
            text = screen_text(app)
            seen.update(int(word) for word in text.replace(":", " ").split() if word.isdigit())
            if screen.current == 1:
                break
            await pilot.press("n")
            await pilot.pause()
        assert screen.current == 1  # it did get to the next part
        # and on the way every paragraph of the first part was on screen at some point
        assert set(range(1, 31)) <= seen
    progress.close()


async def test_n_moves_on_from_a_part_that_fits_even_when_it_is_scrolled_half_out_of_view(tmp_path):
    """A part that fits the view is never paged: n goes to the next part even when the view does
    not show all of it (scrolled away by the mouse, or not yet scrolled to it: over SSH a learner
    resuming a lesson pressed n as it opened and the key was spent paging)."""
    from tutor.app import TutorApp
    from tutor.lessons import load_catalog

    front = (
        '+++\nid = "parts"\ntitle = "Parts"\nsection = "Reading"\norder = 10\nsummary = "s"\n'
        "prerequisites = []\n+++\n\n"
    )
    lines = lambda n, word: "\n\n".join(f"{word} line {i}." for i in range(n))  # noqa: E731
    code = "\n".join(f"second = {i}" for i in range(12))
    body = f"{lines(6, 'First')}\n\n```python\n{code}\n```\n\n{lines(30, 'Third')}\n"
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "parts.md").write_text(front + body, encoding="utf-8")
    progress = Progress(tmp_path / "data")
    app = TutorApp(load_catalog([tmp_path / "lessons"]), progress, open_lesson="parts")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("n")
        await pilot.pause()
        part, scroll = screen.focused, screen.query_one("#parts")
        view = scroll.scrollable_content_region.height
        assert "second = 0" in part.block.text and part.outer_size.height < view
        scroll.scroll_to(y=0, animate=False)  # the part's bottom half is below the view
        await pilot.pause()
        assert part.virtual_region.bottom > view
        await pilot.press("n")
        await pilot.pause()
        assert "Third line 0." in screen.focused.block.text
        assert "Third line 0." in screen_text(app)
        assert "part 3 of 3" in screen_text(app).splitlines()[0]
    progress.close()


async def test_a_failed_progress_write_is_reported_once_and_the_lesson_goes_on(make_app):
    app = make_app(open_lesson="chain")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.progress.close()  # every write from now on fails
        await pilot.press("n")
        await pilot.pause()
        assert "Progress could not be saved" in toast_text(app)
        await pilot.press("n", "p")
        await pilot.pause()
        assert app.screen.current == 1  # still moving
        assert toast_text(app).count("could not be saved") == 1
