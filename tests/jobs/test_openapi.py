"""The committed OpenAPI document is the one the code generates."""

from __future__ import annotations

import json

from enrich_tools.openapi import DOCUMENT, render


def test_committed_openapi_matches_the_code() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run `make openapi` and commit docs/openapi.json"


def test_every_route_is_documented() -> None:
    paths = json.loads(render())["paths"]
    expected = {
        "/jobs": {"get", "post"},
        "/jobs/{job_id}": {"get", "delete"},
        "/jobs/{job_id}/items": {"get"},
        "/jobs/{job_id}/retry": {"post"},
        "/dlq/redrive": {"post"},
        "/metrics": {"get"},
        "/stats": {"get"},
        "/health": {"get"},
    }
    assert {path: set(ops) for path, ops in paths.items()} == expected
