"""Invariants of the SAM template (`template.yaml`) and its deploy config (`samconfig.toml`).

The template is read with cfn-lint's loader, which turns the short tags (!Ref, !Sub, !GetAtt, !If...) into
their long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}, ...). Where the code fixes a contract (the table
shape `create_table` builds, the queue pair `create_queues` builds, the processor's settings), the template
is compared with the code rather than with copied constants, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import boto3
import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

from leadenrich.aws import dynamo_schema, sqs_queue
from leadenrich.jobs.models import Band
from leadenrich.jobs.processor import ProcessorSettings
from leadenrich.jobs.requests import MAX_ATTEMPTS
from leadenrich.runtime import RuntimeSettings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"

VISIBILITY_MARGIN_SECONDS = 30  # the queue hides a message this much longer than the processor can run
BUDGET_MARGIN_SECONDS = 10  # start-up and the last writes, on top of the drain budget

API_ROUTES = {
    ("POST", "/jobs"),
    ("GET", "/jobs"),
    ("GET", "/jobs/{job_id}"),
    ("GET", "/jobs/{job_id}/items"),
    ("DELETE", "/jobs/{job_id}"),
    ("POST", "/jobs/{job_id}/retry"),
    ("POST", "/jobs/{job_id}/exports"),
    ("POST", "/jobs/{job_id}/exports/{export_id}"),
    ("GET", "/jobs/{job_id}/exports/{export_id}"),
    ("POST", "/uploads"),
    ("PATCH", "/jobs/{job_id}"),
    ("POST", "/jobs/bulk"),
    ("GET", "/budget"),
    ("GET", "/settings"),
    ("PUT", "/settings"),
    ("GET", "/audit"),
    ("POST", "/erasures"),
    ("GET", "/suppressions"),
    ("POST", "/suppressions"),
    ("DELETE", "/suppressions/{key}"),
    ("GET", "/contacts"),
    ("POST", "/contacts/{contact_id}/approve"),
    ("POST", "/contacts/{contact_id}/reject"),
    ("POST", "/contacts/review"),
    ("POST", "/buffer/push"),
    ("POST", "/buffer/next"),
    ("GET", "/leads"),
    ("POST", "/leads"),
    ("GET", "/cursor/{namespace}"),
    ("PUT", "/cursor/{namespace}"),
    ("POST", "/enrich"),
    ("POST", "/dlq/redrive"),
    ("GET", "/metrics"),
    ("GET", "/stats"),
    ("GET", "/health"),
    ("GET", "/console"),
    ("GET", "/console/{asset}"),
}
# No API key: the authorizer is switched off on these (the console's page and files hold no data).
PUBLIC_API_ROUTES = {("GET", "/health"), ("GET", "/console"), ("GET", "/console/{asset}")}
# Each priority band's queue and its DLQ (leadenrich.jobs.priorities); WorkQueue is the normal band's.
BAND_QUEUES = {
    Band.HIGH: ("HighPriorityQueue", "HighPriorityDeadLetterQueue"),
    Band.NORMAL: ("WorkQueue", "DeadLetterQueue"),
    Band.LOW: ("LowPriorityQueue", "LowPriorityDeadLetterQueue"),
}
FUNCTION_ENVIRONMENT = {
    "TABLE_NAME": {"Ref": "Table"},
    "QUEUE_URL": {"Ref": "WorkQueue"},
    "DEAD_LETTER_QUEUE_URL": {"Ref": "DeadLetterQueue"},
    "HIGH_PRIORITY_QUEUE_URL": {"Ref": "HighPriorityQueue"},
    "HIGH_PRIORITY_DEAD_LETTER_QUEUE_URL": {"Ref": "HighPriorityDeadLetterQueue"},
    "LOW_PRIORITY_QUEUE_URL": {"Ref": "LowPriorityQueue"},
    "LOW_PRIORITY_DEAD_LETTER_QUEUE_URL": {"Ref": "LowPriorityDeadLetterQueue"},
    "PROVIDER_SECRET_ARN": {"Ref": "ProviderSecret"},
    "APP_SECRET_ARN": {"Ref": "AppSecret"},
    "SUPABASE_URL": {"Ref": "SupabaseUrl"},
    "JOB_STORE": {"Ref": "JobStore"},
    "LOG_LEVEL": {"Ref": "LogLevel"},
    "STAGE": {"Ref": "Stage"},
    "PRIVACY_HASH_KEY": {"Ref": "PrivacyHashKey"},  # every function hashes identities the same way
}


# --- helpers -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    found = template["Resources"].get(name)
    assert isinstance(found, dict), f"resource {name} is missing"
    return found


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    found = resource(template, name).get("Properties", {})
    assert isinstance(found, dict)
    return found


def of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res.get("Type") == type_name}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = of_type(template, "AWS::Serverless::Function")
    assert set(found) >= {"ApiFunction", "ProcessorFunction"}
    return found


def function_setting(template: dict[str, Any], name: str, key: str) -> Any:
    """A function's own property, else the Globals one (SAM's override rule for scalars and lists)."""
    own = props(template, name)
    if key in own:
        return own[key]
    return template.get("Globals", {}).get("Function", {}).get(key)


def function_environment(template: dict[str, Any], name: str) -> dict[str, Any]:
    """Globals variables merged with the function's own (SAM merges maps, the function winning)."""
    merged: dict[str, Any] = {}
    global_env = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    merged.update(global_env.get("Variables", {}))
    merged.update(props(template, name).get("Environment", {}).get("Variables", {}))
    return merged


