"""Scripted Hunter and Perplexity on httpx.MockTransport: what the waterfall's unit tests run against.

`Script` holds what each provider answers and records every request, so a test can pin down the exact
calls a decision costs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.ratelimit import RateLimiter
from leadenrich.engine.waterfall import Enricher

TODAY = date(2026, 11, 22)
RECENT = (TODAY - timedelta(days=5)).isoformat()


def row(
    email: str,
    position: str | None = "CEO",
    confidence: int = 85,
    verified: str | None = None,
    verified_on: str | None = None,
    kind: str = "personal",
    sources: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    local = email.split("@")[0]
    first, _, last = local.partition(".")
    return {
        "value": email,
        "type": kind,
        "confidence": confidence,
        "first_name": first.title() if kind == "personal" else None,
        "last_name": last.title() if kind == "personal" and last else None,
        "position": position,
        "seniority": "executive" if position else None,
        "department": "executive",
        "verification": {"date": verified_on, "status": verified},
        "sources": sources or [],
    }


def sighting(still_on_page: bool = True, days_ago: int = 10) -> dict[str, Any]:
    """One of Hunter's `sources` entries: a page that showed the address."""
    seen = (TODAY - timedelta(days=days_ago)).isoformat()
    return {"uri": "http://acme.com/team", "last_seen_on": seen, "still_on_page": still_on_page}


@dataclass
class Script:
    """What the scripted providers answer, and every request they received."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by domain
    generic_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pattern: dict[str, str] = field(default_factory=dict)
    accept_all: set[str] = field(default_factory=set)
    mailboxes: set[str] = field(default_factory=set)
    verifier_status: dict[str, tuple[int, str]] = field(default_factory=dict)  # email -> (http, status)
    finder: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # perplexity answers by domain
    search_urls: list[str] = field(default_factory=lambda: ["https://acme.com/about"])
    hunter_status: int | None = None  # force every Hunter answer to this error status
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)  # endpoint -> (status, error id)
    perplexity_status: int | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(path)]

    def hunter(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hunter_status:
            return httpx.Response(self.hunter_status, json={"errors": [{"id": "x", "details": "forced"}]})
        for endpoint, (error_status, error_id) in self.errors.items():
            if request.url.path.endswith(endpoint):
                return httpx.Response(error_status, json={"errors": [{"id": error_id, "code": error_status}]})
        params = request.url.params
        if request.url.path.endswith("/domain-search"):
            domain = params["domain"]
            rows = (
                self.generic_rows.get(domain, [])
                if params.get("type") == "generic"
                else self.rows.get(domain, [])
            )
            data = {
                "domain": domain,
                "webmail": False,
                "disposable": False,
                "accept_all": domain in self.accept_all,
                "pattern": self.pattern.get(domain),
                "emails": rows,
            }
            return httpx.Response(200, json={"data": data, "meta": {"results": len(rows)}})
        if request.url.path.endswith("/email-verifier"):
            email = params["email"]
            code, status = self.verifier_status.get(email, (200, ""))
            if code != 200:
                return httpx.Response(
                    code, json={"errors": [{"id": "claimed_email"}]} if code == 451 else None
                )
            domain = email.split("@")[1]
            if not status:
                status = (
                    "accept_all"
                    if domain in self.accept_all
                    else "valid"
                    if email in self.mailboxes
                    else "invalid"
                )
            score = {"valid": 95, "accept_all": 60, "invalid": 5}.get(status, 0)
            return httpx.Response(200, json={"data": {"email": email, "status": status, "score": score}})
        if request.url.path.endswith("/email-finder"):
            key = (params["first_name"].lower(), params["last_name"].lower())
            return httpx.Response(200, json={"data": self.finder.get(key, {"email": None, "score": None})})
        return httpx.Response(404)

    def perplexity(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.perplexity_status:
            return httpx.Response(self.perplexity_status, text="<html>401 Authorization Required</html>")
        text = json.loads(request.content)["input"]
        domain = next((d for d in self.people if d in text), None)
        answer = {"decision_makers": self.people.get(domain or "", [])}
        return httpx.Response(
            200,
            json={
                "status": "completed",
                "output": [
                    {"type": "search_results", "results": [{"url": u} for u in self.search_urls]},
                    {"type": "message", "content": [{"type": "output_text", "text": json.dumps(answer)}]},
                ],
                "usage": {"cost": {"total_cost": 0.005}},
            },
        )


Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)


def make_enricher(
    script: Script,
    with_perplexity: bool = True,
    hunter_handler: Handler | None = None,
    perplexity_handler: Handler | None = None,
    limiter: RateLimiter | None = None,
) -> Enricher:
    """An Enricher on the scripted providers; a handler given here replaces the script's for that provider."""
    hunter = HunterClient(
        "k",
        base_url="https://hunter.test/v2",
        http=httpx.AsyncClient(transport=httpx.MockTransport(hunter_handler or script.hunter)),
    )
    perplexity = PerplexityClient(
        "p",
        base_url="https://pplx.test",
        http=httpx.AsyncClient(transport=httpx.MockTransport(perplexity_handler or script.perplexity)),
    )
    return Enricher(
        hunter,
        perplexity if with_perplexity else None,
        ResultCache(InMemoryCache()),
        clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC),
        limiter=limiter,
    )
