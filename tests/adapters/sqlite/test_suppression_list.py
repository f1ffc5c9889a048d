"""The suppression list's contract (`privacy.ports.SuppressionList`), written once and held to SQLite here and
to DynamoDB (moto) in tests/adapters/dynamo/test_suppression_list.py, which imports `SuppressionListContract`;
then what is SQLite's own: the file keeps no address or name in clear, and the list outlives the process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadenrich.jobs.encoding import BadCursor, encode_cursor
from leadenrich.privacy.identity import Identity, domain_identity, email_identity, person_identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionList, SuppressionReason
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)
ADA = email_identity("Ada.Lovelace@acme.com")
GRACE = person_identity("Grace", "Hopper", "navy.mil")
GLOBEX = domain_identity("globex.io")


def entry(
    identity: Identity,
    workspace: str = "acme",
    reason: SuppressionReason = SuppressionReason.MANUAL,
    at: datetime = T0,
) -> Suppression:
    return Suppression(workspace, identity, reason, at)


class SuppressionListContract:
    """The port's guarantees; subclasses provide a `suppressions` fixture (a fresh, empty list per test)."""

    async def test_adding_counts_new_entries_and_keeps_the_first(self, suppressions: SuppressionList) -> None:
        assert await suppressions.add([entry(ADA), entry(GRACE)]) == 2
        later = entry(ADA, reason=SuppressionReason.IMPORTED, at=T0 + timedelta(days=1))
        assert await suppressions.add([later, entry(GLOBEX)]) == 1
        assert await suppressions.add([]) == 0
        listed = {s.identity.key: s for s in (await suppressions.list("acme")).items}
        assert set(listed) == {ADA.key, GRACE.key, GLOBEX.key}
        assert (listed[ADA.key].reason, listed[ADA.key].created_at) == (SuppressionReason.MANUAL, T0)
        assert listed[ADA.key].identity == ADA  # kind, key and masked label round-trip
        assert listed[ADA.key].workspace_id == "acme"

    async def test_the_workspace_s_list_and_the_service_wide_one_are_read_together(
        self, suppressions: SuppressionList
    ) -> None:
        await suppressions.add([entry(ADA, "acme"), entry(GRACE, SERVICE_WIDE, SuppressionReason.OPTED_OUT)])
        keys = [ADA.key, GRACE.key, GLOBEX.key]
        assert await suppressions.suppressed("acme", keys) == {ADA.key, GRACE.key}
        assert await suppressions.suppressed("globex", keys) == {GRACE.key}  # not acme's own
        assert await suppressions.suppressed("acme", []) == set()

    async def test_many_keys_are_read_in_batches(self, suppressions: SuppressionList) -> None:
        identities = [email_identity(f"person{n}@acme.com") for n in range(260)]
        await suppressions.add(
            [entry(i, "acme" if n % 2 else SERVICE_WIDE) for n, i in enumerate(identities[::5])]
        )
        found = await suppressions.suppressed("acme", [i.key for i in identities])
        assert found == {i.key for i in identities[::5]}

    async def test_a_listing_is_the_workspace_s_own_newest_first_in_pages(
        self, suppressions: SuppressionList
    ) -> None:
        identities = [email_identity(f"p{n}@acme.com") for n in range(7)]
        same_time = [entry(i, at=T0 + timedelta(minutes=n // 2)) for n, i in enumerate(identities)]
        await suppressions.add([*same_time, entry(GLOBEX, "globex"), entry(GRACE, SERVICE_WIDE)])
        seen: list[Suppression] = []
        cursor: str | None = None
        while True:
            page = await suppressions.list("acme", limit=3, cursor=cursor)
            assert len(page.items) <= 3
            seen += page.items
            cursor = page.cursor
            if cursor is None:
                break
        assert {s.identity.key for s in seen} == {i.key for i in identities}
        assert len(seen) == 7 and all(s.workspace_id == "acme" for s in seen)
        times = [s.created_at for s in seen]
        assert times == sorted(times, reverse=True)
        assert [s.identity.key for s in (await suppressions.list("globex")).items] == [GLOBEX.key]

    async def test_a_cursor_of_another_listing_is_refused(self, suppressions: SuppressionList) -> None:
        await suppressions.add([entry(email_identity(f"p{n}@acme.com")) for n in range(3)])
        await suppressions.add([entry(email_identity(f"p{n}@globex.io"), "globex") for n in range(3)])
        page = await suppressions.list("acme", limit=1)
        assert page.cursor is not None
        with pytest.raises(BadCursor):
            await suppressions.list("globex", cursor=page.cursor)  # acme's cursor: not globex's listing
        for foreign in ("not a cursor", encode_cursor({"list": "jobs", "ws": "acme"}), "x" * 5000):
            with pytest.raises(BadCursor):
                await suppressions.list("acme", cursor=foreign)
        with pytest.raises(ValueError, match="limit"):
            await suppressions.list("acme", limit=0)

    async def test_a_workspace_removes_its_own_entries_only(self, suppressions: SuppressionList) -> None:
        await suppressions.add(
            [
                entry(ADA, "acme"),
                entry(ADA, "globex"),
                entry(GRACE, SERVICE_WIDE, SuppressionReason.OPTED_OUT),
            ]
        )
        assert await suppressions.remove("acme", ADA.key) is True
        assert await suppressions.remove("acme", ADA.key) is False  # gone already
        assert await suppressions.remove("acme", GRACE.key) is False  # the service-wide entry is not acme's
        assert await suppressions.suppressed("acme", [ADA.key, GRACE.key]) == {GRACE.key}
        assert await suppressions.suppressed("globex", [ADA.key]) == {ADA.key}  # globex's own is kept


class TestSqliteSuppressionList(SuppressionListContract):
    @pytest.fixture
    def suppressions(self, db: Database) -> SqliteSuppressionList:
        return SqliteSuppressionList(db)


def conforms(suppressions: SqliteSuppressionList) -> SuppressionList:
    """mypy checks the adapter against the port here."""
    return suppressions


def test_the_file_holds_no_address_or_name_and_outlives_the_process(path: Path) -> None:
    before = Database(path)
    asyncio.run(SqliteSuppressionList(before).add([entry(ADA), entry(GRACE), entry(GLOBEX)]))
    before.close()
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).lower()
    assert b"lovelace" not in data and b"hopper" not in data and b"grace" not in data
    after = Database(path)
    try:
        found = asyncio.run(SqliteSuppressionList(after).suppressed("acme", [ADA.key, GRACE.key, GLOBEX.key]))
        assert found == {ADA.key, GRACE.key, GLOBEX.key}
    finally:
        after.close()
