"""The local gateway answers what API Gateway answers itself byte for byte, and sends everything else to the
functions, as an HTTP API with one catch-all integration would."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from enrich_tools.local.gateway import create_app

KEY = "le_" + "A" * 43


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = '{"message": "no route", "field": null, "errors": []}'
    return {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "body": body}


def refuse(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"isAuthorized": False}


def accept(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"isAuthorized": True, "context": {"workspace_id": "default"}}


def send(
    method: str, path: str, headers: dict[str, str] | None = None, authorizer: Any = refuse
) -> httpx.Response:
    app = create_app(handler, authorizer=authorizer, webhook=handler)

    async def one() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(one())


def test_its_refusals_are_api_gateways_bytes() -> None:
    """Given no key, then a refused key, when a keyed route is called, then the answers are API Gateway's
    own: compact JSON, `application/json`, and its request id header."""
    for headers, status, body in (
        (None, 401, b'{"message":"Unauthorized"}'),
        ({"X-API-Key": KEY}, 403, b'{"message":"Forbidden"}'),
    ):
        response = send("GET", "/jobs", headers)
        assert (response.status_code, response.content) == (status, body)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["apigw-requestid"]


def test_any_path_and_method_reaches_the_function() -> None:
    """Found by schemathesis: a path holding a newline (`%0A`) was answered by the web framework itself, in
    text/plain; API Gateway gives it to the function, which answers in the error model."""
    for method, path in (("GET", "/health/%0Ax"), ("TRACE", "/health"), ("GET", "/webhooks/a%0Ab")):
        response = send(method, path, {"X-API-Key": KEY}, accept)
        assert response.status_code == 404, (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["message"] == "no route"
        assert response.headers["apigw-requestid"]
