"""Runtime benchmarks: AWS calls and time of a 1,000-lead POST /jobs, and each handler's cold start.

    python -m bench.runtime [--leads 1000] [--runs 5]

Enqueue: the API handler is invoked with a real API Gateway v2 event against moto (in-process), and every
AWS API call it makes is counted through botocore's event hooks (goal: at most 150 calls). Cold start: each
handler module is imported in a fresh interpreter, `--runs` times, and its median import time is divided
by the median of `import boto3` measured the same way in the same run (goal: at most 2.0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT / "layers/common", ROOT / "functions/api", ROOT / "functions/processor", ROOT / "infra", ROOT]
GOAL_ENQUEUE_CALLS = 150
GOAL_COLD_START_RATIO = 2.0


def enqueue(leads: int) -> dict[str, Any]:
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    import boto3
    from moto import mock_aws

    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "TABLE_NAME": "leadenrich",
            "SERIALIZE_AWS_CALLS": "true",
        }
    )
    import handle_api
    from leadenrich import runtime
    from leadenrich.aws.dynamo_schema import create_table
    from leadenrich.aws.sqs_queue import create_queues
    from tests.support.lambda_events import Context, http_event

    with mock_aws():
        create_table(boto3.client("dynamodb"), "leadenrich")
        queue_url, dlq_url = create_queues(boto3.client("sqs"), "leadenrich-work")
        os.environ["QUEUE_URL"], os.environ["DEAD_LETTER_QUEUE_URL"] = queue_url, dlq_url
        runtime.reset()
        _settings, dynamodb, sqs = runtime._aws()
        calls: Counter[str] = Counter()
        for client in (dynamodb, sqs):
            client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
        body = {"domains": [f"company-{i}.example.com" for i in range(leads)]}
        started = time.perf_counter()
        response = handle_api.handler(http_event("POST", "/jobs", body=body), Context())  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        runtime.reset()
    assert response["statusCode"] == 202, response
    return {"leads": leads, "aws_calls": sum(calls.values()), "by_operation": dict(calls), "seconds": seconds}


def import_seconds(module: str, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in PATHS)}
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args(argv)

    result = enqueue(opts.leads)
    print(f"enqueue: {result['leads']} leads in one POST /jobs")
    calls, operations = result["aws_calls"], json.dumps(result["by_operation"])
    print(f"  AWS calls: {calls} (goal <= {GOAL_ENQUEUE_CALLS}): {operations}")
    seconds = result["seconds"]
    print(f"  handler time on moto: {seconds:.2f} s (moto is slower than DynamoDB: calls are the metric)")

    baseline = import_seconds("boto3", opts.runs)
    print(
        f"cold start (median of {opts.runs} fresh interpreters), `import boto3` = {baseline * 1000:.0f} ms:"
    )
    for module in ("handle_api", "handle_process"):
        seconds = import_seconds(module, opts.runs)
        ratio = seconds / baseline
        verdict = "met" if ratio <= GOAL_COLD_START_RATIO else "MISSED"
        goal = f"goal <= {GOAL_COLD_START_RATIO}"
        print(f"  {module}: {seconds * 1000:.0f} ms, {ratio:.2f}x boto3 ({goal}) [{verdict}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
