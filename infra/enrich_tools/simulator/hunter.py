"""Hunter v2 routes (`/v2/...`): parameter validation, the answers and their charges.

Order of checks per request, as a provider's front end does it: authentication (401), per-key rate limit
(403, or 429 with `Retry-After`), parameters (400), `test-api-key` dummy answer, quota (402 or 429), an
injected 5xx, simulated latency, then the answer and its charge (the front-end steps: hunter_gate.py).
Injected failures are drawn per input and attempt (see faults.py). Choices where providers.md is silent:
the free-plan `limit > 10` error uses id `wrong_params`; Email Finder on a webmail or disposable domain
answers "not found" rather than an error; URLs and `www.` in `domain` are accepted and normalised.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.domains import DISPOSABLE_DOMAINS, WEBMAIL_DOMAINS, email_domain, normalise_domain
from enrich_tools.simulator.entities import Company
from enrich_tools.simulator.hunter_answers import (
    TEST_DOMAIN_SEARCH,
    TEST_EMAIL_FINDER,
    TEST_EMAIL_VERIFIER,
    TEST_KEY,
    count_data,
    domain_facts,
    domain_rows,
    filter_rows,
    find_email,
    verify,
)
from enrich_tools.simulator.hunter_gate import error, guard, injected_5xx, quota_refusal, settle
from enrich_tools.simulator.ledger import as_number
from enrich_tools.simulator.names import match_key
from enrich_tools.simulator.roles import DEPARTMENTS, SENIORITIES
from enrich_tools.simulator.state import SimState
from enrich_tools.simulator.wire import counted, generation, json_response, sim

_SMTP_FAILURE = "The verification failed because of an unexpected response from the remote SMTP server."
_FINDER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "score",
    "domain",
    "accept_all",
    "position",
    "twitter",
    "linkedin_url",
    "phone_number",
    "company",
    "sources",
    "verification",
)
_CHARGED_STATUSES = frozenset({"valid", "invalid", "accept_all"})


def _int_param(raw: str | None, default: int) -> int | None:
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def _list_param(raw: str | None, allowed: tuple[str, ...]) -> set[str] | None:
    """A comma-separated filter; None when a value is not allowed."""
    values = {v.strip().lower() for v in (raw or "").split(",") if v.strip()}
    return values if values <= set(allowed) else None


def _name_ok(name: str) -> bool:
    return 0 < len(name) <= 100 and any(c.isalpha() for c in name) and not any(c.isdigit() for c in name)


def _company(state: SimState, domain: str | None, company_name: str) -> Company | None:
    if domain:
        return state.world.company(domain)
    return state.world.company_by_name(company_name) if company_name else None


@counted("hunter.domain_search")
async def domain_search(request: Request) -> Response:
    state = sim(request)
    config, query = state.config, request.query_params
    key, refused = guard(state, request, "domain_search", test_key_ok=True)
    if refused:
        return refused
    raw_domain, raw_company = query.get("domain", "").strip(), query.get("company", "").strip()
    if not raw_domain and not raw_company:
        return error(400, "wrong_params", "You are missing the domain or company parameter.")
    limit, offset = _int_param(query.get("limit"), 10), _int_param(query.get("offset"), 0)
    if limit is None or offset is None or not 1 <= limit <= 100 or offset < 0:
        return error(400, "wrong_params", "limit must be between 1 and 100 and offset must not be negative.")
    if config.free_plan and limit > 10:
        return error(
            400, "wrong_params", "Your plan is limited to 10 emails per request. Upgrade to see more."
        )
    kind = query.get("type") or None
    if kind not in (None, "personal", "generic"):
        return error(400, "invalid_type", "type must be personal or generic.")
    seniorities = _list_param(query.get("seniority"), SENIORITIES)
    departments = _list_param(query.get("department"), DEPARTMENTS)
    required = query.get("required_field") or None
    if (
        seniorities is None
        or departments is None
        or required not in (None, "full_name", "position", "phone_number")
    ):
        return error(
            400, "wrong_params", "seniority, department or required_field has a value Hunter does not know."
        )
    domain = normalise_domain(raw_domain) if raw_domain else None
    if raw_domain and domain is None:
        return error(400, "invalid_domain", "The domain name is invalid.")
    if key == TEST_KEY:
        return json_response(TEST_DOMAIN_SEARCH)
    company = _company(state, domain, raw_company)
    domain = domain or (company.domain if company else None)
    input_key = (
        "domain_search",
        state.billing_period(),
        domain or raw_company.casefold(),
        kind,
        tuple(sorted(seniorities)),
        tuple(sorted(departments)),
        required,
        limit,
        offset,
    )
    rows = filter_rows(domain_rows(state.world, company), kind, seniorities, departments, required)
    page = rows[offset : offset + limit]
    cost = math.ceil(len(page) / 10)
    refused = quota_refusal(state, "searches", max(cost, 1), input_key) or injected_5xx(
        state, state.dice("hunter.domain_search", *input_key[2:])
    )
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(config.latency_domain_search))
    refused = settle(state, request, "searches", cost, 1, input_key)
    if refused:
        return refused
    params = {
        "domain": domain,
        "company": raw_company or None,
        "type": kind,
        "seniority": query.get("seniority"),
        "department": query.get("department"),
    }
    data = {**domain_facts(state.world, domain, company), "emails": page}
    return json_response(
        {"data": data, "meta": {"results": len(rows), "limit": limit, "offset": offset, "params": params}}
    )


@counted("hunter.email_finder")
async def email_finder(request: Request) -> Response:
    state = sim(request)
    config, params_in = state.config, request.query_params
    key, refused = guard(state, request, "email_finder", test_key_ok=True)
    if refused:
        return refused
    raw_domain, raw_company = params_in.get("domain", "").strip(), params_in.get("company", "").strip()
    if not raw_domain and not raw_company:
        return error(400, "wrong_params", "You are missing the domain or company parameter.")
    first, last = params_in.get("first_name", "").strip(), params_in.get("last_name", "").strip()
    full = params_in.get("full_name", "").strip()
    if full:
        parts = full.split()
        if len(parts) < 2 or not _name_ok(full):
            return error(400, "invalid_full_name", "The full name must contain a first name and a last name.")
        first, last = parts[0], " ".join(parts[1:])
    elif not first and not last:
        return error(
            400, "wrong_params", "You are missing the first_name and last_name, or full_name parameters."
        )
    elif not _name_ok(first):
        return error(400, "invalid_first_name", "The first name is invalid.")
    elif not _name_ok(last):
        return error(400, "invalid_last_name", "The last name is invalid.")
    max_duration = _int_param(params_in.get("max_duration"), 10)
    if max_duration is None or not 3 <= max_duration <= 20:
        return error(400, "invalid_max_duration", "max_duration must be an integer between 3 and 20.")
    domain = normalise_domain(raw_domain) if raw_domain else None
    if raw_domain and domain is None:
        return error(400, "invalid_domain", "The domain name is invalid.")
    if key == TEST_KEY:
        return json_response(TEST_EMAIL_FINDER)
    company = _company(state, domain, raw_company)
    domain = domain or (company.domain if company else None)
    webmail = domain in WEBMAIL_DOMAINS or domain in DISPOSABLE_DOMAINS
    if domain and not webmail and (company is None or not company.has_mx):
        return error(400, "invalid_domain", "The domain name is invalid or has no MX record.")
    input_key = ("email_finder", state.billing_period(), domain, match_key(first), match_key(last))
    refused = quota_refusal(state, "searches", 1, input_key) or injected_5xx(
        state, state.dice("hunter.email_finder", *input_key[2:])
    )
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(config.latency_email_finder, cap=float(max_duration)))
    meta = {
        "params": {
            "first_name": params_in.get("first_name"),
            "last_name": params_in.get("last_name"),
            "full_name": full or None,
            "domain": domain,
            "company": raw_company or None,
            "max_duration": max_duration,
        }
    }
    result = find_email(state.world, company, first, last) if company and not webmail else None
    if result is not None and result.email is not None and state.world.is_claimed(result.email):
        return error(451, "claimed_email", "The owner of this email address asked us to stop processing it.")
    found = result is not None and result.email is not None
    refused = settle(state, request, "searches", 1 if found else 0, 1, input_key)
    if refused:
        return refused
    if result is None or result.email is None:
        nothing: dict[str, Any] = dict.fromkeys(_FINDER_FIELDS)
        nothing.update(first_name=first, last_name=last, domain=domain, sources=[])
        nothing.update(company=company.name if company else None, verification={"date": None, "status": None})
        return json_response({"data": nothing, "meta": meta})
    person = result.person
    assert company is not None
    data: dict[str, Any] = {
        "first_name": person.first_name if person else first,
        "last_name": (person.last_name or None) if person else last,
        "email": result.email,
        "score": result.score,
        "domain": domain,
        "accept_all": company.accept_all,
        "position": person.position
        if person and person.indexed_by_hunter and person.hunter_has_position
        else None,
        "twitter": None,
        "linkedin_url": person.linkedin_url if person else None,
        "phone_number": None,
        "company": company.name,
        "sources": result.sources,
        "verification": result.verification,
    }
    return json_response({"data": data, "meta": meta})


def _pending(retry_after: int) -> Response:
    """A 202 (still verifying), with the Retry-After the knob asks for (Hunter sends none)."""
    return Response(status_code=202, headers={"Retry-After": str(retry_after)} if retry_after else None)


@counted("hunter.email_verifier")
async def email_verifier(request: Request) -> Response:
    state = sim(request)
    config = state.config
    key, refused = guard(state, request, "email_verifier", test_key_ok=True)
    if refused:
        return refused
    email = request.query_params.get("email", "").strip().lower()
    if not email:
        return error(400, "wrong_params", "You are missing the email parameter.")
    if email_domain(email) is None:
        return error(400, "invalid_email", "The email address is invalid.")
    if key == TEST_KEY:
        return json_response(TEST_EMAIL_VERIFIER)
    if state.world.is_claimed(email):
        return error(451, "claimed_email", "The owner of this email address asked us to stop processing it.")
    unit = 1.0 if config.billing_plan == "data_platform" else 0.5
    input_key = ("email_verifier", state.billing_period(), email)
    refused = quota_refusal(state, "verifications", unit, input_key)
    if refused:
        return refused
    dice = state.dice("hunter.email_verifier", email)
    refused = injected_5xx(state, dice)
    if refused:
        return refused
    noted = generation(request)
    pending = state.pending_202.get(email)
    if pending is not None and pending > 0:
        if state.current(noted):
            state.pending_202[email] = pending - 1
        await state.clock.sleep(config.latency_before_202)
        return _pending(config.retry_after_202)
    first_time = pending is None and email not in state.settled_emails
    if first_time and dice.chance("202", config.share_202) and config.polls_202 > 0:
        if state.current(noted):
            state.pending_202[email] = config.polls_202 - 1
        await state.clock.sleep(config.latency_before_202)
        return _pending(config.retry_after_202)
    if state.current(noted):
        state.pending_202.pop(email, None)
    if dice.chance("222", config.share_222):
        return error(222, "verification_failed", _SMTP_FAILURE)
    await state.clock.sleep(state.clock.draw(config.latency_email_verifier))
    data = verify(state.world, email, unknown=dice.chance("unknown", config.share_unknown))
    charged = data["status"] in _CHARGED_STATUSES
    refused = settle(state, request, "verifications", unit if charged else 0.0, unit, input_key)
    if refused:
        return refused
    if state.current(noted):
        state.settled_emails.add(email)
    return json_response({"data": data, "meta": {"params": {"email": email}}})


@counted("hunter.email_count")
async def email_count(request: Request) -> Response:
    state = sim(request)
    _, refused = guard(state, request, "email_count", test_key_ok=False)
    if refused:
        return refused
    query = request.query_params
    raw_domain, raw_company = query.get("domain", "").strip(), query.get("company", "").strip()
    if not raw_domain and not raw_company:
        return error(400, "wrong_params", "You are missing the domain or company parameter.")
    kind = query.get("type") or None
    if kind not in (None, "personal", "generic"):
        return error(400, "invalid_type", "type must be personal or generic.")
    domain = normalise_domain(raw_domain) if raw_domain else None
    if raw_domain and domain is None:
        return error(400, "invalid_domain", "The domain name is invalid.")
    refused = injected_5xx(state, state.dice("hunter.email_count", domain or raw_company.casefold(), kind))
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(state.config.latency_email_count))
    company = _company(state, domain, raw_company)
    params = {
        "domain": domain or (company.domain if company else None),
        "company": raw_company or None,
        "type": kind,
    }
    return json_response({"data": count_data(state.world, company, kind), "meta": {"params": params}})


@counted("hunter.account")
async def account(request: Request) -> Response:
    state = sim(request)
    config = state.config
    _, refused = guard(state, request, "account", test_key_ok=False)
    if refused:
        return refused
    await state.clock.sleep(state.clock.draw(config.latency_account))
    today = state.clock.today()
    reset = today.replace(year=today.year + (today.month == 12), month=today.month % 12 + 1, day=1)
    searches, verifications = state.ledger.used("searches"), state.ledger.used("verifications")
    plan = (
        "Free"
        if config.free_plan
        else "Growth"
        if config.billing_plan == "data_platform"
        else "Growth (All-in-one)"
    )
    requests: dict[str, Any] = {
        "searches": {"used": as_number(searches), "available": as_number(config.search_credits)},
        "verifications": {
            "used": as_number(verifications),
            "available": as_number(config.verification_credits),
        },
    }
    if config.billing_plan == "unified":
        total = config.search_credits + config.verification_credits
        requests["credits"] = {"used": as_number(searches + verifications), "available": as_number(total)}
    data = {
        "first_name": "Simulated",
        "last_name": "Account",
        "email": "simulator@localhost",
        "plan_name": plan,
        "plan_level": 0 if config.free_plan else 2,
        "reset_date": reset.isoformat(),
        "team_id": 1,
        "calls": {
            "_deprecation_notice": "Sums the searches and the verifications: an imprecise view of the quota.",
            "used": as_number(searches + verifications),
            "available": as_number(config.search_credits + config.verification_credits),
        },
        "requests": requests,
    }
    return json_response({"data": data})


routes = [
    Route("/v2/domain-search", domain_search, methods=["GET"]),
    Route("/v2/email-finder", email_finder, methods=["GET"]),
    Route("/v2/email-verifier", email_verifier, methods=["GET"]),
    Route("/v2/email-count", email_count, methods=["GET"]),
    Route("/v2/account", account, methods=["GET"]),
]
