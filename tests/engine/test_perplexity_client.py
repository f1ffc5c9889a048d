"""Perplexity Agent API client: request shape and every answer of providers.md §2.2, over MockTransport;
and the client is the engine's PerplexityPort, raising exactly the problems the scripted fakes raise."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from leadenrich.deadline import Deadline
from leadenrich.engine.ports import PerplexityPort
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity import PerplexityClient, extract_json_text
from tests.support.scripted_providers import NOT_THE_REQUESTED_JSON, PERPLEXITY_KEY_REFUSED, Problem

Handler = Callable[[httpx.Request], httpx.Response]
SONAR_ONLY_FIELDS = {
    "messages",
    "search_mode",
    "return_images",
    "web_search_options",
    "disable_search",
    "stop",
}


def client(handler: Handler) -> PerplexityClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PerplexityClient("pplx-secret", base_url="https://pplx.test", http=http)


def completed(
    text: str, urls: list[str] | None = None, status: str = "completed", **extra: Any
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if urls is not None:
        output.append(
            {"type": "search_results", "queries": ["q"], "results": [{"id": 1, "url": u} for u in urls]}
        )
    output.append(
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
    )
    return {
        "id": "resp_1",
        "status": status,
        "output": output,
        "usage": {"cost": {"total_cost": 0.0061, "currency": "USD"}},
        "error": None,
        **extra,
    }


ANSWER = json.dumps(
    {
        "decision_makers": [
            {"name": "Olivia Martin", "title": "CEO", "source_urls": ["https://www.acme.com/about/"]},
            {"name": "Ghost Person", "title": "CTO", "source_urls": ["https://made-up.example/x"]},
            {"name": "No Source", "title": "COO", "source_urls": []},
        ]
    }
)


# No search results and no message content: once a crash, now a run read as not the requested JSON.
ODD_BODY: dict[str, Any] = {
    "status": "completed",
    "output": [{"type": "search_results", "results": None}, {"type": "message", "content": None}],
}


async def find(handler: Handler) -> Any:
    return await client(handler).find_decision_makers("acme.com", "Acme", deadline=Deadline.after(30))


async def test_request_is_an_agent_api_call_with_web_search_and_a_json_schema() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completed(ANSWER, ["https://acme.com/about"]))

    result = await find(handler)
    request = seen[0]
    body = json.loads(request.content)
    assert request.url.path == "/v1/responses"
    assert request.headers["Authorization"] == "Bearer pplx-secret"
    assert body["model"] == "perplexity/sonar"
    assert {"type": "web_search"} in body["tools"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "decision_makers"
    assert "acme.com" in body["input"]
    assert not SONAR_ONLY_FIELDS & body.keys()
    assert [p.name for p in result.people] == ["Olivia Martin", "Ghost Person", "No Source"]
    assert [p.sourced for p in result.people] == [True, False, False]
    assert result.cost_usd == pytest.approx(0.0061)


@pytest.mark.parametrize(
    "text",
    [
        f"```json\n{ANSWER}\n```",
        f"<think>Let me search for Acme's leadership.</think>\n{ANSWER}",
        f"Here is what I found:\n{ANSWER}\nHope this helps.",
    ],
)
async def test_fenced_prefixed_and_wrapped_json_is_read(text: str) -> None:
    result = await find(lambda _r: httpx.Response(200, json=completed(text, ["https://acme.com/about"])))
    assert result.people[0].name == "Olivia Martin"


@pytest.mark.parametrize(
    ("body_or_response", "outcome"),
    [
        (httpx.Response(200, json=completed(ANSWER[:40], [])), Outcome.TRANSIENT),  # truncated JSON
        (httpx.Response(200, json=completed('{"people": []}', [])), Outcome.TRANSIENT),  # wrong schema
        (
            httpx.Response(
                200, json=completed("", [], status="failed", error={"message": "upstream", "type": "x"})
            ),
            Outcome.TRANSIENT,
        ),
        (
            httpx.Response(
                200,
                json=completed(
                    ANSWER[:20], [], status="incomplete", incomplete_details={"reason": "max_output_tokens"}
                ),
            ),
            Outcome.TRANSIENT,
        ),
        (httpx.Response(200, json={"id": "r", "status": "queued", "output": []}), Outcome.PENDING),
        (httpx.Response(200, text="<html>oops</html>"), Outcome.TRANSIENT),
        (
            httpx.Response(
                401, text="<html><center><h1>401 Authorization Required</h1></center>openresty</html>"
            ),
            Outcome.PERMANENT,
        ),
        (
            httpx.Response(403, json={"error": {"message": "blocked", "type": "forbidden", "code": 403}}),
            Outcome.PERMANENT,
        ),
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "message": 'unknown field "x"',
                        "type": "invalid_request",
                        "code": 400,
                        "param": "x",
                    }
                },
            ),
            Outcome.PERMANENT,
        ),
        (
            httpx.Response(402, json={"error": {"message": "no credit", "type": "x", "code": 402}}),
            Outcome.QUOTA_EXHAUSTED,
        ),
        (
            httpx.Response(
                429,
                json={"error": {"message": "slow", "type": "request_rate_limit_exceeded", "code": 429}},
                headers={"X-RateLimit-Reset-Requests": "12s"},
            ),
            Outcome.THROTTLED,
        ),
        (
            httpx.Response(504, json={"error": {"message": "t", "type": "gateway_timeout", "code": 504}}),
            Outcome.TRANSIENT,
        ),
        (
            httpx.Response(424, json={"error": {"type": "external_connector_error", "code": 424}}),
            Outcome.TRANSIENT,
        ),
    ],
)
async def test_every_answer_is_classified(body_or_response: httpx.Response, outcome: Outcome) -> None:
    with pytest.raises(ProviderProblem) as caught:
        await find(lambda _r: body_or_response)
    assert caught.value.outcome is outcome
    assert "pplx-secret" not in str(caught.value)


async def test_rate_limit_reset_header_becomes_the_retry_delay() -> None:
    response = httpx.Response(
        429,
        json={"error": {"type": "request_rate_limit_exceeded", "code": 429}},
        headers={"X-RateLimit-Reset-Requests": "12s"},
    )
    with pytest.raises(ProviderProblem) as caught:
        await find(lambda _r: response)
    assert caught.value.retry_after == 12.0


async def test_timeout_is_transient() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ProviderProblem) as caught:
        await client(slow).find_decision_makers("acme.com", None, deadline=Deadline.after(300))
    assert caught.value.outcome is Outcome.TRANSIENT


def test_extract_json_text_rejects_text_without_an_object() -> None:
    with pytest.raises(ValueError, match="no JSON object"):
        extract_json_text("I could not find anyone.")


@pytest.mark.parametrize(
    "body",
    [
        {"status": "completed", "output": [{"type": "search_results", "results": None}]},
        {"status": "completed", "output": [{"type": "message", "content": None}]},
        ODD_BODY,
        {
            "status": "completed",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": None}]}],
        },
        {"status": "completed", "output": None, "usage": {"cost": {"total_cost": 0.004}}},
        {"status": "incomplete", "incomplete_details": "max_output_tokens"},
    ],
)
async def test_odd_bodies_are_transient_and_keep_their_cost(body: dict[str, Any]) -> None:
    with pytest.raises(ProviderProblem) as caught:
        await find(lambda _r: httpx.Response(200, json=body))
    assert caught.value.outcome is Outcome.TRANSIENT
    if "usage" in body:
        assert caught.value.cost_usd == pytest.approx(0.004)


async def test_odd_people_are_dropped_not_the_answer() -> None:
    text = json.dumps(
        {
            "decision_makers": [
                {"name": "Olivia Martin", "title": None, "source_urls": [5, "https://acme.com/about"]},
                "x",
                {"title": "CEO"},
            ]
        }
    )
    result = await find(lambda _r: httpx.Response(200, json=completed(text, ["https://acme.com/about"])))
    assert [(p.name, p.title, p.sourced) for p in result.people] == [("Olivia Martin", "", True)]


async def test_the_client_is_the_port_the_waterfall_calls() -> None:
    """mypy checks the assignment (the client satisfies PerplexityPort structurally); the call goes through
    the port's signature to the Agent API."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completed(ANSWER, ["https://acme.com/about"]))

    port: PerplexityPort = client(handler)
    result = await port.find_decision_makers("acme.com", "Acme", deadline=Deadline.after(30))
    assert result.people[0].name == "Olivia Martin"
    assert seen[0].url.path == "/v1/responses"


@pytest.mark.parametrize(
    ("response", "scripted"),
    [
        (
            httpx.Response(401, text="<html><center><h1>401 Authorization Required</h1></center></html>"),
            PERPLEXITY_KEY_REFUSED,
        ),
        (httpx.Response(200, json=ODD_BODY), NOT_THE_REQUESTED_JSON),
    ],
)
async def test_the_scripted_problems_are_the_clients(response: httpx.Response, scripted: Problem) -> None:
    """The waterfall's unit tests script these problems behind the port: each is what the client raises
    for the HTTP answer, so the two sets of tests meet."""
    with pytest.raises(ProviderProblem) as caught:
        await find(lambda _r: response)
    problem = caught.value
    client_side, scripted_side = scripted.classified_as(problem)
    assert client_side == scripted_side
    assert problem.reason == scripted.reason
