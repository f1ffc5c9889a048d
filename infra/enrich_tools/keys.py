"""`enrich keys create|list|revoke`: API keys, straight against the key store.

Deployed, the key store is the table the stack's Lambdas use (`--table`, else `$TABLE_NAME`: the stack's
`TableName` output), reached with the caller's AWS credentials (the usual boto3 chain: AWS_PROFILE,
environment, SSO...); creating and revoking keys is an operator's job, not the API's. Locally it is the
state's SQLite file (`--state DIR`, the directory `enrich run` and `enrich local up` use; the default
`.enrich-state` when no table is named), and the keys made there work against `enrich local up`.

A new key is printed once; only its SHA-256 is stored. Listings show the key id and display prefix.

What goes wrong with AWS is said in one line naming what to set, never a traceback: no region (exit 2:
`--region` or AWS_DEFAULT_REGION), no credentials (exit 2: AWS_PROFILE, or the access key variables), and
what AWS answers (exit 1): no such table, credentials refused or expired, access denied, no connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from enrich_tools.local.reporting import FAILED, OK, UsageError
from enrich_tools.local.state import DEFAULT_STATE_DIR
from leadenrich.auth.keys import ApiKey, KeyStore, create_key
from leadenrich.sqlite.db import FILE_NAME


def _store(args: argparse.Namespace) -> KeyStore:
    """The key store the arguments name; a boto3 client made without a region fails here (NoRegionError),
    so callers call it inside `_reporting_aws_failures`."""
    table = args.table or os.environ.get("TABLE_NAME")
    state = Path(args.state) if args.state else (None if table else DEFAULT_STATE_DIR)
    if state is not None:
        if not (state / FILE_NAME).is_file():
            raise UsageError(
                f"no local state in {state}: run `enrich run` or `enrich local up` there first, or name a "
                "deployed stack's table with --table or TABLE_NAME"
            )
        from leadenrich.sqlite.db import Database
        from leadenrich.sqlite.keys import SqliteKeyStore

        return SqliteKeyStore(Database.in_dir(state))
    import boto3

    from leadenrich.aws.dynamo_keys import DynamoKeyStore

    client = boto3.client("dynamodb", region_name=args.region) if args.region else boto3.client("dynamodb")
    assert table is not None  # without a table, `state` names the local one
    return DynamoKeyStore(table, client)


def _view(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "workspace_id": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


_REFUSED_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


def _where(args: argparse.Namespace) -> str:
    table = args.table or os.environ.get("TABLE_NAME")
    region = args.region or os.environ.get("AWS_DEFAULT_REGION")
    return f"table {table!r}" + (f" in {region}" if region else "")


def _store_failure(exc: Exception, args: argparse.Namespace) -> int:
    """One line for a key store that failed, naming what to set or check; exit 2 (a UsageError) when the
    command cannot run as configured (no region, no credentials), 1 when AWS (or the state) answered no."""
    from botocore import exceptions as aws

    where = _where(args)
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
            f"{where} not found (ResourceNotFoundException): set --table or TABLE_NAME to the stack's "
            "TableName output, and --region to its region"
        )
    elif code in _REFUSED_CREDENTIALS or isinstance(exc, aws.SSOError | aws.TokenRetrievalError):
        message = (
            f"AWS refused the credentials ({code or type(exc).__name__}): refresh them (`aws sso login`) "
            "or set AWS_PROFILE to a profile of the stack's account"
        )
    elif code in _DENIED:
        message = (
            f"access to {where} denied ({code}): the credentials need dynamodb:Query, GetItem and "
            "TransactWriteItems on it (and its GSI1 index)"
        )
    elif isinstance(exc, aws.EndpointConnectionError | aws.ConnectTimeoutError):
        message = f"DynamoDB could not be reached for {where} ({type(exc).__name__}): check --region"
    else:
        text = str(exc).splitlines()[0] if str(exc) else ""
        message = f"the key store could not be reached ({type(exc).__name__}): {text}"
    print(f"error: {message}", file=sys.stderr)
    return FAILED


def cmd_keys_create(args: argparse.Namespace) -> int:
    try:
        store = _store(args)
        made = asyncio.run(create_key(store, args.workspace, args.name or "", datetime.now(UTC)))
    except UsageError:
        raise
    except ValueError as exc:  # a bad workspace or name; botocore's InvalidRegionError (--region) too
        raise UsageError(str(exc)) from None
    except Exception as exc:  # botocore: no region, no credentials, no such table, access denied
        return _store_failure(exc, args)
    if args.json:
        print(json.dumps(_view(made.key) | {"api_key": made.secret}, indent=2))
    else:
        print(f"{made.key.key_id}  workspace {made.key.workspace_id}")
        print(f"API key (shown once, store it now): {made.secret}")
    return OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    try:
        keys = asyncio.run(_store(args).list_keys(args.workspace))
    except UsageError:
        raise
    except Exception as exc:
        return _store_failure(exc, args)
    if args.json:
        print(json.dumps([_view(k) for k in keys], indent=2))
        return OK
    print(f"{'key_id':<21} {'workspace':<20} {'prefix':<13} {'created_at':<20} {'state':<8} name")
    for key in keys:
        state = "active" if key.active else "revoked"
        print(
            f"{key.key_id:<21} {key.workspace_id[:20]:<20} {key.prefix + '…':<13} "
            f"{key.created_at.isoformat()[:19]:<20} {state:<8} {key.name}"
        )
    return OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    try:
        key = asyncio.run(_store(args).revoke(args.key_id, datetime.now(UTC)))
    except UsageError:
        raise
    except Exception as exc:
        return _store_failure(exc, args)
    if key is None:
        print(f"error: no key {args.key_id}", file=sys.stderr)
        return FAILED
    assert key.revoked_at is not None
    print(
        f"{key.key_id}: revoked at {key.revoked_at.isoformat()[:19]} (workspace {key.workspace_id}); API "
        "Gateway may accept it for up to 5 more minutes (the authorizer's cache)"
    )
    return OK


def add_parsers(sub: Any) -> None:
    table = argparse.ArgumentParser(add_help=False)
    table.add_argument("--table", help="the stack's DynamoDB table (default: $TABLE_NAME)")
    table.add_argument("--region", help="its AWS region (default: the AWS configuration's)")
    table.add_argument(
        "--state",
        help=f"the local stack's state directory instead (default without a table: {DEFAULT_STATE_DIR})",
    )
    keys = sub.add_parser(
        "keys",
        help="create, list and revoke API keys (the local state, or a deployed stack's table)",
    ).add_subparsers(dest="keys_command", required=True)

    create = keys.add_parser("create", parents=[table], help="a new key for a workspace, printed once")
    create.add_argument("--workspace", required=True, help="the workspace the key acts for")
    create.add_argument("--name", help="a label, e.g. who uses the key")
    create.add_argument("--json", action="store_true", help="print the key and its record as JSON")
    create.set_defaults(func=cmd_keys_create)

    listing = keys.add_parser("list", parents=[table], help="keys (never the keys themselves)")
    listing.add_argument("--workspace", help="only this workspace's")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_keys_list)

    revoke = keys.add_parser("revoke", parents=[table], help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_keys_revoke)
