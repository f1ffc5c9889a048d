"""boto3 clients for the runtime, configured for concurrent use from worker threads."""

from __future__ import annotations

from typing import Any


def runtime_clients(concurrency: int) -> tuple[Any, Any]:
    """(dynamodb, sqs): one pooled connection per concurrent item and a few more, standard retries."""
    import boto3  # imported on first use: code paths that never reach AWS pay nothing for it
    from botocore.config import Config

    config = Config(max_pool_connections=concurrency + 8, retries={"mode": "standard"})
    return boto3.client("dynamodb", config=config), boto3.client("sqs", config=config)
