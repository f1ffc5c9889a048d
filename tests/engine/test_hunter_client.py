"""Hunter client: every status of providers.md §1.7 classified, over httpx.MockTransport; and the client is
the engine's HunterPort, raising exactly the problems the waterfall's scripted fakes raise."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from leadenrich.deadline import Deadline
from leadenrich.engine.ports import HunterPort
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from tests.support.scripted_providers import (
    FORBIDDEN,
    KEY_REFUSED,
    OPTED_OUT,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    SERVER_ERROR,
    STILL_VERIFYING,
    TOO_MANY_REQUESTS,
    Problem,
)

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> HunterClient:
    return HunterClient(
        "secret-key",
        base_url="https://hunter.test/v2",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


def error(status: int, error_id: str, details: str = "", headers: dict[str, str] | None = None) -> Handler:
    body = {"errors": [{"id": error_id, "code": status, "details": details}]}
    return lambda _req: httpx.Response(status, json=body, headers=headers)


DOMAIN_SEARCH: dict[str, Any] = {
    "data": {
        "domain": "acme.com",
        "disposable": False,
        "webmail": False,
        "accept_all": False,
        "pattern": "{first}.{last}",
        "organization": "Acme Inc",
        "emails": [
            {
                "value": "olivia.martin@acme.com",
                "type": "personal",
                "confidence": 96,
                "first_name": "Olivia",
                "last_name": "Martin",
                "position": "CEO",
                "seniority": "executive",
                "verification": {"date": "2026-11-01", "status": "valid"},
                "unknown_new_field": {"x": 1},
            }
        ],
    },
    "meta": {"results": 1, "limit": 10, "offset": 0},
}


async def test_domain_search_sends_the_key_in_a_header_never_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=DOMAIN_SEARCH)

    result = await client(handler).domain_search("acme.com", deadline=Deadline.after(10), type="personal")
    assert seen[0].headers["X-API-KEY"] == "secret-key"
    assert "secret-key" not in str(seen[0].url)
    assert seen[0].url.params["type"] == "personal"
    assert result.pattern == "{first}.{last}"
    assert result.emails[0].verification.status == "valid"
    assert result.credits == 1.0


async def test_domain_search_credits_are_per_ten_rows_and_free_when_empty() -> None:
    data: dict[str, Any] = DOMAIN_SEARCH["data"]
    rows = [dict(data["emails"][0], value=f"p{i}@acme.com") for i in range(11)]
    body = {"data": dict(data, emails=rows)}
    full = await client(lambda _r: httpx.Response(200, json=body)).domain_search(
        "acme.com", deadline=Deadline.after(5)
    )
    assert full.credits == 2.0
    empty_body = {"data": dict(data, emails=[])}
    empty = await client(lambda _r: httpx.Response(200, json=empty_body)).domain_search(
        "acme.com", deadline=Deadline.after(5)
    )
    assert empty.credits == 0.0


@pytest.mark.parametrize(
    ("handler", "outcome", "http_status"),
    [
        (lambda _r: httpx.Response(202), Outcome.PENDING, 202),
        (lambda _r: httpx.Response(222, json={"errors": [{"id": "smtp"}]}), Outcome.TRANSIENT, 222),
        (error(400, "invalid_email", "bad"), Outcome.PERMANENT, 400),
        (error(401, "unauthorized", "Invalid API key."), Outcome.PERMANENT, 401),
        (error(402, "payment_required", "exhausted"), Outcome.QUOTA_EXHAUSTED, 402),
        (error(403, "too_many_requests", "rate limit"), Outcome.THROTTLED, 403),
        (error(403, "forbidden", "not allowed"), Outcome.PERMANENT, 403),
        (
            error(
                429,
                "too_many_requests",
                "You've reached the limit for the number of searches per billing period",
            ),
            Outcome.QUOTA_EXHAUSTED,
            429,
        ),
        (error(429, "too_many_requests", "Slow down", {"Retry-After": "3"}), Outcome.THROTTLED, 429),
        (error(451, "claimed_email", "opted out"), Outcome.OPTED_OUT, 451),
        (lambda _r: httpx.Response(502, text="<html>Bad Gateway</html>"), Outcome.TRANSIENT, 502),
        (lambda _r: httpx.Response(500, json={"errors": [{"id": "x"}]}), Outcome.TRANSIENT, 500),
        (lambda _r: httpx.Response(200, text="<html>proxy</html>"), Outcome.TRANSIENT, 200),
        (lambda _r: httpx.Response(200, json={"meta": {}}), Outcome.TRANSIENT, 200),
        (lambda _r: httpx.Response(200, content=b'{"data": {"email": "a@b.c", "sta'), Outcome.TRANSIENT, 200),
        (lambda _r: httpx.Response(200, json={"data": {"status": "valid"}}), Outcome.TRANSIENT, 200),
        (lambda _r: httpx.Response(404, json={"errors": [{"id": "not_found"}]}), Outcome.PERMANENT, 404),
    ],
)
async def test_every_status_is_classified(handler: Handler, outcome: Outcome, http_status: int) -> None:
    with pytest.raises(ProviderProblem) as caught:
        await client(handler).email_verifier("jane@acme.com", deadline=Deadline.after(10))
    assert caught.value.outcome is outcome
    assert caught.value.http_status == http_status
    assert "secret-key" not in str(caught.value)


async def test_retry_after_is_passed_on_and_defaults_exist() -> None:
    with pytest.raises(ProviderProblem) as throttled:
        await client(error(429, "too_many_requests", "", {"Retry-After": "7"})).account(
            deadline=Deadline.after(5)
        )
    assert throttled.value.retry_after == 7.0
    with pytest.raises(ProviderProblem) as pending:
        await client(lambda _r: httpx.Response(202)).email_verifier("a@acme.com", deadline=Deadline.after(5))
    assert pending.value.retry_after and pending.value.retry_after > 0


async def test_timeouts_and_transport_errors_are_transient() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (timeout, refused):
        with pytest.raises(ProviderProblem) as caught:  # the deadline is far: the provider was too slow
            await client(handler).domain_search("acme.com", deadline=Deadline.after(100))
        assert caught.value.outcome is Outcome.TRANSIENT


async def test_a_timeout_while_the_deadline_binds_is_ours_not_the_providers() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(DeadlineReached) as caught:
        await client(timeout).domain_search("acme.com", deadline=Deadline.after(5))
    assert caught.value.sent


async def test_no_call_is_made_when_the_deadline_has_passed() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=DOMAIN_SEARCH)

    with pytest.raises(DeadlineReached):
        await client(handler).domain_search("acme.com", deadline=Deadline.after(0.1))
    assert calls == []


async def test_timeout_is_bounded_by_the_deadline() -> None:
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"data": {"email": "jane@acme.com", "status": "valid", "score": 95}})

    await client(handler).email_verifier("jane@acme.com", deadline=Deadline.after(4))
    assert 0 < seen[0]["read"] <= 4


async def test_finder_not_found_is_a_result_with_no_credit_and_max_duration_fits_the_deadline() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"email": None, "score": None, "accept_all": None}})

    result = await client(handler).email_finder("acme.com", "Jane", "Doe", deadline=Deadline.after(8))
    assert result.email is None and result.credits == 0
    assert 3 <= int(seen[0].url.params["max_duration"]) <= 6


async def test_verifier_credits_follow_hunters_billing() -> None:
    def answer(status: str) -> Handler:
        body = {"data": {"email": "a@acme.com", "status": status, "score": 50}}
        return lambda _r: httpx.Response(200, content=json.dumps(body).encode())

    for status, credits in (
        ("valid", 1.0),
        ("invalid", 1.0),
        ("accept_all", 1.0),
        ("unknown", 0.0),
        ("webmail", 0.0),
    ):
        result = await client(answer(status)).email_verifier("a@acme.com", deadline=Deadline.after(5))
        assert result.credits(1.0) == credits
    assert (await client(answer("valid")).email_verifier("a@acme.com", deadline=Deadline.after(5))).credits(
        0.5
    ) == 0.5


async def test_odd_rows_are_dropped_but_still_billed() -> None:
    data: dict[str, Any] = dict(DOMAIN_SEARCH["data"], accept_all=None)
    good = dict(data["emails"][0], confidence=95.5, verification=None)
    data["emails"] = [good, {"confidence": 80}, None]
    result = await client(lambda _r: httpx.Response(200, json={"data": data})).domain_search(
        "acme.com", deadline=Deadline.after(5)
    )
    assert [e.value for e in result.emails] == ["olivia.martin@acme.com"]
    assert result.emails[0].confidence == 96 and result.emails[0].verification.status is None
    assert result.credits == 1.0 and result.returned_rows == 3 and result.accept_all is False


async def test_a_trickling_body_cannot_outlive_the_deadline() -> None:
    class Trickle(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(50):  # 5 s of body, one byte every 0.1 s: no single read ever times out
                await asyncio.sleep(0.1)
                yield b" "

    with pytest.raises(DeadlineReached) as caught:
        await client(lambda _r: httpx.Response(200, stream=Trickle())).email_verifier(
            "a@acme.com", deadline=Deadline.after(1.0)
        )
    assert caught.value.sent and "cut at the deadline" in str(caught.value)


async def test_the_client_is_the_port_the_waterfall_calls() -> None:
    """mypy checks the assignment (the client satisfies HunterPort structurally); the call goes through
    the port's signature to the endpoint with the waterfall's filters."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=DOMAIN_SEARCH)

    port: HunterPort = client(handler)
    result = await port.domain_search(
        "acme.com", deadline=Deadline.after(10), type="personal", seniority="executive"
    )
    assert result.pattern == "{first}.{last}"
    assert (seen[0].url.params["type"], seen[0].url.params["seniority"]) == ("personal", "executive")


@pytest.mark.parametrize(
    ("handler", "scripted"),
    [
        (error(402, "payment_required", "exhausted"), QUOTA_EXHAUSTED),
        (error(401, "unauthorized", "Invalid API key."), KEY_REFUSED),
        (error(429, "too_many_requests", "Slow down"), TOO_MANY_REQUESTS),
        (error(403, "too_many_requests", "rate limit"), RATE_LIMITED),
        (lambda _r: httpx.Response(503), SERVER_ERROR),
        (error(403, "forbidden", "not allowed"), FORBIDDEN),
        (error(451, "claimed_email", "opted out"), OPTED_OUT),
        (lambda _r: httpx.Response(202), STILL_VERIFYING),
    ],
)
async def test_the_scripted_problems_are_the_clients(handler: Handler, scripted: Problem) -> None:
    """The waterfall's unit tests script these problems behind the port: each is what the client raises
    for the HTTP answer, so the two sets of tests meet."""
    with pytest.raises(ProviderProblem) as caught:
        await client(handler).email_verifier("jane@acme.com", deadline=Deadline.after(10))
    problem = caught.value
    client_side, scripted_side = scripted.classified_as(problem)
    assert client_side == scripted_side
    assert problem.reason == f"/email-verifier: {scripted.reason}"
