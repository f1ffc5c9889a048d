"""The audit trail is append only in the template too (docs/privacy.md "Audit trail"): whatever the code
does, no function may change or delete an audit entry, and only the API, the processor and the webhook
function may add one.

The template's policies are evaluated as IAM does for the DynamoDB requests that matter (an explicit Deny
wins over any Allow; no Allow is a refusal): each function's SAM policy templates expanded to their
actions, its inline statements as written, `dynamodb:LeadingKeys` the request's partition keys. What is
held: on a `WS#{workspace}#AUDIT` partition the API may PutItem (its append, conditional in the code) and
read, never UpdateItem, DeleteItem or BatchWriteItem (a batch holding one audit key among others
included); the webhook function (bounce feedback's entries, docs/bounces.md) and the processor (a job
paused at its spend cap) may append too and are held to the same; every other row stays writable as
before; the pattern matches the adapter's partition and no other row's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

from leadenrich.aws.dynamo_audit import audit_pk
from leadenrich.aws.dynamo_schema import activity_pk, idempotency_key, job_pk, jobs_gsi_pk
from leadenrich.aws.dynamo_spend import spend_pk

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TABLE_ARN = {"Fn::GetAtt": ["Table", "Arn"]}
# SAM's DynamoDBCrudPolicy (samtranslator's policy_templates.json), on the table and its indexes.
CRUD_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:ConditionCheckItem",
]
WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
AUDIT = audit_pk("acme")
JOB = job_pk("acme", "job_1")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any], function: str) -> Iterator[dict[str, Any]]:
    """The function's IAM statements on the table, with SAM's DynamoDB CRUD template expanded."""
    for policy in template["Resources"][function]["Properties"]["Policies"]:
        for name, body in policy.items():
            if name == "DynamoDBCrudPolicy":
                assert body == {"TableName": {"Ref": "Table"}}
                yield {"Effect": "Allow", "Action": CRUD_ACTIONS, "Resource": TABLE_ARN}
            elif name == "Statement":
                yield from (s for s in as_list(body) if TABLE_ARN in as_list(s.get("Resource")))


def _like(pattern: str, value: str) -> bool:
    """IAM's StringLike: `*` any run of characters, `?` one, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _condition_holds(condition: dict[str, Any] | None, leading_keys: list[str]) -> bool:
    for operator, tests in (condition or {}).items():
        for key, patterns in tests.items():
            assert key == "dynamodb:LeadingKeys", key
            matches = [any(_like(p, k) for p in as_list(patterns)) for k in leading_keys]
            if operator == "ForAnyValue:StringLike":
                holds = any(matches)
            elif operator == "ForAllValues:StringLike":
                holds = all(matches)  # true for no keys at all, as in IAM
            else:
                raise AssertionError(f"operator not modelled: {operator}")
            if not holds:
                return False
    return True


def _names(statement: dict[str, Any], action: str) -> bool:
    return any(_like(a, action) for a in as_list(statement["Action"]))


def allowed(template: dict[str, Any], function: str, action: str, *leading_keys: str) -> bool:
    """Whether IAM lets `function` make the request: no Deny that applies, and an Allow that does."""
    applying = [
        s
        for s in statements(template, function)
        if _names(s, action) and _condition_holds(s.get("Condition"), list(leading_keys))
    ]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


def test_the_api_appends_and_reads_entries_and_can_neither_change_nor_delete_them(
    template: dict[str, Any],
) -> None:
    api = "ApiFunction"
    assert allowed(template, api, "dynamodb:PutItem", AUDIT)  # the append (attribute_not_exists in code)
    assert allowed(template, api, "dynamodb:Query", AUDIT)  # GET /audit
    for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not allowed(template, api, action, AUDIT), action
    assert not allowed(template, api, "dynamodb:BatchWriteItem", JOB, AUDIT)  # one audit key among others
    for action in WRITES:  # every other row as before
        assert allowed(template, api, action, JOB), action
    assert allowed(template, api, "dynamodb:BatchWriteItem", JOB, job_pk("acme", "job_2"))


def test_the_processor_appends_its_decisions_and_can_neither_change_nor_delete_entries(
    template: dict[str, Any],
) -> None:
    function = "ProcessorFunction"
    assert allowed(template, function, "dynamodb:PutItem", AUDIT)  # a pause at a spend cap
    for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not allowed(template, function, action, AUDIT), action
    assert not allowed(template, function, "dynamodb:BatchWriteItem", JOB, AUDIT)
    assert allowed(template, function, "dynamodb:PutItem", JOB)
    assert allowed(template, function, "dynamodb:DeleteItem", "HOOK#standard#EVT#e1")


def test_the_webhooks_append_bounce_entries_and_can_neither_change_nor_delete_them(
    template: dict[str, Any],
) -> None:
    function = "WebhookFunction"
    assert allowed(template, function, "dynamodb:PutItem", AUDIT)  # a bounce's entry (conditional in code)
    for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not allowed(template, function, action, AUDIT), action
    assert not allowed(template, function, "dynamodb:BatchWriteItem", JOB, AUDIT)
    assert allowed(template, function, "dynamodb:PutItem", "HOOK#x")
    assert allowed(template, function, "dynamodb:DeleteItem", "HOOK#standard#EVT#e1")
    assert allowed(template, function, "dynamodb:UpdateItem", JOB)  # an item's result marked


def test_every_function_that_writes_the_table_carries_the_deny(template: dict[str, Any]) -> None:
    """A function added later with write access to the table is held to the same rule."""
    writers = [
        name
        for name, res in template["Resources"].items()
        if res.get("Type") == "AWS::Serverless::Function"
        and any(allowed(template, name, action, JOB) for action in WRITES)
    ]
    assert set(writers) >= {"ApiFunction", "ProcessorFunction", "WebhookFunction"}
    for name in writers:
        for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
            assert not allowed(template, name, action, AUDIT), (name, action)
        appenders = ("ApiFunction", "ProcessorFunction", "WebhookFunction")
        assert allowed(template, name, "dynamodb:PutItem", AUDIT) is (name in appenders)
    assert not any(allowed(template, "AuthorizerFunction", action, AUDIT) for action in WRITES)


def test_the_deny_names_any_audit_key_among_the_request_s(template: dict[str, Any]) -> None:
    """ForAnyValue, not ForAllValues: with ForAllValues a BatchWriteItem mixing an audit key with other
    keys would not match, and would pass."""
    denies = [s for s in statements(template, "ApiFunction") if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in denies] == [
        {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["WS#*#AUDIT"]}}
    ]
    assert not _condition_holds(
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["WS#*#AUDIT"]}}, [JOB, AUDIT]
    )


def test_the_pattern_is_the_audit_partition_and_no_other_row_s() -> None:
    assert _like("WS#*#AUDIT", audit_pk("acme")) and _like("WS#*#AUDIT", audit_pk("a.b-c_9"))
    others = [
        job_pk("acme", "job_1"),
        jobs_gsi_pk("acme"),
        activity_pk("acme"),
        spend_pk("acme"),
        idempotency_key("acme", "key-1")["PK"]["S"],
        "WS#acme#APIKEYS",
        "WS#acme#QUOTA",
        "WS#acme#HOOKS#job_1",
        "HOOK#OUTBOX",
        "APIKEY#0123",
    ]
    assert not [pk for pk in others if _like("WS#*#AUDIT", pk)]
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "layers" / "common" / "leadenrich").rglob("*.py")
        if "#AUDIT" in path.read_text(encoding="utf-8")
    ]
    assert writers == ["layers/common/leadenrich/aws/dynamo_audit.py"]  # the only code naming the partition
