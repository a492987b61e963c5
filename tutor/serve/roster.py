"""The class directory and its roster: who the learners are, by public key.

A class directory holds::

    DIR/host_key           the server's host key (made on first start, mode 600)
    DIR/roster.json        learners, their keys, and the enrolment codes not yet used
    DIR/teachers           authorized_keys-style: keys that get the teacher's view
    DIR/learners/NAME/     one learner's progress (the tutor's data directory)
    DIR/sessions.json      who is connected now (written by the server, read by `class watch`)

Standard library only: `tutor class add` and the tests use it without asyncssh. A key is
compared by its algorithm and base64 blob (the comment is ignored). Every change of the roster
takes an exclusive lock on ``DIR/roster.lock`` and replaces the file atomically, so `tutor class
add` can run while the server reads it. Enrolment codes are kept only as SHA-256 hashes.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import struct
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CODE_ALPHABET",
    "NAME_RULE",
    "ClassDir",
    "PublicKey",
    "Roster",
    "RosterError",
    "normalise_code",
    "parse_authorized_keys",
    "parse_public_key",
    "valid_name",
]

NAME_RULE = "1 to 32 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or off a board
CODE_LENGTH = 8
MAX_KEY_FILE_BYTES = 1024 * 1024
MAX_KEYS_PER_LEARNER = 16
_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class RosterError(Exception):
    """A roster change that cannot be made; the message says what to do."""


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key: ``kind`` (ssh-ed25519...), ``blob`` (its base64), ``comment``."""

    kind: str
    blob: str
    comment: str = ""

    @property
    def line(self) -> str:
        return f"{self.kind} {self.blob}"

    @property
    def fingerprint(self) -> str:
        """As ``ssh-keygen -l`` prints it: SHA256:<base64 without padding>."""
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key(text: str, where: str = "key") -> PublicKey:
    """One key in OpenSSH's one-line form (``ssh-ed25519 AAAA... comment``, options before it
    allowed, as in authorized_keys). Raises :class:`RosterError` naming ``where``."""
    words = text.strip().split()
    for i, word in enumerate(words):
        if word in _KEY_TYPES and i + 1 < len(words):
            kind, blob = word, words[i + 1]
            try:
                raw = base64.b64decode(blob, validate=True)
                (n,) = struct.unpack(">I", raw[:4])
                inner = raw[4 : 4 + n].decode("ascii")
            except (ValueError, struct.error, UnicodeDecodeError):
                raise RosterError(f"{where}: the key data is not valid base64 of an SSH key") from None
            if inner != kind:
                raise RosterError(f"{where}: the key says {kind} but its data holds {inner!r}")
            return PublicKey(kind, blob, " ".join(words[i + 2 :]))
    raise RosterError(
        f"{where}: no public key found; give a .pub file (one line, 'ssh-ed25519 AAAA... name'), "
        "not a private key"
    )


def parse_authorized_keys(text: str, where: str) -> tuple[list[PublicKey], list[str]]:
    """Every key of an authorized_keys-style text, and a problem line per line that is not one
    (``where:LINE: ...``). Blank lines and ``#`` comments are skipped."""
    keys, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            keys.append(parse_public_key(line, f"{where}:{n}"))
        except RosterError as err:
            problems.append(str(err))
    return keys, problems


def read_key_file(path: str | Path) -> str:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as err:
        raise RosterError(f"cannot read {path}: {err.strerror or err}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise RosterError(f"{path}: larger than 1 MiB; a key file is a few lines")
    return data.decode("utf-8", "replace")


def normalise_code(text: str) -> str:
    """A code as typed: case, spaces and dashes do not matter."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


class ClassDir:
    """Where a class lives; making it creates it (mode 700)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path).expanduser().resolve()
        if create:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            (self.path / "learners").mkdir(mode=0o700, exist_ok=True)
        elif not (self.path / "roster.json").exists() and not (self.path / "learners").is_dir():
            raise RosterError(f"{self.path} is not a class directory (make one with `tutor class add`)")

    @property
    def host_key(self) -> Path:
        return self.path / "host_key"

    @property
    def roster_file(self) -> Path:
        return self.path / "roster.json"

    @property
    def teachers_file(self) -> Path:
        return self.path / "teachers"

    @property
    def sessions_file(self) -> Path:
        return self.path / "sessions.json"

    def learner_dir(self, name: str) -> Path:
        if not valid_name(name):
            raise RosterError(f"'{name}' is not a learner name ({NAME_RULE})")
        return self.path / "learners" / name

    def learner_dirs(self) -> dict[str, Path]:
        """Every learner with a progress directory, by name."""
        base = self.path / "learners"
        try:
            return {p.name: p for p in sorted(base.iterdir()) if p.is_dir() and valid_name(p.name)}
        except OSError:
            return {}

    def teacher_keys(self) -> set[str]:
        try:
            text = read_key_file(self.teachers_file)
        except RosterError:
            return set()
        keys, _ = parse_authorized_keys(text, str(self.teachers_file))
        return {k.line for k in keys}

    def roster(self) -> Roster:
        return Roster(self)


class Roster:
    """The learners of a class: read fresh from ``roster.json`` each time it is asked."""

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
    def _changing(self):
        lock = os.open(self.cls.path / "roster.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._load()
            yield data
            tmp = self.cls.roster_file.with_suffix(".json.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.cls.roster_file)
        finally:
            os.close(lock)

    # -------------------------------------------------------------- queries

    def names(self) -> list[str]:
        return sorted(self._load()["learners"])

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
            entry = data["learners"].setdefault(name, {"keys": [], "added": _now()})
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
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        with self._changing() as data:
            data["codes"] = {h: c for h, c in data["codes"].items() if c["learner"] != name}
            data["codes"][_hash_code(code)] = {"learner": name, "made": _now()}
        return f"{code[:4]}-{code[4:]}"

    def redeem(self, code: str, key: PublicKey) -> str | None:
        """Give ``key`` to the learner whose code this is, using the code up; returns the
        learner's name, or None for a code that is not (or no longer) valid."""
        digest = _hash_code(code)
        with self._changing() as data:
            entry = data["codes"].pop(digest, None)
            if entry is None:
                return None
            name = entry["learner"]
            for other, learner in data["learners"].items():
                if key.line in learner.get("keys", []) and other != name:
                    data["codes"][digest] = entry  # keep the code: this key is someone else's
                    return None
            learner = data["learners"].setdefault(name, {"keys": [], "added": _now()})
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
            data["learners"][name] = {"keys": [key.line], "added": _now()}
        self.cls.learner_dir(name).mkdir(mode=0o700, exist_ok=True)
        return name

    def remove(self, name: str) -> bool:
        """Forget the learner's keys and codes (their progress directory stays: the report still
        counts it until the teacher deletes it)."""
        with self._changing() as data:
            found = data["learners"].pop(name, None) is not None
            data["codes"] = {h: c for h, c in data["codes"].items() if c["learner"] != name}
        return found


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
