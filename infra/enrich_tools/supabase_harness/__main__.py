"""Serve a Supabase stand-in in the foreground until Ctrl-C: `python -m enrich_tools.supabase_harness`."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from enrich_tools.supabase_harness.binaries import MissingBinaryError
from enrich_tools.supabase_harness.server import SupabaseTestServer


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        server = SupabaseTestServer().start()
    except MissingBinaryError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        for name, value in server.env().items():
            print(f"export {name}={value}")
        print(f"# psql {server.dsn}")
        token = server.user_token("demo", expires_in=86400)
        print(f"# a user of workspace 'demo' (a day): Authorization: Bearer {token}")
        print("# Ctrl-C stops it and deletes the database.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