def processor_timeout(template: dict[str, Any]) -> int:
    timeout = function_setting(template, "ProcessorFunction", "Timeout")
    assert isinstance(timeout, int), "the processor's Timeout must be a literal number"
    return timeout


def policy_statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement anywhere in the template (function Policies, IAM resources, resource policies)."""
    if isinstance(node, dict):
        statements = node.get("Statement")
        if isinstance(statements, dict):
            yield statements
        elif isinstance(statements, list):
            yield from (s for s in statements if isinstance(s, dict))
        for value in node.values():
            yield from policy_statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from policy_statements(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def alarms_on(template: dict[str, Any], namespace: str, metric: str) -> list[dict[str, Any]]:
    return [
        res["Properties"]
        for res in of_type(template, "AWS::CloudWatch::Alarm").values()
        if res["Properties"].get("Namespace") == namespace and res["Properties"].get("MetricName") == metric
    ]


def dimension(alarm: dict[str, Any], name: str) -> Any:
    values = [d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == name]
    assert len(values) == 1, f"alarm needs exactly one {name} dimension"
    return values[0]


# --- processor timing --------------------------------------------------------------------------------


def test_processor_timeout_exceeds_every_allowed_budget(template: dict[str, Any]) -> None:
    budget = template["Parameters"]["ProcessorBudgetSeconds"]
    timeout = processor_timeout(template)
    assert timeout > budget["Default"] + BUDGET_MARGIN_SECONDS
    # The Timeout is fixed (no arithmetic on parameters), so the parameter's ceiling must respect it too.
    assert budget["MaxValue"] + BUDGET_MARGIN_SECONDS <= timeout
    assert timeout <= 900


def test_parameter_defaults_match_the_processor_settings(template: dict[str, Any]) -> None:
    settings = ProcessorSettings()
    params = template["Parameters"]
    assert params["ProcessorBudgetSeconds"]["Default"] == settings.budget_seconds
    assert params["MaxItemsPerRun"]["Default"] == settings.max_items
    env = function_environment(template, "ProcessorFunction")
    assert env["MAX_ITEMS_PER_RUN"] == {"Ref": "MaxItemsPerRun"}
    assert env["PROCESSOR_BUDGET_SECONDS"] == {"Ref": "ProcessorBudgetSeconds"}


def test_supabase_is_off_by_default_and_job_store_takes_what_the_runtime_accepts(
    template: dict[str, Any],
) -> None:
    params = template["Parameters"]
    assert params["SupabaseUrl"]["Default"] == ""
    assert re.fullmatch(params["SupabaseUrl"]["AllowedPattern"], "https://abc.supabase.co")
    assert not re.fullmatch(params["SupabaseUrl"]["AllowedPattern"], "http://abc.supabase.co")
    accepted = set(get_args(RuntimeSettings.model_fields["job_store"].annotation))
    assert set(params["JobStore"]["AllowedValues"]) == accepted
    assert params["JobStore"]["Default"] == "dynamodb"


@pytest.mark.parametrize("queue_name", [queue for queue, _ in BAND_QUEUES.values()])
def test_queue_hides_a_message_longer_than_the_processor_can_hold_it(
    template: dict[str, Any], queue_name: str
) -> None:
    timeout = processor_timeout(template)
    visibility = props(template, queue_name)["VisibilityTimeout"]
    assert visibility > timeout + VISIBILITY_MARGIN_SECONDS
    # The processor passes its own lease on ReceiveMessage, which overrides the queue's default: the same.
    lease = function_environment(template, "ProcessorFunction")["QUEUE_VISIBILITY_TIMEOUT"]
    assert int(lease) == visibility


def test_processor_ticks_every_minute_without_async_retries(template: dict[str, Any]) -> None:
    processor = props(template, "ProcessorFunction")
    schedules = [e["Properties"] for e in processor["Events"].values() if e["Type"] == "Schedule"]
    assert len(schedules) == 1
    assert schedules[0]["Schedule"] == "rate(1 minute)"
    assert processor["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    assert processor["EventInvokeConfig"]["MaximumEventAgeInSeconds"] == 60


def test_reserved_concurrency_is_set_only_when_asked(template: dict[str, Any]) -> None:
    param = template["Parameters"]["ProcessorReservedConcurrency"]
    assert param["Default"] == -1
    assert param["MinValue"] == -1  # so "not -1" (what a condition can test) means ">= 0"
    reserved = props(template, "ProcessorFunction")["ReservedConcurrentExecutions"]
    condition, when_set, when_unset = reserved["Fn::If"]
    assert when_set == {"Ref": "ProcessorReservedConcurrency"}
    assert when_unset == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ProcessorReservedConcurrency"}, "-1"]}]
    }


# --- queues ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("queue_name", "dlq_name"), list(BAND_QUEUES.values()))
def test_work_queue_redrives_to_a_dead_letter_queue_like_create_queues(
    template: dict[str, Any], queue_name: str, dlq_name: str
) -> None:
    queue = props(template, queue_name)
    dlq = props(template, dlq_name)
    max_receive = inspect.signature(sqs_queue.create_queues).parameters["max_receive_count"].default
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_name, "Arn"]},
        "maxReceiveCount": max_receive,
    }
    # The processor's own dead-lettering (after the item's attempts) must come first: SQS's count includes
    # deferrals, and a message it moves leaves its item "deferred" in the store.
    assert max_receive >= 2 * MAX_ATTEMPTS
    assert dlq["MessageRetentionPeriod"] == sqs_queue.DLQ_RETENTION_SECONDS == 14 * 24 * 3600
    # A dead letter's age counts from its first enqueue: the DLQ must keep messages longer than the queue.
    assert queue.get("MessageRetentionPeriod", 345_600) < dlq["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize(("queue_name", "dlq_name"), list(BAND_QUEUES.values()))
def test_dead_letter_and_queue_age_alarms(template: dict[str, Any], queue_name: str, dlq_name: str) -> None:
    dlq_alarms = alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    dlq_alarms = [
        a for a in dlq_alarms if dimension(a, "QueueName") == {"Fn::GetAtt": [dlq_name, "QueueName"]}
    ]
    assert len(dlq_alarms) == 1
    assert dlq_alarms[0]["Threshold"] == 0
    assert dlq_alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"

    age_alarms = [
        a
        for a in alarms_on(template, "AWS/SQS", "ApproximateAgeOfOldestMessage")
        if dimension(a, "QueueName") == {"Fn::GetAtt": [queue_name, "QueueName"]}
    ]
    assert len(age_alarms) == 1
    assert age_alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"
    assert 0 < age_alarms[0]["Threshold"] <= 3600

    error_alarms = [
        a
        for a in alarms_on(template, "AWS/Lambda", "Errors")
        if dimension(a, "FunctionName") == {"Ref": "ProcessorFunction"}
    ]
    assert len(error_alarms) == 1

    for alarm in [*dlq_alarms, *age_alarms, *error_alarms]:
        assert alarm["AlarmActions"], "an alarm must notify someone"


# --- table -------------------------------------------------------------------------------------------


def test_table_is_protected(template: dict[str, Any]) -> None:
    table = resource(template, "Table")
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": dynamo_schema.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert dynamo_schema.TTL_ATTRIBUTE == "expires_at"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "TableName" not in properties  # a generated name: a replacement never collides with the old table


@pytest.fixture
def moto_table(mocked_aws: None) -> tuple[dict[str, Any], str]:
    """What `create_table` builds: (DescribeTable's Table, the TTL attribute)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    dynamo_schema.create_table(client, "leadenrich-template-test")
    table = client.describe_table(TableName="leadenrich-template-test")["Table"]
    ttl = client.describe_time_to_live(TableName="leadenrich-template-test")["TimeToLiveDescription"]
    return table, ttl["AttributeName"]


def _keys(schema: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def test_table_shape_equals_create_table(
    template: dict[str, Any], moto_table: tuple[dict[str, Any], str]
) -> None:
    built, ttl_attribute = moto_table
    declared = props(template, "Table")

    assert _keys(declared["KeySchema"]) == _keys(built["KeySchema"])
    assert sorted(
        (a["AttributeName"], a["AttributeType"]) for a in declared["AttributeDefinitions"]
    ) == sorted((a["AttributeName"], a["AttributeType"]) for a in built["AttributeDefinitions"])
    declared_indexes = {
        i["IndexName"]: (_keys(i["KeySchema"]), dict(i["Projection"]))
        for i in declared["GlobalSecondaryIndexes"]
    }
    built_indexes = {
        i["IndexName"]: (_keys(i["KeySchema"]), dict(i["Projection"]))
        for i in built["GlobalSecondaryIndexes"]
    }
    assert declared_indexes == built_indexes
    assert dynamo_schema.GSI1 in declared_indexes
    assert not declared.get("LocalSecondaryIndexes")
    assert not built.get("LocalSecondaryIndexes")
    assert declared["BillingMode"] == built["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert declared["TimeToLiveSpecification"]["AttributeName"] == ttl_attribute


# --- functions, layer, API ---------------------------------------------------------------------------


def test_every_function_runs_python312_on_arm64_with_the_layer(template: dict[str, Any]) -> None:
    for name in functions(template):
        assert function_setting(template, name, "Runtime") == "python3.12", name
        assert function_setting(template, name, "Architectures") == ["arm64"], name
        assert {"Ref": "CommonLayer"} in function_setting(template, name, "Layers"), name
        assert function_setting(template, name, "Tracing") == "Active", name
        env = function_environment(template, name)
        for var, value in FUNCTION_ENVIRONMENT.items():
            assert env.get(var) == value, f"{name}: {var}"
        assert env.get("POWERTOOLS_SERVICE_NAME")
        # Provider keys come from Secrets Manager at run time, never from plain environment variables.
        assert not {"HUNTER_API_KEY", "PERPLEXITY_API_KEY"} & set(env), name


def test_common_layer_is_built_for_the_functions(template: dict[str, Any]) -> None:
    layer = resource(template, "CommonLayer")
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}


def test_handlers(template: dict[str, Any]) -> None:
    api = props(template, "ApiFunction")
    processor = props(template, "ProcessorFunction")
    assert (api["CodeUri"], api["Handler"]) == ("functions/api/", "handle_api.handler")
    assert (processor["CodeUri"], processor["Handler"]) == ("functions/processor/", "handle_process.handler")
    assert function_setting(template, "ApiFunction", "Timeout") <= 29  # under API Gateway's 30 s


def test_every_api_route_is_wired_to_the_http_api(template: dict[str, Any]) -> None:
    assert resource(template, "HttpApi")["Type"] == "AWS::Serverless::HttpApi"
    events = [
        e["Properties"] for e in props(template, "ApiFunction")["Events"].values() if e["Type"] == "HttpApi"
    ]
    routes = [(e["Method"].upper(), e["Path"]) for e in events]
    assert len(routes) == len(set(routes)), "a route is declared twice"
    assert set(routes) == API_ROUTES
    assert all(e["ApiId"] == {"Ref": "HttpApi"} for e in events)


# --- IAM and secrets ---------------------------------------------------------------------------------


def test_no_iam_statement_on_every_resource(template: dict[str, Any]) -> None:
    statements = list(policy_statements(template["Resources"]))
    assert statements, "expected inline statements (e.g. the API's GetQueueAttributes)"
    for statement in statements:
        assert "NotResource" not in statement
        for target in as_list(statement.get("Resource")):
            assert target != "*", statement
            assert not (isinstance(target, str) and target.endswith(":*")), statement


def test_functions_use_scoped_policy_templates_only(template: dict[str, Any]) -> None:
    """Policies are SAM policy templates bound to this stack's resources, or inline statements: no managed
    policy names (e.g. AmazonSQSFullAccess), and no template argument left as a wildcard."""
    for name in functions(template):
        policies = props(template, name)["Policies"]
        assert isinstance(policies, list) and policies, name
        for policy in policies:
            assert isinstance(policy, dict) and len(policy) == 1, f"{name}: {policy!r}"
            for template_name, arguments in policy.items():
                if template_name == "Statement":
                    continue
                assert template_name.endswith("Policy"), f"{name}: {template_name}"
                for argument in arguments.values():
                    assert isinstance(argument, dict), f"{name}: {template_name} must reference a resource"


def _templates(template: dict[str, Any], function: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for policy in props(template, function)["Policies"]:
        for template_name, arguments in policy.items():
            if template_name != "Statement":
                found.setdefault(template_name, []).append(next(iter(arguments.values())))
    return found


def _names(*resources: str) -> list[dict[str, Any]]:
    return [{"Fn::GetAtt": [resource, "QueueName"]} for resource in resources]


QUEUE_NAMES = _names("WorkQueue", "HighPriorityQueue", "LowPriorityQueue")
DLQ_NAMES = _names("DeadLetterQueue", "HighPriorityDeadLetterQueue", "LowPriorityDeadLetterQueue")


def test_least_privilege_per_function(template: dict[str, Any]) -> None:
    api = _templates(template, "ApiFunction")
    assert api["DynamoDBCrudPolicy"] == [{"Ref": "Table"}]
    assert api["SQSSendMessagePolicy"] == QUEUE_NAMES
    assert api["SQSPollerPolicy"] == DLQ_NAMES  # redrive reads the DLQs, never a work queue
    depth = [
        s
        for s in policy_statements(props(template, "ApiFunction")["Policies"])
        if s.get("Sid") == "WorkQueueDepth"
    ]
    assert [as_list(s["Action"]) for s in depth] == [["sqs:GetQueueAttributes"]]
    assert as_list(depth[0]["Resource"]) == [
        {"Fn::GetAtt": [q, "Arn"]} for q, _ in (BAND_QUEUES[b] for b in (Band.NORMAL, Band.HIGH, Band.LOW))
    ]
    # The Supabase key, and the provider keys for the buffer's enrichment and POST /enrich (docs/buffer.md).
    assert api["AWSSecretsManagerGetSecretValuePolicy"] == [{"Ref": "AppSecret"}, {"Ref": "ProviderSecret"}]

    processor = _templates(template, "ProcessorFunction")
    assert processor["DynamoDBCrudPolicy"] == [{"Ref": "Table"}]
    assert processor["SQSPollerPolicy"] == QUEUE_NAMES
    # Dead letters to each band's DLQ; the items beyond a job's queue window to its band's work queue.
    assert processor["SQSSendMessagePolicy"] == DLQ_NAMES + QUEUE_NAMES
    assert processor["AWSSecretsManagerGetSecretValuePolicy"] == [
        {"Ref": "ProviderSecret"},
        {"Ref": "AppSecret"},
    ]


def test_webhook_function_route_without_api_key_and_least_privilege(template: dict[str, Any]) -> None:
    webhook = props(template, "WebhookFunction")
    assert (webhook["CodeUri"], webhook["Handler"]) == ("functions/webhook/", "handle_webhook.handler")
    events = [e["Properties"] for e in webhook["Events"].values()]
    assert [(e["Method"], e["Path"], e["ApiId"]) for e in events] == [
        ("POST", "/webhooks/{provider}", {"Ref": "HttpApi"})
    ]
    assert events[0]["Auth"] == {"Authorizer": "NONE"}  # the provider's signature is the credential
    policies = _templates(template, "WebhookFunction")
    assert policies == {
        "SQSSendMessagePolicy": QUEUE_NAMES,  # a resumed item goes to its job's band
        "AWSSecretsManagerGetSecretValuePolicy": [{"Ref": "AppSecret"}],
    }
    # Its allowances (the audit trail's Deny is held in test_audit_iam.py): events recorded once, and bounce
    # feedback's effects (docs/bounces.md): the workspace's jobs (GSI1) and items read and marked, a
    # suppression entry, a re-queue job. No Scan, no other index.
    statements = [s for s in policy_statements(webhook["Policies"]) if s.get("Effect") != "Deny"]
    assert len(statements) == 1
    assert sorted(as_list(statements[0]["Action"])) == [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert statements[0]["Resource"] == [
        {"Fn::GetAtt": ["Table", "Arn"]},
        {"Fn::Sub": "${Table.Arn}/index/GSI1"},
    ]
    assert props(template, "WebhookLogs") and webhook["LoggingConfig"] == {"LogGroup": {"Ref": "WebhookLogs"}}


def test_app_secret_is_a_retained_placeholder_apart_from_the_provider_keys(template: dict[str, Any]) -> None:
    secret = resource(template, "AppSecret")
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["DeletionPolicy"] == "Retain"
    assert json.loads(secret["Properties"]["SecretString"]) == {
        "SUPABASE_SERVICE_ROLE_KEY": "",
        "WEBHOOK_SIGNING_SECRETS": {},
        "WEBHOOK_PROVIDER_SECRETS": {},
    }
    assert "AppSecretArn" in template["Outputs"]
    # Only the processor and the API (POST /buffer/next and POST /enrich enrich) may read the provider keys.
    readers = [
        name
        for name in functions(template)
        if {"Ref": "ProviderSecret"}
        in _templates(template, name).get("AWSSecretsManagerGetSecretValuePolicy", [])
    ]
    assert sorted(readers) == ["ApiFunction", "ProcessorFunction"]


# --- API keys: the authorizer ----------------------------------------------------------------------------


def test_the_http_api_checks_an_api_key_on_every_route_by_default(template: dict[str, Any]) -> None:
    auth = props(template, "HttpApi")["Auth"]
    assert auth["DefaultAuthorizer"] == "ApiKeyAuthorizer"
    authorizer = auth["Authorizers"]["ApiKeyAuthorizer"]
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["EnableSimpleResponses"] is True
    assert authorizer["EnableFunctionDefaultPermissions"] is True
    # The cache key is the header, so one key's answer is never served to another; at most 5 minutes.
    assert authorizer["Identity"]["Headers"] == ["X-API-Key"]
    assert 0 < authorizer["Identity"]["ReauthorizeEvery"] <= 300
    assert set(authorizer["Identity"]) == {"Headers", "ReauthorizeEvery"}


def test_only_health_and_the_webhooks_skip_the_authorizer(template: dict[str, Any]) -> None:
    open_routes = set()
    for name in functions(template):
        for event in props(template, name).get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            route = (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
            auth = event["Properties"].get("Auth")
            if auth is not None:
                assert auth == {"Authorizer": "NONE"}, (name, route)
                open_routes.add(route)
    assert {r for r in open_routes if not r[1].startswith("/webhooks/")} == PUBLIC_API_ROUTES


def test_the_authorizer_function_only_reads_key_rows(template: dict[str, Any]) -> None:
    authorizer = props(template, "AuthorizerFunction")
    assert (authorizer["CodeUri"], authorizer["Handler"]) == (
        "functions/authorizer/",
        "handle_authorizer.handler",
    )
    assert function_setting(template, "AuthorizerFunction", "Timeout") <= 10
    assert authorizer["LoggingConfig"] == {"LogGroup": {"Ref": "AuthorizerLogs"}}
    assert _templates(template, "AuthorizerFunction") == {}  # no policy template: no queue, no secret
    statements = list(policy_statements(authorizer["Policies"]))
    assert len(statements) == 1
    assert as_list(statements[0]["Action"]) == ["dynamodb:GetItem"]
    assert statements[0]["Resource"] == {"Fn::GetAtt": ["Table", "Arn"]}
    # Handler module names are unique: each function folder is its own code root, the tests share a path.
    handlers = [props(template, n)["Handler"].split(".")[0] for n in functions(template)]
    assert len(handlers) == len(set(handlers))


def test_the_daily_lead_quota_reaches_the_api(template: dict[str, Any]) -> None:
    from leadenrich.runtime import RuntimeSettings

    parameter = template["Parameters"]["DailyLeadQuota"]
    assert parameter["Default"] == RuntimeSettings.model_fields["daily_lead_quota"].default
    assert parameter["MinValue"] == 0
    assert function_environment(template, "ApiFunction")["DAILY_LEAD_QUOTA"] == {"Ref": "DailyLeadQuota"}


def test_the_queue_window_reaches_the_api(template: dict[str, Any]) -> None:
    from leadenrich.runtime import RuntimeSettings

    parameter = template["Parameters"]["QueueWindow"]
    field = RuntimeSettings.model_fields["queue_window"]
    assert parameter["Default"] == field.default
    bounds = {type(m).__name__: m for m in field.metadata}
    assert (parameter["MinValue"], parameter["MaxValue"]) == (bounds["Ge"].ge, bounds["Le"].le)
    # Only the API makes jobs; the processor reads each job's own window from the store.
    assert function_environment(template, "ApiFunction")["QUEUE_WINDOW"] == {"Ref": "QueueWindow"}
    assert "QUEUE_WINDOW" not in function_environment(template, "ProcessorFunction")


def test_provider_secret_is_a_retained_placeholder(template: dict[str, Any]) -> None:
    secret = resource(template, "ProviderSecret")
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["DeletionPolicy"] == "Retain"
    assert json.loads(secret["Properties"]["SecretString"]) == {
        "HUNTER_API_KEY": "",
        "PERPLEXITY_API_KEY": "",
    }


def test_outputs(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) >= {
        "ApiUrl",
        "TableName",
        "QueueUrl",
        "DeadLetterQueueUrl",
        "HighPriorityQueueUrl",
        "HighPriorityDeadLetterQueueUrl",
        "LowPriorityQueueUrl",
        "LowPriorityDeadLetterQueueUrl",
        "ProviderSecretArn",
        "CommonLayerArn",
    }


# --- config and lint ---------------------------------------------------------------------------------


def test_samconfig_has_dev_default_and_prod() -> None:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    assert config["default"]["global"]["parameters"]["stack_name"] == "leadenrich-dev"
    assert config["default"]["deploy"]["parameters"]["parameter_overrides"] == "Stage=dev"
    assert config["prod"]["global"]["parameters"]["stack_name"] == "leadenrich-prod"
    assert config["prod"]["deploy"]["parameters"]["parameter_overrides"] == "Stage=prod"


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.fail(f"cfn-lint is not installed next to {sys.executable} (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(cfn_lint), "template.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"cfn-lint exit {result.returncode}:\n{result.stdout}{result.stderr}"
