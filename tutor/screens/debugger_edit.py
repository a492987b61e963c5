"""Change the numbers: the debugger's program as one line to edit, and the edited line read back.

``c`` in the debugger opens the answer box on `editable_text` (an expression program's lines
joined with ``;``, comments left out; for other programs, such as the training screen's sample,
their inputs as ``name = number`` pairs). `apply_edit` reads what the learner typed: an expression
program goes through the engine's safe parser (`engine.expr.parse_program`, never ``eval``); the
pairs are read as plain numbers (`tutor.predict_diagnosis.parse_number`) and only set inputs the
program already has. Anything else is an `EditError` whose message says what to do.

Pure logic: no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.expr import Program, ProgramError, parse_program
from engine.numfmt import fmt
from tutor.predict_diagnosis import parse_number

__all__ = ["EditError", "editable_text", "apply_edit", "MAX_EDIT_CHARS"]

MAX_EDIT_CHARS = 2000  # one line of program in the answer box


class EditError(ValueError):
    """What the learner typed cannot be run; the message says why and what to do."""


@dataclass
class _WithInputs:
    """A program with some inputs set to other numbers (a `DebuggerProgram` itself)."""

    program: object
    values: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.program.text

    @property
    def inputs(self) -> Mapping[str, float]:
        return {**self.program.inputs, **self.values}

    def build(self, inputs: Mapping[str, float] | None = None):
        return self.program.build({**self.values, **(inputs or {})})


def editable_text(program) -> str:
    """The program as one line to edit."""
    if isinstance(program, Program):
        lines = [line.split("#", 1)[0].strip() for line in program.text.replace(";", "\n").splitlines()]
        return "; ".join(line for line in lines if line)
    return "; ".join(f"{name} = {fmt(value)}" for name, value in program.inputs.items())


def _changes(old: Mapping[str, float], new: Mapping[str, float]) -> str:
    changed = [f"{k} {fmt(old[k])} → {fmt(v)}" for k, v in new.items() if k in old and old[k] != v]
    return ", ".join(changed)


def apply_edit(program, typed: str):
    """The program the learner's line describes, and a few words on what changed."""
    typed = typed.strip()
    if not typed:
        raise EditError("type the program, e.g. x = 2.0; y = x * x")
    if len(typed) > MAX_EDIT_CHARS:
        raise EditError(f"that is {len(typed):,} characters; keep the program under {MAX_EDIT_CHARS:,}")
    if isinstance(program, Program):
        try:
            new = parse_program(typed)
        except ProgramError as err:
            raise EditError(f"{err}. Fix it and press Enter, or escape to keep the program.") from None
        what = _changes(program.inputs, new.inputs)
        return new, (f"Rerun with {what}." if what else "Rerun with the program as edited.")
    values: dict[str, float] = {}
    for part in (p.strip() for p in typed.replace("\n", ";").split(";")):
        if not part:
            continue
        name, sep, number = (s.strip() for s in part.partition("="))
        value = parse_number(number) if sep else None
        if name not in program.inputs or value is None:
            names = ", ".join(program.inputs) or "none"
            raise EditError(f"write name = number for its inputs ({names}); {part!r} is not one")
        values[name] = value
    new = _WithInputs(program, values)
    what = _changes(program.inputs, values)
    return new, (f"Rerun with {what}." if what else "Nothing changed.")
