"""What the commands that wait for jobs share: reading a leads file, following jobs while the results
stream to a file, the final file in input order, the table, the cost line, and the exit code.

Exit codes (`enrich run`, `enrich jobs create --wait`, `enrich jobs results`):
  0  done: every lead has its answer (found, risky, not found, invalid, or a duplicate of one);
  1  nothing done: the run could not start (a refused key, a spent quota, the stack, the API), or every
     lead failed;
  2  bad input: arguments, or a leads file that cannot be used;
  3  some done: some leads failed for provider reasons, or the run stopped early (a provider was switched
     off, the timeout passed), or (`enrich jobs results`) the job is still running; re-run the same command
     to continue, `enrich jobs retry` to retry failures;
  130 interrupted (Ctrl-C, SIGTERM): every finished lead is in the output; re-run to continue.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from enrich_tools.local.client import ApiClient
from enrich_tools.local.output import LEADS, Format, Layout, OutputError, ResultWriter, output_format
from enrich_tools.local.progress import Progress, duration
from enrich_tools.local.results import Record, print_table
from enrich_tools.local.rows import CsvError, CsvRow, LeadFile, parse_column_map, read_leads, repeats_by_line
from enrich_tools.local.runs import (
    Followed,
    Submitted,
    Tracker,
    follow,
    lead_records,
    problem_of,
    records_in_order,
)

OK, FAILED, USAGE, PARTIAL, INTERRUPTED = 0, 1, 2, 3, 130
TABLE_ROWS = 40  # leads shown in the terminal; the rest are in the output file


class UsageError(Exception):
    """Bad arguments: reported with exit code 2."""


class TablePrinter(Protocol):
    def __call__(
        self,
        records: Sequence[Record],
        out: TextIO,
        simulated: bool,
        *,
        max_rows: int | None = ...,
        output: Path | str | None = ...,
    ) -> None: ...


@dataclass(frozen=True)
class Report:
    """How a run's results are shown: the CSV's result columns, the table in the terminal, and the line
    that sums up the run and its cost. Leads by default; `enrich verify` shows addresses its own way."""

    layout: Layout = LEADS
    table: TablePrinter = print_table
    summary: Callable[[Counter[str], Sequence[dict[str, Any]]], None] | None = None  # None: print_cost
    noun: str = "leads"


def lead_file(args: argparse.Namespace) -> LeadFile:
    try:
        column_map = parse_column_map(",".join(args.map)) if args.map else None
        return read_leads(Path(args.input), column_map=column_map, encoding=args.encoding)
    except CsvError as exc:
        raise UsageError(str(exc)) from None


def results_format(output: Path, forced: str | None) -> Format:
    try:
        return output_format(output, forced)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def report_refused(rows: Sequence[CsvRow], source: str) -> None:
    for row in rows:
        if row.problem:
            note(f"not sent (reported as invalid): {source} {row.problem}")


def note(message: str) -> None:
    """A line on stderr; a closed stderr (`2>&1 | head`) must not stop a run that is paying for leads."""
    try:
        print(message, file=sys.stderr, flush=True)
    except BrokenPipeError:
        silence(sys.stderr)


def silence(stream: Any) -> None:
    """Point a stream whose reader went away at /dev/null (else Python reports the broken pipe at exit)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def follow_and_write(
    client: ApiClient,
    rows: Sequence[CsvRow],
    submitted: Sequence[Submitted],
    output: Path,
    fmt: Format,
    delimiter: str,
    timeout: float | None,
    simulated: bool,
    poll: float = 1.0,
    quiesce: Callable[[], None] | None = None,
    report: Report | None = None,
) -> int:
    """Stream each finished lead to `output` as it comes (in the order they finish), then rewrite the
    file whole in input order; print the first screenful and the cost; the exit code.

    Interrupted (Ctrl-C, SIGTERM), `quiesce` stops the processor from taking new leads and waits for the
    ones it is paying for; they are written too, and the file stays in the order leads finished (each
    record has its input line). A second Ctrl-C stops at once."""
    total = sum(len(job.rows) for job in submitted)
    progress = Progress(sys.stderr, total)
    layout = (report or Report()).layout
    with ResultWriter(output, fmt, rows, delimiter=delimiter, layout=layout) as writer:
        tracker = Tracker(submitted, writer.write, repeats_by_line(rows))
        try:
            followed = follow(
                client, submitted, timeout=timeout, poll=poll, progress=progress, tracker=tracker
            )
        except KeyboardInterrupt:
            progress.finish()
            note("\ninterrupted: finishing the leads in progress, starting no new one (Ctrl-C again: now)")
            if quiesce is not None:
                quiesce()
                tracker.poll(client)
            note(
                f"{writer.written} rows are in {output} (in the order they finished); re-run the same "
                "command to continue: nothing finished is run or paid for again"
            )
            return INTERRUPTED
        if (followed.timed_out or followed.stopped) and quiesce is not None:
            # Giving up must stop the spending too: the processor takes nothing new, finishes what it
            # is paying for, and those leads are written and reported as done, not as unfinished.
            quiesce()
            followed.views, _ = tracker.poll(client)
    progress.finish()
    counts: Counter[str] = Counter()
    shown: list[Record] = []

    def tallied(records: Iterator[Record]) -> Iterator[Record]:
        for record in records:
            counts[str(record["status"])] += 1
            if len(shown) < TABLE_ROWS:
                shown.append(record)
            yield record

    ordered = tallied(records_in_order(client, rows, submitted, followed, timeout))
    return finish(ordered, shown, counts, followed, timeout, simulated, output, fmt, rows, delimiter, report)


