"""Perplexity Agent API fake over real HTTP: strict bodies, search, structured answers, run statuses,
background polling, throttling, injected faults, and the retired Sonar endpoint."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from anyascii import anyascii

from enrich_tools.simulator import SimulatorServer
from enrich_tools.simulator.names import match_key
from enrich_tools.simulator.perplexity_answers import Lookup, json_answer
from tests.support.simulator import PPLX_KEY

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "decision_makers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "title": {"type": "string"},
                    "source_urls": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "title", "source_urls"],
            },
        }
    },
    "required": ["decision_makers"],
}


def lookup_body(domain: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "perplexity/sonar",
        "instructions": "List the people who currently run the company, with sources.",
        "input": f"Who are the current decision-makers of the company whose website is {domain}?",
        "tools": [{"type": "web_search"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "decision_makers", "schema": SCHEMA},
        },
        "max_output_tokens": 1024,
    }
    body.update(extra)
    return body


def message_text(response: dict[str, Any]) -> str:
    return "".join(
        part["text"] for item in response["output"] if item["type"] == "message" for part in item["content"]
    )


def search_urls(response: dict[str, Any]) -> list[str]:
    items = [item for item in response["output"] if item["type"] == "search_results"]
    return [result["url"] for item in items for result in item["results"]]


def test_structured_answer_matches_the_world(sim: SimulatorServer, pplx: httpx.Client) -> None:
    response = pplx.post("/v1/responses", json=lookup_body("nordlicht-energie.de"))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["error"] is None
    assert [item["type"] for item in body["output"]] == ["search_results", "message"]
    people = json.loads(message_text(body))["decision_makers"]
    assert people[0] == {
        "name": "Jürgen Müller",
        "title": "Geschäftsführer",
        "source_urls": ["https://nordlicht-energie.de/impressum"],
    }
    assert people[1]["source_urls"] == []  # named without a source
    assert "https://nordlicht-energie.de/impressum" in search_urls(body)
    cost = body["usage"]["cost"]
    assert cost["currency"] == "USD"
    assert cost["total_cost"] == pytest.approx(
        cost["input_cost"] + cost["output_cost"] + cost["tool_calls_cost"]
    )
    assert cost["tool_calls_cost"] > 0
    assert sim.ledger.perplexity_cost == pytest.approx(cost["total_cost"])


def test_answers_cite_search_results_exactly_when_the_world_says_so(
    sim: SimulatorServer, pplx: httpx.Client
) -> None:
    companies = [c for c in sim.world.companies if c.perplexity][:40]
    for company in companies:
        body = pplx.post("/v1/responses", json=lookup_body(company.domain)).json()
        urls = set(search_urls(body))
        people = json.loads(message_text(body))["decision_makers"]
        assert [p["name"] for p in people] == [a.name for a in company.perplexity]
        dm_keys = {match_key(p.full_name) for p in company.decision_makers}
        for person, answer in zip(people, company.perplexity, strict=True):
            cited = bool(set(person["source_urls"]) & urls)
            assert cited == answer.cited
            if answer.label == "current" and not person["name"].count(" ") > 1:
                assert match_key(person["name"]) in dm_keys


def test_unknown_company_gives_an_empty_list(sim: SimulatorServer, pplx: httpx.Client) -> None:
    unknown = next(c for c in sim.world.companies if not c.perplexity)
    body = pplx.post("/v1/responses", json=lookup_body(unknown.domain)).json()
    assert json.loads(message_text(body)) == {"decision_makers": []}
    assert search_urls(body) == []


def test_no_search_without_a_tool_or_preset(pplx: httpx.Client) -> None:
    body = lookup_body("acme-robotics.com")
    del body["tools"]
    answer = pplx.post("/v1/responses", json=body).json()
    assert [item["type"] for item in answer["output"]] == ["message"]
    people = json.loads(message_text(answer))["decision_makers"]
    assert people
    assert all(p["source_urls"] == [] for p in people)
    assert answer["usage"]["cost"]["tool_calls_cost"] == 0
    del body["model"]
    body["preset"] = "fast"
    with_preset = pplx.post("/v1/agent", json=body).json()
    assert search_urls(with_preset)


def test_plain_text_without_a_schema(pplx: httpx.Client) -> None:
    body = lookup_body("acme-robotics.com")
    del body["response_format"]
    text = message_text(pplx.post("/v1/responses", json=body).json())
    assert "Sarah O'Brien" in text
    assert not text.startswith("{")


@pytest.mark.parametrize(
    ("extra", "param", "kind"),
    [
        ({"messages": []}, "messages", "invalid_request"),
        ({"search_domain_filter": ["acme.com"]}, "search_domain_filter", "invalid_request"),
        ({"text": {"format": {"type": "json_schema"}}}, "text", "invalid_request"),
        ({"model": "sonar"}, "model", "invalid_model"),
        ({"max_output_tokens": 8}, "max_output_tokens", "invalid_parameter"),
        ({"tools": [{"type": "crystal_ball"}]}, "tools", "invalid_parameter"),
        ({"response_format": {"type": "json_object"}}, "response_format", "invalid_parameter"),
        ({"input": ""}, "input", "invalid_request"),
    ],
)
def test_strict_body_rejects_unknown_or_bad_fields(
    pplx: httpx.Client, extra: dict[str, Any], param: str, kind: str
) -> None:
    response = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com", **extra))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == kind
    assert error["code"] == 400
    if param in ("messages", "text"):
        assert error["message"] == f'invalid request body: json: unknown field "{param}"'


def schema_with(prop: object) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"decision_makers": {"type": "array", "items": prop}}}
    return {"type": "json_schema", "json_schema": {"name": "dm", "schema": schema}}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"preset": ["fast"]}, "preset"),
        ({"input": [{"role": ["user"], "content": "acme-robotics.com"}]}, "input"),
        ({"tools": [{"type": ["web_search"]}]}, "tools"),
        ({"tools": [{"type": {"name": "web_search"}}]}, "tools"),
        ({"reasoning": {"effort": ["low"]}}, "reasoning"),
        (
            {"response_format": schema_with({"type": "object", "properties": {"name": True}})},
            "response_format",
        ),
        ({"response_format": schema_with(["not", "a", "schema"])}, "response_format"),
        ({"response_format": schema_with({"type": "object", "properties": ["name"]})}, "response_format"),
        ({"response_format": schema_with({"type": {"object": 1}})}, "response_format"),
    ],
)
def test_values_of_the_wrong_type_are_a_400_naming_the_param(
    sim: SimulatorServer, pplx: httpx.Client, extra: dict[str, Any], param: str
) -> None:
    response = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com", **extra))
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": response.json()["error"]["message"],
        "type": "invalid_parameter",
        "code": 400,
        "param": param,
    }
    assert sim.ledger.status_count("perplexity.responses", 400) == 1


def test_first_and_last_names_come_from_the_person_record(sim: SimulatorServer) -> None:
    person_schema = {
        "type": "object",
        "properties": {"first_name": {"type": "string"}, "last_name": {"type": "string"}},
    }
    schema = {"type": "object", "properties": {"people": {"type": "array", "items": person_schema}}}
    checked = multi_word = 0
    for company in sim.world.companies:
        answered = json.loads(json_answer(schema, Lookup(company.domain, company), True))["people"]
        for answer, item in zip(company.perplexity, answered, strict=True):
            if answer.label != "current":
                continue
            spoken = anyascii(answer.name)
            person = next(
                p
                for p in company.people
                if spoken == anyascii(p.full_name)
                or (
                    spoken.startswith(f"{anyascii(p.first_name)} ")
                    and spoken.endswith(f" {anyascii(p.last_name)}")
                )
            )
            names = (item["first_name"], item["last_name"])
            assert names in {
                (person.first_name, person.last_name),
                (anyascii(person.first_name), anyascii(person.last_name)),
            }
            checked += 1
            multi_word += " " in person.first_name or answer.name.count(" ") > person.full_name.count(" ")
    assert checked > 100
    assert multi_word > 5  # "Mary Ann" + "Harris", "Jason" (Brian) "Walker"


def test_perplexity_faults_are_drawn_per_input_whatever_the_order(sim: SimulatorServer) -> None:
    domains = [c.domain for c in sim.world.companies if c.perplexity][:24]

    def outcomes(order: list[str]) -> dict[str, tuple[int, str, str]]:
        sim.reset()
        sim.configure(
            perplexity_share_5xx=0.2, perplexity_share_failed=0.2, share_fenced=0.4, share_think=0.4
        )
        headers = {"Authorization": f"Bearer {PPLX_KEY}"}
        out = {}
        with httpx.Client(base_url=sim.perplexity_base_url, headers=headers) as client:
            for domain in order:
                response = client.post("/v1/responses", json=lookup_body(domain))
                body = response.json()
                status = body["status"] if response.status_code == 200 else body["error"]["type"]
                text = message_text(body) if response.status_code == 200 else ""
                out[domain] = (response.status_code, str(status), text)
        return out

    forward = outcomes(domains)
    assert outcomes(domains[::-1]) == forward
    assert {code for code, _, _ in forward.values()} > {200}
    assert {status for _, status, _ in forward.values()} >= {"completed", "failed"}
    assert any(text.startswith("<think>") for _, _, text in forward.values())


def test_failed_runs_come_back_as_http_200(sim: SimulatorServer, pplx: httpx.Client) -> None:
    sim.configure(perplexity_share_failed=1.0)
    response = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert body["output"] == []
    assert body["error"]["message"]


def test_incomplete_when_max_output_tokens_is_too_small(pplx: httpx.Client) -> None:
    body = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com", max_output_tokens=16)).json()
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 16
    with pytest.raises(json.JSONDecodeError):
        json.loads(message_text(body))


def test_background_runs_are_polled_until_complete(sim: SimulatorServer, pplx: httpx.Client) -> None:
    sim.configure(background_polls=2)
    queued = pplx.post("/v1/responses", json=lookup_body("brightlane.co.uk", background=True)).json()
    assert queued["status"] == "queued"
    assert queued["output"] == []
    polls = [pplx.get(f"/v1/responses/{queued['id']}").json() for _ in range(3)]
    assert [p["status"] for p in polls] == ["in_progress", "in_progress", "completed"]
    assert json.loads(message_text(polls[-1]))["decision_makers"][0]["name"] == "Pieter van der Berg"
    assert pplx.get("/v1/responses/resp_nope").status_code == 404
    other = httpx.get(
        f"{sim.base_url}/v1/responses/{queued['id']}", headers={"Authorization": "Bearer other"}
    )
    assert other.status_code == 404


def test_rate_limit_429_with_headers(sim: SimulatorServer, pplx: httpx.Client) -> None:
    sim.configure(perplexity_rpm=50, perplexity_qps=1.0)
    first = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com"))
    second = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com"))
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit"] == "50"
    assert second.status_code == 429
    assert second.json()["error"]["type"] == "request_rate_limit_exceeded"
    assert second.headers["x-ratelimit-limit"] == "50"
    assert int(second.headers["x-ratelimit-remaining"]) >= 0
    assert int(second.headers["x-ratelimit-reset"]) >= 1
    assert sim.ledger.status_count("perplexity", 429) == 1


def test_auth_errors_json_or_openresty_html(sim: SimulatorServer) -> None:
    sim.configure(accept_any_key=False)
    url = f"{sim.base_url}/v1/responses"
    wrong = httpx.post(url, json=lookup_body("acme-robotics.com"), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == 401
    sim.configure(html_401=True)
    html = httpx.post(url, json=lookup_body("acme-robotics.com"))
    assert html.status_code == 401
    assert html.headers["content-type"].startswith("text/html")
    assert "openresty" in html.text


def test_injected_server_errors(sim: SimulatorServer, pplx: httpx.Client) -> None:
    sim.configure(perplexity_share_5xx=1.0)
    response = pplx.post("/v1/responses", json=lookup_body("acme-robotics.com"))
    assert response.status_code in (500, 502, 504)
    assert response.json()["error"]["type"] in ("internal_error", "bad_gateway", "gateway_timeout")


@pytest.mark.parametrize(
    ("knob", "check"),
    [
        ("share_fenced", lambda text: text.startswith("```json\n") and text.endswith("\n```")),
        ("share_think", lambda text: text.startswith("<think>") and "</think>" in text),
        ("share_truncated", lambda text: text.startswith('{"decision_makers"') and not text.endswith("}")),
    ],
)
def test_formatting_faults(sim: SimulatorServer, pplx: httpx.Client, knob: str, check: Any) -> None:
    sim.configure(**{knob: 1.0})
    text = message_text(pplx.post("/v1/responses", json=lookup_body("acme-robotics.com")).json())
    assert check(text)


def test_first_use_of_a_schema_is_slow(sim: SimulatorServer, pplx: httpx.Client) -> None:
    sim.configure(time_scale=1.0, schema_first_use_delay=0.6, latency_perplexity=[0.0, 0.0])
    started = time.monotonic()
    pplx.post("/v1/responses", json=lookup_body("acme-robotics.com"))
    first = time.monotonic() - started
    started = time.monotonic()
    pplx.post("/v1/responses", json=lookup_body("brightlane.co.uk"))
    assert first >= 0.6
    assert time.monotonic() - started < 0.3


def test_sonar_runs_are_in_the_ledger_and_take_time(sim: SimulatorServer, pplx: httpx.Client) -> None:
    sim.configure(time_scale=1.0, latency_perplexity=[0.4, 0.4])
    body = {"model": "sonar", "messages": [{"role": "user", "content": "Who runs acme-robotics.com?"}]}
    started = time.monotonic()
    response = pplx.post("/chat/completions", json=body)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    usage = response.json()["usage"]
    snapshot = sim.ledger.snapshot()
    assert snapshot["perplexity"]["runs"] == {"completed": 1}
    assert snapshot["perplexity_cost_usd"] == pytest.approx(usage["cost"]["total_cost"])
    assert snapshot["perplexity"]["input_tokens"] == usage["prompt_tokens"]
    assert snapshot["perplexity"]["output_tokens"] == usage["completion_tokens"]


def test_sonar_is_retired_after_the_configured_date(sim: SimulatorServer, pplx: httpx.Client) -> None:
    body = {"model": "sonar", "messages": [{"role": "user", "content": "Who runs acme-robotics.com?"}]}
    before = pplx.post("/chat/completions", json=body)
    assert before.status_code == 200
    assert before.json()["object"] == "chat.completion"
    assert "https://acme-robotics.com/about" in before.json()["citations"]
    assert pplx.post("/chat/completions", json={**body, "model": "sonar-turbo"}).json()["error"]["type"] == (
        "invalid_model"
    )
    sim.configure(fixed_date="2026-09-28")
    for path in ("/chat/completions", "/v1/chat/completions", "/v1/sonar"):
        after = pplx.post(path, json=body)
        assert after.status_code == 410
        assert "Agent API" in after.json()["error"]["message"]
    sim.configure(legacy_retired_on="2026-12-31")
    assert pplx.post("/chat/completions", json=body).status_code == 200
