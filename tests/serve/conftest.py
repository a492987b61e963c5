"""The class's two backends for the roster tests: ``make_class(path)`` gives a
:class:`ClassDir` whose roster is in the directory's files, or in a fresh PostgreSQL database
(``pg_url`` from tests/conftest.py: skipped only where no server can be had, never in CI)."""

from __future__ import annotations

import pytest

from tutor.serve.roster import ClassDir


@pytest.fixture(params=["files", "postgres"])
def roster_db(request):
    """``None`` for the files, else the URL of an empty database."""
    if request.param == "files":
        return None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def make_class(roster_db):
    made: list[ClassDir] = []

    def make(path, **kwargs) -> ClassDir:
        cls = ClassDir(path, db=roster_db, **kwargs)
        made.append(cls)
        return cls

    yield make
    for cls in made:
        cls.close()
