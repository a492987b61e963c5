"""The roster in the class directory's files (``roster.json``, ``teachers``): the backend a
class has without a database, and what every class had before there was one."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from typing import TYPE_CHECKING

from tutor.serve.roster import (
    MAX_KEYS_PER_LEARNER,
    PublicKey,
    Roster,
    RosterError,
    hash_code,
    new_code_text,
    now_iso,
    parse_authorized_keys,
    parse_public_key,
    read_key_file,
    valid_name,
)

if TYPE_CHECKING:
    from tutor.serve.roster import ClassDir

__all__ = ["FileRoster"]


class FileRoster(Roster):
    """The roster in the class directory: read fresh from ``roster.json`` each time it is asked;
    every change under an exclusive lock on ``DIR/roster.lock``, the file replaced atomically."""

    def __init__(self, cls: ClassDir) -> None:
        self.cls = cls

    # -------------------------------------------------------------- reading and writing

    def _load(self) -> dict:
        try:
            data = json.loads(self.cls.roster_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"learners": {}, "codes": {}}
        except (OSError, ValueError) as err:
            raise RosterError(
                f"cannot read {self.cls.roster_file}: {err}; restore it from a backup"
            ) from None
        data.setdefault("learners", {})
        data.setdefault("codes", {})
        return data

    @contextlib.contextmanager
    def _locked(self):
        lock = os.open(self.cls.path / "roster.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    @contextlib.contextmanager
    def _changing(self):
        with self._locked():
            data = self._load()
            yield data
            tmp = self.cls.roster_file.with_suffix(".json.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.cls.roster_file)

    # -------------------------------------------------------------- queries

    def learners(self) -> dict[str, dict]:
        """name -> {"keys": [line...], "added": iso, "pending_code": bool}."""
        data = self._load()
        pending = {c["learner"] for c in data["codes"].values()}
        return {
            name: {
                "keys": list(entry.get("keys", [])),
                "added": entry.get("added", ""),
                "pending_code": name in pending,
            }
            for name, entry in sorted(data["learners"].items())
        }

    def who(self, key_line: str) -> str | None:
        """The learner whose key this is (``kind blob``), or None."""
        for name, entry in self._load()["learners"].items():
            if key_line in entry.get("keys", []):
                return name
        return None

    def codes_pending(self) -> bool:
        return bool(self._load()["codes"])

    # -------------------------------------------------------------- changes

    def add(self, name: str, keys: list[PublicKey] = ()) -> None:
        """Add a learner (or more keys to one); a key already someone else's is refused."""
        self.cls.learner_dir(name)  # checks the name
        with self._changing() as data:
            for key in keys:
                for other, entry in data["learners"].items():
                    if other != name and key.line in entry.get("keys", []):
                        raise RosterError(f"that key ({key.fingerprint}) is already {other}'s")
            entry = data["learners"].setdefault(name, {"keys": [], "added": now_iso()})
            for key in keys:
                if key.line not in entry["keys"]:
                    entry["keys"].append(key.line)
            if len(entry["keys"]) > MAX_KEYS_PER_LEARNER:
                raise RosterError(f"{name} would have more than {MAX_KEYS_PER_LEARNER} keys")
        self.cls.learner_dir(name).mkdir(mode=0o700, exist_ok=True)

    def new_code(self, name: str) -> str:
        """A one-time enrolment code for ``name`` (added if new); an older code of theirs is
        replaced. Only its hash is stored."""
        self.add(name)
        code, digest = new_code_text()
        with self._changing() as data:
            data["codes"] = {h: c for h, c in data["codes"].items() if c["learner"] != name}
            data["codes"][digest] = {"learner": name, "made": now_iso()}
        return code

    def redeem(self, code: str, key: PublicKey) -> str | None:
        """Give ``key`` to the learner whose code this is, using the code up; returns the
        learner's name, or None for a code that is not (or no longer) valid."""
        digest = hash_code(code)
        with self._changing() as data:
            entry = data["codes"].pop(digest, None)
            if entry is None:
                return None
            name = entry["learner"]
            for other, learner in data["learners"].items():
                if key.line in learner.get("keys", []) and other != name:
                    data["codes"][digest] = entry  # keep the code: this key is someone else's
                    return None
            learner = data["learners"].setdefault(name, {"keys": [], "added": now_iso()})
            if key.line not in learner["keys"]:
                learner["keys"].append(key.line)
        return name

    def enrol_open(self, name: str, key: PublicKey) -> str | None:
        """``--open``: a new learner of this name with this key; None when the name is taken."""
        if not valid_name(name):
            return None
        with self._changing() as data:
            if name in data["learners"]:
                return None
            if any(key.line in entry.get("keys", []) for entry in data["learners"].values()):
                return None  # enrolled meanwhile (another session of this key): not twice
            data["learners"][name] = {"keys": [key.line], "added": now_iso()}
        self.cls.learner_dir(name).mkdir(mode=0o700, exist_ok=True)
        return name

    def remove(self, name: str) -> bool:
        """Forget the learner's keys and codes (their progress directory stays: the report still
        counts it until the teacher deletes it)."""
        with self._changing() as data:
            found = data["learners"].pop(name, None) is not None
            data["codes"] = {h: c for h, c in data["codes"].items() if c["learner"] != name}
        return found

    # -------------------------------------------------------------- the teachers' keys: DIR/teachers

    def teachers(self) -> list[PublicKey]:
        try:
            text = read_key_file(self.cls.teachers_file)
        except RosterError:
            return []
        keys, _ = parse_authorized_keys(text, str(self.cls.teachers_file))
        return keys

    def add_teachers(self, keys: list[PublicKey]) -> list[PublicKey]:
        with self._locked():
            known = {k.line for k in self.teachers()}
            new = []
            for key in keys:
                if key.line not in known:
                    known.add(key.line)
                    new.append(key)
            if new:
                fd = os.open(self.cls.teachers_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write("".join(f"{k.line} {k.comment}".rstrip() + "\n" for k in new))
        return new

    def remove_teacher(self, fingerprint: str) -> bool:
        with self._locked():
            try:
                lines = read_key_file(self.cls.teachers_file).splitlines()
            except RosterError:
                return False
            kept = []
            for n, line in enumerate(lines, 1):
                try:
                    key = parse_public_key(line, f"{self.cls.teachers_file}:{n}")
                except RosterError:
                    kept.append(line)  # a comment or a line the teacher wrote: left as it is
                    continue
                if key.fingerprint != fingerprint:
                    kept.append(line)
            if len(kept) == len(lines):
                return False
            tmp = self.cls.teachers_file.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in kept))
            os.replace(tmp, self.cls.teachers_file)
        return True
