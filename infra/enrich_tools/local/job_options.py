"""The job options `enrich jobs create` and `enrich jobs update` send: priority, schedule, spend caps; and
`--company-data`, which `enrich run` and `enrich jobs create` take (a job's company option cannot change)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    """The job options `jobs create` sends with every job it makes."""
    parser.add_argument("--priority", type=int, choices=range(1, 6), metavar="1-5", help="1 highest (3)")
    parser.add_argument("--run-at", type=_instant, help="start no earlier than this (ISO 8601 with zone)")
    parser.add_argument("--max-credits", type=float, help="Hunter credits the job may spend")
    parser.add_argument("--max-cost-usd", type=float, help="Perplexity dollars the job may spend")


def add_company_argument(parser: argparse.ArgumentParser) -> None:
    """`--company-data` (None when not given, so a resumed run can take its saved value)."""
    parser.add_argument(
        "--company-data",
        action="store_true",
        default=None,
        help="also fetch each lead's company (industry, size, location, description; about 1 Hunter "
        "credit, 0.2 on All-in-one plans, per company found; docs/company-data.md)",
    )


def job_options(args: argparse.Namespace) -> dict[str, Any]:
    """The body fields of the options given on the command line (none: the API's defaults)."""
    given = {
        "priority": getattr(args, "priority", None),
        "run_at": getattr(args, "run_at", None),
        "max_credits": getattr(args, "max_credits", None),
        "max_cost_usd": getattr(args, "max_cost_usd", None),
        "company_data": getattr(args, "company_data", None) or None,
    }
    return {name: value for name, value in given.items() if value is not None}


def _instant(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not an ISO 8601 time (2027-01-05T09:00:00Z)") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a time zone (Z or +01:00)")
    return moment.isoformat()


__all__ = ["add_company_argument", "add_option_arguments", "job_options"]