def finish(
    records: Iterator[Record],
    shown: list[Record],
    counts: Counter[str],
    followed: Followed,
    timeout: float | None,
    simulated: bool,
    output: Path | None,
    fmt: Format,
    rows: Sequence[CsvRow],
    delimiter: str = ",",
    report: Report | None = None,
) -> int:
    """Write the results file whole (all or nothing, in input order), then the table and the cost."""
    report = report or Report()
    if output is not None:
        try:
            write_whole(output, fmt, rows, records, delimiter, report.layout)
        except OSError as exc:
            note(f"error: cannot write {output}: {exc.strerror or exc}")
            return FAILED
    else:
        for _ in records:
            pass
    try:  # the file is complete: a reader of stdout that went away (`| head`) changes nothing
        report.table(shown, sys.stdout, simulated, max_rows=TABLE_ROWS, output=output)
        total = sum(counts.values())
        if total > len(shown):
            where = f"in {output}" if output is not None else "(write them all with --output FILE)"
            print(f"... {total - len(shown)} more {report.noun} {where}")
        (report.summary or print_cost)(counts, list(followed.views.values()))
        if output is not None:
            print(f"Results written to {output}" + (" (SIMULATED DATA)" if simulated else ""), flush=True)
    except BrokenPipeError:
        silence(sys.stdout)
    problem = problem_of(followed, timeout)
    if problem:
        note(f"error: {problem}")
    return exit_code(counts, problem)


def exit_code(counts: Counter[str], problem: str | None) -> int:
    """0 every lead answered; 1 none was; 3 some were (see the module docstring)."""
    answered = sum(counts.values()) - counts.get("failed", 0) - counts.get("pending", 0)
    if answered == 0 and not counts.get("pending"):
        return FAILED
    if problem or counts.get("failed") or counts.get("pending"):
        return PARTIAL
    return OK


def write_whole(
    output: Path,
    fmt: Format,
    rows: Sequence[CsvRow],
    records: Iterator[Record],
    delimiter: str,
    layout: Layout = LEADS,
) -> None:
    """Records already in input order, to a temporary file moved over `output`: never half a file."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        with ResultWriter(partial, fmt, rows, delimiter=delimiter, flush_each=False, layout=layout) as writer:
            for record in records:
                writer.write(record)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def print_cost(counts: Counter[str], jobs: Sequence[dict[str, Any]]) -> None:
    risky = f" ({counts['risky']} more risky: unverifiable addresses)" if counts.get("risky") else ""
    line = f"\n{counts.get('found', 0)}/{sum(counts.values())} leads found{risky}."
    if jobs:
        hunter_calls = sum(int(j["counters"]["api_calls_hunter"]) for j in jobs)
        perplexity_calls = sum(int(j["counters"]["api_calls_perplexity"]) for j in jobs)
        credits = sum(float(j["cost"]["hunter_credits"]) for j in jobs)
        dollars = sum(float(j["cost"]["perplexity_usd"]) for j in jobs)
        line += (
            f" Cost: Hunter {hunter_calls} calls, {credits:g} credits; "
            f"Perplexity {perplexity_calls} calls, ${dollars:.4f}"
        )
    print(line)


def follow_quietly(
    client: ApiClient, submitted: Sequence[Submitted], timeout: float | None, poll: float
) -> Followed:
    total = sum(len(job.rows) for job in submitted)
    progress = Progress(sys.stderr, total)
    try:
        return follow(client, submitted, timeout=timeout, poll=poll, progress=progress)
    finally:
        progress.finish()


def tally(records: Iterator[Record], counts: Counter[str], shown: list[Record]) -> Iterator[Record]:
    """The records, counted by status, the first screenful kept for the table."""
    for record in records:
        counts[str(record["status"])] += 1
        if len(shown) < TABLE_ROWS:
            shown.append(record)
        yield record


def write_lead_records(
    client: ApiClient,
    followed: Followed,
    timeout: float | None,
    output: Path | None,
    fmt: Format,
    report: Report | None = None,
) -> int:
    counts: Counter[str] = Counter()
    shown: list[Record] = []
    records = tally(lead_records(client, list(followed.views.values()), followed, timeout), counts, shown)
    simulated = client.simulated
    return finish(records, shown, counts, followed, timeout, simulated, output, fmt, [], ",", report)


def duration_text(seconds: float | None) -> str:
    return "never" if seconds is None else duration(seconds)
