"""`tutor serve` and `tutor class`: a class over SSH, and the teacher's view of it.

One module for each job:

* :mod:`~tutor.serve.roster`: the class directory, its learners by public key, enrolment codes;
* :mod:`~tutor.serve.roster_files`, :mod:`~tutor.serve.roster_pg`: the roster's two backends (the
  class directory's files; PostgreSQL with ``--db``, shared by several hosts);
* :mod:`~tutor.serve.live`: who is connected, on every host, and the limits counted across them;
* :mod:`~tutor.serve.limits`: the limits, their defaults, and the bookkeeping that enforces them;
* :mod:`~tutor.serve.server`: the asyncssh server: who a key is, the refusals, SIGTERM;
* :mod:`~tutor.serve.session`: one session: a PTY and its own tutor process, the enrolment prompt;
* :mod:`~tutor.serve.report`: `tutor class report`, and what the live view reads;
* :mod:`~tutor.serve.watch`: `tutor class watch`, the live Textual screen.

Only ``server`` and ``session`` import asyncssh, only ``watch`` imports Textual, only ``roster_pg``
(and so ``live``'s database side) psycopg, when a URL is given; the command
line (:mod:`tutor.cli_class`) imports them when their command runs.
"""
