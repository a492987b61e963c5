"""The progress store on PostgreSQL: the same :class:`~tutor.progress.Progress` API, for one
learner of a database that holds every learner (``open_store("postgresql://…", data_dir,
learner)``).

Everything the SQLite store promises holds here: the write methods queue and return at once; the
writer thread commits the queue in order, each write as one transaction, retrying a failing write
until it lands, once (an answer's stamp makes a retried insert a no-op, so a commit whose reply
was lost with the connection is not stored twice); reads see the queue.

**The database goes away** (unreachable at start, stopped or restarted mid-lesson): the learner
keeps working. Writes wait in the queue and are written, in order, once, when the server is back
(the writer reconnects on its next try, its backoff growing to two seconds); meanwhile ``status``
says "3 answers waiting to be saved: <the server's error>", the app's quiet notice. The queue is
also kept in a local journal file (:mod:`tutor.progress.journal`, in ``DATA_DIR/journal/``), so a
process killed meanwhile loses nothing: the next store opened on the same data directory writes
what it had left, first. A power cut may lose the journal's last lines (they are not fsync'ed),
and a store opened without a data directory keeps no journal (see docs/hosting.md).

Reads go on too: each query's last good answer is kept, and while the server cannot be reached a
read returns it with every write of this session made since applied on top, so the learner sees
what they did; ``warning`` says their progress could not be read. While the writer's tries fail,
reads do not try the server at all; otherwise a read that fails does not try again for
``READ_RETRY_S`` (so a dead server costs the screen at most one connect timeout,
``READ_CONNECT_TIMEOUT_S``, every few seconds, and none while answers wait).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tutor.progress.journal import Journal
from tutor.progress.pg_schema import NewerDatabase, connect, migrate, pg_sql, redact
from tutor.progress.store import CLOSE_TIMEOUT_S, Progress, _open_stores
from tutor.progress.writer import WriteQueue
from tutor.progress.writes import Write

__all__ = ["READ_RETRY_S", "PgProgress"]

JOURNAL_DIR = "journal"  # in the data directory: the writes not yet in the database
READ_RETRY_S = 3.0  # after a failed read, how long reads use what they last saw
READ_CONNECT_TIMEOUT_S = 2  # libpq's shortest: a read on the UI thread waits at most this


def _first_line(err: BaseException) -> str:
    """psycopg's error in a few words: "connection failed: connection to server at "h", port 5432
    failed: Connection refused" becomes "the database cannot be reached: Connection refused"."""
    text = (str(err).strip() or type(err).__name__).splitlines()[0].strip()
    if text.startswith("connection failed:") and " failed: " in text[len("connection failed:") :]:
        return "the database cannot be reached: " + text.rsplit(" failed: ", 1)[1]
    return text


