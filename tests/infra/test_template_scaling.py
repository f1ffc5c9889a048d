"""Processor fan-out in the template (docs/runtime.md "Scaling"): `ProcessorWorkers` schedules on the one
processor function, each as the first one is (every minute, no retries, allowed to invoke it), exactly as
many as asked for every allowed value; and the template's rule refuses a reserved concurrency that would
throttle some of them. Conditions and rule assertions are evaluated here as CloudFormation does, for every
parameter value allowed."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

from tests.infra.test_template import BAND_QUEUES, TEMPLATE, props, resource

WORKERS = range(1, 9)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


def evaluate(node: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    """A condition or rule assertion's value: the intrinsic functions the template uses in them."""
    if not isinstance(node, dict):
        return node
    [(name, argument)] = node.items()
    if name == "Ref":
        return parameters[argument]
    if name == "Condition":
        return evaluate(conditions[argument], parameters, conditions)
    values = [evaluate(a, parameters, conditions) for a in argument]
    if name == "Fn::Equals":
        return str(values[0]) == str(values[1])
    if name == "Fn::Not":
        return not values[0]
    if name == "Fn::And":
        return all(values)
    if name == "Fn::Or":
        return any(values)
    if name == "Fn::Contains":
        return str(values[1]) in [str(v) for v in values[0]]
    raise AssertionError(f"not evaluated here: {name}")


