"""`enrich run` as a user runs it: a leads file through the embedded local stack, measured from outside.

    python -m bench.local_run [--leads 1000] [--latency 0.1] [--raised | --tier0] [--concurrency 32]

The provider simulator runs in a process of its own (bench.servers' `ServerProcess`) over a world of
`--companies` companies; `enrich run` runs as a subprocess on a fresh state directory, pointed at it with
HUNTER_API_BASE_URL / PERPLEXITY_API_BASE_URL, exactly as with real keys. Printed:

- wall time of the whole command (stack start, the Hunter check, enrichment, the final file);
- peak RSS of the `enrich` process (VmHWM, read from /proc while it runs);
- the floor the binding provider limit sets: for each limited endpoint, the calls the run made divided by
  the pace the limit allows (min(per second, per minute / 60)); the largest is the floor, and wall time /
  floor says how close the stack comes to it;
- the stack's own cost per lead: the CPU time of the `enrich` process (API, processor, SQLite, HTTP
  clients; read from /proc up to its last 0.1 s) per lead. With `--overhead --latency 0` providers answer
  at once and the limits are far away, and the wall time per lead is an upper bound of it (the
  simulator's CPU shares the same 2 cores).

`--raised`: simulated limits well above the published ones (Hunter 50/s, 3,000/min; Perplexity 20/s,
1,200/min), and the limiter paced at 90% of them (RATE_LIMITS); `--tier0`: the published limits (Hunter 15/s,
Perplexity tier 0: 1/s and 50/min) with the limiter's default paces.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.servers import PATHS, ROOT, ServerProcess, serve_simulator

PACE = 0.9
UNLIMITED = (1000, 60_000)  # --overhead: limits far above what a laptop stack can ask
RAISED = {"search": (50, 3000), "verifier": (50, 3000), "perplexity": (20, 1200)}
PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)


def _limits(raised: bool, unlimited: bool = False) -> dict[str, tuple[float, float]]:
    """The simulator's limits per limiter key: (per second, per minute)."""
    if unlimited:
        search = verifier = perplexity = UNLIMITED
    elif raised:
        search, verifier, perplexity = RAISED["search"], RAISED["verifier"], RAISED["perplexity"]
    else:
        search, verifier, perplexity = (15, 500), (10, 300), (1, 50)
    return {
        "hunter.domain_search": search,
        "hunter.email_finder": search,
        "hunter.email_verifier": verifier,
        "perplexity.responses": perplexity,
    }


def _sim_config(opts: argparse.Namespace) -> Any:
    from enrich_tools.simulator import SimConfig

    limits = _limits(opts.raised, opts.overhead)
    search, verifier, perplexity = (
        limits["hunter.domain_search"],
        limits["hunter.email_verifier"],
        limits["perplexity.responses"],
    )
    return SimConfig(
        seed=opts.world_seed,
        companies=opts.companies,
        time_scale=opts.latency,
        domain_search_rps=int(search[0]),
        domain_search_rpm=int(search[1]),
        email_finder_rps=int(search[0]),
        email_finder_rpm=int(search[1]),
        email_verifier_rps=int(verifier[0]),
        email_verifier_rpm=int(verifier[1]),
        perplexity_qps=float(perplexity[0]),
        perplexity_rpm=int(perplexity[1]),
        search_credits=1e9,
        verification_credits=1e9,
    )


