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
import sys
from datetime import UTC, datetime
from typing import Any

from enrich_tools.local.reporting import FAILED, OK, UsageError
from enrich_tools.operator_target import adapter, aws_failure, record, target_arguments
from leadenrich.auth.keys import ApiKey, KeyStore, create_key
from leadenrich.sqlite.db import Database


def _store(args: argparse.Namespace) -> KeyStore:
    """The key store the arguments name (`operator_target.adapter`)."""

    def local(db: Database) -> KeyStore:
        from leadenrich.sqlite.keys import SqliteKeyStore

        return SqliteKeyStore(db)

    def aws(table: str, client: Any) -> KeyStore:
        from leadenrich.aws.dynamo_keys import DynamoKeyStore

        return DynamoKeyStore(table, client)

    return adapter(args, local=local, aws=aws)


def _view(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "workspace_id": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def cmd_keys_create(args: argparse.Namespace) -> int:
    try:
        store = _store(args)
        made = asyncio.run(create_key(store, args.workspace, args.name or "", datetime.now(UTC)))
    except UsageError:
        raise
    except ValueError as exc:  # a bad workspace or name; botocore's InvalidRegionError (--region) too
        raise UsageError(str(exc)) from None
    except Exception as exc:  # botocore: no region, no credentials, no such table, access denied
        return aws_failure(exc, args)
    record(args, made.key.workspace_id, "key.create", made.key.key_id)
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
        return aws_failure(exc, args)
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
        return aws_failure(exc, args)
    if key is None:
        print(f"error: no key {args.key_id}", file=sys.stderr)
        return FAILED
    assert key.revoked_at is not None
    record(args, key.workspace_id, "key.revoke", key.key_id)
    print(
        f"{key.key_id}: revoked at {key.revoked_at.isoformat()[:19]} (workspace {key.workspace_id}); API "
        "Gateway may accept it for up to 5 more minutes (the authorizer's cache)"
    )
    return OK


def add_parsers(sub: Any) -> None:
    table = target_arguments()
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
