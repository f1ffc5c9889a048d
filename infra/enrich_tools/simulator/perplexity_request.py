"""The Perplexity Agent API body, checked as strictly as the real API checks it (an unknown field, a value
out of range or a schema the simulator cannot answer is a `BadRequest`: 400 with `param`) and reduced to
what the simulator acts on (`AgentRequest`). The routes and the rest of the wire behaviour: perplexity.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
_MODEL_RE = re.compile(r"^[a-z0-9][a-z0-9-]*/[A-Za-z0-9._:-]+$")
_SCHEMA_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, kind: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.message, self.param, self.kind = message, param, kind


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


def parse_request(body: object) -> AgentRequest:
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


def subject(request: AgentRequest) -> tuple[object, ...]:
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
