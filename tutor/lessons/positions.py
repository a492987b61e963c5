"""Where things are in a TOML text: the line and column of a key, and of a ``tomllib`` error.

``tomllib`` gives values, not positions, so a problem found in a value is placed by scanning the
text once, line by line, for ``key =`` lines and ``[table]`` headers (each line is read left to
right once: the scan is linear in the text, however long its lines are).
"""

from __future__ import annotations

import functools
import tomllib

__all__ = ["key_position", "locate", "toml_error", "toml_error_position", "toml_key_position"]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _dotted_key(line: str, i: int) -> tuple[tuple[str, ...], int] | None:
    """A dotted key starting at ``line[i]`` (spaces allowed around the dots): its parts and the
    index just after it; None when there is no key there."""
    parts = []
    n = len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] in "\"'":
            end = line.find(line[i], i + 1)
            if end < 0:
                return None
            parts.append(line[i + 1 : end])
            i = end + 1
        else:
            start = i
            while i < n and line[i] in _BARE:
                i += 1
            if i == start:
                return None
            parts.append(line[start:i])
        j = i
        while j < n and line[j] in " \t":
            j += 1
        if j < n and line[j] == ".":
            i = j + 1
            continue
        return tuple(parts), j


@functools.lru_cache(maxsize=32)  # one scan per text, however many keys are looked up in it
def _key_locations(text: str) -> tuple[tuple[tuple[str, ...], int, int], ...]:
    """(key path, 1-based line, 1-based column) for every table header and ``key =`` line.

    Arrays of tables get their index as a path part: the second ``[[examples]]`` is
    ``("examples", "1")``. Lines inside multi-line strings are skipped."""
    found = []
    table: tuple[str, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    in_string = None
    for n, line in enumerate(text.split("\n"), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        start = len(line) - len(line.lstrip(" \t"))
        if line.startswith("[", start):
            double = line.startswith("[[", start)
            key = _dotted_key(line, start + (2 if double else 1))
            if key is None or not line.startswith("]" * (2 if double else 1), key[1]):
                continue
            path = key[0]
            if double:
                i = array_counts.get(path, 0)
                array_counts[path] = i + 1
                path = (*path, str(i))
            table = path
            found.append((path, n, start + 1))
            continue
        key = _dotted_key(line, start)
        if key is None or not line.startswith("=", key[1]):
            continue
        found.append((table + key[0], n, start + 1))
        rest = line[key[1] + 1 :]
        for quote in ('"""', "'''"):
            if rest.count(quote) % 2 == 1:
                in_string = quote
                break
    return tuple(found)


def locate(text: str, keypath) -> tuple[int, int] | None:
    """Line and column (1-based, inside ``text``) that best match ``keypath``: the key itself,
    or else its deepest enclosing table or key. None when nothing matches."""
    want = tuple(str(k) for k in keypath)
    best = None
    best_len = 0
    for path, line, col in _key_locations(text):
        if len(path) > best_len and want[: len(path)] == path:
            best, best_len = (line, col), len(path)
    return best


def toml_error(err: tomllib.TOMLDecodeError, first_line: int, text: str) -> tuple[int, int, str]:
    """Map a tomllib error to (file line, column, message without the position).

    ``first_line`` is the file line of the TOML text's first line."""
    msg = str(err)
    head, sep, tail = msg.rpartition(" (at line ")
    if sep and tail.endswith(")") and ", column " in tail:
        line, _, col = tail[:-1].partition(", column ")
        if line.isdigit() and col.isdigit():
            return first_line + int(line) - 1, int(col), _toml_advice(head)
    msg = _toml_advice(msg.removesuffix(" (at end of document)"))
    # "at end of document": point at the last line that holds anything
    lines = text.split("\n")
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():
        last -= 1
    return first_line + max(last, 1) - 1, 1, msg


def _toml_advice(message: str) -> str:
    """tomllib's message, with what to do where the fix is not obvious."""
    if message.startswith("Unescaped '\\'"):
        return (
            f"{message}: in a TOML string \\ starts an escape; write \\\\ for one backslash, or put "
            "the text in single quotes ('...' or '''...'''), where a backslash is just a backslash"
        )
    return message


def toml_error_position(err: tomllib.TOMLDecodeError, text: str = "") -> tuple[int, int, str]:
    """(line, column, message) of a TOML error in a standalone TOML file."""
    return toml_error(err, 1, text)


def toml_key_position(text: str, keypath) -> tuple[int, int]:
    """(line, column) of ``keypath`` in a standalone TOML file (1, 1 when it is not written there)."""
    found = locate(text, keypath) if keypath else None
    return found if found is not None else (1, 1)


def key_position(text: str, first_line: int, keypath, fallback: tuple[int, int]) -> tuple[int, int]:
    """(file line, column) of ``keypath`` in a TOML text whose first line is file line
    ``first_line``; ``fallback`` when the text does not write it."""
    found = locate(text, keypath) if keypath else None
    if found is None:
        return fallback
    return first_line + found[0] - 1, found[1]