class PgProgress(Progress):
    """One learner's progress in a PostgreSQL database (see the module docstring).

    Opening connects and migrates at once when it can (raising :class:`NewerDatabase` for a
    database of a newer tutor); when the server cannot be reached it starts anyway, with
    ``warning`` saying so, and the writer connects when the server is back."""

    def __init__(self, url: str, learner: str, data_dir=None) -> None:
        if not learner:
            raise ValueError("a learner name is needed to keep progress in PostgreSQL")
        self.url = url
        self.learner = learner
        self.database = redact(url)
        self.data_dir = Path(data_dir) if data_dir is not None else Path()
        self.path = None
        self._memory = False
        self._notice = None
        self._read_problem = None
        self._reader = None
        self._reader_is_snapshot = False
        self._next_reader_try = 0.0
        self._writer_conn = None
        self._writer_ready = False
        self._snapshot = threading.RLock()
        self._cache: dict[tuple, tuple[list[tuple], int]] = {}  # query -> (rows, landed count then)
        self._landed: list[Write] = []  # this session's writes that landed, in order
        self._writes = WriteQueue(self._commit, self._describe)
        self._journal: Journal | None = None
        if data_dir is not None:
            try:
                self._journal = Journal(Path(data_dir) / JOURNAL_DIR)
            except OSError:
                pass  # no journal: the queue is kept in memory only
        try:
            self._open_writer()
        except NewerDatabase:
            if self._journal is not None:
                self._journal.close(keep=False)
            raise
        except Exception as err:
            self._read_problem = self._unreachable(err)
            self._next_reader_try = time.monotonic() + READ_RETRY_S
        if self._journal is not None:
            for write in self._journal.take_over():  # a killed process's writes, before anything new
                self._enqueue(write)
        _open_stores.add(self)

    def _enqueue(self, write: Write) -> None:
        if self._journal is not None and not self._writes.closed:
            self._journal.wrote(write)
        super()._enqueue(write)

    def _fate_of_unsaved(self) -> str:
        if self._journal is None:
            return "lost"
        return f"kept in {self._journal.directory} and written the next time tutor opens"

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> str | None:
        message = super().close(timeout)
        if self._journal is not None:
            self._journal.close(keep=message is not None)
        return message

    @property
    def where(self) -> str:
        return f"{self.database} (learner {self.learner})"

    def _describe(self, err: BaseException) -> str:
        return _first_line(err)

    def _unreachable(self, err: BaseException) -> str:
        return (
            f"Progress could not be read from {self.database} just now ({_first_line(err)}); "
            "what you do is kept and saved when the database is back."
        )

    # ------------------------------------------------------------------ the writer's side

    def _open_writer(self):
        if self._writer_ready and self._writer_conn is not None and not self._writer_conn.closed:
            return self._writer_conn
        self._drop_writer()
        conn = connect(self.url)
        try:
            migrate(conn, self.database)
            conn.close()
            conn = connect(self.url, self.learner)
        except BaseException:
            conn.close()
            raise
        self._writer_conn, self._writer_ready = conn, True
        return conn

    def _drop_writer(self) -> None:
        conn, self._writer_conn, self._writer_ready = self._writer_conn, None, False
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def _commit(self, write: Write) -> None:
        conn = self._open_writer()
        try:
            for sql, params in write.statements():
                conn.execute(pg_sql(sql), params)
            with self._snapshot:
                conn.commit()
                self._landed.append(write)
                self._writes.landed()
            if self._journal is not None:
                self._journal.landed(write)
        except BaseException:
            try:
                conn.rollback()
            except Exception:
                pass
            if conn.closed or conn.broken:
                self._drop_writer()  # the next try connects again
            raise

    # ------------------------------------------------------------------ reading

    def _read(self, sql: str, params: tuple = ()) -> tuple[list[tuple], list[Write]]:
        key = (sql, params)
        with self._snapshot:
            rows = None
            # while the writer's tries fail the server is away: read what was seen, never wait
            server_away = self._writes.error is not None
            if not self._writes.closed and not server_away and time.monotonic() >= self._next_reader_try:
                try:
                    if self._reader is None or self._reader.closed or self._reader.broken:
                        self._close_reader()
                        self._reader = connect(self.url, self.learner, connect_timeout=READ_CONNECT_TIMEOUT_S)
                    rows = self._reader.execute(pg_sql(sql), params).fetchall()
                    self._reader.rollback()  # end the read's transaction (no idle-in-transaction)
                    self._read_problem = None
                    self._cache[key] = (rows, len(self._landed))
                except Exception as err:
                    self._close_reader()
                    self._read_problem = self._unreachable(err)
                    self._next_reader_try = time.monotonic() + READ_RETRY_S
                    rows = None
            queued = self._writes.queued()
            if rows is not None:
                return rows, queued
            # the server cannot be read: what this query saw last, and every write since
            cached, seen = self._cache.get(key, ([], 0))
            return list(cached), self._landed[seen:] + queued

    def _close_reader(self) -> None:
        conn, self._reader = self._reader, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
