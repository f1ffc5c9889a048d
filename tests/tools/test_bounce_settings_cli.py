"""`enrich workspace settings set` for bounce feedback (docs/bounces.md) on the local state's SQLite file:
what the operator sets is what the webhook function reads (the password only as its digest), a refused
value is named in one line, exit 2."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from enrich_tools.cli import main
from leadenrich.bounces.sources import password_digest
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.settings import SqliteWorkspaceSettings
from tests.support.bounce_world import POSTMARK_PASSWORD, TOPIC, sendgrid_keys


def test_bounce_sources_set_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Database.in_dir(tmp_path).close()
    key = sendgrid_keys()[1]
    argv = ["workspace", "settings", "set", "--workspace", "acme", "--requeue-on-bounce", "yes"]
    argv += ["--bounce-sns-topics", f"{TOPIC}, {TOPIC}", "--bounce-sendgrid-key", key]
    argv += ["--bounce-postmark-password", POSTMARK_PASSWORD, "--state", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "requeue on bounce: yes" in out and f"bounce SNS topics (SES): {TOPIC}\n" in out
    assert "bounce SendGrid key: set" in out and "bounce Postmark password: set" in out
    assert POSTMARK_PASSWORD not in out
    db = Database.in_dir(tmp_path)
    try:
        stored = asyncio.run(SqliteWorkspaceSettings(db).get("acme"))
    finally:
        db.close()
    assert stored.requeue_on_bounce and stored.bounce_sns_topics == (TOPIC,)
    assert stored.bounce_sendgrid_key == key
    assert stored.bounce_postmark_password_sha256 == password_digest(POSTMARK_PASSWORD)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--bounce-sns-topics", "arn:aws:sqs:us-east-1:123456789012:q"], "--bounce-sns-topics (entry 1)"),
        (["--bounce-sendgrid-key", "abc"], "--bounce-sendgrid-key: String should match pattern"),
        (["--bounce-postmark-password", "short"], "--bounce-postmark-password: String should match"),
    ],
)
def test_a_refused_bounce_option_is_named_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], words: str
) -> None:
    Database.in_dir(tmp_path).close()
    argv = ["workspace", "settings", "set", "--workspace", "acme", *options, "--state", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err
