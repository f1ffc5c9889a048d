"""Hunter v2's company routes: `GET /v2/companies/find` (company enrichment) and `POST /v2/discover`.

Same front end as the other Hunter routes (`hunter_gate`): authentication (401; `test-api-key` is refused,
Hunter's test key covers only Domain Search, Email Finder and Email Verifier), per-key throttling (403, or
429 with `Retry-After`), parameters (400), quota (402 or 429), injected 5xx, latency, then the answer.

- `/companies/find?domain=`: the directory's company (Clearbit-shaped, `company_directory`), or 404
  `not_found` when Hunter has none (the id is our choice: providers.md is silent). Billed in the searches
  bucket only when a company is found: 1 credit on the "data_platform" plan, 0.2 on "unified" (providers.md
  §5), a repeat within the billing period free; `clearbit_format` is accepted (the answer is Clearbit's
  shape either way);
- `/discover` (a JSON body): the companies under an organization name (and/or domain), as
  `{"data": [{domain, organization, emails_count}], "meta": {results, limit, offset, params}}`; free.
  Only the organization filters are modelled: any other filter is refused 400 `wrong_params`, saying so,
  rather than silently ignored.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.company_directory import Entry, directory_of
from enrich_tools.simulator.domains import normalise_domain
from enrich_tools.simulator.hunter_answers import count_data
from enrich_tools.simulator.hunter_gate import error, guard, injected_5xx, quota_refusal, settle
from enrich_tools.simulator.state import SimState
from enrich_tools.simulator.wire import counted, json_response, sim

_MODELLED_FILTERS = frozenset({"organization", "limit", "offset"})
_MAX_BODY = 64 * 1024


@counted("hunter.companies_find")
async def companies_find(request: Request) -> Response:
    state = sim(request)
    _, refused = guard(state, request, "companies_find", test_key_ok=False)
    if refused:
        return refused
    raw = request.query_params.get("domain", "").strip()
    if not raw:
        return error(400, "wrong_params", "You are missing the domain parameter.")
    domain = normalise_domain(raw)
    if domain is None:
        return error(400, "invalid_domain", "The domain name is invalid.")
    data = directory_of(state.world).company_data(domain)
    unit = 1.0 if state.config.billing_plan == "data_platform" else 0.2
    input_key = ("companies_find", state.billing_period(), domain)
    refused = quota_refusal(state, "searches", unit if data else 0.0, input_key) or injected_5xx(
        state, state.dice("hunter.companies_find", domain)
    )
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(state.config.latency_companies_find))
    refused = settle(state, request, "searches", unit if data else 0.0, 0.0, input_key)
    if refused:
        return refused
    if data is None:
        return error(404, "not_found", "No company was found for this domain.")
    return json_response({"data": data, "meta": {"params": {"domain": domain}}})


@counted("hunter.discover")
async def discover(request: Request) -> Response:
    state = sim(request)
    _, refused = guard(state, request, "discover", test_key_ok=False)
    if refused:
        return refused
    body = await request.body()
    if len(body) > _MAX_BODY:
        return error(400, "wrong_params", "The request body is too large.")
    try:
        filters = json.loads(body) if body else None
    except ValueError:
        filters = None
    if not isinstance(filters, dict):
        return error(400, "wrong_params", "The body must be a JSON object of filters.")
    unmodelled = sorted(set(filters) - _MODELLED_FILTERS)
    if unmodelled:
        return error(
            400, "wrong_params", f"The simulator models only the organization filters, not: {unmodelled}."
        )
    organization = filters.get("organization")
    names = _strings(organization.get("name")) if isinstance(organization, dict) else None
    domains = _strings(organization.get("domain")) if isinstance(organization, dict) else None
    limit, offset = filters.get("limit", 100), filters.get("offset", 0)
    if names is None or domains is None or not (names or domains):
        return error(400, "wrong_params", "organization.name or organization.domain is required.")
    if not (_count(limit) and 1 <= limit <= 100 and _count(offset)):
        return error(400, "wrong_params", "limit must be between 1 and 100 and offset must not be negative.")
    refused = injected_5xx(state, state.dice("hunter.discover", names, domains))
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(state.config.latency_discover))
    directory = directory_of(state.world)
    found = [e for name in names for e in directory.named(name)]
    found += [e for d in domains if (e := directory.entry(normalise_domain(d) or "")) is not None]
    unique = list({e.domain: e for e in found}.values())
    page = unique[offset : offset + limit]
    results = [{"domain": e.domain, "organization": e.name, "emails_count": _emails(state, e)} for e in page]
    meta = {"results": len(unique), "limit": limit, "offset": offset, "params": filters}
    return json_response({"data": results, "meta": meta})


def _strings(value: Any) -> list[str] | None:
    """A filter value: one string or a list of strings (None when it is neither)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v.strip()]
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _emails(state: SimState, entry: Entry) -> dict[str, int]:
    if entry.twin:
        return {"personal": 0, "generic": 0, "total": 0}
    counts = count_data(state.world, entry.company, None)
    return {
        "personal": counts["personal_emails"],
        "generic": counts["generic_emails"],
        "total": counts["total"],
    }


routes = [
    Route("/v2/companies/find", companies_find, methods=["GET"]),
    Route("/v2/discover", discover, methods=["POST"]),
]
