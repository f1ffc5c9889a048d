"""One SQLite file for the embedded local stack: jobs, the work queue, the cache, keys, quotas, webhooks.

The local stack's API gateway (a thread per request), its processor (a thread) and the command line all
use the same file, so each thread gets a connection of its own (`sqlite3` connections must not be shared
between threads by default). The file is in WAL mode: readers never wait for the writer, and a writer waits
up to `BUSY_TIMEOUT_SECONDS` for another one instead of failing.

Adapters call SQLite synchronously from their async methods. A statement here takes microseconds to a few
milliseconds, less than handing it to a worker thread would cost, and it keeps a rule simple: **never
`await` inside `write()`**, so a transaction is never open across a suspension point and two coroutines of
one thread can never interleave inside one.

Conditional writes are `BEGIN IMMEDIATE` transactions: the write lock is taken at the start, so a
read-check-write inside one cannot be overtaken by another writer (the role DynamoDB's condition
expressions and PostgreSQL's row locks play for the other stores).

Each adapter declares its own tables (`CREATE TABLE IF NOT EXISTS ...`) and calls `ensure_schema` from its
constructor, so an adapter works on a fresh file and on one an older version made.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 30.0
FILE_NAME = "leadenrich.sqlite3"


class Database:
    """A SQLite file shared by the embedded adapters, with one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only from the start: it holds names and addresses. SQLite gives its -wal and -shm
            # files the database file's mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._local = threading.local()
        self._schemas: set[str] = set()
        self._schema_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()

    @classmethod
    def in_dir(cls, state_dir: str | Path) -> Database:
        """The database of a state directory (`enrich run --state DIR`)."""
        return cls(Path(state_dir) / FILE_NAME)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (autocommit: transactions are explicit)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process crash
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A `BEGIN IMMEDIATE` transaction: committed when the block ends, rolled back if it raises.
        Never `await` inside it."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        """For reads: one statement sees one consistent snapshot."""
        return self.connection()

    def ensure_schema(self, name: str, ddl: str) -> None:
        """Run an adapter's `CREATE ... IF NOT EXISTS` script once per Database (idempotent on the file)."""
        with self._schema_lock:
            if name in self._schemas:
                return
            self.connection().executescript(ddl)
            self._schemas.add(name)

    def close(self) -> None:
        """Close every thread's connection (at the stack's stop; the file stays)."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed already
                conn.close()
        self._local = threading.local()


def add_missing_columns(db: Database, added: Sequence[tuple[str, str, str]]) -> None:
    """`CREATE TABLE IF NOT EXISTS` leaves a table made by an older version as it was: a state file from
    before a column existed gets it here, once; `added` holds (table, column, definition). Read first: a
    current file takes no write lock at start-up; the write re-checks, as another process may have added
    the column meanwhile."""

    def missing(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
        present = {
            (table, row[1])
            for table in {t for t, _, _ in added}
            for row in conn.execute(f"PRAGMA table_info({table})")
        }
        return [column for column in added if (column[0], column[1]) not in present]

    if not missing(db.read()):
        return
    with db.write() as conn:
        for table, column, definition in missing(conn):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL once. The switch needs the file to itself and fails at once ("database is
    locked") instead of waiting when another connection opens a new file at the same moment (two
    processes starting on a fresh state): retry for a while, and skip it when it is WAL already."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


__all__ = ["BUSY_TIMEOUT_SECONDS", "FILE_NAME", "Database", "add_missing_columns"]
