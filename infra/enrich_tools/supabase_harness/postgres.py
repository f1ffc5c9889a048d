"""A throwaway PostgreSQL cluster, and SQL through the `psql` client (no Python database driver).

The cluster lives in a temporary directory: trust authentication on loopback, a free port on 127.0.0.1,
its unix socket in the directory, fsync off. PostgreSQL refuses to run as root, so when the harness runs as
root (CI containers) initdb and postgres run as the `postgres` system user (created by Debian's package), or
as `nobody` when there is none.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from enrich_tools.supabase_harness.binaries import PostgresBinaries

HARNESS_DIR = Path(__file__).resolve().parent
BOOTSTRAP_SQL = HARNESS_DIR / "bootstrap.sql"
MIGRATIONS_DIR = HARNESS_DIR.parents[1] / "supabase" / "migrations"
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0


class SqlError(RuntimeError):
    """psql reported an error; the message is its stderr."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """Every *.sql file of the folder, in file-name order (0001_..., 0002_..., ...)."""
    return sorted(directory.glob("*.sql"), key=lambda path: path.name)


@dataclass(frozen=True)
class Psql:
    """Runs SQL against one database with the psql client; every call is one psql process."""

    psql: Path
    dsn: str

    def _run(self, args: list[str], stdin: str | None) -> str:
        env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning", "PGAPPNAME": "supabase-harness"}
        env.pop("PGSERVICEFILE", None)
        completed = subprocess.run(  # noqa: S603 - our own psql binary, arguments as a list
            [
                str(self.psql),
                "--no-psqlrc",
                "--quiet",
                "--set",
                "ON_ERROR_STOP=1",
                "--dbname",
                self.dsn,
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if completed.returncode != 0:
            raise SqlError(completed.stderr.strip() or f"psql exited with {completed.returncode}")
        return completed.stdout

    def execute(self, sql: str) -> str:
        """Run statements (one psql session, stops at the first error); returns psql's unaligned output."""
        return self._run(["--no-align", "--tuples-only", "--file", "-"], sql)

    def file(self, path: Path, *, single_transaction: bool = True) -> None:
        args = ["--file", str(path)]
        self._run(["--single-transaction", *args] if single_transaction else args, None)

    def query(self, select: str) -> list[dict[str, Any]]:
        """Rows of one SELECT as JSON objects (json_agg keeps numbers, booleans, nulls and arrays)."""
        wrapped = f"select coalesce(json_agg(q), '[]'::json) from ({select}) as q"  # noqa: S608 - test SQL
        text = self.execute(wrapped)
        rows: list[dict[str, Any]] = json.loads(text)
        return rows

    def scalar(self, select: str) -> Any:
        rows = self.query(select)
        return next(iter(rows[0].values())) if rows else None


def bootstrap(psql: Psql) -> None:
    """Roles and the auth schema as on Supabase (see bootstrap.sql); idempotent."""
    psql.file(BOOTSTRAP_SQL)


def apply_migrations(psql: Psql, directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """Apply every migration in order, each in its own transaction; returns the files applied."""
    files = migration_files(directory)
    for path in files:
        try:
            psql.file(path)
        except SqlError as exc:
            raise SqlError(f"{path.name}: {exc}") from exc
    return files


def _run_as() -> tuple[int, int] | None:
    """The (uid, gid) to run the server as when we are root (PostgreSQL refuses root), else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError(
        "running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL"
    )


class LocalPostgres:
    """initdb + postgres in a temporary directory; `stop()` kills the server and removes the directory."""

    SUPERUSER = "postgres"

    def __init__(self, binaries: PostgresBinaries, *, database: str = "postgres") -> None:
        self._bin = binaries
        self.database = database
        self.port = 0
        self.directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    def dsn_for(self, user: str, database: str | None = None) -> str:
        return f"postgresql://{quote(user)}@127.0.0.1:{self.port}/{quote(database or self.database)}"

    @property
    def dsn(self) -> str:
        return self.dsn_for(self.SUPERUSER)

    def start(self) -> None:
        owner = _run_as()
        self.directory = Path(tempfile.mkdtemp(prefix="supabase-harness-"))
        try:
            self._start(owner)
        except BaseException:
            self.stop()
            raise

    def _start(self, owner: tuple[int, int] | None) -> None:
        assert self.directory is not None
        run_as: dict[str, Any] = {}
        if owner is not None:
            os.chown(self.directory, *owner)
            run_as = {"user": owner[0], "group": owner[1], "extra_groups": []}
        data = self.directory / "data"
        self._log = self.directory / "postgres.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update({"LC_ALL": "C", "TZ": "UTC"})
        initdb = subprocess.run(  # noqa: S603 - our own binary, arguments as a list
            [
                str(self._bin.initdb),
                "--pgdata",
                str(data),
                "--username",
                self.SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
                "--no-instructions",
            ],
            cwd=self.directory,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            **run_as,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
        self.port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.directory),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": "40",
            "timezone": "UTC",
        }
        args = [str(self._bin.postgres), "-D", str(data)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        with self._log.open("wb") as log:
            if owner is not None:
                os.chown(self._log, *owner)
            self._process = subprocess.Popen(  # noqa: S603 - our own binary, arguments as a list
                args, cwd=self.directory, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, **run_as
            )
        self._wait_ready()
        if self.database != "postgres":
            Psql(self._bin.psql, self.dsn_for(self.SUPERUSER, "postgres")).execute(
                f'create database "{self.database}"'
            )

    def _wait_ready(self) -> None:
        assert self._process is not None and self._log is not None
        probe = Psql(self._bin.psql, self.dsn_for(self.SUPERUSER, "postgres"))
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self._process.returncode}:\n{log_tail(self._log)}")
            try:
                probe.execute("select 1")
                return
            except SqlError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"postgres did not accept connections:\n{log_tail(self._log)}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: roll back, close connections, exit
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        directory, self.directory = self.directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
