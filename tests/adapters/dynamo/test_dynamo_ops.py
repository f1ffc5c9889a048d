"""The one rule every adapter of the shared table applies to a refused write (`dynamo_ops.condition_failed`):
a failed condition, alone or inside a cancelled transaction, is a lost race; any other refusal is an error.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from leadenrich.aws.dynamo_ops import cancellation_reasons, condition_failed, one_of


def refused(code: str, *reasons: str) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "refused"},
        "CancellationReasons": [{"Code": r} for r in reasons],
    }
    return ClientError(response, "Operation")


@pytest.mark.parametrize(
    ("error", "lost_race"),
    [
        (refused("ConditionalCheckFailedException"), True),
        (refused("TransactionCanceledException", "None", "ConditionalCheckFailed"), True),
        (refused("TransactionCanceledException", "ConditionalCheckFailed", "TransactionConflict"), True),
        (refused("TransactionCanceledException", "None", "TransactionConflict"), False),
        (refused("TransactionCanceledException", "ValidationError"), False),
        (refused("ValidationException"), False),
        (refused("ProvisionedThroughputExceededException"), False),
    ],
)
def test_only_a_failed_condition_is_a_lost_race(error: ClientError, lost_race: bool) -> None:
    assert condition_failed(error) is lost_race


def test_cancellation_reasons_leave_out_the_actions_that_were_fine() -> None:
    error = refused("TransactionCanceledException", "None", "TransactionConflict", "None")
    assert cancellation_reasons(error) == {"TransactionConflict"}
    assert cancellation_reasons(refused("ValidationException")) == set()


def test_one_of_names_each_status_once_in_a_stable_order() -> None:
    condition, values = one_of("status", "s", ["queued", "deferred"])
    assert condition == "#status IN (:s0, :s1)"
    assert values == {":s0": "deferred", ":s1": "queued"}
