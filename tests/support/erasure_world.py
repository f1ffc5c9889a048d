"""A small world of stored data about one person, Ada Lovelace at acme.com, for the erasure tests: the same
items, cached answers and webhook records on every store, so each eraser is held to the same outcome
(`check_erased`), and what a store holds can be read as one text (`dynamo_text`, `sqlite_text`,
`supabase_text`) to prove nothing of her is left.

Two workspaces hold the same job: the erasing one (`WS`) and another (`OTHER`), whose data no erasure of
`WS` may touch.

The lead buffer holds her too (`seed_buffer`): served by name with her address found, waiting by address, a
company lead whose enrichment lists her (and whose caller data names her), a company of no concern, and a
cursor state that names her; `check_buffer` holds each buffer eraser to the same outcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from leadenrich.buffer.models import (
    BufferState,
    Enrichment,
    EnrichmentStatus,
    LeadRecord,
    ServedQuery,
    lead_key,
    new_lead_ids,
)
from leadenrich.buffer.ports import LeadBuffer
from leadenrich.engine.cache import CachePort
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import JobStore
from leadenrich.privacy.erasure import Eraser, PlaceErased
from leadenrich.privacy.erasure_rules import Person, Subject
from leadenrich.sqlite.db import Database
from leadenrich.webhooks.outbound import Delivery

WS, OTHER = "ws-erase", "ws-other"
JOB = "job_erasure"


def job_of(workspace_id: str) -> str:
    """The job's id in each workspace (Supabase's job ids are unique across workspaces)."""
    return JOB if workspace_id == WS else f"{JOB}_other"


ADA = "ada.lovelace@acme.com"
GRACE = "grace.hopper@acme.com"
BOB = "bob@globex.io"
LEAD_ID = "7d6c3f7e-0b7e-4c7e-9a51-2f0e8c1a4b10"  # Ada's stored lead (a UUID, as Supabase's)
COMPANY_LEAD_ID = "1b5d8a3e-6f7c-4c2d-8e9f-0a1b2c3d4e5f"
ADA_PERSON = Person.of("Ada", "Lovelace", "acme.com")
assert ADA_PERSON is not None
# What must be gone from the erasing workspace's data and the shared records (case folded).
TRACES = ("ada.lovelace", "lovelace", "crm-7")
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


def _email(email: str, person: str | None, contact: str, email_type: str = "secondary") -> dict[str, Any]:
    return {
        "email": email,
        "source": "hunter_direct",
        "confidence_score": 95,
        "email_type": email_type,
        "hunter_status": "deliverable",
        "status": "active",
        "verified_at": NOW.isoformat(),
        "method": "domain_search",
        "person": person,
        "position": "CEO",
        "deliverability": "verified",
        "contact": contact,
    }


def _result(
    emails: list[dict[str, Any]], reason: str | None = None, external_id: str | None = None
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "domain": emails[0]["email"].rpartition("@")[2] if emails else "acme.com",
        "status": "found" if emails else "not_found",
        "contact": emails[0]["contact"] if emails else None,
        "emails": emails,
        "reason": reason,
        "retry_after": None,
        "usage": {"hunter": {"calls": 1, "credits": 1.0, "cost_usd": 0.0, "cache_hits": 0}},
    }


def items(workspace_id: str, *, lead_ids: bool = True) -> list[Item]:
    """The job's items: a company lead listing Ada and Grace, Ada's own lead (found), Ada again still
    waiting, an unrelated company, and a named lead of acme.com whose reason names Ada. Only the erasing
    workspace's items link stored leads (`lead_ids`)."""
    lead_ids = lead_ids and workspace_id == WS
    job = job_of(workspace_id)
    ada_lead = Lead(
        domain="acme.com", company_name="Acme", first_name="Ada", last_name="Lovelace", external_id="crm-7"
    )
    company = _result(
        [
            _email(ADA, "Ada Lovelace", "decision_maker", "primary"),
            _email(GRACE, "Grace Hopper", "decision_maker"),
        ]
    )
    own = _result([_email(ADA, "Ada Lovelace", "named_person", "primary")], external_id="crm-7")
    note = "Charles Babbage not found at acme.com; Ada Lovelace named instead"
    made = [
        Item(workspace_id, job, "0000", Lead(domain="acme.com", company_name="Acme"), ItemStatus.FOUND, 1,
             None, company, NOW, lead_id=COMPANY_LEAD_ID if lead_ids else None),
        Item(workspace_id, job, "0001", ada_lead, ItemStatus.FOUND, 1, None, own, NOW,
             lead_id=LEAD_ID if lead_ids else None),
        Item(workspace_id, job, "0002", ada_lead, ItemStatus.QUEUED),
        Item(workspace_id, job, "0003", Lead(domain="globex.io"), ItemStatus.FOUND, 1, None,
             _result([_email(BOB, "Bob Smith", "decision_maker", "primary")]), NOW),
        Item(workspace_id, job, "0004", Lead(domain="acme.com", first_name="Charles", last_name="Babbage"),
             ItemStatus.NOT_FOUND, 1, note, _result([], note), NOW),
    ]  # fmt: skip
    return made


