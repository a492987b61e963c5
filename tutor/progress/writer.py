"""The store's queue of writes and the one thread that commits them.

The store's write methods never touch the disk on the caller's thread: each puts one
:class:`~tutor.progress.writes.Write` on this queue and returns at once. One writer thread per
store applies the queue in order, each write as one transaction, and takes it off the queue only
once it is committed. A write that fails (another process holds the write lock, the disk is full,
an I/O error, a read-only file) stays at the head of the queue and is tried again, after a short
busy timeout and a backoff that grows to ``BACKOFF_MAX_S``, until it succeeds: writes land in the
order they were made and each lands once. So:

* putting a write never waits for the disk, for another process's lock or for a failing write: it
  takes only the queue's lock, which is never held across I/O;
* nothing is reported saved that is not: ``pending`` counts the writes not committed yet, and
  ``status`` says why they wait;
* ``close(timeout)`` waits for the queue, then gives up on what is left and hands it back.

A writer thread with nothing to do ends after a moment and the next write starts another, so a
store that is dropped without being closed does not keep a thread alive.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tutor.progress.schema import WRITE_BUSY_TIMEOUT_MS
from tutor.progress.writes import Write, describe_writes

__all__ = ["BACKOFF_MAX_S", "BACKOFF_START_S", "Leftover", "WriteQueue"]

BACKOFF_START_S = 0.05
BACKOFF_MAX_S = 2.0
_WRITER_IDLE_S = 2.0  # a writer thread with nothing to do ends after this long


@dataclass(frozen=True)
class Leftover:
    """What :meth:`WriteQueue.close` gave up on: the writes never committed, the error of the
    last try to write them, and whether a try was still under way when it stopped waiting."""

    writes: list[Write]
    error: str | None
    still_writing: bool


class WriteQueue:
    """The writes not committed yet, oldest first, and the thread that commits them.

    ``commit(write)`` writes one write as one transaction and calls :meth:`landed` as it commits
    (raising on failure); ``describe(error)`` says a failure in a few words. Everything here is
    safe to call from any thread. The queue's lock is only ever taken last and never held across
    I/O or a callback: a caller may hold a lock of its own while it calls in here (the store holds
    its snapshot lock around a commit and :meth:`landed`, and around a read and :meth:`queued`)."""

    def __init__(
        self,
        commit: Callable[[Write], None],
        describe: Callable[[BaseException], str],
        *,
        error: str | None = None,
    ) -> None:
        self._commit = commit
        self._describe = describe
        self._lock = threading.Condition(threading.Lock())
        self._queue: deque[Write] = deque()
        self._error = error  # the real error of the last failed try, until a write goes through
        self._reported: str | None = None
        self._listeners: list[Callable[[], object]] = []
        self._thread: threading.Thread | None = None
        self.closed = False

    # ------------------------------------------------------------------ putting and landing

    def put(self, write: Write) -> bool:
        """Queue ``write`` (starting the writer thread if none runs); False once closed."""
        with self._lock:
            if self.closed:
                return False
            self._queue.append(write)
            self._lock.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tutor-progress-writer", daemon=True)
                self._thread.start()
        return True

    def queued(self) -> list[Write]:
        """The writes not committed yet, oldest first."""
        with self._lock:
            return list(self._queue)

    def landed(self) -> None:
        """The head of the queue is committed: take it off (``commit`` calls this)."""
        with self._lock:
            self._queue.popleft()
            self._error = None
            self._lock.notify_all()

    # ------------------------------------------------------------------ what waits, and why

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def error(self) -> str | None:
        """The real error of the last failed try, while something waits (or after close)."""
        with self._lock:
            return self._error if self._queue or self.closed else None

    @property
    def status(self) -> str | None:
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> str | None:
        if not self._queue or self._error is None:
            return None
        return f"{describe_writes(list(self._queue))} waiting to be saved: {self._error}"

    def on_status_change(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback()`` from the writer thread each time ``status`` changes; returns a
        function that unregisters it."""
        with self._lock:
            self._listeners.append(callback)

        def unregister() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unregister

    def _report(self) -> None:
        """Tell the listeners if ``status`` changed since they were last told."""
        with self._lock:
            status = self._status_locked()
            if status == self._reported:
                return
            self._reported = status
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback()
            except Exception:  # a listener's bug must not stop the writes
                pass

    # ------------------------------------------------------------------ waiting, closing

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued write is committed (or ``timeout`` seconds pass). True when the
        queue is empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if threading.current_thread() is self._thread:
                return not self._queue  # from a listener: waiting here would wait for ourselves
            while self._queue and self._thread is not None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._lock.wait(remaining)
            return not self._queue

    def close(self, timeout: float) -> Leftover:
        """Wait up to ``timeout`` seconds for the queue, stop the writer, and hand back what was
        never committed (the queue is empty afterwards, and ``put`` refuses)."""
        self.flush(timeout)
        with self._lock:
            self.closed = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(WRITE_BUSY_TIMEOUT_MS / 1000 + 2.0)  # a try in flight ends (and may land)
        with self._lock:
            lost = list(self._queue)
            self._queue.clear()
            return Leftover(lost, self._error, thread is not None and thread.is_alive())

    # ------------------------------------------------------------------ the writer thread

    def _run(self) -> None:
        """Apply the head of the queue until it lands, then the next."""
        backoff = BACKOFF_START_S
        while True:
            with self._lock:
                while not self._queue and not self.closed:
                    if not self._lock.wait(_WRITER_IDLE_S) and not self._queue:
                        self._thread = None
                        return
                if self.closed:
                    return  # close() hands back what is left
                write = self._queue[0]
            try:
                self._commit(write)
            except Exception as err:  # sqlite3.Error, OSError, or a bug: never lose the write
                with self._lock:
                    self._error = self._describe(err)
                self._report()
                deadline = time.monotonic() + backoff
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                while True:
                    with self._lock:
                        remaining = deadline - time.monotonic()
                        if self.closed or remaining <= 0:
                            break
                        self._lock.wait(remaining)  # woken by a new write: the count changed
                    self._report()
                continue
            backoff = BACKOFF_START_S
            self._report()
