"""Uploads and exports in the SAM template (docs/uploads.md): the bucket holds personal data, so it is
encrypted, private, TLS and SigV4 only, and empties itself (uploads after 7 days, exports after 1, broken
multipart uploads after 1) under the prefixes the code writes; only the API and the processor know it, each
with the least it needs; the routes are keyed."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

from leadenrich.uploads.export import export_key
from leadenrich.uploads.models import upload_key
from leadenrich.uploads.service import (
    DEFAULT_MAX_UPLOAD_BYTES,
    EXPORT_EXPIRES_SECONDS,
    MAX_UPLOAD_BYTES_LIMIT,
    UPLOAD_EXPIRES_SECONDS,
)
from tests.infra.test_template import (
    API_ROUTES,
    TEMPLATE,
    as_list,
    function_environment,
    functions,
    policy_statements,
    props,
    resource,
)

BUCKET = {"Ref": "UploadsBucket"}
BUCKET_ARN = {"Fn::GetAtt": ["UploadsBucket", "Arn"]}
DAY = 24 * 3600


def objects(prefix: str) -> dict[str, str]:
    return {"Fn::Sub": f"${{UploadsBucket.Arn}}/{prefix}*"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


def s3_grants(template: dict[str, Any], function: str) -> list[tuple[str, Any]]:
    """(action, resource) of every S3 allowance in the function's policies, sorted."""
    grants = []
    for statement in policy_statements(props(template, function)["Policies"]):
        actions = [a for a in as_list(statement.get("Action")) if str(a).startswith("s3:")]
        if actions:
            assert statement["Effect"] == "Allow", statement
            grants += [(action, target) for action in actions for target in as_list(statement["Resource"])]
    return sorted(grants, key=str)


def test_the_bucket_is_encrypted_private_and_retained(template: dict[str, Any]) -> None:
    bucket = resource(template, "UploadsBucket")
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    config = bucket["Properties"]
    (encryption,) = config["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    block = config["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert config["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs


def test_the_bucket_policy_refuses_plain_http_and_old_signatures(template: dict[str, Any]) -> None:
    policy = props(template, "UploadsBucketPolicy")
    assert policy["Bucket"] == BUCKET
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"TlsOnly", "SigV4Only"}
    everything = [BUCKET_ARN, {"Fn::Sub": "${UploadsBucket.Arn}/*"}]
    for statement in statements.values():
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
        assert statement["Resource"] == everything
    assert statements["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # An upload's size limit is its signed Content-Length: only SigV4 signs headers.
    assert statements["SigV4Only"]["Condition"] == {
        "StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}
    }


def test_the_lifecycle_expires_what_the_code_writes(template: dict[str, Any]) -> None:
    """The rules' prefixes are the code's keys'; each file outlives its URL (15 minutes) and its use."""
    rules = {r["Id"]: r for r in props(template, "UploadsBucket")["LifecycleConfiguration"]["Rules"]}
    assert all(rule["Status"] == "Enabled" for rule in rules.values())
    expiring = {r["Prefix"]: r["ExpirationInDays"] for r in rules.values() if "ExpirationInDays" in r}
    assert expiring == {"uploads/": 7, "exports/": 1}
    assert upload_key("ws-1", "upl_x").startswith("uploads/ws-1/")
    assert export_key("ws-1", "job_1", "exp_1").startswith("exports/ws-1/job_1/")
    assert UPLOAD_EXPIRES_SECONDS < 7 * DAY and EXPORT_EXPIRES_SECONDS < DAY
    (aborting,) = [r for r in rules.values() if "AbortIncompleteMultipartUpload" in r]
    assert aborting["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "Prefix" not in aborting  # every prefix
    assert template["Outputs"]["UploadsBucketName"]["Value"] == BUCKET


def test_only_the_api_and_the_processor_know_the_bucket_each_with_the_least_it_needs(
    template: dict[str, Any],
) -> None:
    """The API signs upload PUTs and export GETs (so holds PutObject and GetObject there), checks an upload
    (HEAD is GetObject), writes and aborts exports; the processor only reads uploads. ListBucket makes a
    missing object a 404. Nothing deletes, nothing reaches another prefix, no other function has S3."""
    assert s3_grants(template, "ApiFunction") == sorted(
        [
            ("s3:AbortMultipartUpload", objects("exports/")),
            ("s3:GetObject", objects("exports/")),
            ("s3:GetObject", objects("uploads/")),
            ("s3:ListBucket", BUCKET_ARN),
            ("s3:PutObject", objects("exports/")),
            ("s3:PutObject", objects("uploads/")),
        ],
        key=str,
    )
    assert s3_grants(template, "ProcessorFunction") == sorted(
        [("s3:GetObject", objects("uploads/")), ("s3:ListBucket", BUCKET_ARN)], key=str
    )
    for name in functions(template):
        if name not in ("ApiFunction", "ProcessorFunction"):
            assert s3_grants(template, name) == [], name
            assert "UPLOAD_BUCKET" not in function_environment(template, name), name
    for name in ("ApiFunction", "ProcessorFunction"):
        assert function_environment(template, name)["UPLOAD_BUCKET"] == BUCKET


def test_the_upload_limit_is_the_codes_and_reaches_the_api(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["UploadMaxBytes"]
    assert parameter["Default"] == DEFAULT_MAX_UPLOAD_BYTES
    assert (parameter["MinValue"], parameter["MaxValue"]) == (1, MAX_UPLOAD_BYTES_LIMIT)
    assert function_environment(template, "ApiFunction")["UPLOAD_MAX_BYTES"] == {"Ref": "UploadMaxBytes"}
    assert "UPLOAD_MAX_BYTES" not in function_environment(template, "ProcessorFunction")


def test_the_routes_are_keyed(template: dict[str, Any]) -> None:
    routes = {
        ("POST", "/uploads"),
        ("POST", "/jobs/{job_id}/exports"),
        ("POST", "/jobs/{job_id}/exports/{export_id}"),
        ("GET", "/jobs/{job_id}/exports/{export_id}"),
    }
    assert routes <= API_ROUTES
    for event in props(template, "ApiFunction")["Events"].values():
        if (event["Properties"]["Method"], event["Properties"]["Path"]) in routes:
            assert "Auth" not in event["Properties"]  # the default authorizer: an API key
