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
import re
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.faults import Dice
from enrich_tools.simulator.perplexity_answers import (
    Lookup,
    estimate_tokens,
    fence,
    json_answer,
    look_up,
    prose_answer,
    search_count,
    search_results,
    think_prefix,
    truncate_json,
    usage,
)
from enrich_tools.simulator.state import SimState, StoredResponse
from enrich_tools.simulator.wire import counted, generation, html_response, json_response, sim

ALLOWED_FIELDS = frozenset({
    "model", "input", "instructions", "tools", "tool_choice", "response_format", "max_output_tokens",
    "temperature", "top_p", "stream", "preset", "models", "max_steps", "max_tool_calls",
    "previous_response_id", "background", "metadata", "store", "truncation", "reasoning",
})  # fmt: skip
PRESETS = frozenset({"fast", "low", "medium", "high", "xhigh", "fast-search", "pro-search", "deep-research",
                     "advanced-deep-research"})  # fmt: skip
TOOL_TYPES = frozenset({"web_search", "fetch_url", "people_search", "finance_search", "function"})
ROLES = frozenset({"user", "assistant", "system", "developer"})
EFFORTS = frozenset({"minimal", "low", "medium", "high", "xhigh", "max"})
SONAR_MODELS = frozenset({"sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research"})
MAX_BODY = 32 * 1024 * 1024
_MODEL_RE = re.compile(r"^[a-z0-9][a-z0-9-]*/[A-Za-z0-9._:-]+$")
_SCHEMA_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, kind: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.message, self.param, self.kind = message, param, kind


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


@dataclass
class AgentRequest:
    """A validated Agent API body, reduced to what the simulator acts on."""

    model: str
    preset: str | None
    texts: list[str]
    schema: dict[str, Any] | None
    search: bool
    max_results: int
    max_output_tokens: int | None
    background: bool
    store: bool
    metadata: dict[str, Any] = field(default_factory=dict)


def _parse(body: object) -> AgentRequest:
    if not isinstance(body, dict):
        raise BadRequest("invalid request body: expected a JSON object", kind="invalid_request")
    for name in body:
        if name not in ALLOWED_FIELDS:
            raise BadRequest(f'invalid request body: json: unknown field "{name}"', name, "invalid_request")
    texts = _input_texts(body.get("input"))
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise BadRequest("instructions must be a string", "instructions")
    model, preset = body.get("model"), body.get("preset")
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        raise BadRequest(f"preset must be one of {sorted(PRESETS)}, not {preset!r}", "preset")
    if model is None and preset is None:
        raise BadRequest("model or preset is required", "model", "invalid_request")
    if model is not None and (not isinstance(model, str) or not _MODEL_RE.match(model)):
        raise BadRequest(
            f"model {model!r} is not supported: use a provider/model slug (perplexity/sonar) or a preset",
            "model",
            "invalid_model",
        )
    tools = body.get("tools") or []
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance(t.get("type"), str) and t["type"] in TOOL_TYPES for t in tools
    ):
        raise BadRequest(f"tools must be a list of tools whose type is one of {sorted(TOOL_TYPES)}", "tools")
    max_results = 10
    for tool in tools:
        if tool["type"] == "web_search" and "max_results" in tool:
            value = tool["max_results"]
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 50:
                raise BadRequest("max_results must be an integer between 1 and 50", "tools")
            max_results = value
    schema = _schema(body.get("response_format"))
    max_output_tokens = _bounded_int(body, "max_output_tokens", 16, 128_000)
    _bounded_number(body, "temperature", 0.0, 2.0)
    _bounded_number(body, "top_p", 0.0, 1.0)
    _bounded_int(body, "max_steps", 1, 100)
    max_tool_calls = _bounded_int(body, "max_tool_calls", 0, 1000)
    for flag in ("stream", "background", "store"):
        if flag in body and not isinstance(body[flag], bool):
            raise BadRequest(f"{flag} must be a boolean", flag)
    if body.get("stream"):
        raise BadRequest("streaming is not supported by the provider simulator; send stream=false", "stream")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or len(metadata) > 16:
        raise BadRequest("metadata must be an object with at most 16 keys", "metadata")
    if body.get("truncation") not in (None, "auto", "disabled"):
        raise BadRequest("truncation must be auto or disabled", "truncation")
    reasoning = body.get("reasoning")
    effort = reasoning.get("effort", "low") if isinstance(reasoning, dict) else None
    if reasoning is not None and (not isinstance(effort, str) or effort not in EFFORTS):
        raise BadRequest(f"reasoning.effort must be one of {sorted(EFFORTS)}", "reasoning")
    models = body.get("models")
    if models is not None and (not isinstance(models, list) or len(models) > 5):
        raise BadRequest("models must be a list of at most 5 model slugs", "models")
    tool_choice = body.get("tool_choice")
    searching = preset is not None or any(t["type"] == "web_search" for t in tools)
    searching = searching and max_tool_calls != 0 and tool_choice != "none"
    return AgentRequest(
        model=model or "perplexity/sonar",
        preset=preset,
        texts=[*texts, instructions or ""],
        schema=schema,
        search=searching,
        max_results=max_results,
        max_output_tokens=max_output_tokens,
        background=bool(body.get("background")),
        store=body.get("store", True) is not False,
        metadata=metadata,
    )


