"""A small declarative schema for the TOML tables of a lesson file, and the problems it finds.

Each block kind (the front matter, ```debugger, ```pytorch, ```train, each kind of ```quiz)
describes its table once, as a :class:`Table` of :class:`Key` objects: the key's name, the type
of its value, what a right value looks like (for the messages), whether it is required, its
default, its choices or range, and any further rule. :meth:`Table.read` checks a parsed TOML
table against that description and reports **every** problem it finds, not only the first: an
unknown key (with "did you mean" when a known key is close), a missing key, a value of the wrong
type or out of range. What it returns holds only the values that passed, with the defaults
filled in, so the code that builds a block's result can check what depends on several keys.

A problem is an :class:`Issue`: the path of keys from the top of the table (an element made of
digits is an index into an array of tables), the message, and optionally a position inside the
value (a program's own line and column). The lesson layer turns an issue into a
``path:line:col`` problem of the Markdown file.

Pure logic: standard library only.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Issue", "Issues", "Key", "Table", "did_you_mean", "dotted", "program_advice", "show"]

Path = tuple[str, ...]


@dataclass(frozen=True)
class Issue:
    """One problem in a table: ``path`` names the key, ``message`` says what to do. ``at`` is a
    (line, column) inside the key's value, for a value that is itself a program."""

    path: Path
    message: str
    at: tuple[int, int] | None = None

    @property
    def dotted(self) -> str:
        return dotted(self.path)


class Issues(list):
    """The problems found so far in one block, in the order they were found."""

    def add(self, path: Iterable, message: str, at: tuple[int, int] | None = None) -> None:
        self.append(Issue(tuple(str(p) for p in path), message, at))

    def under(self, path: Iterable) -> bool:
        """Whether a problem was found at ``path`` or inside it."""
        path = tuple(str(p) for p in path)
        return any(i.path[: len(path)] == path for i in self)


def dotted(path: Iterable) -> str:
    """``("options", "2", "feedback")`` -> ``options[2].feedback``."""
    out = ""
    for k in path:
        k = str(k)
        out += f"[{k}]" if k.isdigit() else (f".{k}" if out else k)
    return out


def show(value) -> str:
    """A value as the author of the TOML would recognise it in a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}..." (a string)'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def did_you_mean(word, choices: Iterable[str], quote: str = "'") -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {quote}{close[0]}{quote}?" if close else ""


def program_advice(message: str) -> str:
    """An expression program's error, with what to do where the parser's words do not say it."""
    if message.startswith("syntax error: unexpected indent") or message.startswith(
        "syntax error: unindent does not match"
    ):
        return (
            f"{message}: a program's lines must not be indented; start each line at the left margin "
            "(in a TOML string every space before a line is part of the program)"
        )
    return message


# What each type accepts. TOML's true/false is never a number here.
_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "table": lambda v: isinstance(v, dict),
    "tables": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "any": lambda v: True,
}
_REQUIRED = object()


@dataclass(frozen=True)
class Key:
    """One key of a table.

    ``type`` is one of str, int, number (an int or a float, given back as a float), bool, list,
    table (a sub-table described by ``table``), tables (an array of tables, each described by
    ``table``) or any. ``what`` describes a right value ("a whole number, e.g. 30"); ``example``
    is what to add when the key is missing (``name = what`` if not given). ``choices`` lists the
    allowed strings; ``lo``/``hi`` bound a number (``above``/``below`` leave the bound out);
    ``check`` is one more rule on a value of the right type: it returns a message, or None.
    """

    name: str
    type: str
    what: str
    required: bool = False
    default: Any = None
    example: str = ""
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    above: bool = False
    below: bool = False
    check: Callable[[Any], str | None] | None = None
    table: Table | None = None

    def _range_problem(self, value) -> str | None:
        lo, hi = self.lo, self.hi
        low_bad = lo is not None and (value <= lo if self.above else value < lo)
        high_bad = hi is not None and (value >= hi if self.below else value > hi)
        if not (low_bad or high_bad):
            return None
        if self.type == "int" and lo is not None and hi is not None:
            return f"must be from {lo} to {hi}, not {value}"
        parts = []
        if lo is not None:
            parts.append(f"above {lo:g}" if self.above else f"at least {lo:g}")
        if hi is not None:
            parts.append(f"below {hi:g}" if self.below else f"at most {hi:g}")
        return f"must be {' and '.join(parts)}, not {show(value)}"


@dataclass(frozen=True)
class Table:
    """A table's keys, and how its messages are worded (``{key}``, ``{what}``, ``{got}``,
    ``{example}`` and ``{hint}`` are filled in). ``where`` names the table in messages."""

    where: str
    keys: tuple[Key, ...]
    unknown: str = "unknown key '{key}' in {where}{hint}"
    missing: str = "missing; add {example}"
    wrong: str = "must be {what}, not {got}"
    by_name: dict[str, Key] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {k.name: k for k in self.keys})

    def read(self, value, issues: Issues, path: Path = ()) -> dict | None:
        """The table's values that passed (defaults filled in for keys left out), reporting every
        problem into ``issues``. None when ``value`` is not a table at all."""
        if not isinstance(value, dict):
            issues.add(path, f"must be a table of keys, not {show(value)}")
            return None
        names = list(self.by_name)
        meant = set()  # known keys a misspelt key was taken for: not said to be missing as well
        for key in value:
            if key not in self.by_name:
                close = did_you_mean(key, names)
                near = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                meant.update(k for k in near if k not in value)
                hint = f"{close} (allowed: {', '.join(names)})" if close else f"; allowed: {', '.join(names)}"
                issues.add((*path, key), self.unknown.format(key=key, where=self.where, hint=hint))
        good: dict = {}
        for key in self.keys:
            here = (*path, key.name)
            if key.name not in value:
                if key.required and key.name not in meant:
                    example = key.example or f"{key.name} = {key.what}"
                    issues.add(here, self.missing.format(key=key.name, example=example, where=self.where))
                elif key.default is not None:
                    good[key.name] = key.default
                continue
            checked = self._value(key, value[key.name], issues, here)
            if checked is not _REQUIRED:
                good[key.name] = checked
        return good

    def _value(self, key: Key, value, issues: Issues, here: Path):
        """The value converted, or _REQUIRED (as "nothing") after reporting its problem."""

        def wrong(message: str | None = None):
            text = message or self.wrong.format(key=key.name, what=key.what, got=show(value))
            issues.add(here, text)
            return _REQUIRED

        if not _ACCEPTS[key.type](value):
            if key.type == "tables":
                return wrong(f"must be an array of tables ([[{key.name}]] sections): {key.what}")
            return wrong()
        if key.type == "number":
            if not math.isfinite(value):
                return wrong(f"must be a finite number, not {show(value)}")
            value = float(value)
        if key.type == "table" and key.table is not None:
            inner = key.table.read(value, issues, here)  # holds what passed, even beside a problem
            return inner if inner is not None else _REQUIRED
        if key.type == "tables" and key.table is not None:
            return [key.table.read(item, issues, (*here, str(i))) for i, item in enumerate(value)]
        if key.choices and value not in key.choices:
            options = ", ".join(f'"{c}"' for c in key.choices)
            return wrong(
                f"must be one of {options}, not {show(value)}{did_you_mean(value, key.choices, quote=chr(34))}"
            )
        if key.type in ("int", "number"):
            problem = key._range_problem(value)
            if problem:
                return wrong(problem)
        if key.check is not None:
            problem = key.check(value)
            if problem:
                return wrong(problem)
        return value
