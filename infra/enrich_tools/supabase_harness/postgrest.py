"""PostgREST as a child process, configured through PGRST_* environment variables like Supabase's.

Readiness comes from PostgREST's admin server (`GET /ready` is 200 once it holds a database connection and
has loaded the schema cache), so the first API request never meets a 503.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from enrich_tools.supabase_harness.postgres import free_port, log_tail

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 5.0


class PostgrestProcess:
    def __init__(
        self,
        binary: Path,
        *,
        db_uri: str,
        jwt_secret: str,
        log_path: Path,
        schemas: str = "public",
        anon_role: str = "anon",
        max_rows: int | None = 1000,
        pool: int = 4,
    ) -> None:
        self._binary = binary
        self._log_path = log_path
        self.port = 0
        self.admin_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._env = {
            "PGRST_DB_URI": db_uri,
            "PGRST_DB_SCHEMAS": schemas,
            "PGRST_DB_ANON_ROLE": anon_role,
            "PGRST_DB_EXTRA_SEARCH_PATH": "public, extensions",
            "PGRST_JWT_SECRET": jwt_secret,
            "PGRST_SERVER_HOST": "127.0.0.1",
            "PGRST_DB_POOL": str(pool),
            "PGRST_DB_CHANNEL_ENABLED": "true",
            "PGRST_LOG_LEVEL": "warn",
        }
        if max_rows is not None:
            # Supabase's default "Max rows" for the Data API is 1000.
            self._env["PGRST_DB_MAX_ROWS"] = str(max_rows)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port, self.admin_port = free_port(), free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PGRST_", "PG"))}
        env.update(self._env)
        env.update({"PGRST_SERVER_PORT": str(self.port), "PGRST_ADMIN_SERVER_PORT": str(self.admin_port)})
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own binary, no arguments
                [str(self._binary)], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(
                        f"PostgREST exited with {self._process.returncode}:\n{log_tail(self._log_path)}"
                    )
                try:
                    if client.get(f"http://127.0.0.1:{self.admin_port}/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgREST did not become ready:\n{log_tail(self._log_path)}")
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
