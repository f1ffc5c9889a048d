"""What the operator commands (`enrich keys`, `enrich budget`, and the personal-data ones) share: where they
act, a deployed stack's table (`--table`, else `$TABLE_NAME`, with the caller's AWS credentials) or the
local state's SQLite file (`--state DIR`, default `.enrich-state` when no table is named), and how an AWS
failure is said in one line naming what to set (exit 2) or what AWS refused (exit 1), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from enrich_tools.local.reporting import FAILED, UsageError
from enrich_tools.local.state import DEFAULT_STATE_DIR
from leadenrich.sqlite.db import FILE_NAME, Database

T = TypeVar("T")

REFUSED_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


def valid_workspace_option(workspace: str) -> str:
    """`--workspace` as the key store accepts it; UsageError naming the option otherwise."""
    from leadenrich.auth.keys import valid_workspace

    if not valid_workspace(workspace):
        raise UsageError(
            f"--workspace {workspace!r}: 1-64 letters, digits, '_', '.' or '-', starting with a letter or "
            "digit"
        )
    return workspace


def target_arguments() -> argparse.ArgumentParser:
    """The parent parser of every operator command: --table, --region, --state."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--table", help="the stack's DynamoDB table (default: $TABLE_NAME)")
    parent.add_argument("--region", help="its AWS region (default: the AWS configuration's)")
    parent.add_argument(
        "--state",
        help=f"the local stack's state directory instead (default without a table: {DEFAULT_STATE_DIR})",
    )
    return parent


def adapter(args: argparse.Namespace, *, local: Callable[[Database], T], aws: Callable[[str, Any], T]) -> T:
    """The adapter the arguments name: `local(database)` on the local state, `aws(table, dynamodb client)`
    on a deployed table. A boto3 client made without a region fails here (NoRegionError): call it inside
    `aws_failure`'s reporting."""
    table = args.table or os.environ.get("TABLE_NAME")
    state = Path(args.state) if args.state else (None if table else DEFAULT_STATE_DIR)
    if state is not None:
        if not (state / FILE_NAME).is_file():
            raise UsageError(
                f"no local state in {state}: run `enrich run` or `enrich local up` there first, or name a "
                "deployed stack's table with --table or TABLE_NAME"
            )
        return local(Database.in_dir(state))
    import boto3

    client = boto3.client("dynamodb", region_name=args.region) if args.region else boto3.client("dynamodb")
    assert table is not None  # without a table, `state` names the local one
    return aws(table, client)


def where(args: argparse.Namespace) -> str:
    table = args.table or os.environ.get("TABLE_NAME")
    region = args.region or os.environ.get("AWS_DEFAULT_REGION")
    return f"table {table!r}" + (f" in {region}" if region else "")


def aws_failure(exc: Exception, args: argparse.Namespace, what: str = "the key store") -> int:
    """One line for a key store that failed, naming what to set or check; exit 2 (a UsageError) when the
    command cannot run as configured (no region, no credentials), 1 when AWS (or the state) answered no."""
    from botocore import exceptions as aws

    place = where(args)
    if isinstance(exc, aws.NoRegionError):
        raise UsageError(
            "no AWS region: pass --region (the stack's region) or set AWS_DEFAULT_REGION, or a region in "
            "the AWS_PROFILE's configuration"
        ) from None
    if isinstance(exc, aws.InvalidRegionError):
        raise UsageError(f"{exc} Pass --region as the stack's region, e.g. eu-west-1") from None
    if isinstance(exc, aws.NoCredentialsError | aws.PartialCredentialsError | aws.ProfileNotFound):
        raise UsageError(
            f"no usable AWS credentials ({exc}): set AWS_PROFILE to a configured profile (with `aws sso "
            "login` for SSO) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    code = ""
    if isinstance(exc, aws.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
    if code == "ResourceNotFoundException":
        message = (
            f"{place} not found (ResourceNotFoundException): set --table or TABLE_NAME to the stack's "
            "TableName output, and --region to its region"
        )
    elif code in REFUSED_CREDENTIALS or isinstance(exc, aws.SSOError | aws.TokenRetrievalError):
        message = (
            f"AWS refused the credentials ({code or type(exc).__name__}): refresh them (`aws sso login`) "
            "or set AWS_PROFILE to a profile of the stack's account"
        )
    elif code in DENIED:
        message = (
            f"access to {place} denied ({code}): the credentials need dynamodb:Query, GetItem and "
            "TransactWriteItems on it (and its GSI1 index)"
        )
    elif isinstance(exc, aws.EndpointConnectionError | aws.ConnectTimeoutError):
        message = f"DynamoDB could not be reached for {place} ({type(exc).__name__}): check --region"
    else:
        text = str(exc).splitlines()[0] if str(exc) else ""
        message = f"{what} could not be reached ({type(exc).__name__}): {text}"
    print(f"error: {message}", file=sys.stderr)
    return FAILED


def record(args: argparse.Namespace, workspace_id: str, action: str, target: str = "", **detail: Any) -> None:
    """An operator's data-changing action in the workspace's audit trail (actor `operator`), beside the
    data it changed (the same table or state file). Called after the change succeeded; a failure to record
    is said on stderr and does not undo or fail the command (the change is made; docs/privacy.md)."""
    import asyncio
    from datetime import UTC, datetime

    from leadenrich.privacy.audit import AuditRetention
    from leadenrich.privacy.ports import AuditEntry, AuditLog

    def local(db: Database) -> AuditLog:
        from leadenrich.sqlite.audit import SqliteAuditLog
        from leadenrich.sqlite.settings import SqliteWorkspaceSettings

        return SqliteAuditLog(db, retention=AuditRetention(SqliteWorkspaceSettings(db)))

    def aws(table: str, client: Any) -> AuditLog:
        from leadenrich.aws.dynamo_audit import DynamoAuditLog
        from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings

        return DynamoAuditLog(table, client, retention=AuditRetention(DynamoWorkspaceSettings(table, client)))

    entry = AuditEntry(workspace_id, datetime.now(UTC), "operator", action, target, detail=dict(detail))
    try:
        asyncio.run(adapter(args, local=local, aws=aws).append(entry))
    except Exception as exc:
        print(
            f"warning: the change was made but not recorded in the audit trail ({type(exc).__name__})",
            file=sys.stderr,
        )


__all__ = [
    "DENIED",
    "REFUSED_CREDENTIALS",
    "adapter",
    "aws_failure",
    "record",
    "target_arguments",
    "valid_workspace_option",
    "where",
]
