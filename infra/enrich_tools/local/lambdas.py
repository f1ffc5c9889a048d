"""The Lambda handlers as the local stack calls them: loaded from `functions/`, with a Lambda-like context.

`functions/api` and `functions/processor` are deployment folders, not packages (SAM zips each one as a
function's code root), so the handler modules are imported by putting those folders on `sys.path`, as the
Lambda runtime does with its task root.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadenrich.lambda_logging import PACKAGE

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

REPO_ROOT = Path(__file__).resolve().parents[3]
HANDLER_DIRS = (
    REPO_ROOT / "functions" / "api",
    REPO_ROOT / "functions" / "processor",
    REPO_ROOT / "functions" / "authorizer",
    REPO_ROOT / "functions" / "webhook",
)
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# As in template.yaml: the API function's Timeout (API Gateway's integration limit) and the processor's.
API_TIMEOUT_SECONDS = 29.0
PROCESSOR_TIMEOUT_SECONDS = 45.0
AUTHORIZER_TIMEOUT_SECONDS = 10.0


class LocalContext(LambdaContext):
    """What Powertools and the handlers read from a context; the time left counts down from creation."""

    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self._memory_limit_in_mb = 512
        self._aws_request_id = str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # a staticmethod upstream
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handlers() -> tuple[Handler, Handler]:
    """(api handler, processor handler), importing their modules from `functions/` on first use."""
    for folder in HANDLER_DIRS:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    api = importlib.import_module("handle_api")
    processor = importlib.import_module("handle_process")
    return api.handler, processor.handler


def load_webhook_handler() -> Handler:
    """The webhook function's handler (`functions/webhook/handle_webhook.py`): `POST /webhooks/{provider}`."""
    for folder in HANDLER_DIRS:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    handler: Handler = importlib.import_module("handle_webhook").handler
    return handler


def load_authorizer() -> Handler:
    """The Lambda authorizer's handler (`functions/authorizer/handle_authorizer.py`)."""
    for folder in HANDLER_DIRS:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    module = importlib.import_module("handle_authorizer")
    handler: Handler = module.handler
    return handler


def set_handler_log_level(level: int) -> int:
    """Set the Powertools logger both handlers share (one service name), and the `leadenrich` package's
    logger its lines are routed through (`leadenrich.lambda_logging`): `enrich run` would otherwise print
    a JSON line per lead. Returns the level to restore."""
    logger = importlib.import_module("handle_api").logger
    previous = int(logger.log_level)
    logger.setLevel(level)
    logging.getLogger(PACKAGE).setLevel(level)
    return previous


def scheduled_event(rule: str = "leadenrich-processor") -> dict[str, Any]:
    """An EventBridge "Scheduled Event", as a rate(1 minute) rule delivers it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }
