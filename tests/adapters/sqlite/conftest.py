"""The SQLite adapters' tests share a fresh database file per test (`path`, and `db` opened on it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadenrich.sqlite.db import Database


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "leadenrich.sqlite3"


@pytest.fixture
def db(path: Path) -> Iterator[Database]:
    database = Database(path)
    yield database
    database.close()
