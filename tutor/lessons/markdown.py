"""A lesson's body split into prose and fenced blocks, the way the lesson screen renders it.

The lesson screen shows prose with Textual's ``Markdown`` widget, which parses with
markdown-it-py's ``"gfm-like"`` preset (``textual/widgets/_markdown.py``). The body is split
with the same parser, so a block here is exactly a fence that widget would render: only a
**top-level** fence becomes a block. A fence inside a list item or a quote stays in the prose
and the widget shows it as code; when its info string names an interactive kind (```quiz in a
list), that is almost surely a mistake, so it comes back as a warning saying how to fix it.

Only markdown-it's block rules run (inline parsing, linkify and the rest are switched off: the
split needs none of them), which keeps a 1 MiB lesson well under a second; markdown-it's block
parser is linear in the text.
"""

from __future__ import annotations

import functools

from tutor.lessons.model import INTERACTIVE_KINDS, Problem

__all__ = ["Part", "split_body"]

# (kind, first file line, text, lang, closed)
Part = tuple[str, int, str, str, bool]

_CONTAINERS = {"bullet_list_open": "list", "ordered_list_open": "list", "blockquote_open": "quote"}


@functools.cache
def _parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like")  # what textual.widgets.Markdown uses when given no parser_factory
    md.disable(["inline", "linkify", "text_join"], ignoreInvalid=True)  # the split needs blocks only
    return md


def _lang(info: str) -> str:
    return info.split(maxsplit=1)[0] if info.strip() else ""


def _closed(lines: list[str], start: int, end: int, markup: str) -> bool:
    """Whether the fence opened on line ``start`` ends with a closing fence on line ``end - 1``."""
    if end - 1 <= start or end > len(lines):
        return False
    last = lines[end - 1]
    stripped = last.lstrip(" ")
    if len(last) - len(stripped) > 3:
        return False
    stripped = stripped.rstrip()
    return (
        len(stripped) >= len(markup) and stripped == stripped[0] * len(stripped) and stripped[0] == markup[0]
    )


def split_body(lines: list[str], first_line: int, where: str, warnings: list[Problem]) -> list[Part]:
    """Split the body's lines into parts: ("markdown" | "code" | an interactive kind, file line,
    text, lang, closed). ``first_line`` is the file line of ``lines[0]``. Interactive fences the
    widget would show as code (inside a list or a quote, or indented into a code block) add a
    warning to ``warnings``."""
    tokens = _parser().parse("\n".join(lines))
    parts: list[Part] = []
    prose_from = 0  # body line where the current prose starts
    containers: list[str] = []

    def add_prose(upto: int) -> None:
        chunk = lines[prose_from:upto]
        while chunk and not chunk[0].strip():
            chunk = chunk[1:]
        text = "\n".join(chunk).strip("\n")
        if text.strip():
            parts.append(("markdown", first_line + upto - len(chunk), text, "", True))

    for token in tokens:
        if token.type in _CONTAINERS:
            containers.append(_CONTAINERS[token.type])
        elif token.type.endswith("_close") and token.type.replace("_close", "_open") in _CONTAINERS:
            containers.pop()
        elif token.type == "fence" and token.map:
            start, end = token.map
            lang = _lang(token.info)
            if token.level > 0 or containers:
                if lang in INTERACTIVE_KINDS:
                    warnings.append(_nested_warning(lines, start, first_line, lang, containers, where))
                continue
            add_prose(start)
            closed = _closed(lines, start, end, token.markup)
            inner = "\n".join(lines[start + 1 : end - 1 if closed else end])
            kind = lang if lang in INTERACTIVE_KINDS else "code"
            parts.append((kind, first_line + start, inner, lang if kind == "code" else "", closed))
            prose_from = end
        elif token.type == "code_block" and token.map and token.level == 0 and not containers:
            first = token.content.lstrip("\n").split("\n", 1)[0].strip()
            lang = _lang(first.lstrip("`~")) if first.startswith(("```", "~~~")) else ""
            if lang in INTERACTIVE_KINDS:
                line = token.map[0] + next(i for i, l in enumerate(lines[token.map[0] :]) if l.strip())
                col = len(lines[line]) - len(lines[line].lstrip()) + 1
                warnings.append(
                    Problem(
                        where,
                        first_line + line,
                        col,
                        f"this ```{lang} fence is indented by 4 spaces or more, so it is shown as code, "
                        f"not as a {lang} block: start the fence at the beginning of the line",
                        "warning",
                    )
                )
    add_prose(len(lines))
    return parts


def _nested_warning(lines, start, first_line, lang, containers, where) -> Problem:
    line = lines[start]
    col = next((i for i, ch in enumerate(line) if ch in "`~"), 0) + 1
    inside = "a quote" if containers and containers[-1] == "quote" else "a list item"
    how = (
        "take it out of the quote (no '>' before its lines)"
        if inside == "a quote"
        else "end the list first (a blank line, then the fence at the start of a line, not indented)"
    )
    return Problem(
        where,
        first_line + start,
        col,
        f"this ```{lang} fence is inside {inside}, so the lesson shows it as code, not as a {lang} "
        f"block: {how}",
        "warning",
    )
