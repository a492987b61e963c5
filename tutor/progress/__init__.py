"""The learner's progress, kept in SQLite (from the standard library) or, for a class larger
than one machine, in PostgreSQL (:func:`open_store`). No Textual here: the command line and the
tests use it directly.

    from tutor.progress import Progress, LessonState
    with Progress(default_data_dir()) as progress:
        progress.set_position("chain", "quiz-1a2b3c4d")  # a block id; queued, returns at once
        progress.state("chain")                  # LessonState.IN_PROGRESS, saved or not yet

One module for each job:

* :mod:`~tutor.progress.store`: :class:`Progress`, the store itself: its write methods queue,
  its reads see the queue, and what the app shows about saving (``status``, ``notice``);
* :mod:`~tutor.progress.writer`: the queue and the one thread that commits it, retrying a write
  that fails until it lands, in order, once;
* :mod:`~tutor.progress.writes`: one queued write, its SQL and its unique stamp;
* :mod:`~tutor.progress.opening`: opening the file, and recovering: a corrupt file moved aside,
  a full disk read as a snapshot, progress kept in memory; the permissions of the directory and
  the file;
* :mod:`~tutor.progress.schema`: the tables, checking and creating them, the connections;
* :mod:`~tutor.progress.backend`: :func:`open_store` and :func:`db_from` (``--db`` / ``TUTOR_DB``);
* :mod:`~tutor.progress.pg_store`, :mod:`~tutor.progress.pg_schema`: the same store on
  PostgreSQL (psycopg imported only then), its tables, migrations and timeouts;
* :mod:`~tutor.progress.journal`: the PostgreSQL store's local journal of writes not yet in the
  database (a killed process's are written by the next store on its data directory);
* :mod:`~tutor.progress.importing`: a learner's SQLite progress into PostgreSQL (`tutor db import`);
* :mod:`~tutor.progress.records`: what a read hands back (:class:`LessonState`, :class:`Attempt`);
* :mod:`~tutor.progress.summary`: the misconception summary of `tutor progress` (:func:`tag_summary`).
"""

from tutor.progress.backend import BadDatabase, db_from, default_learner, open_store
from tutor.progress.records import Attempt, LessonState, lesson_state
from tutor.progress.schema import DB_NAME
from tutor.progress.store import CLOSE_TIMEOUT_S, Progress, default_data_dir
from tutor.progress.summary import tag_summary

__all__ = [
    "CLOSE_TIMEOUT_S",
    "DB_NAME",
    "Attempt",
    "BadDatabase",
    "LessonState",
    "Progress",
    "db_from",
    "default_data_dir",
    "default_learner",
    "lesson_state",
    "open_store",
    "tag_summary",
]