def _write_leads(config: Any, n: int, seed: int, path: Path) -> int:
    from enrich_tools.simulator.state import build_world

    world = build_world(config)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["domain", "company_name", "first_name", "last_name", "external_id"])
        for lead in world.sample_leads(n, seed):
            fields = (lead.domain, lead.company_name, lead.first_name, lead.last_name, lead.external_id)
            writer.writerow([value or "" for value in fields])
    return n


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of the process and its waited-for children, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _retried(database: Path) -> dict[str, int]:
    """Items that took more than one attempt, by their last reason (what made a run wait)."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT coalesce(reason, status), count(*) FROM job_items WHERE attempts > 1 GROUP BY 1"
        ).fetchall()
    return {str(reason)[:80]: int(n) for reason, n in rows}


def _floor(calls: Mapping[str, int], limits: Mapping[str, tuple[float, float]]) -> tuple[str, float]:
    """(binding endpoint, seconds): the least time the limits allow for the calls made."""
    seconds = {key: calls.get(key, 0) / min(per_s, per_min / 60) for key, (per_s, per_min) in limits.items()}
    key = max(seconds, key=lambda k: seconds[k])
    return key, seconds[key]


def run(opts: argparse.Namespace) -> dict[str, Any]:
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    import httpx

    config = _sim_config(opts)
    with (
        tempfile.TemporaryDirectory() as folder,
        ServerProcess(serve_simulator, config, health_path="/_sim/health") as sim,
    ):
        work = Path(folder)
        leads = _write_leads(config, opts.leads, opts.seed, work / "leads.csv")
        env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES} | {
            "HUNTER_API_KEY": "sim-hunter-key",
            "PERPLEXITY_API_KEY": "sim-pplx-key",
            "HUNTER_API_BASE_URL": f"{sim.base_url}/v2",
            "PERPLEXITY_API_BASE_URL": sim.base_url,
            "PROCESSOR_CONCURRENCY": str(opts.concurrency),
        }
        if opts.raised:  # our pace at 90% of the simulated limits: their throttles would only add backoffs
            env["RATE_LIMITS"] = ",".join(
                f"{k}={max(1, int(s * PACE))}/{int(m * PACE)}"
                for k, (s, m) in _limits(True, opts.overhead).items()
            )
        command = [
            sys.executable,
            "-m",
            "enrich_tools.cli",
            "run",
            "--input",
            str(work / "leads.csv"),
            "--output",
            str(work / "out.csv"),
            "--state",
            str(work / "state"),
        ]
        started = time.monotonic()
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        peak, cpu = 0.0, 0.0
        while process.poll() is None:
            peak = max(peak, _peak_rss_mb(process.pid) or 0.0)
            cpu = _cpu_seconds(process.pid) or cpu
            time.sleep(0.1)
        wall = time.monotonic() - started
        stderr = process.stderr.read() if process.stderr else ""
        ledger = httpx.get(f"{sim.base_url}/_sim/ledger", timeout=10).json()
        rows = sum(1 for _ in (work / "out.csv").open(encoding="utf-8-sig")) - 1
        retried = _retried(work / "state" / "leadenrich.sqlite3")
    calls = {key: int(ledger["calls"].get(key, 0)) for key in _limits(opts.raised, opts.overhead)}
    binding, floor = _floor(calls, _limits(opts.raised, opts.overhead))
    return {
        "leads": leads,
        "rows_written": rows,
        "exit_code": process.returncode,
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(peak, 1),
        "ms_per_lead": round(wall / leads * 1000, 2),
        "stack_cpu_ms_per_lead": round(cpu / leads * 1000, 2),
        "calls": calls,
        "binding": binding,
        "floor_seconds": round(floor, 1),
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "items_tried_more_than_once": retried,
        "stderr_tail": stderr.strip().splitlines()[-3:],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="the simulator's time scale (0: instant)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--raised", action="store_true", default=True, help="raised simulated limits (default)")
    mode.add_argument("--tier0", dest="raised", action="store_false", help="the published limits")
    parser.add_argument(
        "--overhead",
        action="store_true",
        help="limits far away (use with --latency 0): what is left of the wall time is the stack's own",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="PROCESSOR_CONCURRENCY for the run")
    parser.add_argument("--companies", type=int, default=12_000, help="companies in the simulated world")
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--seed", type=int, default=3)
    opts = parser.parse_args(argv)
    result = run(opts)
    print(json.dumps(result, indent=2))
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
