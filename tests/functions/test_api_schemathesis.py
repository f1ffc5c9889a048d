"""Schemathesis against the local stack, as a client sees it: real HTTP to the local gateway, the deployed
authorizer with a real API key, the API and webhook functions on the embedded (SQLite) state.

Every check but one (`schemathesis.toml` says which and why): no 5xx, only documented status codes, bodies and
headers of the documented schemas, content types, schema-violating data refused, schema-valid data accepted,
unsupported methods 405 with `Allow`, and auth not ignored. Bounded for `make test` (5 examples an
operation, a fixed seed: the coverage phase, which no example count bounds, sends most requests); a longer
run (docs/testing.md):

    SCHEMATHESIS_MAX_EXAMPLES=1000 SCHEMATHESIS_SEED=11 \
        .venv/bin/pytest tests/functions/test_api_schemathesis.py -s

The processor is not scheduled within the run (one tick an hour): the API is under test, not the providers.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrich_tools.local.stack import LocalStack, StackOptions

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
DOCUMENT = ROOT / "docs" / "openapi.json"
PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)
PROVIDER_SECRET = "whsec_" + base64.b64encode(b"schemathesis-provider-secret-01").decode()


class Requests:
    """The local gateway's access log, counted: what the run sent, by status."""

    def __init__(self) -> None:
        self.by_status: dict[int, int] = {}

    def __call__(self, method: str, path: str, status: int, seconds: float) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Requests]]:
    state = tmp_path_factory.mktemp("schemathesis-state")
    requests = Requests()
    with pytest.MonkeyPatch.context() as patch:
        for name in PROVIDER_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("WEBHOOK_PROVIDER_SECRETS", json.dumps({"standard": PROVIDER_SECRET}))
        options = StackOptions(
            state_dir=state, tick_seconds=3600, handler_log_level=logging.WARNING, access_log=requests
        )
        with LocalStack(options) as running:
            yield running, requests


def test_schemathesis_finds_nothing_the_document_does_not_say(
    stack: tuple[LocalStack, Requests], tmp_path: Path
) -> None:
    running, requests = stack
    assert running.api_key
    examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5")
    seed = os.environ.get("SCHEMATHESIS_SEED", "1")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        str(DOCUMENT),
        "--url",
        running.url,
        "--header",
        f"X-API-Key: {running.api_key}",
        "--max-examples",
        examples,
        "--seed",
        seed,
        "--workers",
        "1",
        "--output-truncate",
        "true",
    ]
    started = time.monotonic()
    # In tmp_path: whatever schemathesis or hypothesis keep between runs stays out of the repository.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=1800, check=False)
    seconds = time.monotonic() - started
    output = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", output)
    sent = sum(requests.by_status.values())
    print(f"schemathesis: {generated.group(0) if generated else '?'}, {sent} requests in {seconds:.1f} s")
    print(f"by status: {dict(sorted(requests.by_status.items()))}")
    assert run.returncode == 0, output[-20_000:]
    assert generated is not None and int(generated.group(1)) > 0, output[-5_000:]
    assert sent > 100 and 200 in requests.by_status and 202 in requests.by_status  # it reached the logic
    assert not [status for status in requests.by_status if status >= 500 and status != 501]
