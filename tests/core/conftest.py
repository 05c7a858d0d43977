"""Fixtures shared by the core tests."""

from __future__ import annotations

import pytest

from tests.support.reader_fixtures import populate


@pytest.fixture(scope="session")
def varied_sqlite(tmp_path_factory):
    """One SQLite file with the populate() studies per test process (building it takes seconds); copy it before
    anything that could touch it."""
    path = tmp_path_factory.mktemp("varied") / "varied.db"
    names = populate(f"sqlite:///{path}")
    return path, names
