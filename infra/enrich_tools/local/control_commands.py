"""`enrich jobs pause|resume|update|bulk`: job control through the API, the embedded local stack's or a
deployed one."""

from __future__ import annotations

import argparse
from typing import Any

from enrich_tools.local.api_commands import api_client
from enrich_tools.local.job_options import add_option_arguments, job_options
from enrich_tools.local.reporting import FAILED, OK, UsageError


def add_control_commands(jobs: Any, api: argparse.ArgumentParser) -> None:
    """Adds pause, resume, update and bulk to the `jobs` subcommands."""

    def pause_or_resume(action: str) -> Any:
        def command(args: argparse.Namespace) -> int:
            with api_client(args) as client:
                return _print_bulk(client.bulk(args.job_ids, action))

        return command

    for action, text in (
        ("pause", "pause jobs: waiting items are not started, running ones finish"),
        ("resume", "resume paused jobs where they stopped"),
    ):
        command = jobs.add_parser(action, parents=[api], help=text)
        command.add_argument("job_ids", nargs="+", metavar="JOB_ID")
        command.set_defaults(func=pause_or_resume(action))

    bulk = jobs.add_parser("bulk", parents=[api], help="one action on many jobs (up to 100)")
    bulk.add_argument("action", choices=["cancel", "retry", "pause", "resume"])
    bulk.add_argument("job_ids", nargs="+", metavar="JOB_ID")

    def cmd_bulk(args: argparse.Namespace) -> int:
        with api_client(args) as client:
            return _print_bulk(client.bulk(args.job_ids, args.action))

    bulk.set_defaults(func=cmd_bulk)

    update = jobs.add_parser("update", parents=[api], help="change a job's priority, schedule, caps, tags")
    update.add_argument("job_id")
    add_option_arguments(update)
    update.add_argument("--webhook-url", help="where its events go")
    update.add_argument("--tag", action="append", help="replace its tags (repeatable)")
    update.add_argument("--no-cap", action="store_true", help="clear both spend caps")
    state = update.add_mutually_exclusive_group()
    state.add_argument("--pause", dest="paused", action="store_const", const=True, help="and pause it")
    state.add_argument("--resume", dest="paused", action="store_const", const=False, help="and resume it")

    def cmd_update(args: argparse.Namespace) -> int:
        changes = job_options(args)
        if args.no_cap:
            changes |= {"max_credits": None, "max_cost_usd": None}
        if args.webhook_url is not None:
            changes["webhook_url"] = args.webhook_url
        if args.tag is not None:
            changes["tags"] = args.tag
        if args.paused is not None:
            changes["paused"] = args.paused
        if not changes:
            raise UsageError(
                "nothing to change: give --priority, --run-at, a cap, --tag, --pause or --resume"
            )
        with api_client(args) as client:
            job = client.update_job(args.job_id, changes)
        reason = f" ({job['paused_reason']})" if job.get("paused_reason") else ""
        print(f"{job['job_id']}: {job['status']}{reason}, priority {job['options']['priority']}")
        return OK

    update.set_defaults(func=cmd_update)


def _print_bulk(answer: dict[str, Any]) -> int:
    """One line per job; exit 1 when any job could not be changed."""
    failed = False
    for result in answer["results"]:
        outcome = result["outcome"]
        failed |= outcome != "done"
        detail = result.get("message") or (f"now {result['status']}" if result.get("status") else "")
        print(f"{result['job_id']}: {answer['action']} {outcome}{f' ({detail})' if detail else ''}")
    return FAILED if failed else OK


__all__ = ["add_control_commands"]
