"""The environment the Lambda handlers run in for tests: moto's DynamoDB and SQS, the provider simulator."""

from __future__ import annotations

from collections.abc import Mapping

import boto3
import pytest

from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.sqs_queue import create_band_queues
from tests.support.simulator import base_config


def lambda_env_on_moto(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Create the table and the priority bands' queues (moto must be active), set the handlers' variables
    (`extra` on top) and drop the runtime's cached services; returns what was set. Callers reset the
    runtime when done."""
    simulator.reset(base_config())
    create_table(boto3.client("dynamodb"), "leadenrich")
    queues = create_band_queues(boto3.client("sqs"), "leadenrich-work", visibility_timeout=30)
    env = {
        "TABLE_NAME": "leadenrich",
        **runtime.queue_environment(queues),  # a queue per priority band, as template.yaml
        "SERIALIZE_AWS_CALLS": "true",
        "PROCESSOR_BUDGET_SECONDS": "20",
        "QUEUE_VISIBILITY_TIMEOUT": "30",
        "HUNTER_API_KEY": "sim-hunter-key",
        "PERPLEXITY_API_KEY": "sim-pplx-key",
        "HUNTER_API_BASE_URL": simulator.hunter_base_url,
        "PERPLEXITY_API_BASE_URL": simulator.perplexity_base_url,
    } | dict(extra or {})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    return env
