"""A hard bounce's marks in the embedded SQLite file (`leadenrich.bounces.ports.BouncedAddresses`;
docs/bounces.md): the workspace's job items whose result holds a bounced address, by the rules of
`bounces.rules`, with the meaning of `aws.dynamo_bounces` (unless JOB_STORE=supabase holds the items).

SQL narrows the workspace's items to those whose result text holds one of the addresses; the rules decide
on each. The read and the rewrites are one write transaction (`BEGIN IMMEDIATE`): no processor writes an
item between its read and its mark. A file that never held jobs has nothing to mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadenrich.bounces import rules
from leadenrich.bounces.ports import Holding
from leadenrich.jobs.encoding import ts
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_rows import item_from_row, result_text

PLACE = "job_items"


class SqliteBouncedAddresses:
    """See the module docstring."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def places(self) -> tuple[str, ...]:
        return (PLACE,)

    async def mark_undeliverable(
        self, workspace_id: str, emails: Sequence[str], now: datetime
    ) -> list[Holding]:
        if not emails:
            return []
        emails = list(dict.fromkeys(email.lower() for email in emails))
        wanted = frozenset(emails)
        holding = " OR ".join("instr(lower(result), ?) > 0" for _ in emails)
        holdings: list[Holding] = []
        with self._db.write() as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "job_items" not in tables:
                return []
            rows = conn.execute(
                f"SELECT * FROM job_items WHERE workspace_id = ? AND result IS NOT NULL AND ({holding})"  # noqa: S608 - placeholders only
                " ORDER BY job_id, item_id",
                (workspace_id, *emails),
            ).fetchall()
            for row in rows:
                item = item_from_row(row)
                changed = rules.marked(item.result, wanted)
                if changed is not None:
                    conn.execute(
                        "UPDATE job_items SET result = ?, updated_at = ?"
                        " WHERE workspace_id = ? AND job_id = ? AND item_id = ?",
                        (result_text(changed), ts(now), workspace_id, item.job_id, item.item_id),
                    )
                holdings += [
                    Holding(
                        PLACE,
                        str(rules.address_of(entry)),
                        changed=changed is not None and not rules.is_marked(entry),
                        guessed=rules.guessed(entry),
                        lead=item.lead,
                        lead_id=item.lead_id,
                    )
                    for entry in rules.held(item.result, wanted)
                ]
        return holdings


__all__ = ["SqliteBouncedAddresses"]
