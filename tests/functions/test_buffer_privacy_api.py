"""The lead buffer under the personal-data rules, through the API Lambda (DynamoDB on moto, the provider
simulator over real HTTP; every answer held to docs/openapi.json): each route that reads or writes personal
data leaves exactly one audit entry, and a person suppressed after being served is neither served again nor
listed by `GET /leads` (their addresses withheld from other leads too, as job results withhold them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

NS = "campaign-privacy"
CEO = "sarah.obrien@acme-robotics.com"  # the simulated Hunter's CEO of acme-robotics.com
DANIEL = {"domain": "acme-robotics.com", "first_name": "Daniel", "last_name": "Kim"}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def api(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lambda_env_on_moto(simulator, monkeypatch)
    yield
    runtime.reset()


def ok(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    status, body, _ = call(method, path, **kwargs)
    assert status == 200, (method, path, body)
    return body  # type: ignore[no-any-return]


def served(run: str) -> dict[str, Any]:
    answer = ok("POST", "/buffer/next", body={"namespace": NS, "parent_run_id": run})
    assert answer["found"], answer
    return answer["lead"]  # type: ignore[no-any-return]


def test_each_route_reading_or_writing_personal_data_is_audited_once() -> None:
    ok("POST", "/buffer/push", body={"namespace": NS, "leads": [{"domain": "acme-robotics.com"}]})
    lead = served("run-1")
    ok("GET", "/leads", query={"namespace": NS})
    ok("POST", "/enrich", body={"email": CEO})
    ok("PUT", f"/cursor/{NS}", body={"state": {"page": 2}})
    ok("GET", f"/cursor/{NS}")  # the caller's own opaque state: not a read of personal data
    entries = ok("GET", "/audit")["entries"]
    actions = Counter(e["action"] for e in entries)
    assert actions == {
        "buffer.push": 1,
        "buffer.next": 1,
        "leads.read": 1,
        "person.enrich": 1,
        "cursor.put": 1,
    }
    assert next(e for e in entries if e["action"] == "buffer.next")["target"] == lead["lead_id"]
    assert "obrien" not in str(entries).lower()


def test_a_person_suppressed_after_being_served_is_neither_served_again_nor_listed() -> None:
    leads = [{"domain": "acme-robotics.com"}, DANIEL]
    ok("POST", "/buffer/push", body={"namespace": NS, "leads": leads})
    company, person = served("run-company"), served("run-daniel")
    assert CEO in [e["email"] for e in company["emails"]] and person["first_name"] == "Daniel"
    listed = ok("GET", "/leads", query={"namespace": NS})["leads"]
    assert {lead["lead_id"] for lead in listed} == {company["lead_id"], person["lead_id"]}

    suppress = {"entries": [{"email": CEO}, {k: DANIEL[k] for k in ("first_name", "last_name", "domain")}]}
    ok("POST", "/suppressions", body=suppress)

    [shown] = ok("GET", "/leads", query={"namespace": NS})["leads"]  # Daniel's lead: left out
    assert shown["lead_id"] == company["lead_id"] and CEO not in str(shown)  # her address: withheld
    assert len(shown["emails"]) == len(company["emails"]) - 1
    assert ok("POST", "/buffer/next", body={"namespace": NS, "parent_run_id": "run-daniel"}) == {
        "found": False
    }
    retried = served("run-company")  # the company's run, retried: its lead, without her address
    assert retried["lead_id"] == company["lead_id"] and CEO not in str(retried)
    pushed = ok("POST", "/buffer/push", body={"namespace": NS, "leads": [DANIEL, {"email": CEO}]})
    assert pushed["skipped_suppressed"] == 2
