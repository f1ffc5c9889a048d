"""bench.queue_trigger's pure helpers: what Lambda's mapping sends and deletes, how the figures are cut."""

from __future__ import annotations

import pytest

from bench.queue_trigger import (
    first_ends,
    lambda_deletes,
    processed_at,
    redeliveries,
    sqs_record,
    steady_window,
)

ARN = "arn:aws:sqs:us-east-1:123456789012:leadenrich-work"


def message(n: int) -> dict[str, object]:
    return {
        "MessageId": f"m{n}",
        "ReceiptHandle": f"r{n}",
        "Body": "{}",
        "Attributes": {"ApproximateReceiveCount": "2"},
    }


def test_a_record_is_what_lambda_sends_for_a_received_message() -> None:
    record = sqs_record(message(1), ARN)

    assert record["messageId"] == "m1"
    assert record["receiptHandle"] == "r1"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["eventSourceARN"] == ARN
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSource"] == "aws:sqs"


def test_lambda_deletes_every_message_not_reported_as_failed() -> None:
    messages = [message(n) for n in range(3)]
    response = {"batchItemFailures": [{"itemIdentifier": "m1"}]}

    assert lambda_deletes(messages, response) == ["r0", "r2"]
    assert lambda_deletes(messages, {"batchItemFailures": []}) == ["r0", "r1", "r2"]


def test_processed_is_interpolated_between_samples_and_held_outside_them() -> None:
    samples = [(10.0, 0), (20.0, 100), (30.0, 100)]

    assert processed_at(samples, 15.0) == pytest.approx(50.0)
    assert processed_at(samples, 5.0) == 0.0
    assert processed_at(samples, 40.0) == 100.0
    assert processed_at([], 1.0) == 0.0


def test_the_steady_state_leaves_out_start_up_and_the_last_window() -> None:
    samples = [(float(t), t * 10) for t in range(0, 101)]  # 10 a second, 1,000 items

    # start: the later of the workers' first ends; end: the first sample with only 50 left (950 processed)
    assert steady_window(samples, [4.0, 7.0], total=1000, window=50) == (7.0, 95.0)


def test_a_steady_state_too_short_or_before_any_invocation_is_none() -> None:
    samples = [(float(t), t * 10) for t in range(0, 21)]

    assert steady_window(samples, [5.0], total=200, window=50) is None  # 5 s to 15 s
    assert steady_window(samples, [], total=200, window=50) is None
    unfinished = [(float(t), t) for t in range(0, 200)]  # stopped at --max-seconds: up to the last sample
    assert steady_window(unfinished, [0.0], total=10_000, window=50) == (0.0, 199.0)


def test_redeliveries_count_receives_over_distinct_messages_and_first_ends_each_worker() -> None:
    invocations = [
        {"pid": 1, "ended": 9.0, "messages": ["a", "b"]},
        {"pid": 2, "ended": 4.0, "messages": ["c"]},
        {"pid": 1, "ended": 20.0, "messages": ["a"]},
    ]

    assert redeliveries(invocations) == (4, 3)
    assert sorted(first_ends(invocations)) == [4.0, 9.0]
