"""The local stack's state directory: who holds it, and the API key kept in it.

    <state>/leadenrich.sqlite3   jobs, queue, cache, rate limits, keys (leadenrich.sqlite)
    <state>/local-api-key        the key `enrich run` uses for the workspace "default" (mode 0600)
    <state>/local-blob-secret    what signs the gateway's upload and download URLs (mode 0600)
    <state>/blobs/               uploaded CSVs and exported results (`uploads.local_files`)
    <state>/lock                 held (flock) by the one process using the state
    <state>/last-run.json        what `enrich run` last ran there (input, output, format, map): --resume
    <state>/providers.json       whether its jobs ran on the provider simulator or on real providers
    <state>/.gitignore           "*": a state made inside a repository is never committed

The lock is an advisory `flock`: the kernel drops it when its process dies, kill -9 included, so a
crashed run never leaves the state locked.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from leadenrich.uploads.local_files import new_secret

DEFAULT_STATE_DIR = Path(".enrich-state")
KEY_FILE = "local-api-key"
BLOB_SECRET_FILE = "local-blob-secret"  # noqa: S105  # a file name
BLOB_DIR = "blobs"
LOCK_FILE = "lock"
RUN_FILE = "last-run.json"
PROVIDERS_FILE = "providers.json"


class StateLock:
    """Exclusive use of a state directory for this process's lifetime (a context manager)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._handle: IO[str] | None = None

    def __enter__(self) -> StateLock:
        prepare(self.state_dir)
        handle = (self.state_dir / LOCK_FILE).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RuntimeError(
                f"the state {self.state_dir} is in use by {holder}: wait for it to finish, stop it, "
                "or pass another --state directory"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


IGNORE_TEXT = "# the local stack's state (enrich run --state): never commit it\n*\n"


def prepare(state_dir: Path) -> None:
    """Create the directory with a .gitignore that ignores all of it, readable by its owner only (it holds
    names, addresses and an API key). A folder that holds other things is refused, not taken over:
    `--state .` in a repository must not chmod it or drop a `*` .gitignore into it."""
    if state_dir.is_dir() and any(state_dir.iterdir()):
        names = {path.name for path in state_dir.iterdir()}
        if not names & {"leadenrich.sqlite3", LOCK_FILE}:
            raise RuntimeError(
                f"{state_dir} is not a state directory (it holds other files): pass an empty or new folder "
                "as --state"
            )
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_dir.chmod(0o700)
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text(IGNORE_TEXT)


def load_local_key(state_dir: Path) -> str | None:
    try:
        text = (state_dir / KEY_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def save_local_key(state_dir: Path, secret: str) -> None:
    """Written owner-only from the start (never world-readable, not even for a moment)."""
    path = state_dir / KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that existed keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")


def kept_blob_secret(state_dir: Path) -> str:
    """The state's URL-signing secret, made (owner-only, like the key) the first time: URLs handed out
    before a restart keep working after it. Made as a whole file linked into place, so two processes
    starting on one state at once (a run, a reader) end with the same secret."""
    path = state_dir / BLOB_SECRET_FILE
    if not path.exists():
        partial = state_dir / f".{BLOB_SECRET_FILE}.{os.getpid()}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_secret() + "\n")
        try:
            os.link(partial, path)  # fails when another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_text(encoding="utf-8").strip()


def save_run(state_dir: Path, spec: dict[str, Any]) -> None:
    """What `enrich run --resume` repeats: the last run's input, output, format and column map."""
    prepare(state_dir)
    partial = state_dir / f".{RUN_FILE}.partial"
    partial.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, state_dir / RUN_FILE)


def load_run(state_dir: Path) -> dict[str, Any] | None:
    try:
        spec = json.loads((state_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return spec if isinstance(spec, dict) else None


def recorded_simulated(state_dir: Path) -> bool | None:
    """Whether the state's jobs (and cached answers) came from the simulator; None for a new state."""
    try:
        data = json.loads((state_dir / PROVIDERS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    value = data.get("simulated") if isinstance(data, dict) else None
    return value if isinstance(value, bool) else None


def record_simulated(state_dir: Path, simulated: bool) -> None:
    prepare(state_dir)
    (state_dir / PROVIDERS_FILE).write_text(json.dumps({"simulated": simulated}) + "\n", encoding="utf-8")
