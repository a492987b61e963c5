"""The roster of a class without the network: keys, names, enrolment codes, --open, remove,
importing an authorized_keys file, the teachers' keys, and the messages `tutor class` prints.
Each roster test runs against both backends (``make_class``: the class directory's files, and
PostgreSQL), from tests/serve/conftest.py."""

from __future__ import annotations

import json
import subprocess

import pytest

from tutor.cli import main
from tutor.serve.roster import ClassDir, RosterError, normalise_code, parse_authorized_keys, parse_public_key

# real keys made by ssh-keygen (public halves only)
ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHPBNIl+BhvRNLgWfP5ueEbWmBqHMzSh9m2x2mc2E6yM alice@laptop"
ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGD3bFeZoe9C3sWx6nMCEAjGCbX8KiYJcCs8m8rlQhq1 bob@desk"


def keygen(path):
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True
    )
    return path.with_suffix(".pub") if path.suffix else path.parent / f"{path.name}.pub"


def test_a_public_key_is_read_with_or_without_options_and_a_private_key_is_refused(tmp_path):
    key = parse_public_key(ED)
    assert (key.kind, key.comment) == ("ssh-ed25519", "alice@laptop")
    assert parse_public_key('restrict,command="x" ' + ED).line == key.line
    pub = keygen(tmp_path / "k")
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True
    ).stdout.split()[1]
    assert parse_public_key(pub.read_text()).fingerprint == fingerprint
    private = (tmp_path / "k").read_text()
    with pytest.raises(RosterError, match="not a private key"):
        parse_public_key(private, "k")
    with pytest.raises(RosterError, match="says ssh-rsa but its data holds 'ssh-ed25519'"):
        parse_public_key(ED.replace("ssh-ed25519", "ssh-rsa", 1))
    keys, problems = parse_authorized_keys(f"# a comment\n\n{ED}\nnonsense here\n{ED2}\n", "auth")
    assert [k.comment for k in keys] == ["alice@laptop", "bob@desk"]
    assert problems == [
        "auth:4: no public key found; give a .pub file (one line, 'ssh-ed25519 AAAA... name'), not a private key"
    ]


def test_learners_are_known_by_key_and_a_key_belongs_to_one_learner(tmp_path, make_class, roster_db):
    roster = make_class(tmp_path / "c").roster()
    roster.add("alice", [parse_public_key(ED)])
    assert roster.who(parse_public_key(ED).line) == "alice"
    assert roster.who(parse_public_key(ED2).line) is None
    with pytest.raises(RosterError, match="already alice's"):
        roster.add("bob", [parse_public_key(ED)])
    with pytest.raises(RosterError, match="not a learner name"):
        roster.add("Bob Smith")
    with pytest.raises(RosterError, match="not a learner name"):
        roster.add("../x")
    assert oct((tmp_path / "c").stat().st_mode & 0o777) == "0o700"
    if roster_db is None:
        assert (tmp_path / "c" / "learners" / "alice").is_dir()
        assert oct((tmp_path / "c" / "roster.json").stat().st_mode & 0o777) == "0o600"
    else:
        assert not (tmp_path / "c" / "roster.json").exists()  # the roster is in the database
    assert roster.learners()["alice"]["keys"] == [parse_public_key(ED).line]
    assert roster.remove("alice") and not roster.remove("alice")
    assert roster.who(parse_public_key(ED).line) is None
    if roster_db is None:
        assert (tmp_path / "c" / "learners" / "alice").is_dir()  # their progress stays


