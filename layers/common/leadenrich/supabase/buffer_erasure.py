"""The erasure's eraser for the lead buffer on Supabase (JOB_STORE=supabase: the buffer lives where the jobs
live), through the functions of migration 0014_buffer_privacy; the rules are `buffer.erasure`, as on every
store.

SQL returns the workspace's lead records and cursor states that hold one of the subject's patterns; the rules
decide here; `erasure_rewrite_buffer` deletes the subject's records and cursors and rewrites the others, each
only while its `updated_at` is the one read (a claim or a serve meanwhile wins, and it is read and scrubbed
again). The served registry (`buffer_served`) keeps the lead's keyed identity only and is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadenrich.buffer.erasure import PLACE, BufferChange, BufferRow, cursor_named, lead_links, scrub_lead
from leadenrich.jobs.ports import LeadStoreError
from leadenrich.privacy.erasure import PlaceErased
from leadenrich.privacy.erasure_rules import Subject
from leadenrich.supabase.rpc import Connect, call, object_of

FIND = "erasure_find_buffer"
REWRITE = "erasure_rewrite_buffer"
_RETRIES = 3


def _row(lead: Mapping[str, Any]) -> BufferRow:
    stored, data, result, error = (lead.get(k) for k in ("lead", "data", "result", "enrichment_error"))
    return BufferRow(
        lead=stored if isinstance(stored, dict) else {},
        data=data if isinstance(data, dict) else None,
        result=result if isinstance(result, dict) else None,
        error=error if isinstance(error, str) else None,
    )


def _list(answer: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    rows = answer.get(name)
    if not isinstance(rows, list):
        raise LeadStoreError(f"Supabase {FIND}: unexpected answer (a list of {name} was expected)")
    return [row for row in rows if isinstance(row, dict)]


class SupabaseBufferErasure:
    """See the module docstring."""

    places = (PLACE,)

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def _found(self, workspace_id: str, subject: Subject) -> dict[str, Any]:
        params = {"p_workspace_id": workspace_id, "p_patterns": subject.patterns()}
        return object_of(await call(self._connect, FIND, params), FIND)

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        links = Subject()
        for lead in _list(await self._found(workspace_id, subject), "leads"):
            links = links | lead_links(_row(lead), subject)
        return links

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        removed = changed = 0
        for _ in range(_RETRIES):
            found = await self._found(workspace_id, subject)
            changes: list[tuple[dict[str, Any], BufferChange]] = []
            for lead in _list(found, "leads"):
                change = scrub_lead(_row(lead), subject)
                if change is not None:
                    changes.append((lead, change))
            cursors = [
                c["namespace"] for c in _list(found, "cursors") if cursor_named(c.get("state"), subject)
            ]
            if not changes and not cursors:
                break
            rewrites = [
                {
                    "lead_id": lead["lead_id"],
                    "updated_at": lead["updated_at"],
                    "data": change.data,
                    "result": change.result,
                    "enrichment_error": change.error,
                }
                for lead, change in changes
                if not change.delete
            ]
            params = {
                "p_workspace_id": workspace_id,
                "p_delete": [lead["lead_id"] for lead, change in changes if change.delete],
                "p_leads": rewrites,
                "p_cursors": cursors,
            }
            answer = object_of(await call(self._connect, REWRITE, params), REWRITE)
            try:
                removed += int(answer["removed"])
                changed += int(answer["changed"])
            except (KeyError, TypeError, ValueError):
                raise LeadStoreError(
                    f"Supabase {REWRITE}: unexpected answer (counts were expected)"
                ) from None
            if int(answer["changed"]) == len(rewrites):
                break
        else:
            raise RuntimeError(
                "erasure: buffered leads kept changing under the rewrite; send the erasure again"
            )
        return [PlaceErased(PLACE, removed=removed, changed=changed)]


__all__ = ["FIND", "REWRITE", "SupabaseBufferErasure"]
