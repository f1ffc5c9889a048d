"""`enrich budget set|show`: a workspace's monthly credit budget, straight against the spend ledger.

Like `enrich keys` (enrich_tools.keys): deployed, the ledger is in the stack's table (`--table`, else
`$TABLE_NAME`), reached with the caller's AWS credentials; locally it is the state's SQLite file (`--state
DIR`, default `.enrich-state` when no table is named), which `enrich local up` reads. Setting a budget is
an operator's job, not the API's: `GET /budget` only shows it to the workspace.

`set --monthly-credits N` stores the workspace's own budget (0: none, whatever the default); `set
--default` removes it, so the deployment's default applies again (WORKSPACE_MONTHLY_CREDITS, the
stack's `WorkspaceMonthlyCredits`). This command cannot read a deployed stack's parameter: `show` takes the
default from this shell's WORKSPACE_MONTHLY_CREDITS and says so. A job paused by its workspace's budget
continues once the budget is raised and the job resumed (docs/spend-caps.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

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
from leadenrich.jobs.budget import BudgetSettings, BudgetStatus, SpendCaps, SpendLedger
from leadenrich.jobs.budget_views import BudgetView
from leadenrich.sqlite.db import Database


def _ledger(args: argparse.Namespace) -> SpendLedger:
    """The ledger the arguments name (`operator_target.adapter`)."""

    def local(db: Database) -> SpendLedger:
        from leadenrich.sqlite.spend import SqliteSpendLedger

        return SqliteSpendLedger(db)

    def aws(table: str, client: Any) -> SpendLedger:
        from leadenrich.aws.dynamo_spend import DynamoSpendLedger

        return DynamoSpendLedger(table, client)

    return adapter(args, local=local, aws=aws)


def _workspace(args: argparse.Namespace) -> str:
    workspace: str = args.workspace
    return valid_workspace_option(workspace)


def _failure(exc: Exception, args: argparse.Namespace) -> int:
    """One line for a ledger that failed: AWS set-up problems (region, credentials, table, connection) as
    `enrich keys` words them; what it would word as a key store's, in a budget's words."""
    from botocore import exceptions as aws

    code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, aws.ClientError) else ""
    if code in DENIED:
        message = (
            f"access to {where(args)} denied ({code}): the credentials need dynamodb:GetItem, "
            "BatchGetItem, PutItem and DeleteItem on it"
        )
    elif isinstance(exc, aws.BotoCoreError) or code:
        return aws_failure(
            exc, args, "the spend ledger"
        )  # raises UsageError (exit 2) for what the caller must set
    else:
        text = str(exc).splitlines()[0] if str(exc) else ""
        message = f"the spend ledger could not be reached ({type(exc).__name__}): {text}"
    print(f"error: {message}", file=sys.stderr)
    return FAILED


def _print(status: BudgetStatus, as_json: bool) -> None:
    view = BudgetView.of(status)
    if as_json:
        print(json.dumps(view.model_dump(mode="json"), indent=2))
        return
    if view.source == "workspace":
        budget = f"{view.monthly_credits:,} credits a month (the workspace's own)"
    elif view.source == "default":
        budget = (
            f"{view.monthly_credits:,} credits a month (the default: WORKSPACE_MONTHLY_CREDITS as this shell "
            "has it; a deployed stack's is its WorkspaceMonthlyCredits parameter)"
        )
    elif status.stored_monthly_credits == 0:
        budget = "none (the workspace's own setting, whatever the default)"
    else:
        budget = "none of its own (the default applies: WorkspaceMonthlyCredits, 0 = none)"
    print(f"workspace {view.workspace_id}, {view.month} (UTC)")
    print(f"monthly budget: {budget}")
    print(f"spent this month: {view.credits_spent:g} credits, ${view.cost_usd_spent:.4f}")
    if view.credits_left is not None:
        print(f"left: {view.credits_left:g} credits")


def _run(args: argparse.Namespace, work: Any) -> int:
    """Run one ledger call `work(caps)` and print the status it answers, reporting failures in one line."""
    workspace = _workspace(args)
    default = BudgetSettings.from_env().workspace_monthly_credits
    try:
        caps = SpendCaps(_ledger(args), default)
        status: BudgetStatus = asyncio.run(work(caps, workspace))
    except UsageError:
        raise
    except Exception as exc:  # botocore: no region, no credentials, no such table, access denied
        return _failure(exc, args)
    if args.budget_command == "set":
        record(args, workspace, "budget.set", "", monthly_credits=status.stored_monthly_credits)
    _print(status, args.json)
    return OK


def cmd_budget_set(args: argparse.Namespace) -> int:
    credits: int | None = None if args.default else args.monthly_credits
    return _run(args, lambda caps, workspace: caps.set_monthly_credits(workspace, credits))


def cmd_budget_show(args: argparse.Namespace) -> int:
    return _run(args, lambda caps, workspace: caps.status(workspace))


def _credits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of credits") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text}: 0 (no budget) or more")
    return value


def add_parsers(sub: Any) -> None:
    target = argparse.ArgumentParser(add_help=False, parents=[target_arguments()])
    target.add_argument("--workspace", required=True, help="the workspace whose budget it is")
    target.add_argument("--json", action="store_true", help="print the budget as GET /budget answers it")
    budget = sub.add_parser(
        "budget",
        help="a workspace's monthly credit budget (the local state, or a deployed stack's table)",
    ).add_subparsers(dest="budget_command", required=True)

    setting = budget.add_parser("set", parents=[target], help="set or remove a workspace's monthly budget")
    value = setting.add_mutually_exclusive_group(required=True)
    value.add_argument(
        "--monthly-credits", type=_credits, metavar="N", help="Hunter credits a month; 0: no budget at all"
    )
    value.add_argument("--default", action="store_true", help="remove it: the deployment's default applies")
    setting.set_defaults(func=cmd_budget_set)

    show = budget.add_parser("show", parents=[target], help="the budget in force and this month's spend")
    show.set_defaults(func=cmd_budget_show)
