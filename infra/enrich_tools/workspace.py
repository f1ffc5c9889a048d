"""`enrich workspace settings show|set`: a workspace's personal-data settings (docs/privacy.md), straight
against the settings store, as `enrich budget` is against the spend ledger.

Deployed, the settings are in the stack's table (`--table`, else `$TABLE_NAME`), reached with the caller's
AWS credentials; locally, in the state's SQLite file (`--state DIR`, default `.enrich-state` when no table
is named), which `enrich local up` and `enrich run` read (`enrich_tools.operator_target`). The workspace
itself uses `GET/PUT /settings`; this is for the operator who sets them for it.

`set` changes only the options given, like `PUT /settings`, and validates them with the same rules
(`privacy.settings.WorkspaceSettingsChange`), naming the option when one is refused:

    enrich workspace settings set --workspace acme --results-retention-days 30 --review-required yes \\
        --refused-countries RU,BY --flagged-countries "" --lawful-basis consent

A country list is comma-separated, in any case (`de,fr`); an empty string clears it. The processor reads a
change within five minutes (`privacy.settings.CachedSettings`).

Bounce feedback (docs/bounces.md): `--requeue-on-bounce yes|no`, the SES topics (`--bounce-sns-topics
ARN,ARN`, "" clears), SendGrid's verification key (`--bounce-sendgrid-key`, "" clears) and Postmark's
basic-auth password (`--bounce-postmark-password`, stored hashed; "" clears).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from pydantic import ValidationError

from enrich_tools.local.reporting import FAILED, OK, UsageError
from enrich_tools.operator_target import (
    DENIED,
    adapter,
    aws_failure,
    record,
    target_arguments,
    valid_workspace_option,
    where,
)
from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore
from leadenrich.privacy.settings import LAWFUL_BASES, WorkspaceSettingsChange, change_settings
from leadenrich.privacy.settings_views import WorkspaceSettingsView
from leadenrich.sqlite.db import Database

# The options of `set`, each a field of the change (argparse's dest is the field's name).
DAY_OPTIONS = (
    "unverified_retention_days",
    "results_retention_days",
    "cache_retention_days",
    "audit_retention_days",
)
COUNTRY_OPTIONS = ("refused_countries", "flagged_countries")
BOUNCE_OPTIONS = ("bounce_sendgrid_key", "bounce_postmark_password")  # taken as given ("" clears)
OPTION_OF = {
    **{name: "--" + name.replace("_", "-") for name in (*DAY_OPTIONS, *COUNTRY_OPTIONS, *BOUNCE_OPTIONS)},
    "review_required": "--review-required",
    "default_lawful_basis": "--lawful-basis",
    "requeue_on_bounce": "--requeue-on-bounce",
    "bounce_sns_topics": "--bounce-sns-topics",
}


def _store(args: argparse.Namespace) -> WorkspaceSettingsStore:
    """The settings store the arguments name (`operator_target.adapter`)."""

    def local(db: Database) -> WorkspaceSettingsStore:
        from leadenrich.sqlite.settings import SqliteWorkspaceSettings

        return SqliteWorkspaceSettings(db)

    def aws(table: str, client: Any) -> WorkspaceSettingsStore:
        from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings

        return DynamoWorkspaceSettings(table, client)

    return adapter(args, local=local, aws=aws)


def _workspace(args: argparse.Namespace) -> str:
    workspace: str = args.workspace
    return valid_workspace_option(workspace)


def _change(args: argparse.Namespace) -> WorkspaceSettingsChange:
    """The change the options ask for; UsageError naming the first option refused, or none given."""
    given: dict[str, Any] = {}
    for name in DAY_OPTIONS:
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    for name in COUNTRY_OPTIONS:
        text: str | None = getattr(args, name)
        if text is not None:
            given[name] = [code.strip().upper() for code in text.split(",") if code.strip()]
    if args.review_required is not None:
        given["review_required"] = args.review_required == "yes"
    if args.lawful_basis is not None:
        given["default_lawful_basis"] = args.lawful_basis
    if args.requeue_on_bounce is not None:
        given["requeue_on_bounce"] = args.requeue_on_bounce == "yes"
    if args.bounce_sns_topics is not None:
        given["bounce_sns_topics"] = [arn.strip() for arn in args.bounce_sns_topics.split(",") if arn.strip()]
    for name in BOUNCE_OPTIONS:
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    if not given:
        raise UsageError(f"nothing to set: give at least one of {', '.join(sorted(OPTION_OF.values()))}")
    try:
        return WorkspaceSettingsChange.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        field, *rest = (str(part) for part in first["loc"])
        at = f" (entry {int(rest[0]) + 1})" if rest and rest[0].isdigit() else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UsageError(f"{OPTION_OF.get(field, field)}{at}: {message}") from None


def _failure(exc: Exception, args: argparse.Namespace) -> int:
    """One line for a store that failed: AWS set-up problems as `enrich keys` words them."""
    from botocore import exceptions as aws

    code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, aws.ClientError) else ""
    if code in DENIED:
        print(
            f"error: access to {where(args)} denied ({code}): the credentials need dynamodb:GetItem and "
            "PutItem on it",
            file=sys.stderr,
        )
        return FAILED
    return aws_failure(exc, args, "the workspace settings")


def _print(workspace: str, settings: WorkspaceSettings, as_json: bool) -> None:
    view = WorkspaceSettingsView.of(workspace, settings)
    if as_json:
        print(json.dumps(view.model_dump(mode="json"), indent=2))
        return
    default = WorkspaceSettings()

    def note(name: str) -> str:
        return "" if getattr(settings, name) != getattr(default, name) else "  (default)"

    def countries(codes: list[str]) -> str:
        return ", ".join(codes) or "none"

    print(f"workspace {workspace}")
    for name in DAY_OPTIONS:
        label = name.removesuffix("_days").replace("_", " ")
        print(f"{label}: {getattr(view, name)} days{note(name)}")
    print(f"review required: {'yes' if view.review_required else 'no'}{note('review_required')}")
    print(f"refused countries: {countries(view.refused_countries)}")
    print(f"flagged countries: {countries(view.flagged_countries)}")
    print(f"default lawful basis: {view.default_lawful_basis}{note('default_lawful_basis')}")
    print(f"requeue on bounce: {'yes' if view.requeue_on_bounce else 'no'}{note('requeue_on_bounce')}")
    print(f"bounce SNS topics (SES): {', '.join(view.bounce_sns_topics) or 'none'}")
    print(f"bounce SendGrid key: {'set' if view.bounce_sendgrid_key else 'none'}")
    print(f"bounce Postmark password: {'set' if view.bounce_postmark_password_set else 'none'}")


def _run(args: argparse.Namespace, change: WorkspaceSettingsChange | None) -> int:
    workspace = _workspace(args)
    try:
        store = _store(args)
        if change is None:
            settings = asyncio.run(store.get(workspace))
        else:
            settings = asyncio.run(change_settings(store, workspace, change))
    except UsageError:
        raise
    except Exception as exc:  # botocore: no region, no credentials, no such table, access denied
        return _failure(exc, args)
    if change is not None:
        record(args, workspace, "settings.update", "", fields=sorted(change.model_fields_set))
    _print(workspace, settings, args.json)
    return OK


def cmd_settings_show(args: argparse.Namespace) -> int:
    return _run(args, None)


def cmd_settings_set(args: argparse.Namespace) -> int:
    return _run(args, _change(args))


def _days(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of days") from None


def add_parsers(sub: Any) -> None:
    target = argparse.ArgumentParser(add_help=False, parents=[target_arguments()])
    target.add_argument("--workspace", required=True, help="the workspace whose settings they are")
    target.add_argument("--json", action="store_true", help="print them as GET /settings answers")
    workspace = sub.add_parser(
        "workspace", help="a workspace's settings (the local state, or a deployed stack's table)"
    ).add_subparsers(dest="workspace_command", required=True)
    settings = workspace.add_parser(
        "settings", help="personal-data settings: retention, approval, countries, lawful basis"
    ).add_subparsers(dest="settings_command", required=True)

    show = settings.add_parser("show", parents=[target], help="the settings in force (the defaults included)")
    show.set_defaults(func=cmd_settings_show)

    setting = settings.add_parser("set", parents=[target], help="change the settings given, keep the rest")
    for name in DAY_OPTIONS:
        setting.add_argument(OPTION_OF[name], dest=name, type=_days, metavar="DAYS", help="1 to 3650")
    for name in COUNTRY_OPTIONS:
        setting.add_argument(
            OPTION_OF[name], dest=name, metavar="CODES", help='ISO 3166-1 alpha-2, comma-separated; "" clears'
        )
    setting.add_argument("--review-required", choices=("yes", "no"), help="found addresses need approval")
    setting.add_argument(
        "--lawful-basis", choices=LAWFUL_BASES, help="a job's lawful basis when it names none"
    )
    setting.add_argument(
        "--requeue-on-bounce",
        choices=("yes", "no"),
        help="a hard bounce re-queues its lead (docs/bounces.md)",
    )
    setting.add_argument(
        "--bounce-sns-topics", metavar="ARNS", help='Amazon SES: SNS topic ARNs, comma-separated; "" clears'
    )
    setting.add_argument(
        "--bounce-sendgrid-key",
        metavar="KEY",
        help='SendGrid: the Event Webhook\'s verification key; "" clears',
    )
    setting.add_argument(
        "--bounce-postmark-password",
        metavar="PASSWORD",
        help='Postmark: the webhook\'s basic-auth password (24+ characters, stored hashed); "" clears',
    )
    setting.set_defaults(func=cmd_settings_set)


__all__ = ["add_parsers", "cmd_settings_set", "cmd_settings_show"]
