"""Reading a lesson's TOML without letting one file stall everyone.

``tomllib`` is quadratic in the parts of a dotted key (a key of 100,000 parts takes minutes) and
recursive in nested arrays and inline tables (deep nesting raises ``RecursionError``). A lesson's
front matter, a block or a task file is a few lines, so `loads` refuses, before parsing, TOML
longer than `MAX_CHARS`, a key or table name of more than `MAX_KEY_PARTS` parts, and nesting
deeper than `MAX_DEPTH`, each with a message at the line and column where it happens. The scan
that finds them is one pass over the text that knows TOML's strings and comments.
"""

from __future__ import annotations

import tomllib

__all__ = ["MAX_CHARS", "MAX_DEPTH", "MAX_KEY_PARTS", "TomlRefused", "loads"]

MAX_CHARS = 64 * 1024
MAX_KEY_PARTS = 16
MAX_DEPTH = 32


class TomlRefused(ValueError):
    """TOML too large or too deep to parse quickly; ``line`` and ``col`` are 1-based in the text."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def loads(text: str) -> dict:
    """``tomllib.loads(text)`` once the text is known to parse quickly; raises `TomlRefused` or
    ``tomllib.TOMLDecodeError``."""
    if len(text) > MAX_CHARS:
        raise TomlRefused(
            f"this TOML is {len(text):,} characters long, more than the {MAX_CHARS:,} a block may hold; "
            "a block is a few lines: split the lesson or shorten the block"
        )
    _scan(text)
    try:
        return tomllib.loads(text)
    except RecursionError:  # the scan bounds nesting; kept so no input can raise it through
        raise TomlRefused(f"this TOML nests more than {MAX_DEPTH} levels deep") from None


def _scan(text: str) -> None:
    """One pass: count the dots of each key and the depth of arrays and inline tables."""
    line, col = 1, 0
    stack: list[str] = []  # "[" for an array, "{" for an inline table
    key_mode = True  # reading a key (at a line's start, or after { or , in an inline table)
    header = False  # reading a [table] or [[table]] name
    dots = 0
    quote = ""  # the open string's delimiter: " ' \"\"\" '''
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col += 1
        if quote:
            if ch == "\\" and quote in ('"', '"""'):
                i += 2
                col += 1
                continue
            if text.startswith(quote, i):
                i += len(quote)
                col += len(quote) - 1
                quote = ""
                continue
            if ch == "\n":
                line, col = line + 1, 0
            i += 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            col -= 1
            continue
        if ch == "\n":
            line, col = line + 1, 0
            if not stack:
                key_mode, header, dots = True, False, 0
        elif ch in "\"'":
            triple = text.startswith(ch * 3, i)
            quote = ch * 3 if triple else ch
            i += len(quote)
            col += len(quote) - 1
            continue
        elif key_mode or header:
            if ch == "}" and stack and stack[-1] == "{":  # an empty inline table: {}
                stack.pop()
                key_mode = False
            elif ch == ".":
                dots += 1
                if dots >= MAX_KEY_PARTS:
                    raise TomlRefused(
                        f"a key or table name of more than {MAX_KEY_PARTS} dotted parts; "
                        "a lesson's keys have one to three (like model.layers)",
                        line,
                        col,
                    )
            elif ch == "[" and not stack and not header:
                header = True  # a [table] at the start of a line
            elif ch == "]" and header:
                header, key_mode = False, False
            elif ch == "=":
                key_mode, dots = False, 0
        else:
            if ch in "[{":
                stack.append(ch)
                if len(stack) > MAX_DEPTH:
                    raise TomlRefused(
                        f"arrays or inline tables nested more than {MAX_DEPTH} levels deep", line, col
                    )
                if ch == "{":
                    key_mode, dots = True, 0
            elif ch in "]}" and stack:
                stack.pop()
            elif ch == "," and stack and stack[-1] == "{":
                key_mode, dots = True, 0
        i += 1
