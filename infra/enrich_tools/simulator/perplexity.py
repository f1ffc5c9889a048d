"""Perplexity routes: the Agent API (`POST /v1/responses` = `POST /v1/agent`, `GET /v1/responses/{id}`)
and the retired Sonar chat completions (`POST /chat/completions`, `/v1/chat/completions`, `/v1/sonar`).

Agent API behaviour (providers.md §2.2, §4): Bearer auth (401 JSON with type `forbidden`, or openresty's
HTML page when `html_401`); per-key token buckets at `perplexity_rpm` / `perplexity_qps` with
`X-RateLimit-Limit/Remaining/Reset` on every answer (Reset = whole seconds until a request would pass);
strict bodies (unknown field -> 400 with `param`); injected 5xx (`internal_error` 500, `bad_gateway` 502,
`gateway_timeout` 504); HTTP 200 runs with `status: failed`; `incomplete` when the answer needs more
than `max_output_tokens`; `background: true` answers `queued` and completes after `background_polls`
polls (polls are not throttled; a response is visible only to the key that created it).
`stream: true` is refused with a 400 that says the simulator does not stream. Model slugs must look like
`provider/model` (a bare Sonar slug such as `sonar` is `invalid_model`).

Sonar: after `legacy_retired_on` (the last supported day) every legacy call answers **410 Gone** with
type `endpoint_retired` and a message that Sonar is now the Agent API; we chose 410 over 400 because the
resource itself is gone, whatever the body. Before that date a minimal Sonar answer is served after
`latency_perplexity`, and its run and cost go to the ledger like an Agent API run.

Injected faults are drawn per request input and attempt (faults.py), not in arrival order.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.perplexity_request import BadRequest, parse_request, subject
from enrich_tools.simulator.perplexity_responses import agent_run, pending, sonar_completion
from enrich_tools.simulator.state import SimState, StoredResponse
from enrich_tools.simulator.wire import counted, generation, html_response, json_response, sim

SONAR_MODELS = frozenset({"sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research"})
MAX_BODY = 32 * 1024 * 1024


def _error(
    status: int, kind: str, message: str, param: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": status}
    if param is not None:
        error["param"] = param
    return json_response({"error": error}, status, headers)


def _authenticate(state: SimState, request: Request) -> tuple[str, Response | None]:
    authorization = request.headers.get("authorization", "")
    key = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    config = state.config
    if key and (key in config.perplexity_api_keys or config.accept_any_key):
        return key, None
    if config.html_401:
        return key, html_response(401, "401 Authorization Required", "openresty/1.25.3.1")
    return key, _error(401, "forbidden", "Invalid API key provided.")


@counted("perplexity.responses")
async def create_response(request: Request) -> Response:
    state = sim(request)
    config = state.config
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return _error(413, "payload_too_large", "The request body is larger than 32 MiB.")
    key, refused = _authenticate(state, request)
    if refused:
        return refused
    verdict = state.perplexity_buckets.take(key, config.perplexity_rpm, config.perplexity_qps)
    headers = verdict.headers()
    if not verdict.allowed:
        message = f"Rate limit exceeded: {config.perplexity_rpm} requests per minute. Retry later."
        return _error(429, "request_rate_limit_exceeded", message, headers=headers)
    try:
        parsed = parse_request(json.loads(await request.body()))
    except ValueError as exc:
        return _error(400, "invalid_request", f"invalid request body: {exc}", headers=headers)
    except BadRequest as exc:
        return _error(400, exc.kind, exc.message, exc.param, headers)
    noted = generation(request)
    dice = state.dice("perplexity.responses", *subject(parsed))
    if dice.chance("5xx", config.perplexity_share_5xx):
        status, kind = dice.pick(
            "5xx_status", ((500, "internal_error"), (502, "bad_gateway"), (504, "gateway_timeout"))
        )
        return _error(status, kind, "The upstream model failed. Retry the request.", headers=headers)
    delay = 0.0
    if parsed.schema is not None:
        schema_key = json.dumps(parsed.schema, sort_keys=True)
        if schema_key not in state.schemas_seen:
            if state.current(noted):
                state.schemas_seen.add(schema_key)
            delay += config.schema_first_use_delay
    run = agent_run(state, parsed, state.new_id("resp"), dice, noted)
    if parsed.background:
        if state.current(noted):
            state.responses[run["id"]] = StoredResponse(key, run, config.background_polls)
        return json_response(pending(run, "queued"), headers=headers)
    bounds = (
        config.latency_perplexity_preset
        if parsed.preset not in (None, "fast", "fast-search")
        else config.latency_perplexity
    )
    await state.clock.sleep(delay + state.clock.draw(bounds))
    if parsed.store and state.current(noted):
        state.responses[run["id"]] = StoredResponse(key, run)
    return json_response(run, headers=headers)


@counted("perplexity.responses_get")
async def get_response(request: Request) -> Response:
    state = sim(request)
    key, refused = _authenticate(state, request)
    if refused:
        return refused
    stored = state.responses.get(request.path_params["response_id"])
    if stored is None or stored.api_key != key:
        return _error(404, "not_found", "No response with this id exists for this API key.")
    if stored.polls_left > 0:
        stored.polls_left -= 1
        return json_response(pending(stored.final, "in_progress"))
    return json_response(stored.final)


@counted("perplexity.chat_completions")
async def chat_completions(request: Request) -> Response:
    state = sim(request)
    config = state.config
    if state.clock.today() > config.legacy_retired_on:
        message = (
            f"Sonar chat completions was retired after {config.legacy_retired_on.isoformat()}: "
            "Sonar is now the Agent API. Send POST /v1/responses (or POST /v1/agent) with input, "
            "tools [{type: web_search}] and response_format instead."
        )
        return _error(410, "endpoint_retired", message)
    key, refused = _authenticate(state, request)
    if refused:
        return refused
    verdict = state.perplexity_buckets.take(f"{key}|sonar", config.perplexity_rpm, config.perplexity_qps)
    if not verdict.allowed:
        return _error(429, "rate_limit_exceeded", "Rate limit exceeded. Retry later.")
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        detail = [{"loc": ["body", "messages"], "msg": "Field required", "type": "missing"}]
        return json_response({"detail": detail}, 422)
    assert isinstance(body, dict)
    model = body.get("model")
    if model not in SONAR_MODELS:
        return _error(
            400,
            "invalid_model",
            f"Invalid model {model!r}. Permitted models: {', '.join(sorted(SONAR_MODELS))}.",
        )
    answer = sonar_completion(state, body, messages, str(model))
    tokens = answer["usage"]
    cost = tokens["cost"]["total_cost"]
    noted = generation(request)
    state.ledger.add_perplexity_run(
        "completed", cost, tokens["prompt_tokens"], tokens["completion_tokens"], noted
    )
    await state.clock.sleep(state.clock.draw(config.latency_perplexity))
    return json_response(answer)


routes = [
    Route("/v1/responses", create_response, methods=["POST"]),
    Route("/v1/agent", create_response, methods=["POST"]),
    Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
    Route("/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/sonar", chat_completions, methods=["POST"]),
]
