"""The class and its roster: who the learners are, by public key.

A class directory holds::

    DIR/host_key           the server's host key (made on first start, mode 600)
    DIR/roster.json        learners, their keys, and the enrolment codes not yet used
    DIR/teachers           authorized_keys-style: keys that get the teacher's view
    DIR/learners/NAME/     one learner's progress (the tutor's data directory)
    DIR/sessions.json      who is connected now (written by the server, read by `class watch`)

With a database (``--db postgresql://...`` or ``TUTOR_DB``) the roster, the teachers' keys and
who is connected live in PostgreSQL instead (:mod:`~tutor.serve.roster_pg`), shared by every
host of the class; the directory keeps only what is the machine's own (its copy of the host key,
the learners' local data directories).

One interface, :class:`Roster`, two backends: :class:`~tutor.serve.roster_files.FileRoster`
(the files above, today's behaviour) and :class:`~tutor.serve.roster_pg.PgRoster`.
:meth:`ClassDir.roster` hands out the one the class uses.

Standard library only here: `tutor class add` and the tests use it without asyncssh, and
psycopg is imported only when a database URL is given. A key is compared by its algorithm and
base64 blob (the comment is ignored). Enrolment codes are kept only as SHA-256 hashes.
"""

from __future__ import annotations

import base64
import hashlib
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
    "db_url",
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


def hash_code(code: str) -> str:
    """What is kept of an enrolment code (both backends)."""
    return _hash_code(code)


DB_SCHEMES = ("postgresql://", "postgres://")


def db_url(value: str | None, environ) -> str | None:
    """The database of the class: ``--db`` if given, else ``TUTOR_DB``, else None (the class
    directory's files). Anything but a PostgreSQL URL is refused with what to give."""
    value = value if value is not None else (environ.get("TUTOR_DB") or None)
    if value is None:
        return None
    if not value.startswith(DB_SCHEMES):
        raise RosterError(
            "--db (or TUTOR_DB) must be a PostgreSQL URL, like postgresql://user@host/dbname; "
            "without it the class lives in its directory's files"
        )
    return value


class ClassDir:
    """Where a class lives; making it creates it (mode 700). ``db``: the class's PostgreSQL
    database (its roster and live sessions are kept there), or None for the directory's files."""

    def __init__(self, path: str | Path, *, create: bool = True, db: str | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.db = db
        self._roster: Roster | None = None
        if create:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            (self.path / "learners").mkdir(mode=0o700, exist_ok=True)
        elif (
            db is None and not (self.path / "roster.json").exists() and not (self.path / "learners").is_dir()
        ):
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
        """The teachers' keys (``kind blob``), from whichever backend the class uses."""
        return {k.line for k in self.roster().teachers()}

    def roster(self) -> Roster:
        """The class's roster: one object per ClassDir (the database backend keeps its
        connection in it)."""
        if self._roster is None:
            if self.db is None:
                from tutor.serve.roster_files import FileRoster

                self._roster = FileRoster(self)
            else:
                from tutor.serve.roster_pg import PgRoster

                self._roster = PgRoster(self.db, self)
        return self._roster

    def close(self) -> None:
        if self._roster is not None:
            self._roster.close()
            self._roster = None


class Roster:
    """The learners of a class, their keys and codes, and the teachers' keys: the interface
    both backends keep. Every method reads the backend afresh (another process, or another
    host, may have changed it) and raises :class:`RosterError` with what to do."""

    cls: ClassDir

    # -------------------------------------------------------------- queries

    def names(self) -> list[str]:
        return sorted(self.learners())

    def learners(self) -> dict[str, dict]:
        """name -> {"keys": [line...], "added": iso, "pending_code": bool}."""
        raise NotImplementedError

    def who(self, key_line: str) -> str | None:
        """The learner whose key this is (``kind blob``), or None."""
        raise NotImplementedError

    def codes_pending(self) -> bool:
        raise NotImplementedError

    def teachers(self) -> list[PublicKey]:
        """The keys that get the teacher's view."""
        raise NotImplementedError

    # -------------------------------------------------------------- changes

    def add(self, name: str, keys: list[PublicKey] = ()) -> None:
        """Add a learner (or more keys to one); a key already someone else's is refused."""
        raise NotImplementedError

    def new_code(self, name: str) -> str:
        """A one-time enrolment code for ``name`` (added if new); an older code of theirs is
        replaced. Only its hash is stored."""
        raise NotImplementedError

    def redeem(self, code: str, key: PublicKey) -> str | None:
        """Give ``key`` to the learner whose code this is, using the code up (exactly once, even
        when two servers race for it); the learner's name, or None for a code that is not (or no
        longer) valid, or a key that is someone else's (the code then stays)."""
        raise NotImplementedError

    def enrol_open(self, name: str, key: PublicKey) -> str | None:
        """``--open``: a new learner of this name with this key; None when the name is taken."""
        raise NotImplementedError

    def remove(self, name: str) -> bool:
        """Forget the learner's keys and codes (their progress stays)."""
        raise NotImplementedError

    def add_teachers(self, keys: list[PublicKey]) -> list[PublicKey]:
        """Give these keys the teacher's view; returns the ones that were new."""
        raise NotImplementedError

    def remove_teacher(self, fingerprint: str) -> bool:
        """Take the teacher's view from the key with this fingerprint (``SHA256:...``)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def new_code_text() -> tuple[str, str]:
    """A fresh code as shown (``ABCD-EFGH``) and its hash."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}", _hash_code(code)


def check_name(name: str) -> None:
    if not valid_name(name):
        raise RosterError(f"'{name}' is not a learner name ({NAME_RULE})")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
