"""A lesson's body split into prose and fenced blocks, the way the lesson screen renders it.

The lesson screen shows prose with Textual's ``Markdown`` widget, which parses with
markdown-it-py's ``"gfm-like"`` preset (``textual/widgets/_markdown.py``). The body is split
with the same parser, so a block here is exactly a fence that widget would render: only a
**top-level** fence becomes a block. A fence inside a list item or a quote stays in the prose
and the widget shows it as code; when its info string names an interactive kind (```quiz in a
list), that is almost surely a mistake, so it comes back as a warning saying how to fix it.

Only markdown-it's block rules run (inline parsing, linkify and the rest are switched off: the
split needs none of them), and only on the pieces of the text that can hold a fence (see
:func:`top_level_fences`), which keeps a 1 MiB lesson well under a second; each step is linear.
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


def _width(line: str) -> tuple[int, int]:
    """(visual width of the leading spaces and tabs, index of the first other character)."""
    col = i = 0
    while i < len(line) and line[i] in " \t":
        col = col + 4 - col % 4 if line[i] == "\t" else col + 1
        i += 1
    return col, i


def _closes(line: str, markup: str) -> bool:
    """Whether ``line`` closes a top-level fence opened with ``markup`` (markdown-it's rule)."""
    width, i = _width(line)
    if width >= 4:
        return False
    rest = line[i:].rstrip(" \t")
    return len(rest) >= len(markup) and rest == markup[0] * len(rest)


def _blank(line: str) -> bool:
    return not line.strip(" \t")


# (start, end, closed, markup, lang) of a top-level fence; start and end are body line indices
Fence = tuple[int, int, bool, str, str]


def top_level_fences(lines: list[str], first_line: int, where: str, warnings: list[Problem]) -> list[Fence]:
    """The top-level fences of the body, as markdown-it finds them in the whole text.

    The text is cut at *restart points*, where markdown-it's state is the same as at the start of
    a document: a line that starts at the margin after a blank line (only a fence or a raw-HTML
    block such as ``<!--`` can run across one, and both are followed to their end). A piece with
    no fence marker and no ``<`` holds no block, so it is not parsed at all; the others are parsed
    one by one. Every line is parsed at most twice, so this stays linear, and most prose is only
    scanned for markers."""
    if lines and lines[-1] == "":
        lines = lines[:-1]  # the text's last newline ends its last line; it starts no new one
    n = len(lines)
    fences: list[Fence] = []
    start = 0
    while start < n:
        end = _restart_after(lines, start)
        if not _may_hold_a_block(lines, start, end):
            start = end
            continue
        while end < n:  # one parse for a run of such pieces
            after = _restart_after(lines, end)
            if not _may_hold_a_block(lines, end, after):
                break
            end = after
        resume = _parse_piece(lines, start, end, first_line, where, warnings, fences)
        start = resume if resume is not None else end
    return fences


def _restart_after(lines: list[str], start: int) -> int:
    """The first restart point after ``start``: a line at the margin after a blank line."""
    end = start + 1
    while end < len(lines) and not (_blank(lines[end - 1]) and lines[end][:1] not in ("", " ", "\t")):
        end += 1
    return end


def _may_hold_a_block(lines: list[str], start: int, end: int) -> bool:
    return any("```" in line or "~~~" in line or "<" in line for line in lines[start:end])


def _parse_piece(lines, start, end, first_line, where, warnings, fences) -> int | None:
    """Parse ``lines[start:end]``; add its fences. The line to go on from when a construct ran
    past the piece's end (None when nothing did)."""
    containers: list[str] = []
    for token in _parser().parse("".join(line + "\n" for line in lines[start:end])):
        if token.type in _CONTAINERS:
            containers.append(_CONTAINERS[token.type])
        elif token.type.endswith("_close") and token.type.replace("_close", "_open") in _CONTAINERS:
            containers.pop()
        elif token.type == "fence" and token.map:
            lang = _lang(token.info)
            first = start + token.map[0]
            if token.level > 0 or containers:
                if lang in INTERACTIVE_KINDS:
                    warnings.append(_nested_warning(lines, first, first_line, lang, containers, where))
                continue
            last = start + token.map[1]
            if last - 1 > first and _closes(lines[last - 1], token.markup):
                fences.append((first, last, True, token.markup, lang))
                continue
            # runs to the piece's end: follow it through the pieces after, to its closing line
            close = next((k for k in range(last, len(lines)) if _closes(lines[k], token.markup)), None)
            fences.append(
                (first, len(lines) if close is None else close + 1, close is not None, token.markup, lang)
            )
            return len(lines) if close is None else close + 1
        elif (
            token.type == "html_block"
            and token.map
            and token.level == 0
            and start + token.map[1] == end < len(lines)
        ):
            # raw HTML like <!-- may run past a blank line: parse from it to the end, once
            return _parse_rest(lines, start + token.map[0], first_line, where, warnings, fences)
        elif token.type == "code_block" and token.map and token.level == 0 and not containers:
            _indented_fence(lines, start + token.map[0], start + token.map[1], first_line, where, warnings)
    return None


def _parse_rest(lines, start, first_line, where, warnings, fences) -> int:
    _parse_piece(lines, start, len(lines), first_line, where, warnings, fences)
    return len(lines)


def _indented_fence(lines, start, end, first_line, where, warnings) -> None:
    """Warn about an interactive fence written inside indented code (shown as code)."""
    line = next((k for k in range(start, end) if lines[k].strip()), None)
    if line is None:
        return
    text = lines[line].strip()
    lang = _lang(text.lstrip("`~")) if text.startswith(("```", "~~~")) else ""
    if lang in INTERACTIVE_KINDS:
        warnings.append(
            Problem(
                where,
                first_line + line,
                len(lines[line]) - len(lines[line].lstrip()) + 1,
                f"this ```{lang} fence is indented by 4 spaces or more, so it is shown as code, "
                f"not as a {lang} block: start the fence at the beginning of the line",
                "warning",
            )
        )


def split_body(lines: list[str], first_line: int, where: str, warnings: list[Problem]) -> list[Part]:
    """Split the body's lines into parts: ("markdown" | "code" | an interactive kind, file line,
    text, lang, closed). ``first_line`` is the file line of ``lines[0]``. Interactive fences the
    widget would show as code (inside a list or a quote, or indented into a code block) add a
    warning to ``warnings``."""
    parts: list[Part] = []
    prose_from = 0

    def add_prose(upto: int) -> None:
        chunk_from = prose_from
        while chunk_from < upto and not lines[chunk_from].strip():
            chunk_from += 1
        text = "\n".join(lines[chunk_from:upto]).strip("\n")
        if text.strip():
            parts.append(("markdown", first_line + chunk_from, text, "", True))

    for start, end, closed, _markup, lang in top_level_fences(lines, first_line, where, warnings):
        add_prose(start)
        inner = "\n".join(lines[start + 1 : end - 1 if closed else end])
        kind = lang if lang in INTERACTIVE_KINDS else "code"
        parts.append((kind, first_line + start, inner, lang if kind == "code" else "", closed))
        prose_from = end
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
