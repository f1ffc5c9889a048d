"""Every answer the handlers give in a test, held to the committed `docs/openapi.json`.

`check(method, path, response)` finds the operation, and fails unless the status is one it declares, the
body is JSON of the declared schema (components resolved, formats checked), and every declared header that is
required is there and of its schema. A path or method that is no operation may only be the function's 404 or
405 (with `Allow`), in the error model, as the document's description says.

The autouse fixture `openapi_conformance` wraps `handle_api.handler` and `handle_webhook.handler` for the
tests of a module (or a folder, imported into its conftest), so every call they make is checked.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker

import handle_api
import handle_webhook
from enrich_tools.openapi import DOCUMENT

Answer = dict[str, Any]


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@cache
def _templates() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each path template as a pattern; literal paths first, so `/jobs/x/items` is not `/jobs/{job_id}`."""
    out = []
    for template in document()["paths"]:
        pattern = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in template.split("/"))
        out.append((re.compile(pattern), template))
    return tuple(sorted(out, key=lambda pair: pair[1].count("{")))


def operation(method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(path template, operation) for a request; (template, None) for a method the path does not serve."""
    for pattern, template in _templates():
        if pattern.fullmatch(path):
            return template, document()["paths"][template].get(method.lower())
    return None, None


def _validator(schema: dict[str, Any]) -> OAS31Validator:
    """The schema (OpenAPI 3.1's dialect) with the document's components at its root, so `#/components/...`
    references resolve; formats (date-time) checked."""
    return OAS31Validator(
        {**schema, "components": document()["components"]}, format_checker=oas31_format_checker
    )


def _errors(schema: dict[str, Any], value: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator(schema).iter_errors(value)
    ]


def _header_value(raw: str, schema: dict[str, Any]) -> object:
    return int(raw) if schema.get("type") == "integer" and raw.lstrip("-").isdigit() else raw


def check(method: str, path: str, answer: Answer) -> tuple[str, int]:
    """Fail (AssertionError) unless `answer` (a Lambda proxy result) is what the document declares for the
    request; returns (path template or the path, status)."""
    status = int(answer["statusCode"])
    headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
    raw = answer.get("body") or ""
    text = base64.b64decode(raw).decode() if answer.get("isBase64Encoded") else str(raw)
    template, declared = operation(method, path)
    if declared is None:  # no such operation: only the function's 404, or 405 naming the methods served
        assert status in (404, 405), f"{method} {path} is no operation, but answered {status}"
        if status == 405:
            assert headers.get("allow"), "a 405 names the methods served (Allow)"
        response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    else:
        responses = declared["responses"]
        assert str(status) in responses, (
            f"{method} {template}: {status} is not documented ({sorted(responses)})"
        )
        response = responses[str(status)]
    content = response.get("content") or {}
    if content:
        assert headers.get("content-type", "").split(";")[0].strip() in content, (method, path, headers)
        schema = content["application/json"]["schema"]
        problems = _errors(schema, json.loads(text))
        assert not problems, f"{method} {path} {status}: the body is not the documented one: {problems}"
    for name, spec in (response.get("headers") or {}).items():
        value = headers.get(name.lower())
        if value is None:
            assert not spec.get("required"), f"{method} {path} {status}: no {name} header"
            continue
        problems = _errors(spec["schema"], _header_value(value, spec["schema"]))
        assert not problems, f"{method} {path} {status}: header {name}: {problems}"
    return str(template or path), status


def _request_line(event: dict[str, Any]) -> tuple[str, str]:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(http.get("method") or "GET"), str(event.get("rawPath") or http.get("path") or "/")


def checking(handler: Callable[[dict[str, Any], Any], Answer]) -> Callable[[dict[str, Any], Any], Answer]:
    """`handler`, with every answer checked against the document."""

    def checked(event: dict[str, Any], context: Any) -> Answer:
        answer = handler(event, context)
        check(*_request_line(event), answer)
        return answer

    return checked


@pytest.fixture(autouse=True)
def openapi_conformance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call a test makes to the API or webhook handler is checked against docs/openapi.json."""
    monkeypatch.setattr(handle_api, "handler", checking(handle_api.handler))
    monkeypatch.setattr(handle_webhook, "handler", checking(handle_webhook.handler))