def _input_texts(value: object) -> list[str]:
    if isinstance(value, str) and value.strip():
        return [value]
    if isinstance(value, list) and value:
        texts = []
        for item in value:
            role = item.get("role", "user") if isinstance(item, dict) else None
            if not isinstance(role, str) or role not in ROLES:
                raise BadRequest(
                    "input items must be messages with role user, assistant, system or developer", "input"
                )
            content = item.get("content")
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts += [str(part.get("text", "")) for part in content if isinstance(part, dict)]
            else:
                raise BadRequest("input message content must be a string or a list of parts", "input")
        return texts
    raise BadRequest("input is required: a string or a list of messages", "input", "invalid_request")


def _schema(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("text", "json_schema"):
        raise BadRequest("response_format.type must be text or json_schema", "response_format")
    if value["type"] == "text":
        return None
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise BadRequest("response_format.json_schema.schema must be a JSON schema object", "response_format")
    if not isinstance(spec.get("name", "schema"), str) or not _SCHEMA_NAME_RE.match(
        spec.get("name", "schema")
    ):
        raise BadRequest(
            "response_format.json_schema.name must be 1-64 letters, digits, _ or -", "response_format"
        )
    problem = _schema_problem(spec["schema"], "schema")
    if problem:
        raise BadRequest(f"response_format.json_schema.{problem}", "response_format")
    return dict(spec["schema"])


def _schema_problem(schema: dict[str, Any], path: str) -> str | None:
    """Where a schema is not one the simulator can answer: every `properties` value and `items` must itself
    be a schema object (not `true`, a list or a string) and `type` a name or a list of names."""
    kind = schema.get("type")
    if kind is not None and not (
        isinstance(kind, str) or (isinstance(kind, list) and all(isinstance(k, str) for k in kind))
    ):
        return f"{path}.type must be a type name or a list of type names"
    properties = schema.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return f"{path}.properties must be an object"
    for name, sub in (properties or {}).items():
        if not isinstance(sub, dict):
            return f"{path}.properties.{name} must be a schema object"
        problem = _schema_problem(sub, f"{path}.properties.{name}")
        if problem:
            return problem
    items = schema.get("items")
    if items is not None:
        if not isinstance(items, dict):
            return f"{path}.items must be a schema object"
        return _schema_problem(items, f"{path}.items")
    return None


def _bounded_int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer between {low} and {high}", name)
    return value


def _bounded_number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high
    ):
        raise BadRequest(f"{name} must be a number between {low} and {high}", name)


def _subject(request: AgentRequest) -> tuple[object, ...]:
    """What the request asks, for keying its fault draws (not metadata, storage or background flags)."""
    return (
        request.model,
        request.preset,
        request.texts,
        request.schema,
        request.search,
        request.max_results,
        request.max_output_tokens,
    )