async def seed_items(store: JobStore, *, lead_ids: bool = True) -> None:
    for workspace_id in (WS, OTHER):
        job = Job(workspace_id, job_of(workspace_id), JobStatus.RUNNING, NOW)
        await store.create_job(job, items(workspace_id, lead_ids=lead_ids))


CACHED: dict[str, dict[str, Any]] = {
    "v1:ef:acme.com:ada:lovelace": {"email": ADA, "score": 97, "first_name": "Ada", "last_name": "Lovelace"},
    "v1:ev:ada.lovelace@acme.com": {"email": ADA, "status": "valid", "score": 97},
    "v1:ev:grace.hopper@acme.com": {"email": GRACE, "status": "valid", "score": 95},
    "v1:nf:acme.com:charles babbage": {
        "reason": "no decision-maker address found (Ada Lovelace named instead)"
    },
    "v1:ds:acme.com:type=personal&seniority=executive": {
        "domain": "acme.com",
        "emails": [
            {"value": ADA, "first_name": "Ada", "last_name": "Lovelace", "position": "CEO"},
            {"value": GRACE, "first_name": "Grace", "last_name": "Hopper", "position": "CTO"},
        ],
        "returned_rows": 2,
    },
    "v1:px:acme.com": {
        "people": [
            {
                "name": "Ada Lovelace",
                "title": "CEO",
                "source_urls": ["https://acme.com/about"],
                "sourced": True,
            },
            {
                "name": "Grace Hopper",
                "title": "CTO",
                "source_urls": ["https://acme.com/team"],
                "sourced": True,
            },
        ],
        "search_urls": ["https://www.linkedin.com/in/ada-lovelace-acme", "https://acme.com/team"],
        "cost_usd": 0.005,
    },
    "v1:px:globex.io": {
        "people": [{"name": "Bob Smith", "title": "CEO", "source_urls": [], "sourced": False}]
    },
}
KEPT_CACHE = {"v1:ev:grace.hopper@acme.com", "v1:px:globex.io"}  # nothing of Ada: untouched
CHANGED_CACHE = {"v1:ds:acme.com:type=personal&seniority=executive", "v1:px:acme.com"}  # rewritten


async def seed_cache(cache: CachePort) -> None:
    for key, value in CACHED.items():
        await cache.put(key, value, 3600)


def hook_delivery(workspace_id: str, url: str) -> Delivery:
    body = json.dumps({"type": "job.completed", "job_id": JOB})
    return Delivery(workspace_id, job_of(workspace_id), url, f"evt_{workspace_id}", body)


# A receiver URL a customer made with Ada's address in it: the only webhook record that can hold one.
ADA_HOOK = f"https://hooks.example.com/in?for={ADA}"


class FailingEraser:
    """An eraser whose store is out: the erasure fails after the suppression was added."""

    places = ("job_items",)

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        return Subject()

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        raise ConnectionError("the store is out")


async def erase_ada(eraser: Eraser) -> tuple[dict[str, tuple[int, int]], Subject]:
    """What the erasure service does with one eraser for Ada's address: find, then erase (counts per place
    as (removed, changed)), and what was found."""
    asked = Subject(addresses=frozenset({ADA}))
    links = await eraser.find(WS, asked)
    return places(await eraser.erase(WS, asked | links)), links


