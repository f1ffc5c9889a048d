"""The operator commands' data-changing actions are in the workspace's audit trail (actor `operator`),
beside the data they changed: the local state here, the stack's table deployed (same code, `adapter`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from enrich_tools.cli import main
from leadenrich.privacy.ports import AuditQuery
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.keys import SqliteKeyStore
from leadenrich.sqlite.suppression import SqliteSuppressionList


async def test_operator_changes_are_audited_once_each_and_reads_are_not(tmp_path: Path) -> None:
    db = Database.in_dir(tmp_path)
    SqliteSuppressionList(db), SqliteKeyStore(db)  # the state `enrich local up` keeps, with its tables
    state = ["--state", str(tmp_path)]
    for argv in (
        [
            "suppress",
            "add",
            *state,
            "--workspace",
            "acme",
            "--email",
            "ada@acme.com",
            "--domain",
            "globex.io",
        ],
        ["suppress", "list", *state, "--workspace", "acme"],
        ["budget", "set", *state, "--workspace", "acme", "--monthly-credits", "500"],
        ["budget", "show", *state, "--workspace", "acme"],
        ["workspace", "settings", "set", *state, "--workspace", "acme", "--review-required", "yes"],
        ["keys", "create", *state, "--workspace", "acme"],
    ):
        assert await asyncio.to_thread(main, argv) == 0, argv

    page = await SqliteAuditLog(db).query(AuditQuery("acme"))
    actions = sorted(e.action for e in page.items)
    assert actions == ["budget.set", "key.create", "settings.update", "suppression.add"]
    assert {e.actor for e in page.items} == {"operator"}
    text = repr(page.items)
    assert "ada@acme.com" not in text  # the address is named by its hash, never in clear
    assert (await SqliteAuditLog(db).query(AuditQuery("globex"))).items == []