def _run(state: SimState, request: AgentRequest, response_id: str, dice: Dice, noted: int) -> dict[str, Any]:
    """The finished response object, with every injected fault decided now (so replays are stable)."""
    config = state.config
    lookup = look_up(state.world, request.texts)
    search_item = search_results(lookup, request.max_results) if request.search else None
    cited = [r["url"] for r in search_item["results"]] if search_item else []
    if request.schema is not None:
        text = json_answer(request.schema, lookup, request.search)
        if dice.chance("truncated", config.share_truncated):
            text = truncate_json(text, dice.fraction("truncated_at", 0.4, 0.85))
        if dice.chance("fenced", config.share_fenced):
            text = fence(text)
    else:
        text = prose_answer(lookup, request.search, cited)
    if dice.chance("think", config.share_think):
        text = think_prefix(lookup) + text
    failed = dice.chance("failed", config.perplexity_share_failed)
    input_tokens = estimate_tokens(" ".join(request.texts) + json.dumps(request.schema or {}))
    output_tokens = estimate_tokens(text)
    status, incomplete = "completed", None
    if failed:
        status, output_tokens = "failed", 0
    elif request.max_output_tokens is not None and output_tokens > request.max_output_tokens:
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
        text, output_tokens = text[: request.max_output_tokens * 4], request.max_output_tokens
    searches = search_count(request.preset) if request.search else 0
    bill = usage(request.model, request.preset, input_tokens, output_tokens, searches)
    output: list[dict[str, Any]] = []
    if not failed:
        if search_item is not None:
            output.append(search_item)
        message = {"type": "output_text", "text": text, "annotations": []}
        output.append(
            {
                "type": "message",
                "id": state.new_id("msg"),
                "role": "assistant",
                "status": status,
                "content": [message],
            }
        )
    now = int(time.time())
    error = None
    if failed:
        kind = "upstream_structured_output_failed" if request.schema else "internal_error"
        error = {
            "message": "The run failed before producing an answer. Retry the request.",
            "type": kind,
            "code": 500,
        }
    state.ledger.add_perplexity_run(status, bill["cost"]["total_cost"], input_tokens, output_tokens, noted)
    return {
        "id": response_id,
        "object": "response",
        "created_at": now,
        "completed_at": None if failed else now,
        "status": status,
        "model": request.model,
        "preset": request.preset,
        "output": output,
        "usage": bill,
        "error": error,
        "incomplete_details": incomplete,
        "metadata": request.metadata,
        "background": request.background,
    }


def _pending(final: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        **final,
        "status": status,
        "output": [],
        "usage": None,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
    }


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
        parsed = _parse(json.loads(await request.body()))
    except ValueError as exc:
        return _error(400, "invalid_request", f"invalid request body: {exc}", headers=headers)
    except BadRequest as exc:
        return _error(400, exc.kind, exc.message, exc.param, headers)
    noted = generation(request)
    dice = state.dice("perplexity.responses", *_subject(parsed))
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
    run = _run(state, parsed, state.new_id("resp"), dice, noted)
    if parsed.background:
        if state.current(noted):
            state.responses[run["id"]] = StoredResponse(key, run, config.background_polls)
        return json_response(_pending(run, "queued"), headers=headers)
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
        return json_response(_pending(stored.final, "in_progress"))
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
    answer = _sonar_answer(state, body, messages, str(model))
    tokens = answer["usage"]
    cost = tokens["cost"]["total_cost"]
    noted = generation(request)
    state.ledger.add_perplexity_run(
        "completed", cost, tokens["prompt_tokens"], tokens["completion_tokens"], noted
    )
    await state.clock.sleep(state.clock.draw(config.latency_perplexity))
    return json_response(answer)


_SONAR_RESULT_KEYS = ("title", "url", "date", "last_updated", "snippet", "source")


def _sonar_answer(
    state: SimState, body: dict[str, Any], messages: list[dict[str, Any]], model: str
) -> dict[str, Any]:
    lookup: Lookup = look_up(state.world, [str(m.get("content", "")) for m in messages])
    results = search_results(lookup, 10)["results"]
    urls = [r["url"] for r in results]
    response_format = body.get("response_format")
    schema = None
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
    text = json_answer(schema, lookup, True) if isinstance(schema, dict) else prose_answer(lookup, True, urls)
    prompt, completion = estimate_tokens(json.dumps(messages)), estimate_tokens(text)
    total = (prompt + completion) / 1e6 + 0.005
    return {
        "id": state.new_id("chatcmpl"),
        "model": model,
        "created": int(time.time()),
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
                "delta": {"role": "assistant", "content": ""},
            }
        ],
        "citations": urls,
        "search_results": [{k: r[k] for k in _SONAR_RESULT_KEYS} for r in results],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "search_context_size": "low",
            "citation_tokens": None,
            "num_search_queries": 1,
            "reasoning_tokens": None,
            "cost": {
                "input_tokens_cost": prompt / 1e6,
                "output_tokens_cost": completion / 1e6,
                "reasoning_tokens_cost": None,
                "request_cost": 0.005,
                "citation_tokens_cost": None,
                "search_queries_cost": None,
                "total_cost": round(total, 8),
            },
        },
        "images": None,
        "related_questions": None,
    }


routes = [
    Route("/v1/responses", create_response, methods=["POST"]),
    Route("/v1/agent", create_response, methods=["POST"]),
    Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
    Route("/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/sonar", chat_completions, methods=["POST"]),
]
