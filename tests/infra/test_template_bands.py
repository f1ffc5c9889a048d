"""The priority bands in the SAM template (docs/runtime.md, "Priorities"): a queue and a DLQ per band the
code has, named by the variables the runtime reads, each a twin of the normal band's `WorkQueue`. Each band's
visibility timeout, redrive policy, alarms and IAM are held with WorkQueue's in test_template.py."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

from leadenrich.jobs.models import Band
from leadenrich.runtime import RuntimeSettings, queue_environment
from tests.infra.test_template import BAND_QUEUES, TEMPLATE, function_environment, of_type, props, resource


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


def test_every_priority_band_has_its_queue_and_dlq_named_as_the_runtime_reads_them(
    template: dict[str, Any],
) -> None:
    """A queue pair per band the code has, no other SQS queue, and the functions' variables name each band's
    pair as `leadenrich.runtime` reads them (the names `queue_environment` writes for tests and tools)."""
    assert set(BAND_QUEUES) == set(Band)
    queues = {name for pair in BAND_QUEUES.values() for name in pair}
    assert set(of_type(template, "AWS::SQS::Queue")) == queues
    for name in queues:
        assert resource(template, name)["DeletionPolicy"] == "Delete"
        assert props(template, name)["SqsManagedSseEnabled"] is True
    refs = {band: (f"url-of-{queue}", f"url-of-{dlq}") for band, (queue, dlq) in BAND_QUEUES.items()}
    expected = {variable: {"Ref": url[len("url-of-") :]} for variable, url in queue_environment(refs).items()}
    env = function_environment(template, "ProcessorFunction")
    assert {variable: env[variable] for variable in expected} == expected
    assert set(expected) == {
        name.upper() for name in RuntimeSettings.model_fields if name.endswith("queue_url")
    }


def test_the_band_queues_are_the_normal_queues_twins(template: dict[str, Any]) -> None:
    """Retention, visibility and the DLQ's retention as WorkQueue's, so a band changes only the order."""
    normal_queue, normal_dlq = BAND_QUEUES[Band.NORMAL]
    for queue_name, dlq_name in BAND_QUEUES.values():
        queue, dlq = props(template, queue_name), props(template, dlq_name)
        assert {k: v for k, v in queue.items() if k != "RedrivePolicy"} == {
            k: v for k, v in props(template, normal_queue).items() if k != "RedrivePolicy"
        }
        assert dlq == props(template, normal_dlq)
