"""`enrich erase --email ADDR | --domain DOMAIN | --lead-id ID | --external-id ID`: answer an erasure request
(docs/privacy.md "Erasure") through the API's `POST /erasures`, and print its receipt.

Where it acts: a deployed API (`--api-url`, `--api-key`: the workspace's key, whose data is erased), or,
without `--api-url`, the local state (`--state DIR`, default `.enrich-state`: the embedded stack is started
for the call, without a processor, and its workspace `default` erases).

Why through the API and not straight against the stores, as `enrich suppress` is: an erasure touches every
store the deployment is wired to (the table or the SQLite file, Supabase's tables with the project's
service key from the app secret, the job items wherever JOB_STORE keeps them) and hashes with the stack's
`PRIVACY_HASH_KEY`; the API has all of it, an operator's shell rarely does. Going through the route also
records the erasure in the audit trail under the key that asked. A person's right holds against the whole
service: one erasure suppresses them service-wide at once (no workspace collects them again); the data
other workspaces already hold is erased with each of those workspaces' keys (an operator can mint one,
`enrich keys create --workspace W`), since no workspace's key may touch another's data.

Exit codes: 0 erased (or erased again: a repeat says so), 1 the API refused or failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any

from enrich_tools.local.client import ApiClient
from enrich_tools.local.reporting import FAILED, OK, note
from enrich_tools.local.state import DEFAULT_STATE_DIR

TARGETS = (
    ("email", "an address (and its person, when their name is known)"),
    ("domain", "a company's domain: everyone at it"),
    ("lead_id", "a stored lead's id (Supabase)"),
    ("external_id", "your id of a lead"),
)


class ErasureClient(ApiClient):
    def __enter__(self) -> ErasureClient:
        return self

    def erase(self, body: dict[str, str]) -> dict[str, Any]:
        """POST /erasures: the receipt (201 erased, 200 a repeat)."""
        answer: dict[str, Any] = self._call("POST", "/erasures", json=body)
        return answer


def _body(args: argparse.Namespace) -> dict[str, str]:
    for name, _ in TARGETS:
        value = getattr(args, name)
        if value is not None:
            return {name: value}
    raise AssertionError("argparse requires one target")  # pragma: no cover


def print_receipt(receipt: dict[str, Any]) -> None:
    """The receipt in a few lines: what, where, how many, and the suppression entries (masked, hashed)."""
    repeat = "" if receipt["new_suppressions"] else " (a repeat: it was suppressed already)"
    print(f"erased {receipt['kind']} {receipt['target']} in workspace {receipt['workspace_id']}{repeat}")
    for place in receipt["places"]:
        print(f"  {place['place']:<16} {place['removed']} removed, {place['changed']} changed")
    for entry in receipt["suppressed"]:
        scopes = " and ".join("service-wide" if s == "service" else "workspace" for s in entry["scopes"])
        print(f"  suppressed {entry['kind']:<7} {entry['label']} ({scopes}): {entry['key']}")
    print(f"erasure id {receipt['erasure_id']} (the audit trail's entry: GET /audit?action=erasure.create)")


def _show(receipt: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(receipt, indent=2))
    else:
        print_receipt(receipt)
    return OK


def cmd_erase(args: argparse.Namespace) -> int:
    body = _body(args)
    url = args.api_url or os.environ.get("ENRICH_API_URL")
    if url:
        from enrich_tools.local.api_commands import api_client

        checked = api_client(args)  # the URL refused as every API command refuses it
        checked.close()
        with ErasureClient(checked.base_url, args.api_key or os.environ.get("ENRICH_API_KEY")) as eraser:
            return _show(eraser.erase(body), args.json)
    from enrich_tools.local.stack import LocalStack, StackError, StackOptions

    options = StackOptions(state_dir=Path(args.state), process=False, handler_log_level=logging.WARNING)
    try:
        with LocalStack(options) as stack, ErasureClient(stack.url, stack.api_key) as eraser:
            return _show(eraser.erase(body), args.json)
    except StackError as exc:
        note(f"error: {exc}")
        return FAILED


def add_parsers(sub: Any) -> None:
    erase = sub.add_parser(
        "erase",
        help="erase a person (or a company) from every store, and suppress them (docs/privacy.md)",
        description="Answer an erasure request through POST /erasures: a deployed API (--api-url, the "
        "workspace's --api-key) or, without --api-url, the local state. Prints the receipt: what was "
        "erased where, the person masked.",
    )
    target = erase.add_mutually_exclusive_group(required=True)
    for name, what in TARGETS:
        target.add_argument(f"--{name.replace('_', '-')}", dest=name, help=what)
    erase.add_argument(
        "--api-url", help="the API's base URL (default: $ENRICH_API_URL; none: the local state)"
    )
    erase.add_argument("--api-key", help="the workspace's key, sent as X-API-Key (default: $ENRICH_API_KEY)")
    erase.add_argument("--state", default=str(DEFAULT_STATE_DIR), help="the local state, without --api-url")
    erase.add_argument("--json", action="store_true", help="print the receipt as POST /erasures answers it")
    erase.set_defaults(func=cmd_erase)


__all__ = ["ErasureClient", "add_parsers", "cmd_erase", "print_receipt"]