def _kept(item: Item) -> tuple[Any, ...]:
    return item.status, lead_of(item), item.result, item.reason, item.lead_id


async def check_items(store: JobStore, *, lead_ids: bool = True) -> None:
    """After `erase_ada`: the erasing workspace's items without Ada, each with its status; the other
    workspace's as they were."""
    stored = {i.item_id: i for i in (await store.list_items(WS, JOB, limit=100)).items}
    company, own, waiting, globex, named = (stored[f"000{n}"] for n in range(5))
    assert company.status is ItemStatus.FOUND and company.reason == "erased"
    assert [e["email"] for e in (company.result or {})["emails"]] == [GRACE]
    assert (company.result or {})["emails"][0]["email_type"] == "primary"
    assert own.status is ItemStatus.FOUND and lead_of(own) == {"domain": "acme.com", "company_name": "Acme"}
    assert (own.result or {})["emails"] == [] and (own.result or {})["external_id"] is None
    assert own.lead_id == (LEAD_ID if lead_ids else None)  # an id, not a person: the link stays
    assert waiting.status is ItemStatus.QUEUED and lead_of(waiting) == {
        "domain": "acme.com",
        "company_name": "Acme",
    }
    assert named.status is ItemStatus.NOT_FOUND and named.reason == "erased"
    assert _kept(globex) == _kept(items(WS, lead_ids=lead_ids)[3])  # nothing of Ada: untouched
    text = json.dumps([(lead_of(i), i.result, i.reason) for i in stored.values()], ensure_ascii=False)
    assert traces(text) == []
    others = (await store.list_items(OTHER, job_of(OTHER), limit=100)).items
    assert [_kept(i) for i in others] == [_kept(i) for i in items(OTHER, lead_ids=lead_ids)]


async def check_cache(cache: CachePort) -> None:
    """After `erase_ada`: her answers gone, the lists rewritten without her, the rest as it was."""
    for key, value in CACHED.items():
        now = await cache.get(key)
        if key in KEPT_CACHE:
            assert now == value, key
        elif key in CHANGED_CACHE:
            assert now is not None and traces(json.dumps(now)) == [], (key, now)
            assert GRACE in json.dumps(now) or "Grace Hopper" in json.dumps(now), key
        else:
            assert now is None, key


ERASED_COUNTS = {"job_items": (0, 4), "cache": (3, 2), "webhooks": (1, 0)}


def places(erased: Sequence[PlaceErased]) -> dict[str, tuple[int, int]]:
    return {p.place: (p.removed, p.changed) for p in erased}


def traces(text: str) -> list[str]:
    low = text.casefold()
    return [t for t in TRACES if t in low]


def sqlite_text(db: Database, where: Mapping[str, str] | None = None) -> str:
    """Every row of every table of the file as text; `where` narrows tables by a condition (`{"job_items":
    "workspace_id = 'x'"}`)."""
    conn = db.read()
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = []
    for table in tables:
        condition = (where or {}).get(table, "1")
        rows += [dict(r) for r in conn.execute(f"SELECT * FROM {table} WHERE {condition}")]
    return json.dumps(rows, ensure_ascii=False, default=str)


def dynamo_text(client: Any, table: str, *, skip: tuple[str, ...] = ()) -> str:
    """Every row of the table (a Scan of the whole table, every attribute) as JSON text, but the rows whose
    PK starts with one of `skip`."""
    rows: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        rows += [r for r in page["Items"] if not r["PK"]["S"].startswith(skip)]
        start = page.get("LastEvaluatedKey")
        if not start:
            return json.dumps(rows, ensure_ascii=False, sort_keys=True)


BUFFER_NS = "campaign-erasure"
BUFFER_ERASED = (3, 1)  # the buffer's place: her two leads and her cursor removed; the company's rewritten
_BUFFERED_LEADS = (
    (Lead(domain="acme.com", first_name="Ada", last_name="Lovelace", external_id="crm-7"), None),
    (Lead(domain="acme.com", company_name="Acme"), {"note": "met Ada Lovelace at acme.com"}),
    (Lead(domain="acme.com", email=ADA), {"list": "webinar"}),
    (Lead(domain="globex.io"), {"list": "q3"}),
)


