"""The committed OpenAPI document is the one the code generates, a valid OpenAPI 3.1 document, and says what
the deployed API answers: every route of template.yaml, its real status codes, typed bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]
from openapi_spec_validator import validate

from enrich_tools.openapi import DOCUMENT, render

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# The operator console's static page and files (`api_routes.console`): routes of the template, not operations
# of the JSON API the document describes (tests/console checks them).
CONSOLE_ROUTES = {("GET", "/console"), ("GET", "/console/{asset}")}


def committed() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in committed()["paths"].items()
        for method, operation in item.items()
    }


def test_committed_openapi_matches_the_code() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run `make openapi` and commit docs/openapi.json"


def test_the_committed_document_is_valid_openapi() -> None:
    validate(committed())  # raises OpenAPIValidationError naming the part that is not OpenAPI 3.1


def test_every_route_is_documented() -> None:
    paths = json.loads(render())["paths"]
    expected = {
        "/jobs": {"get", "post"},
        "/jobs/{job_id}": {"get", "delete", "patch"},
        "/jobs/bulk": {"post"},
        "/budget": {"get"},
        "/settings": {"get", "put"},
        "/audit": {"get"},
        "/erasures": {"post"},
        "/suppressions": {"get", "post"},
        "/suppressions/{key}": {"delete"},
        "/contacts": {"get"},
        "/contacts/{contact_id}/approve": {"post"},
        "/contacts/{contact_id}/reject": {"post"},
        "/contacts/review": {"post"},
        "/buffer/push": {"post"},
        "/buffer/next": {"post"},
        "/leads": {"get", "post"},
        "/cursor/{namespace}": {"get", "put"},
        "/enrich": {"post"},
        "/jobs/{job_id}/items": {"get"},
        "/jobs/{job_id}/retry": {"post"},
        "/jobs/{job_id}/exports": {"post"},
        "/jobs/{job_id}/exports/{export_id}": {"get", "post"},
        "/uploads": {"post"},
        "/dlq/redrive": {"post"},
        "/metrics": {"get"},
        "/stats": {"get"},
        "/health": {"get"},
        "/webhooks/{provider}": {"post"},
    }
    assert {path: set(ops) for path, ops in paths.items()} == expected


def test_the_document_has_the_templates_routes_and_their_authorizers() -> None:
    """Given template.yaml's HttpApi events (every function's), the document has exactly those operations,
    and an API key on exactly those the authorizer guards."""
    with TEMPLATE.open(encoding="utf-8") as handle:
        template = cfn_yaml.loads(handle.read())
    routes: dict[tuple[str, str], bool] = {}
    for resource in template["Resources"].values():
        for event in (resource.get("Properties") or {}).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes[(props["Method"].upper(), props["Path"])] = "Auth" not in props
    assert set(routes) >= CONSOLE_ROUTES and not any(routes[route] for route in CONSOLE_ROUTES)
    routes = {route: keyed for route, keyed in routes.items() if route not in CONSOLE_ROUTES}
    documented = operations()
    assert set(documented) == set(routes)
    for route, keyed in routes.items():
        assert bool(documented[route].get("security")) is keyed, route
        assert {"401", "403"} <= set(documented[route]["responses"]) or not keyed, route


def test_every_answer_is_typed_and_every_error_is_the_error_model_or_api_gateways() -> None:
    for (method, path), operation in operations().items():
        for status, response in operation["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            assert schema.get("type") != "string", (method, path, status)
            refs = {s.get("$ref", "").rsplit("/", 1)[-1] for s in schema.get("anyOf", [schema])}
            assert all(refs), (method, path, status, schema)  # every body is a named model
            if int(status) >= 400:
                allowed = {
                    "ErrorBody",
                    "GatewayError",
                    "QuotaErrorBody",
                    "RequestRateErrorBody",
                    "HealthProblemView",
                }
                assert refs <= allowed, (method, path, status, refs)


def test_the_status_codes_are_the_ones_the_api_sends() -> None:
    ops = operations()
    assert set(ops["POST", "/jobs"]["responses"]) >= {"200", "202", "415", "429", "503"}
    assert "200" not in {s for s in ops["POST", "/jobs/{job_id}/retry"]["responses"]}
    created = ops["POST", "/jobs"]["responses"]["202"]
    assert created["headers"]["Location"]["required"] is True
    assert set(created["headers"]) == {"Location", "Idempotent-Replayed"}
    assert "Retry-After" in ops["POST", "/jobs"]["responses"]["429"]["headers"]
    # A keyed route's 429 is also the workspace's request rate, with Retry-After; the others' the throttle.
    for route, operation in ops.items():
        throttled = operation["responses"]["429"]
        schema = throttled["content"]["application/json"]["schema"]
        models = {s["$ref"].rsplit("/", 1)[-1] for s in schema.get("anyOf", [schema])}
        assert ("RequestRateErrorBody" in models) is bool(operation.get("security")), route
        assert ("Retry-After" in throttled.get("headers", {})) is bool(operation.get("security")), route
    assert ops["GET", "/stats"]["responses"]["503"]["headers"]["Retry-After"]["required"] is True
    for route in (("GET", "/jobs/{job_id}"), ("DELETE", "/jobs/{job_id}"), ("GET", "/jobs/{job_id}/items")):
        assert "404" in ops[route]["responses"], route
    # Only a change to a job (its status does not allow it) and a contact's decision (decided the other way
    # already) send a 409.
    decisions = {("POST", "/contacts/{contact_id}/approve"), ("POST", "/contacts/{contact_id}/reject")}
    assert {r for r, op in ops.items() if "409" in op["responses"]} == {
        ("PATCH", "/jobs/{job_id}"),
        *decisions,
    }
    assert {"200", "400", "401", "404", "413", "500"} <= set(ops["POST", "/webhooks/{provider}"]["responses"])


def test_the_job_callbacks_are_documented_as_webhooks() -> None:
    document = committed()
    assert set(document["webhooks"]) == {
        "job.completed",
        "job.progress",
        "job.cancelled",
        "job.paused",
        "address.changed",
    }
    event = document["components"]["schemas"]["JobEvent"]
    assert set(event["properties"]) == {"type", "id", "timestamp", "data"}
    changed = document["webhooks"]["address.changed"]["post"]["requestBody"]["content"]["application/json"]
    assert changed["schema"] == {"$ref": "#/components/schemas/AddressChangedEvent"}
