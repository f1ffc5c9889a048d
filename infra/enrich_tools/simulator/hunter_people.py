"""Hunter's Email Enrichment (`GET /v2/people/find?email=`), answered from the simulator's world.

Through Hunter's front end like every v2 route (hunter_gate.py): authentication (the test key is not
accepted: Hunter's test key covers the three search endpoints only), per-key throttling (403, or 429 with
`Retry-After`), parameters (400 `wrong_params`, `invalid_email`), quota, injected 5xx, latency, then the
answer and its charge. Who it knows: a person Hunter indexed (`Person.indexed_by_hunter`) at their company's
address (200, the Clearbit-shaped body client code reads); anyone else, and a role address, is 404
`not_found` (free); a person who opted out is 451 `claimed_email` (free). A profile costs 1 search credit on
a Data Platform plan, 0.2 on All-in-one, charged only when found (providers.md §5); a repeat in the billing
period is free.

Throttling: 15 requests a second and 500 a minute per key, as Hunter's other enrichment endpoints
(providers.md §1.8, unverified), unless `people_find_rps` / `people_find_rpm` knobs exist, with a window of
its own.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.domains import email_domain
from enrich_tools.simulator.entities import Company, Person
from enrich_tools.simulator.hunter_gate import error, guard, injected_5xx, quota_refusal, settle
from enrich_tools.simulator.state import SimState
from enrich_tools.simulator.wire import counted, json_response, sim

_ENDPOINT = "people_find"
_ID_SPACE = uuid.UUID("8d0f9a44-9b53-4c4e-9d2b-3f7c2a1e6b10")


def _cost(state: SimState) -> float:
    return 1.0 if state.config.billing_plan == "data_platform" else 0.2


def _throttled(state: SimState, key: str) -> Response | None:
    """The per-key window of this endpoint, answered as `hunter_gate.guard` answers the others."""
    config = state.config
    rps = int(getattr(config, f"{_ENDPOINT}_rps", config.email_finder_rps))
    rpm = int(getattr(config, f"{_ENDPOINT}_rpm", config.email_finder_rpm))
    wait = state.hunter_windows.admit((key, _ENDPOINT), [(rps, 1.0), (rpm, 60.0)])
    if wait is None:
        return None
    details = f"You have reached the rate limit of {rps} requests per second and {rpm} requests per minute."
    if config.rate_limit_mode == "403":
        return error(403, "too_many_requests", details)
    headers = {"Retry-After": str(max(1, math.ceil(wait)))} if config.retry_after else None
    return error(429, "too_many_requests", details, headers)


def person_data(state: SimState, company: Company, person: Person, email: str) -> dict[str, Any]:
    """The `data` of a found person: Hunter's Clearbit-shaped profile."""
    linkedin = person.linkedin_url.rstrip("/").rsplit("/", 1)[-1] if person.linkedin_url else None
    indexed = state.clock.today().isoformat()
    return {
        "id": str(uuid.uuid5(_ID_SPACE, email)),
        "name": {
            "fullName": person.full_name,
            "givenName": person.first_name,
            "familyName": person.last_name or None,
        },
        "email": email,
        "location": None,
        "timeZone": None,
        "utcOffset": None,
        "geo": {
            "city": None,
            "state": None,
            "stateCode": None,
            "country": None,
            "countryCode": company.country,
            "lat": None,
            "lng": None,
        },
        "bio": None,
        "site": None,
        "avatar": None,
        "employment": {
            "domain": company.domain,
            "name": company.name,
            "title": person.position if person.hunter_has_position else None,
            "role": person.department if person.hunter_has_position else None,
            "subRole": None,
            "seniority": person.seniority if person.hunter_has_position else None,
        },
        "facebook": {"handle": None},
        "github": {"handle": None, "id": None, "avatar": None, "company": None, "blog": None},
        "twitter": {"handle": None, "id": None, "bio": None, "followers": None, "following": None},
        "linkedin": {"handle": linkedin},
        "googleplus": {"handle": None},
        "gravatar": {"handle": None, "urls": [], "avatar": None, "avatars": []},
        "fuzzy": False,
        "emailProvider": None,
        "indexedAt": indexed,
        "phone": None,
        "activeAt": indexed,
        "inactiveAt": None,
    }


@counted("hunter.people_find")
async def people_find(request: Request) -> Response:
    state = sim(request)
    key, refused = guard(state, request, "account", test_key_ok=False)  # authentication only
    if refused:
        return refused
    refused = _throttled(state, key)
    if refused:
        return refused
    email = request.query_params.get("email", "").strip().lower()
    if not email:
        return error(400, "wrong_params", "You are missing the email parameter.")
    if email_domain(email) is None:
        return error(400, "invalid_email", "The email address is invalid.")
    if state.world.is_claimed(email):
        return error(451, "claimed_email", "The owner of this email address asked us to stop processing it.")
    cost = _cost(state)
    input_key = ("people_find", state.billing_period(), email)
    refused = quota_refusal(state, "searches", cost, input_key) or injected_5xx(
        state, state.dice("hunter.people_find", email)
    )
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(state.config.latency_email_finder))
    owner = state.world.mailbox_owner(email)
    company, person = owner if owner is not None else (None, None)
    known = company is not None and person is not None and person.indexed_by_hunter
    refused = settle(state, request, "searches", cost if known else 0.0, cost, input_key)
    if refused:
        return refused
    if not known or company is None or person is None:
        return error(404, "not_found", "No person was found for this email address.")
    return json_response({"data": person_data(state, company, person, email), "meta": {"email": email}})


routes = [Route("/v2/people/find", people_find, methods=["GET"])]