def stored_text(cls: ClassDir) -> str:
    """Everything the backend keeps of the roster, as text."""
    if cls.db is None:
        return cls.roster_file.read_text()
    import psycopg

    with psycopg.connect(cls.db) as conn:
        tables = ("roster_learners", "roster_keys", "roster_codes", "roster_teachers")
        return "\n".join(str(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)


def test_an_enrolment_code_works_once_and_only_its_hash_is_kept(tmp_path, make_class):
    cls = make_class(tmp_path / "c")
    roster = cls.roster()
    code = roster.new_code("bob")
    assert roster.codes_pending()
    assert "bob" in stored_text(cls)
    assert code not in stored_text(cls)
    assert normalise_code(code) not in stored_text(cls)
    assert roster.redeem("WRONG-CODE", parse_public_key(ED2)) is None
    assert roster.redeem(f" {code.lower().replace('-', ' ')} ", parse_public_key(ED2)) == "bob"
    assert roster.who(parse_public_key(ED2).line) == "bob"
    assert not roster.codes_pending()
    assert roster.redeem(code, parse_public_key(ED)) is None  # used up
    # a new code replaces the old one
    first, second = roster.new_code("carol"), roster.new_code("carol")
    assert roster.redeem(first, parse_public_key(ED)) is None
    assert roster.redeem(second, parse_public_key(ED)) == "carol"


def test_a_code_cannot_take_a_key_that_is_someone_elses(tmp_path, make_class):
    roster = make_class(tmp_path / "c").roster()
    roster.add("alice", [parse_public_key(ED)])
    code = roster.new_code("bob")
    assert roster.redeem(code, parse_public_key(ED)) is None
    assert roster.who(parse_public_key(ED).line) == "alice"
    assert roster.redeem(code, parse_public_key(ED2)) == "bob"  # the code still works for a key of bob's


def test_an_open_class_enrols_a_new_name_once(tmp_path, make_class):
    roster = make_class(tmp_path / "c").roster()
    assert roster.enrol_open("dana", parse_public_key(ED)) == "dana"
    assert roster.enrol_open("dana", parse_public_key(ED2)) is None
    assert roster.enrol_open("no way", parse_public_key(ED2)) is None
    assert roster.enrol_open("erin", parse_public_key(ED)) is None  # dana's key
    assert roster.names() == ["dana"]


def test_a_learner_has_at_most_sixteen_keys_and_a_teachers_key_is_kept_apart(tmp_path, make_class):
    cls = make_class(tmp_path / "c")
    roster = cls.roster()
    keys = [parse_public_key(keygen(tmp_path / f"k{n}").read_text()) for n in range(17)]
    roster.add("alice", keys[:16])
    with pytest.raises(RosterError, match="more than 16 keys"):
        roster.add("alice", keys[16:])
    assert len(roster.learners()["alice"]["keys"]) == 16
    assert roster.add_teachers([parse_public_key(ED2)]) == [parse_public_key(ED2)]
    assert roster.add_teachers([parse_public_key(ED2)]) == []  # once
    assert cls.teacher_keys() == {parse_public_key(ED2).line}
    assert roster.who(parse_public_key(ED2).line) is None  # a teacher is not a learner
    assert roster.remove_teacher(parse_public_key(ED2).fingerprint)
    assert not roster.remove_teacher(parse_public_key(ED2).fingerprint)
    assert cls.teacher_keys() == set()


def test_two_hosts_racing_for_one_code_use_it_exactly_once(tmp_path, make_class):
    """Each code is typed on two hosts at the same moment (two roster objects, two threads,
    started together): one of them enrols, the other is told the code is used."""
    import threading

    first, second = make_class(tmp_path / "a"), make_class(tmp_path / "b")
    if first.db is None:
        second = make_class(tmp_path / "a")  # the files backend: two processes on one directory
    codes = [first.roster().new_code(f"l{n}") for n in range(12)]
    key_a = [parse_public_key(keygen(tmp_path / f"a{n}").read_text()) for n in range(12)]
    key_b = [parse_public_key(keygen(tmp_path / f"b{n}").read_text()) for n in range(12)]
    results: dict[tuple[str, int], str | None] = {}

    def host(label, cls, keys):
        for n, code in enumerate(codes):
            barrier.wait()
            results[label, n] = cls.roster().redeem(code, keys[n])

    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=host, args=("a", first, key_a)),
        threading.Thread(target=host, args=("b", second, key_b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for n in range(12):
        won = [label for label in "ab" if results[label, n] == f"l{n}"]
        assert len(won) == 1, (n, results[("a", n)], results[("b", n)])
        assert [results[label, n] for label in "ab" if label not in won] == [None]
        keys = first.roster().learners()[f"l{n}"]["keys"]
        assert keys == [(key_a if won == ["a"] else key_b)[n].line]
    assert not first.roster().codes_pending()


def test_a_damaged_roster_is_named_and_never_rewritten(tmp_path):
    cls = ClassDir(tmp_path / "c")
    cls.roster_file.write_text("{not json")
    with pytest.raises(RosterError, match="roster.json.*restore it from a backup"):
        cls.roster().add("alice")
    assert cls.roster_file.read_text() == "{not json"


def test_tutor_class_add_list_import_and_remove(tmp_path, capsys):
    d = str(tmp_path / "c")
    pub = keygen(tmp_path / "alice")
    assert main(["class", "add", "alice", "--key", str(pub), "--class-dir", d]) == 0
    assert "added alice: ssh-ed25519 SHA256:" in capsys.readouterr().out
    assert main(["class", "add", "bob", "--class-dir", d]) == 0
    out = capsys.readouterr().out
    assert "Enrolment code for bob: " in out and "type the code once" in out
    auth = tmp_path / "authorized_keys"
    auth.write_text(
        f"{ED2}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFnTmz+4x0tHlSNHppeqYP3GdOn1B5dwpXy3mlRrQxOO\n"
    )
    assert main(["class", "import", str(auth), "--class-dir", d]) == 1
    captured = capsys.readouterr()
    assert "added bob: ssh-ed25519" in captured.out
    assert "has no usable name in its comment" in captured.err
    assert main(["class", "list", "--class-dir", d]) == 0
    out = capsys.readouterr().out
    assert "alice: 1 key(s)" in out and "bob (enrolment code waiting): 1 key(s)" in out
    assert main(["class", "remove", "alice", "--class-dir", d]) == 0
    assert main(["class", "remove", "alice", "--class-dir", d]) == 1
    assert "no learner named alice" in capsys.readouterr().err
    assert main(["class", "add", "eve", "--key", str(tmp_path / "alice"), "--class-dir", d]) == 1
    assert "not a private key" in capsys.readouterr().err
    data = json.loads((tmp_path / "c" / "roster.json").read_text())
    assert sorted(data["learners"]) == ["bob"]


def test_tutor_serve_refuses_root_and_bad_limits(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert main(["serve", "--class-dir", str(tmp_path / "c")]) == 1
    assert "refusing to run as root" in capsys.readouterr().err
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert (
        main(["serve", "--class-dir", str(tmp_path / "c"), "--idle-timeout", "30", "--idle-warning", "60"])
        == 2
    )
    assert "--idle-warning must be at least 0 and less than --idle-timeout" in capsys.readouterr().err
    assert main(["serve", "--class-dir", str(tmp_path / "c"), "--max-sessions", "0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--max-sessions must be at least 1" in err and "--port must be 1 to 65535" in err


def test_tutor_class_takes_the_database_from_db_or_tutor_db(tmp_path, capsys, pg_url):
    d = str(tmp_path / "c")
    pub = keygen(tmp_path / "alice")
    assert main(["class", "add", "alice", "--key", str(pub), "--class-dir", d, "--db", pg_url]) == 0
    assert "added alice: ssh-ed25519 SHA256:" in capsys.readouterr().out
    assert not (tmp_path / "c" / "roster.json").exists()
    # another machine's class directory, the same database through TUTOR_DB: the same roster
    other = str(tmp_path / "other")
    env = {"TUTOR_DB": pg_url}
    assert main(["class", "add", "bob", "--class-dir", other], environ=env) == 0
    assert main(["class", "list", "--class-dir", other], environ=env) == 0
    out = capsys.readouterr().out
    assert "alice: 1 key(s)" in out and "bob (enrolment code waiting): 0 key(s)" in out
    assert main(["class", "teacher", "add", "--key", str(pub), "--class-dir", other], environ=env) == 0
    assert main(["class", "teacher", "list", "--class-dir", d, "--db", pg_url]) == 0
    fingerprint = parse_public_key(pub.read_text()).fingerprint
    assert fingerprint in capsys.readouterr().out
    assert main(["class", "remove", "alice", "--class-dir", other], environ=env) == 0
    assert "progress stays in the class database" in capsys.readouterr().out
    assert main(["class", "list", "--class-dir", d, "--db", pg_url]) == 0
    assert "alice" not in capsys.readouterr().out
    assert main(["class", "list", "--class-dir", d, "--db", "mysql://x"]) == 1
    assert "must be a PostgreSQL URL" in capsys.readouterr().err
    assert main(["class", "list", "--class-dir", d, "--db", "postgresql://nobody@127.0.0.1:1/x"]) == 1
    assert "cannot reach the class database postgresql://nobody@127.0.0.1:1/x" in capsys.readouterr().err


def test_the_roster_schema_is_made_once_and_a_newer_one_is_refused(tmp_path, pg_url, capsys):
    import psycopg

    for _ in range(2):  # opening again changes nothing
        ClassDir(tmp_path / "c", db=pg_url).roster().close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version WHERE component = 'roster'").fetchone() == (
            1,
        )
        conn.execute("UPDATE schema_version SET version = 99 WHERE component = 'roster'")
    with pytest.raises(
        RosterError, match="roster schema version 99, newer than this tutor knows .1.: upgrade"
    ):
        ClassDir(tmp_path / "c", db=pg_url).roster()
    assert main(["class", "list", "--class-dir", str(tmp_path / "c"), "--db", pg_url]) == 1
    assert "newer than this tutor knows" in capsys.readouterr().err


def test_tutor_serve_with_a_database_it_cannot_reach_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    db = "postgresql://tutor:secret@127.0.0.1:1/class"
    assert main(["serve", "--class-dir", str(tmp_path / "c"), "--db", db, "--port", "2299"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the class database postgresql://tutor@127.0.0.1:1/class" in err
    assert "secret" not in err
