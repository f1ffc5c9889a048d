"""`enrich local up`: the embedded local stack in the foreground, with the API key, the exports a shell
needs and the operator console's address printed once, until Ctrl-C or SIGTERM (a service manager stops it
that way).

`enrich run` ends by saying how to open the console on its state (`console_hint`): its own stack stops with
the run, so the console needs `enrich local up` (`make console`) to serve it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.reporting import FAILED, OK, note
from enrich_tools.local.state import DEFAULT_STATE_DIR, KEY_FILE
from leadenrich.auth.keys import display

# The port `make console` serves the local stack on, so the console's address is the same every time.
CONSOLE_PORT = 8765


def console_hint(state_dir: Path, key: str) -> str:
    """How to open the operator console on a state after `enrich run`: the command, the page, and where
    the key the page asks for is kept. Only the key's prefix is shown (`enrich run` never prints a key:
    terminals and CI logs keep what they print); `make run` shows it whole, a laptop's demo."""
    state = "" if state_dir == DEFAULT_STATE_DIR else f" --state {state_dir}"
    return (
        f"Operator console: `enrich local up --port {CONSOLE_PORT}{state}` (or `make console`), then open "
        f"http://127.0.0.1:{CONSOLE_PORT}/console with the API key {display(key)} kept in "
        f"{state_dir / KEY_FILE}"
    )


def cmd_local_up(args: argparse.Namespace) -> int:
    from enrich_tools.local.stack import LocalStack, StackError, StackOptions

    def access(method: str, path: str, status: int, seconds: float) -> None:
        print(f"{method:<6} {path} -> {status} ({seconds * 1000:.0f} ms)", flush=True)

    def ticked(summary: dict[str, Any]) -> None:
        if summary.get("received") or summary.get("completed_jobs"):
            done = ", ".join(summary.get("completed_jobs") or []) or "-"
            print(
                f"tick: {summary['received']} received, {summary['finished']} finished, "
                f"{summary['deferred']} deferred, {summary['dead']} dead, {summary['skipped']} skipped "
                f"in {summary['seconds']:.1f} s; jobs completed: {done}",
                flush=True,
            )

    options = StackOptions(
        port=args.port,
        tick_seconds=args.tick,
        state_dir=Path(args.state),
        aws=args.aws,
        seed=args.seed,
        handler_log_level=logging.INFO if args.verbose else logging.WARNING,
        access_log=access,
        on_tick=ticked,
    )
    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with LocalStack(options) as stack:
            if stack.simulated:
                print(f"== {SIMULATED_BANNER} ==")
            supabase = f"  Supabase: {stack.supabase_url} (leads and emails)\n" if stack.supabase_url else ""
            store = "AWS emulated in-process (moto)" if args.aws else f"state in {args.state}"
            pace = f"every {args.tick:g} s" if args.tick else "back to back while work is due"
            if stack.key_created or args.aws:
                kept = "gone when the stack stops" if args.aws else f"kept in {args.state}"
                key_line = f"  API key (workspace default; {kept}): {stack.api_key}\n"
                export = f"ENRICH_API_KEY={stack.api_key}"
            else:  # a kept key is not printed again and again (terminals and service logs keep it)
                key_file = Path(args.state) / KEY_FILE
                key_line = f"  API key (workspace default): {display(str(stack.api_key))} in {key_file}\n"
                export = f'ENRICH_API_KEY="$(cat {key_file})"'
            print(
                f"Local stack up: {store}, processor {pace}.\n"
                f"  API: {stack.url}\n"
                f"  Console: {stack.url}/console (a web page: sign in with the API key)\n"
                f"{key_line}"
                f"  export ENRICH_API_URL={stack.url} {export}\n"
                f"  then: enrich jobs create --csv examples/leads.csv --wait\n"
                f"{supabase}"
                "Ctrl-C to stop.",
                flush=True,
            )
            try:
                while not stopping.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            print("\nStopping (after the processor run in progress, if any)...", flush=True)
    except StackError as exc:
        note(f"error: {exc}")
        return FAILED
    return OK