def with_defaults(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    """The parameters given, and every other one at its default."""
    defaults = {n: str(p["Default"]) for n, p in template["Parameters"].items() if "Default" in p}
    return defaults | parameters


def created(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The resources a stack with these parameters has (a resource's Condition true, or none)."""
    conditions = template["Conditions"]
    parameters = with_defaults(template, parameters)
    return {
        name: res
        for name, res in template["Resources"].items()
        if "Condition" not in res or evaluate({"Condition": res["Condition"]}, parameters, conditions)
    }


def rules_hold(template: dict[str, Any], parameters: dict[str, str]) -> bool:
    """Whether CloudFormation would accept these parameters: every rule whose condition holds (or that has
    none) has all its assertions true."""
    conditions = template["Conditions"]
    return all(
        evaluate(a["Assert"], parameters, conditions)
        for rule in template["Rules"].values()
        if "RuleCondition" not in rule or evaluate(rule["RuleCondition"], parameters, conditions)
        for a in rule["Assertions"]
    )


def schedules_of_the_processor(resources: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every schedule that invokes the processor: SAM's `Tick` event and the rules targeting it."""
    sam_ticks = [
        event["Properties"]
        for event in resources["ProcessorFunction"]["Properties"]["Events"].values()
        if event["Type"] == "Schedule"
    ]
    rules = [
        target | {"Schedule": res["Properties"]["ScheduleExpression"], "Rule": name}
        for name, res in resources.items()
        if res["Type"] == "AWS::Events::Rule"
        for target in res["Properties"]["Targets"]
        if target["Arn"] == {"Fn::GetAtt": ["ProcessorFunction", "Arn"]}
    ]
    return sam_ticks + rules


@pytest.mark.parametrize("workers", WORKERS)
def test_each_worker_is_one_more_schedule_like_the_first(template: dict[str, Any], workers: int) -> None:
    resources = created(template, {"ProcessorWorkers": str(workers)})
    ticks = schedules_of_the_processor(resources)
    assert len(ticks) == workers
    for tick in ticks:
        assert tick["Schedule"] == "rate(1 minute)"
        assert tick["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    rules = {tick["Rule"] for tick in ticks if "Rule" in tick}
    permissions = [
        res["Properties"]
        for res in resources.values()
        if res["Type"] == "AWS::Lambda::Permission"
        and res["Properties"]["FunctionName"] == {"Ref": "ProcessorFunction"}
    ]
    assert {p["SourceArn"]["Fn::GetAtt"][0] for p in permissions} == rules  # each rule may invoke it
    assert all(p["Principal"] == "events.amazonaws.com" for p in permissions)


def test_the_default_is_one_worker_and_every_allowed_value_is_offered(template: dict[str, Any]) -> None:
    from leadenrich.runtime import RuntimeSettings

    parameter = template["Parameters"]["ProcessorWorkers"]
    assert parameter["Default"] == 1 and [int(v) for v in parameter["AllowedValues"]] == list(WORKERS)
    field = RuntimeSettings.model_fields["processor_workers"]
    bounds = {type(m).__name__: m for m in field.metadata}
    assert (field.default, bounds["Ge"].ge, bounds["Le"].le) == (1, min(WORKERS), max(WORKERS))
    # The API makes jobs: their queue window is QueueWindow x ProcessorWorkers.
    api = props(template, "ApiFunction")["Environment"]["Variables"]
    assert api["PROCESSOR_WORKERS"] == {"Ref": "ProcessorWorkers"}


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("reserved", [-1, 0, 1, 2, 4, 8, 10])
def test_a_reservation_below_the_workers_is_refused(
    template: dict[str, Any], workers: int, reserved: int
) -> None:
    parameters = with_defaults(
        template, {"ProcessorWorkers": str(workers), "ProcessorReservedConcurrency": str(reserved)}
    )
    assert rules_hold(template, parameters) == (reserved in (-1, 0) or reserved >= workers)


def test_every_worker_runs_the_one_function_so_its_timeout_and_lease_hold_for_all(
    template: dict[str, Any],
) -> None:
    """Workers are invocations of `ProcessorFunction`, not copies: the timeout, the budget's ceiling and the
    queue's visibility timeout tested for it (tests/infra/test_template.py) are every worker's."""
    resources = created(template, {"ProcessorWorkers": "8"})
    functions = [n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    assert sum("Processor" in n for n in functions) == 1
    assert resource(template, "ProcessorFunction")["Properties"]["Handler"] == "handle_process.handler"
    assert props(template, "WorkQueue")["VisibilityTimeout"] > props(template, "ProcessorFunction")["Timeout"]


@pytest.mark.parametrize("trigger", ["schedule", "queue"])
def test_the_queue_trigger_maps_every_work_queue_and_reports_partial_failures(
    template: dict[str, Any], trigger: str
) -> None:
    from leadenrich.runtime import RuntimeSettings

    parameter = template["Parameters"]["ProcessorTrigger"]
    field = RuntimeSettings.model_fields["processor_trigger"]
    assert parameter["Default"] == field.default == "schedule"
    assert parameter["AllowedValues"] == list(get_args(field.annotation))
    environment = props(template, "ProcessorFunction")["Environment"]["Variables"]
    assert environment["PROCESSOR_TRIGGER"] == {"Ref": "ProcessorTrigger"}

    resources = created(template, {"ProcessorTrigger": trigger, "ProcessorWorkers": "1"})
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    if trigger == "schedule":
        assert mappings == []
        return
    assert sorted(m["EventSourceArn"]["Fn::GetAtt"][0] for m in mappings) == sorted(
        queue for queue, _dlq in BAND_QUEUES.values()
    )
    for mapping in mappings:
        assert mapping["FunctionName"] == {"Ref": "ProcessorFunction"}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # or a deferral is deleted
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "ProcessorMaxConcurrency"}}
        assert mapping["BatchSize"] <= 10
    # The schedule stays, for scheduled jobs, callbacks and purges.
    assert len(schedules_of_the_processor(resources)) == 1


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_more_scheduled_workers_are_refused_with_the_queue_trigger(
    template: dict[str, Any], workers: int
) -> None:
    parameters = with_defaults(template, {"ProcessorTrigger": "queue", "ProcessorWorkers": str(workers)})
    assert rules_hold(template, parameters) == (workers == 1)
    scheduled = with_defaults(template, {"ProcessorTrigger": "schedule", "ProcessorWorkers": str(workers)})
    assert rules_hold(template, scheduled)
