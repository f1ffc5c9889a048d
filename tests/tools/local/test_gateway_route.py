"""The local gateway serves /webhooks/* through the webhook function, without the API key check."""

from __future__ import annotations

from typing import Any

import httpx

from enrich_tools.local.gateway import create_app


async def test_webhook_paths_go_to_the_webhook_handler_without_the_authorizer() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def named(name: str) -> Any:
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            calls.append((name, event))
            return {"statusCode": 200, "body": "{}", "headers": {"content-type": "application/json"}}

        return handler

    def refuse(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"isAuthorized": False}

    app = create_app(named("api"), authorizer=refuse, webhook=named("webhook"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        raw = b'{"type":"x"}\xff'  # not UTF-8: the event carries it base64-encoded, as API Gateway does
        assert (await client.post("/webhooks/standard", content=raw)).status_code == 200
        assert (await client.get("/jobs", headers={"x-api-key": "k"})).status_code == 403
    ((name, event),) = calls
    assert name == "webhook" and event["rawPath"] == "/webhooks/standard" and event["isBase64Encoded"]
