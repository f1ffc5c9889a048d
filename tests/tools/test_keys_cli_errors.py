"""`enrich keys` when AWS is not set up: one line naming what to set, an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from enrich_tools.cli import main

COMMANDS = [
    ["keys", "list", "--table", "leadenrich-dev"],
    ["keys", "create", "--workspace", "acme", "--table", "leadenrich-dev"],
    ["keys", "revoke", "key_0123456789abcdef", "--table", "leadenrich-dev"],
]


@pytest.fixture
def bare_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with no AWS configuration at all: no region, no credentials, no config files, no instance
    metadata; DynamoDB pointed at a closed port, so nothing could reach AWS if something still resolved."""
    for name in (
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "TABLE_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 caches credentials an earlier test found


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("argv", COMMANDS)
def test_no_region_names_region_and_exits_2(
    bare_aws: None, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: no AWS region") and "--region" in line and "AWS_DEFAULT_REGION" in line


@pytest.mark.parametrize("argv", COMMANDS)
def test_no_credentials_names_what_to_set_and_exits_2(
    bare_aws: None, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no usable AWS credentials" in line and "AWS_PROFILE" in line and "AWS_ACCESS_KEY_ID" in line


def test_a_profile_that_does_not_exist_is_named(
    bare_aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert main(COMMANDS[0]) == 2
    assert "no-such-profile" in _one_line(capsys.readouterr().err)


def test_a_region_that_is_no_region_is_a_usage_error(
    bare_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*COMMANDS[0], "--region", "eu west 1"]) == 2
    assert "--region" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_missing_table_names_table_name_and_exits_1(
    mocked_aws: None, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    line = _one_line(capsys.readouterr().err)
    assert "'leadenrich-dev' in us-east-1 not found (ResourceNotFoundException)" in line
    assert "--table or TABLE_NAME" in line and "--region" in line
