"""`/_sim/*`: ground truth, ledger, reset and runtime knobs, for tests, benchmarks and curious humans.

Not part of either provider's API and never counted in the ledger. No authentication: the simulator only
listens on loopback.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.config import ConfigError
from enrich_tools.simulator.entities import Company
from enrich_tools.simulator.showcase import SHOWCASE_DOMAINS
from enrich_tools.simulator.wire import json_response, sim


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def company_json(company: Company) -> dict[str, Any]:
    """A company's full record (people, Hunter's view, Perplexity's answers) as JSON values."""
    record = dataclasses.asdict(company)
    return {key: _jsonable(value) for key, value in record.items()}


async def health(request: Request) -> Response:
    state = sim(request)
    return json_response({
        "status": "ok",
        "simulated": True,
        "seed": state.config.seed,
        "companies": len(state.world.companies),
        "showcase_domains": list(SHOWCASE_DOMAINS),
    })  # fmt: skip


async def truth(request: Request) -> Response:
    state = sim(request)
    domain = request.query_params.get("domain", "").strip()
    if not domain:
        return json_response({"error": {"message": "domain is required", "param": "domain"}}, 400)
    answer = {key: _jsonable(value) for key, value in dataclasses.asdict(state.world.truth(domain)).items()}
    company = state.world.company(domain)
    answer["company"] = company_json(company) if company else None
    return json_response(answer)


async def ledger(request: Request) -> Response:
    state = sim(request)
    snapshot = state.ledger.snapshot()
    snapshot["available"] = {
        "searches": state.config.search_credits,
        "verifications": state.config.verification_credits,
    }
    return json_response(snapshot)


async def reset(request: Request) -> Response:
    sim(request).reset()
    return json_response({"reset": True})


async def get_config(request: Request) -> Response:
    return json_response(sim(request).config.to_json())


async def patch_config(request: Request) -> Response:
    state = sim(request)
    try:
        changes = json.loads(await request.body())
    except ValueError:
        changes = None
    if not isinstance(changes, dict):
        return json_response({"error": {"message": "send a JSON object of knob values"}}, 400)
    try:
        before = state.world
        changed = state.apply_config(changes)
    except ConfigError as exc:
        return json_response({"error": {"message": str(exc), "knob": exc.knob}}, 400)
    return json_response({
        "config": state.config.to_json(),
        "changed": sorted(changed),
        "world_regenerated": state.world is not before,
    })  # fmt: skip


routes = [
    Route("/_sim/health", health, methods=["GET"]),
    Route("/_sim/truth", truth, methods=["GET"]),
    Route("/_sim/ledger", ledger, methods=["GET"]),
    Route("/_sim/reset", reset, methods=["POST"]),
    Route("/_sim/config", get_config, methods=["GET"]),
    Route("/_sim/config", patch_config, methods=["PATCH"]),
]
