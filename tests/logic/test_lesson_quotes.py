"""Code a built-in lesson quotes "from `engine/value.py`" is what that file says.

A lesson that shows the engine's source must show the engine as it is: when `value.py` changes
(say, how a node is made), the quote goes stale and this test names the lesson and the line.
A quote may break a long line where Python allows it (lessons keep code within 66 columns) and
leave out the source's comments, so each paragraph of a quote is compared with the source with
comments and all whitespace taken out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.lessons import builtin_lessons_dir

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def squashed(code: str) -> str:
    """The code without comment lines and without any whitespace."""
    lines = [line for line in code.splitlines() if not line.strip().startswith("#")]
    return re.sub(r"\s+", "", "\n".join(lines))


SOURCE = squashed((ROOT / "engine" / "value.py").read_text(encoding="utf-8"))


def quotes() -> list[tuple[str, int, str]]:
    """(lesson file, first line, paragraph) of every python block introduced as from value.py."""
    found = []
    for path in sorted(builtin_lessons_dir().glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip().rsplit("\n\n", 1)[-1]
            if "engine/value.py" not in before:
                continue
            line = text.count("\n", 0, match.start(1)) + 1
            for paragraph in match.group(1).split("\n\n"):
                if paragraph.strip():
                    found.append((path.name, line, paragraph))
                line += paragraph.count("\n") + 2
    return found


def test_some_lesson_quotes_the_engine():
    assert quotes(), "no lesson quotes engine/value.py any more: this test guards nothing"


@pytest.mark.parametrize(("lesson", "line", "quoted"), quotes())
def test_each_quoted_paragraph_is_in_value_py(lesson, line, quoted):
    assert squashed(quoted) in SOURCE, f"{lesson}:{line}: engine/value.py no longer has\n{quoted}"
