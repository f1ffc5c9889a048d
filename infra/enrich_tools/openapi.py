"""Write the service's OpenAPI document, generated from the handlers' routes and models.

    python -m enrich_tools.openapi            # rewrites docs/openapi.json (`make openapi`)

Three sources, one document: the API function's resolver (`handle_api.app`), the webhook function's route
(`handle_webhook.document`, a separate Lambda behind the same HTTP API), and the signed job callbacks the
processor sends (`webhooks`, OpenAPI 3.1's outbound events, from `leadenrich.jobs.views.JobEvent`).
Schemas no operation refers to (Powertools adds its own validation-error models) are left out.
A test fails when the committed document and the code disagree (`make openapi` mends it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
FUNCTIONS = ("api", "webhook")
REF = "#/components/schemas/"


def _on_path() -> None:
    for name in FUNCTIONS:
        folder = str(ROOT / "functions" / name)
        if folder not in sys.path:
            sys.path.insert(0, folder)


def _webhook_route() -> dict[str, Any]:
    """The webhook function's route as a document of its own (its declaration lives with its handler)."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    import handle_webhook

    resolver = APIGatewayHttpResolver()
    handle_webhook.document(resolver)
    schema: dict[str, Any] = json.loads(resolver.get_openapi_json_schema())
    return schema


def _callbacks() -> tuple[dict[str, Any], dict[str, Any]]:
    """The job callbacks as OpenAPI webhooks (what a receiver is sent), and the schemas they use."""
    from pydantic.json_schema import models_json_schema

    from leadenrich.jobs.models import ADDRESS_CHANGED, WEBHOOK_EVENTS
    from leadenrich.jobs.views import JobEvent
    from leadenrich.reverify.views import AddressChangedEvent

    _, top = models_json_schema(
        [(JobEvent, "serialization"), (AddressChangedEvent, "serialization")], ref_template=REF + "{model}"
    )
    post = {
        "summary": "A signed job event POSTed to the job's webhook_url",
        "description": "`job.completed` once (up to 6 attempts until a 2xx), `job.progress` when asked for "
        "(best effort), `job.cancelled` and `job.paused` (with `paused_reason`) when asked for, through the "
        "outbox (retried like job.completed). Headers `webhook-id`, `webhook-timestamp`, `webhook-signature` "
        "(Standard Webhooks; docs/webhooks.md). No lead data: fetch `links.items` with the API key.",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF + "JobEvent"}}},
        },
        "responses": {"2XX": {"description": "Delivered; anything else is a failed attempt"}},
    }
    changed = {
        "summary": "An address a job stored changed its verdict at re-verification",
        "description": "Sent to the webhook_url of each job that stored the address and asked for "
        "`address.changed`, once per re-verification that changed its grade (docs/reverification.md), "
        "through the outbox (retried like job.completed), signed like every callback. It names the "
        "address, its previous and current verdicts, the job and its leads.",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF + "AddressChangedEvent"}}},
        },
        "responses": post["responses"],
    }
    events: dict[str, Any] = {event: {"post": post} for event in WEBHOOK_EVENTS if event != ADDRESS_CHANGED}
    return events | {ADDRESS_CHANGED: {"post": changed}}, top["$defs"]


def _merge_schemas(into: dict[str, Any], schemas: dict[str, Any]) -> None:
    for name, schema in schemas.items():
        if name in into and into[name] != schema:
            raise ValueError(f"two different schemas named {name}")
        into[name] = schema


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            yield ref[len(REF) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _prune(document: dict[str, Any]) -> None:
    """Keep only the schemas the paths and webhooks reach."""
    schemas = document["components"]["schemas"]
    reached: set[str] = set()
    pending = [*_refs(document["paths"]), *_refs(document.get("webhooks", {}))]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(_refs(schemas[name]))
    document["components"]["schemas"] = {name: schemas[name] for name in sorted(reached)}


def document() -> dict[str, Any]:
    _on_path()
    import handle_api

    schema: dict[str, Any] = json.loads(handle_api.app.get_openapi_json_schema())
    webhook = _webhook_route()
    for path, item in webhook["paths"].items():
        if path in schema["paths"]:
            raise ValueError(f"{path} is both the API's and the webhook function's")
        schema["paths"][path] = item
    _merge_schemas(schema["components"]["schemas"], webhook["components"]["schemas"])
    callbacks, callback_schemas = _callbacks()
    schema["webhooks"] = callbacks
    _merge_schemas(schema["components"]["schemas"], callback_schemas)
    _prune(schema)
    return schema


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
