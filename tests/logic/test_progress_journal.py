"""The PostgreSQL store's local journal: a live process's journal is never taken over; a gone
process's writes come back in order, without those it had written, and a cut-off last line is
skipped."""

from __future__ import annotations

from tutor.progress.journal import Journal
from tutor.progress.writes import Write, now


def answer(text: str) -> Write:
    return Write("attempt", "chain", "b1", text, True, ("t",), at=now())


def test_a_journal_is_taken_over_only_when_its_process_is_gone(tmp_path):
    first = Journal(tmp_path / "journal")
    one, two, three = answer("1"), answer("2"), answer("3")
    for w in (one, two, three):
        first.wrote(w)
    first.landed(one)  # committed: not to be written again
    assert Journal(tmp_path / "journal").take_over() == []  # its owner still holds it
    with open(first.path, "a") as f:
        f.write('{"kind": "attempt", "lesson_')  # the line a kill -9 cut short
    first.close(keep=True)
    taken = Journal(tmp_path / "journal").take_over()
    assert taken == [two, three]
    assert not first.path.exists()


def test_a_journal_is_emptied_when_everything_landed_and_removed_on_a_clean_close(tmp_path):
    journal = Journal(tmp_path / "journal")
    w = answer("1")
    journal.wrote(w)
    assert journal.path.stat().st_size > 0 and oct(journal.path.stat().st_mode & 0o777) == "0o600"
    journal.landed(w)
    assert journal.path.stat().st_size == 0
    journal.close(keep=False)
    assert list((tmp_path / "journal").iterdir()) == []
