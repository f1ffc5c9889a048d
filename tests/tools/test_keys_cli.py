"""`enrich keys create|list|revoke` against a stack's table (moto standing in for the deployed one)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import handle_authorizer
from enrich_tools.cli import main
from leadenrich import runtime
from tests.functions.test_authorizer import authorizer_event
from tests.support.api_stack import TABLE
from tests.support.lambda_events import Context


def test_create_list_revoke(stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    table = ["--table", TABLE]
    assert main(["keys", "create", "--workspace", "acme", "--name", "ci", *table]) == 0
    out = capsys.readouterr().out
    key_id = re.search(r"^(key_[0-9a-f]{16})  workspace acme$", out, re.M)
    secret = re.search(r"shown once, store it now\): (le_[A-Za-z0-9_-]{43})$", out, re.M)
    assert key_id and secret
    assert main(["keys", "create", "--workspace", "globex", "--json", *table]) == 0
    created: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert created["workspace_id"] == "globex" and created["api_key"].startswith("le_")

    runtime.reset()
    answer = handle_authorizer.handler(authorizer_event(secret[1]), Context())  # type: ignore[arg-type]
    assert answer["context"]["workspace_id"] == "acme"

    assert main(["keys", "list", "--workspace", "acme", *table]) == 0
    listed = capsys.readouterr().out
    assert key_id[1] in listed and "active" in listed and "ci" in listed
    assert secret[1] not in listed and secret[1][:11] + "…" in listed  # the prefix, never the key
    assert main(["keys", "list", "--json", *table]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert {k["workspace_id"] for k in everything} == {"acme", "globex"}
    assert all("api_key" not in k for k in everything)

    assert main(["keys", "revoke", key_id[1], *table]) == 0
    assert "revoked at" in capsys.readouterr().out
    answer = handle_authorizer.handler(authorizer_event(secret[1]), Context())  # type: ignore[arg-type]
    assert answer == {"isAuthorized": False}
    assert main(["keys", "list", "--workspace", "acme", *table]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", "key_0000000000000000", *table]) == 1
    assert "no key key_0000000000000000" in capsys.readouterr().err


def test_the_table_comes_from_table_name(stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--workspace", "acme"]) == 0  # TABLE_NAME is set by the fixture
    assert "le_" in capsys.readouterr().out


def test_usage_errors_exit_2(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # no local state here (`make run` leaves one in the checkout): AWS is asked
    assert main(["keys", "list"]) == 2
    assert "--table" in capsys.readouterr().err
    assert main(["keys", "create", "--workspace", "not a workspace", "--table", "t"]) == 2
    assert "workspace" in capsys.readouterr().err
    assert main(["keys", "list", "--table", "no-such-table"]) == 1  # AWS refused: named, not a traceback
    assert "ResourceNotFoundException" in capsys.readouterr().err
