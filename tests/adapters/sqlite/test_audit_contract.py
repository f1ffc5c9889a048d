"""The `AuditLog` contract (`leadenrich.privacy.ports`), held by every adapter: the SQLite one here, the
DynamoDB one on moto in `tests/adapters/dynamo/test_audit_dynamo.py` (it subclasses `AuditLogContract`).

Given entries appended, a workspace reads exactly its own, newest first, filtered by action, job, target,
actor and a time range (since inclusive, until exclusive), in pages whose cursors continue only the listing
they came from; an entry past the workspace's retention is not returned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadenrich.jobs.encoding import BadCursor, encode_cursor, read_cursor
from leadenrich.privacy.audit import DEFAULT_RETENTION_DAYS, MAX_DETAIL_CHARS, AuditRetention
from leadenrich.privacy.ports import AuditEntry, AuditLog, AuditQuery, WorkspaceSettings
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.db import Database

MakeLog = Callable[[AuditRetention | None], AuditLog]
NOW = datetime.now(UTC).replace(microsecond=123456)


def entry(minutes_ago: float = 0, **fields: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "workspace_id": "acme",
        "at": NOW - timedelta(minutes=minutes_ago),
        "actor": "key_0123456789abcdef",
        "action": "job.cancel",
        "target": "job_1",
        "job_id": "job_1",
        "source_ip": "203.0.113.7",
        "detail": {},
    }
    values.update(fields)
    return AuditEntry(**values)


class Settings:
    """A `WorkspaceSettingsStore` holding one workspace's audit retention (the real stores are tested with
    their adapters); `fail` makes it raise, as an unreachable store would."""

    def __init__(self, days: int, *, fail: bool = False) -> None:
        self.days, self.fail = days, fail

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        if self.fail:
            raise ConnectionError("settings store unreachable")
        return WorkspaceSettings(audit_retention_days=self.days)

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None:
        self.days = settings.audit_retention_days


async def everything(log: AuditLog, query: AuditQuery) -> list[AuditEntry]:
    """Every page of a listing, following its cursors."""
    found: list[AuditEntry] = []
    while True:
        page = await log.query(query)
        found += page.items
        if page.cursor is None:
            return found
        query = replace(query, cursor=page.cursor)


class AuditLogContract:
    """Subclasses provide `make_log`: a fresh log on an empty store, with the retention given (or the
    default)."""

    @pytest.fixture
    def audit(self, make_log: MakeLog) -> AuditLog:
        return make_log(None)

    async def test_an_appended_entry_reads_back_whole_with_its_id(self, audit: AuditLog) -> None:
        detail = {"action": "pause", "job_ids": ["job_1", "job_2"], "counts": {"done": 1}}
        stored = await audit.append(entry(action="jobs.bulk", target="", job_id=None, detail=detail))
        assert stored.entry_id.startswith("aud_") and len(stored.entry_id) == 30
        assert stored.at == NOW and stored.at.tzinfo is not None
        page = await audit.query(AuditQuery("acme"))
        assert page.items == [stored] and page.cursor is None
        assert page.items[0].detail == detail and page.items[0].job_id is None

    async def test_entries_are_listed_newest_first_with_unique_ids(self, audit: AuditLog) -> None:
        stored = [await audit.append(entry(minutes_ago=m, target=f"t{m}")) for m in (5, 1, 3)]
        twins = [await audit.append(entry(minutes_ago=0, target="same instant")) for _ in range(3)]
        listed = (await audit.query(AuditQuery("acme"))).items
        assert [e.target for e in listed[3:]] == ["t1", "t3", "t5"]
        assert {e.entry_id for e in listed[:3]} == {e.entry_id for e in twins}
        assert len({e.entry_id for e in listed}) == len(stored) + len(twins) == 6

    async def test_filters_combine(self, audit: AuditLog) -> None:
        await audit.append(entry(10, action="job.create", target="job_1", job_id="job_1"))
        await audit.append(entry(9, action="results.read", target="job_1", job_id="job_1"))
        await audit.append(entry(8, action="results.read", target="job_2", job_id="job_2", actor="key_b"))
        await audit.append(entry(7, action="dlq.redrive", target="", job_id=None, actor="key_b"))

        async def actions(**filters: Any) -> list[str]:
            return [e.action for e in (await audit.query(AuditQuery("acme", **filters))).items]

        assert await actions(action="results.read") == ["results.read", "results.read"]
        assert await actions(job_id="job_1") == ["results.read", "job.create"]
        assert await actions(target="job_2") == ["results.read"]
        assert await actions(actor="key_b") == ["dlq.redrive", "results.read"]
        assert await actions(actor="key_b", action="results.read", job_id="job_2") == ["results.read"]
        assert await actions(action="results.read", job_id="job_3") == []
        assert await actions(target="") == ["dlq.redrive"]

    async def test_a_time_range_includes_since_and_excludes_until(self, audit: AuditLog) -> None:
        for minutes in (30, 20, 10):
            await audit.append(entry(minutes, target=f"m{minutes}"))
        at = {f"m{m}": NOW - timedelta(minutes=m) for m in (30, 20, 10)}

        async def targets(**filters: Any) -> list[str]:
            return [e.target for e in (await audit.query(AuditQuery("acme", **filters))).items]

        assert await targets(since=at["m20"]) == ["m10", "m20"]
        assert await targets(until=at["m20"]) == ["m30"]
        assert await targets(since=at["m30"], until=at["m10"]) == ["m20", "m30"]
        assert await targets(since=at["m20"], until=at["m20"] + timedelta(microseconds=1)) == ["m20"]
        naive = at["m20"].replace(tzinfo=None)  # a time without a zone is UTC
        assert await targets(since=naive) == ["m10", "m20"]

    async def test_pages_follow_each_other_without_gaps_or_repeats(self, audit: AuditLog) -> None:
        for n in range(7):
            await audit.append(entry(minutes_ago=n, target=f"t{n}"))
        first = await audit.query(AuditQuery("acme", limit=3))
        assert [e.target for e in first.items] == ["t0", "t1", "t2"] and first.cursor is not None
        listed = await everything(audit, AuditQuery("acme", limit=3))
        assert [e.target for e in listed] == [f"t{n}" for n in range(7)]
        exact = await audit.query(AuditQuery("acme", limit=7))
        assert len(exact.items) == 7 and exact.cursor is None  # no empty page after the last
        filtered = await everything(audit, AuditQuery("acme", target="t4", limit=1))
        assert [e.target for e in filtered] == ["t4"]

    async def test_a_workspace_reads_only_its_own_entries(self, audit: AuditLog) -> None:
        await audit.append(entry(workspace_id="acme", target="mine"))
        await audit.append(entry(workspace_id="globex", target="theirs"))
        assert [e.target for e in (await audit.query(AuditQuery("acme"))).items] == ["mine"]
        assert [e.target for e in (await audit.query(AuditQuery("globex"))).items] == ["theirs"]
        assert (await audit.query(AuditQuery("initech"))).items == []

    async def test_a_cursor_continues_only_its_own_listing(self, audit: AuditLog) -> None:
        for n in range(3):
            await audit.append(entry(minutes_ago=n, workspace_id="acme", action="job.cancel"))
            await audit.append(entry(minutes_ago=n, workspace_id="globex", action="job.cancel"))
        cursor = (await audit.query(AuditQuery("acme", limit=1))).cursor
        assert cursor is not None
        assert len((await audit.query(AuditQuery("acme", limit=1, cursor=cursor))).items) == 1
        with pytest.raises(BadCursor, match="another listing"):
            await audit.query(AuditQuery("globex", limit=1, cursor=cursor))  # another workspace's
        with pytest.raises(BadCursor, match="another listing"):
            await audit.query(AuditQuery("acme", action="job.cancel", cursor=cursor))  # other filters
        scope = read_cursor(cursor)
        junks = [
            "not-a-cursor",
            encode_cursor({"list": "jobs", "ws": "acme", "at": "x", "id": "y"}),
            encode_cursor({str(k): str(v) for k, v in scope.items()} | {"at": "0001-01-01T00:00:00+01:00"}),
            encode_cursor({str(k): str(v) for k, v in scope.items()} | {"id": "job_1"}),
        ]
        for junk in junks:
            with pytest.raises(BadCursor):
                await audit.query(AuditQuery("acme", cursor=junk))

    async def test_a_cursor_outside_the_time_range_is_refused(self, audit: AuditLog) -> None:
        for n in range(3):
            await audit.append(entry(minutes_ago=n))
        since = NOW - timedelta(minutes=1, seconds=30)
        cursor = (await audit.query(AuditQuery("acme", since=since, limit=1))).cursor
        assert cursor is not None
        moved = {name: str(value) for name, value in read_cursor(cursor).items()}
        moved["at"] = (NOW - timedelta(hours=1)).isoformat()  # before `since`: no place in this listing
        with pytest.raises(BadCursor):
            await audit.query(AuditQuery("acme", since=since, cursor=encode_cursor(moved)))

    async def test_entries_past_the_retention_are_not_returned(self, make_log: MakeLog) -> None:
        audit = make_log(None)  # the default: a year
        await audit.append(entry(target="recent"))
        await audit.append(entry(minutes_ago=(DEFAULT_RETENTION_DAYS - 1) * 24 * 60, target="kept"))
        await audit.append(entry(minutes_ago=(DEFAULT_RETENTION_DAYS + 1) * 24 * 60, target="expired"))
        assert [e.target for e in (await audit.query(AuditQuery("acme"))).items] == ["recent", "kept"]

    async def test_the_workspace_s_own_retention_is_used(self, make_log: MakeLog) -> None:
        longer = make_log(AuditRetention(Settings(days=800)))
        await longer.append(entry(minutes_ago=500 * 24 * 60, workspace_id="keeps", target="old"))
        assert [e.target for e in (await longer.query(AuditQuery("keeps"))).items] == ["old"]
        shorter = make_log(AuditRetention(Settings(days=7)))
        await shorter.append(entry(minutes_ago=8 * 24 * 60, workspace_id="forgets"))
        assert (await shorter.query(AuditQuery("forgets"))).items == []

    async def test_an_unreadable_setting_keeps_the_entry_for_the_default(self, make_log: MakeLog) -> None:
        audit = make_log(AuditRetention(Settings(days=7, fail=True)))
        await audit.append(entry(minutes_ago=30 * 24 * 60, target="kept a year"))
        assert [e.target for e in (await audit.query(AuditQuery("acme"))).items] == ["kept a year"]

    async def test_bad_queries_and_details_are_refused_naming_the_field(self, audit: AuditLog) -> None:
        with pytest.raises(ValueError, match=r"^limit"):
            await audit.query(AuditQuery("acme", limit=0))
        with pytest.raises(ValueError, match=r"^until"):
            await audit.query(AuditQuery("acme", since=NOW, until=NOW))
        with pytest.raises(ValueError, match=r"^detail"):
            await audit.append(entry(detail={"ids": ["x" * 100] * (MAX_DETAIL_CHARS // 100)}))
        assert (await audit.query(AuditQuery("acme"))).items == []


class TestSqliteAuditLog(AuditLogContract):
    @pytest.fixture
    def make_log(self, db: Database) -> MakeLog:
        return lambda retention: SqliteAuditLog(db, retention=retention)


def conforms(log: SqliteAuditLog) -> AuditLog:
    """mypy checks the adapter against the port here."""
    return log