def buffer_records(workspace_id: str) -> list[LeadRecord]:
    """Her named lead and the company lead (served by `seed_buffer`), her address and globex (waiting)."""
    ids = new_lead_ids(NOW, len(_BUFFERED_LEADS))
    return [
        LeadRecord(workspace_id, BUFFER_NS, lead_id, lead_key(lead), lead, BufferState.BUFFERED, NOW, data,
                   updated_at=NOW)
        for (lead, data), lead_id in zip(_BUFFERED_LEADS, ids, strict=True)
    ]  # fmt: skip


def _enrichment(result: dict[str, Any]) -> Enrichment:
    return Enrichment(EnrichmentStatus.COMPLETED, NOW, None, ("hunter",), (), result)


async def seed_buffer(buffer: LeadBuffer) -> None:
    """In each workspace: the four leads pushed, the first two served (her lead by run, the company's), and
    a cursor state naming her beside one that does not."""
    own = _result([_email(ADA, "Ada Lovelace", "named_person", "primary")], external_id="crm-7")
    company = _result(
        [
            _email(ADA, "Ada Lovelace", "decision_maker", "primary"),
            _email(GRACE, "Grace Hopper", "decision_maker"),
        ]
    )
    for workspace_id in (WS, OTHER):
        assert (await buffer.push(workspace_id, BUFFER_NS, buffer_records(workspace_id))).buffered == 4
        for run, result in (("run-ada", own), (None, company)):
            claimed = await buffer.claim(
                workspace_id, BUFFER_NS, parent_run_id=run, token=f"t-{run}", lease_until=NOW, now=NOW
            )
            assert claimed is not None
            assert await buffer.serve(claimed, _enrichment(result), NOW) is not None
        await buffer.put_cursor(workspace_id, BUFFER_NS, {"last_seen": ADA, "page": 3}, NOW)
        await buffer.put_cursor(workspace_id, "plain", {"page": 2}, NOW)


async def check_buffer(buffer: LeadBuffer) -> None:
    """After an erasure of her address with a buffer eraser: her leads and cursor gone, the company lead
    without her, globex as it was; her served lead still in the registry (a push of it is skipped as served,
    never buffered again), her waiting one not (it was never served); the other workspace's untouched."""
    page = await buffer.served(ServedQuery(WS))
    [company] = page.items
    assert company.lead.company_name == "Acme" and company.data is None
    assert [e["email"] for e in company.enrichment.emails] == [GRACE]
    assert company.enrichment.emails[0]["email_type"] == "primary"
    assert await buffer.get_cursor(WS, BUFFER_NS) is None
    assert (await buffer.get_cursor(WS, "plain")) is not None
    waiting = await buffer.claim(WS, BUFFER_NS, parent_run_id=None, token="after", lease_until=NOW, now=NOW)
    assert waiting is not None and waiting.lead.domain == "globex.io" and waiting.data == {"list": "q3"}
    again = await buffer.push(WS, BUFFER_NS, buffer_records(WS)[:1])
    assert (again.buffered, again.already_served) == (0, 1)  # the registry: never served twice
    others = (await buffer.served(ServedQuery(OTHER))).items
    assert len(others) == 2 and ADA in json.dumps([r.enrichment.result for r in others])
    assert (await buffer.get_cursor(OTHER, BUFFER_NS)) is not None


def lead_of(item: Item) -> dict[str, Any]:
    return item.lead.model_dump(exclude_none=True)


__all__ = [
    "ADA",
    "ADA_HOOK",
    "ADA_PERSON",
    "BOB",
    "BUFFER_ERASED",
    "BUFFER_NS",
    "CACHED",
    "CHANGED_CACHE",
    "COMPANY_LEAD_ID",
    "ERASED_COUNTS",
    "GRACE",
    "JOB",
    "KEPT_CACHE",
    "LEAD_ID",
    "NOW",
    "OTHER",
    "TRACES",
    "WS",
    "FailingEraser",
    "buffer_records",
    "check_buffer",
    "check_cache",
    "check_items",
    "dynamo_text",
    "erase_ada",
    "hook_delivery",
    "items",
    "job_of",
    "places",
    "seed_buffer",
    "seed_cache",
    "seed_items",
    "sqlite_text",
    "traces",
]
