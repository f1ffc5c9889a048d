"""Perplexity Agent API (`POST /v1/responses`): who runs a company, with the sources that say so.

Sonar chat completions was retired on 2026-09-27; this client speaks only the Agent API. The request asks
for web search explicitly (the Agent API answers from model memory otherwise) and for structured JSON. The
answer is read defensively: HTTP 200 can still be a failed run, JSON can come fenced, prefixed by a
`<think>` block, or truncated, and names can come without any source that the search actually returned.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.models import Provider
from leadenrich.engine.ports import PERPLEXITY_MIN_CALL_SECONDS
from leadenrich.engine.providers.http import ProviderHttp, json_body, retry_after_seconds
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity_models import DecisionMakers, ModelAnswer, NamedPerson

DEFAULT_BASE_URL = "https://api.perplexity.ai"
MODEL = "perplexity/sonar"
# The first call with a new schema can take 10-30 s (providers.md §2.3); later ones are fast.
TIMEOUT = 60.0
THROTTLE_RETRY_AFTER = 5.0
SERVER_ERROR_RETRY_AFTER = 30.0

# Byte-stable across calls: Perplexity caches compiled schemas, and a changed schema is slow again.
DECISION_MAKERS_SCHEMA: dict[str, Any] = {
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
RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "decision_makers", "schema": DECISION_MAKERS_SCHEMA},
}
INSTRUCTIONS = (
    "You research companies for a B2B sales team. Use web search. List the people who currently run the "
    "company: founders, owners, CEO, managing director, president, other C-level. Give each person's full "
    "name as written in the sources, their current title, and the URLs of the pages that say so. Never "
    "guess: leave a person out when no source names them, and answer an empty list when you find nobody."
)


class PerplexityClient(ProviderHttp):
    provider = Provider.PERPLEXITY
    key_variable = "PERPLEXITY_API_KEY"

    def __init__(
        self, api_key: str, *, base_url: str = DEFAULT_BASE_URL, http: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(api_key, base_url=base_url, http=http)

    @staticmethod
    def request_body(domain: str, company_name: str | None) -> dict[str, Any]:
        company = (
            f"{company_name} (website {domain})" if company_name else f"the company whose website is {domain}"
        )
        return {
            "model": MODEL,
            "instructions": INSTRUCTIONS,
            "input": f"Who are the current decision-makers of {company}?",
            "tools": [{"type": "web_search"}],
            "response_format": RESPONSE_FORMAT,
            "max_output_tokens": 1024,
        }

    async def find_decision_makers(
        self, domain: str, company_name: str | None, *, deadline: Deadline
    ) -> DecisionMakers:
        response = await self._send(
            "POST",
            "/v1/responses",
            deadline=deadline,
            cap=TIMEOUT,
            minimum=PERPLEXITY_MIN_CALL_SECONDS,
            json=self.request_body(domain, company_name),
            headers={"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
        )
        return parse_agent_response(response)


def parse_agent_response(response: httpx.Response) -> DecisionMakers:
    status = response.status_code
    body = json_body(response)
    err = body.get("error") if body else None
    err_type = str(err.get("type")) if isinstance(err, dict) and err.get("type") else None

    def problem(outcome: Outcome, reason: str, retry_after: float | None = None) -> ProviderProblem:
        return ProviderProblem(
            Provider.PERPLEXITY,
            outcome,
            reason,
            http_status=status,
            error_id=err_type,
            retry_after=retry_after,
        )

    if status != 200:
        waited = retry_after_seconds(response)
        if status in (401, 403):
            raise problem(Outcome.PERMANENT, f"the API key was refused ({status})")
        if status == 402:
            raise problem(Outcome.QUOTA_EXHAUSTED, "the account has no credit left (402)")
        if status == 429:
            reset = _rate_limit_reset(response)
            raise problem(Outcome.THROTTLED, "request rate limit exceeded (429)", waited or reset)
        if status == 424 or status >= 500:
            raise problem(
                Outcome.TRANSIENT, f"server error {status} ({err_type})", waited or SERVER_ERROR_RETRY_AFTER
            )
        raise problem(Outcome.PERMANENT, f"request rejected ({status} {err_type})")
    if body is None:
        raise problem(Outcome.TRANSIENT, "200 with a body that is not JSON", SERVER_ERROR_RETRY_AFTER)
    run_status = body.get("status")
    if run_status in ("queued", "in_progress"):
        raise problem(Outcome.PENDING, f"run is {run_status}", THROTTLE_RETRY_AFTER)
    if run_status in ("failed", "cancelled"):
        message = err.get("message", "") if isinstance(err, dict) else ""  # never an address: a run error
        raise problem(Outcome.TRANSIENT, f"run {run_status}: {str(message)[:200]}", SERVER_ERROR_RETRY_AFTER)
    if run_status == "incomplete":
        details = body.get("incomplete_details")
        why = details.get("reason") if isinstance(details, dict) else details
        raise problem(Outcome.TRANSIENT, f"run incomplete: {str(why)[:80]}", SERVER_ERROR_RETRY_AFTER)
    if run_status != "completed":
        raise problem(Outcome.TRANSIENT, f"unexpected run status {run_status!r}", SERVER_ERROR_RETRY_AFTER)

    cost = _cost(body)
    try:
        texts, search_urls = _read_output(body.get("output"))
        answer = ModelAnswer.model_validate(json.loads(extract_json_text("".join(texts))))
    except (ValueError, TypeError, ValidationError) as exc:
        raise ProviderProblem(
            Provider.PERPLEXITY,
            Outcome.TRANSIENT,
            "the answer was not the requested JSON",
            http_status=status,
            retry_after=SERVER_ERROR_RETRY_AFTER,
            cost_usd=cost,
        ) from exc

    known = {_url_key(u) for u in search_urls}
    people = [
        NamedPerson(
            name=p.name.strip(),
            title=p.title.strip(),
            source_urls=p.source_urls,
            sourced=any(_url_key(u) in known for u in p.source_urls),
        )
        for p in answer.decision_makers
        if p.name.strip()
    ]
    return DecisionMakers(people=people, search_urls=search_urls, cost_usd=cost)


def _read_output(output: Any) -> tuple[list[str], list[str]]:
    """The message texts and the search result URLs of a run's `output`, skipping malformed items."""
    texts: list[str] = []
    urls: list[str] = []
    for item in output if isinstance(output, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "search_results" and isinstance(item.get("results"), list):
            urls += [
                r["url"] for r in item["results"] if isinstance(r, dict) and isinstance(r.get("url"), str)
            ]
        elif item.get("type") == "message" and isinstance(item.get("content"), list):
            texts += [
                part["text"]
                for part in item["content"]
                if isinstance(part, dict)
                and part.get("type") == "output_text"
                and isinstance(part.get("text"), str)
            ]
    return texts, urls


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json_text(text: str) -> str:
    """The JSON object inside a model's text: without `<think>` blocks or markdown fences."""
    text = _THINK.sub("", text).strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the answer")
    return text[start : end + 1]


def _url_key(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}"


def _cost(body: dict[str, Any]) -> float:
    usage = body.get("usage")
    cost = usage.get("cost") if isinstance(usage, dict) else None
    total = cost.get("total_cost") if isinstance(cost, dict) else None
    return float(total) if isinstance(total, int | float) else 0.0


def _rate_limit_reset(response: httpx.Response) -> float:
    for header in ("x-ratelimit-reset-requests", "x-ratelimit-reset"):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.5, float(value.rstrip("s")))
            except ValueError:
                continue
    return THROTTLE_RETRY_AFTER
