"""Benchmark: the waterfall against the naive baseline, on the same simulated world.

    python -m bench.waterfall [--leads 300] [--seed 11] [--world-seed 7] [--companies N] [--faults]

Both run over real HTTP against the provider simulator with its default (clean) settings, except that its
rate limits are lifted: this benchmark compares strategies, and the client-side limiter that keeps real
traffic under the providers' limits belongs to the runtime (measured by its drain benchmark). Credits and
calls are read from the simulator's own ledger (what Hunter would bill), not from our accounting; the
engine's accounting is printed beside it as a cross-check. Precision is measured against the world's
ground truth: a returned address is correct when it is a real mailbox at that company.

"found" is the lead status: for the waterfall, a verified address; the naive baseline calls a lead found
when it returns anything (its Domain Search rows unverified). "usable" adds the waterfall's `risky` leads
(graded, unverifiable addresses), the closest thing to the baseline's count. The tier table gives, per
deliverability grade, how many addresses the waterfall returned and the share that are real mailboxes
(the simulator's catch-all domains accept every address, and some Hunter rows there are people who left).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.naive import NaiveEnricher
from enrich_tools.batch import enrich_many
from enrich_tools.simulator.config import SimConfig
from enrich_tools.simulator.server import SimulatorServer
from enrich_tools.simulator.world import World
from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, Usage
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher

GOAL_CREDIT_RATIO = 0.35
GOAL_PRECISION = 0.97
GOAL_HIGH_PROBABILITY = 0.9
HUNTER_ENDPOINTS = ("domain_search", "email_finder", "email_verifier", "email_count")
DEFERRAL_ROUNDS = 4
# A bad day at the providers: verifications still running (202), SMTP hiccups (222), server errors, mail
# servers that will not say (unknown), failed Perplexity runs. Each strategy handles them its own way; the
# engine defers and retries.
FAULTS: dict[str, object] = {
    "share_202": 0.2,
    "polls_202": 1,
    "share_222": 0.05,
    "share_5xx": 0.05,
    "share_unknown": 0.05,
    "perplexity_share_failed": 0.1,
}  # the runtime retries deferred leads; the benchmark does the same, a few times


@dataclass
class Figures:
    name: str
    leads: int
    found: int
    risky: int
    found_dm: int
    returned: int
    correct: int
    hunter_calls: int
    perplexity_calls: int
    credits: float
    own_credits: float
    seconds: float
    credits_by_endpoint: dict[str, float]
    tiers: dict[str, tuple[int, int]]  # deliverability -> (addresses, real mailboxes)

    @property
    def found_rate(self) -> float:
        return self.found / self.leads if self.leads else 0.0

    @property
    def precision(self) -> float:
        return self.correct / self.returned if self.returned else 1.0

    @property
    def credits_per_found(self) -> float:
        return self.credits / self.found if self.found else float("inf")

    @property
    def credits_per_dm(self) -> float:
        return self.credits / self.found_dm if self.found_dm else float("inf")

    @property
    def calls_per_found(self) -> float:
        return (self.hunter_calls + self.perplexity_calls) / self.found if self.found else float("inf")


def score(
    name: str,
    world: World,
    results: Sequence[EnrichmentResult],
    ledger: dict[str, Any],
    seconds: float,
) -> Figures:
    usage = Usage()
    for r in results:
        usage.add(r.usage)
    addresses = [e.email for r in results for e in r.emails]
    tiers: dict[str, tuple[int, int]] = {}
    for e in (e for r in results for e in r.emails):
        count, real = tiers.get(e.deliverability.value, (0, 0))
        tiers[e.deliverability.value] = (count + 1, real + world.is_real_mailbox(e.email))
    found_dm = 0
    for r in results:
        truth = world.truth(r.domain) if world.company(r.domain) else None
        if truth and any(e.email in truth.decision_maker_emails for e in r.emails):
            found_dm += 1
    return Figures(
        name=name,
        leads=len(results),
        found=sum(1 for r in results if r.status is LeadStatus.FOUND),
        risky=sum(1 for r in results if r.status is LeadStatus.RISKY),
        found_dm=found_dm,
        returned=len(addresses),
        correct=sum(1 for a in addresses if world.is_real_mailbox(a)),
        hunter_calls=int(ledger["hunter_calls"]),
        perplexity_calls=int(ledger["perplexity_calls"]),
        credits=ledger["credits"],
        own_credits=usage.hunter.credits,
        seconds=seconds,
        credits_by_endpoint=dict(ledger["by_endpoint"]),
        tiers=tiers,
    )


def ledger_totals(sim: SimulatorServer) -> dict[str, Any]:
    snapshot = sim.ledger.snapshot()
    return {
        "hunter_calls": float(snapshot["hunter_calls"]),
        "perplexity_calls": float(snapshot["perplexity_calls"]),
        "credits": float(snapshot["credits_search"]) + float(snapshot["credits_verification"]),
        "by_endpoint": {name: float(v) for name, v in snapshot["credits"].items()},
    }


def measure(
    sim: SimulatorServer,
    name: str,
    enrich: Callable[[Lead], Awaitable[EnrichmentResult]],
    leads: Sequence[Lead],
) -> Figures:
    sim.reset()
    started = time.perf_counter()

    async def batch() -> list[EnrichmentResult]:
        try:
            return await enrich_many(enrich, leads, max_wait=0.0, tries=DEFERRAL_ROUNDS)
        finally:
            await close_shared_http_client()

    results = asyncio.run(batch())
    return score(name, sim.world, results, ledger_totals(sim), time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    args.add_argument("--leads", type=int, default=300)
    args.add_argument("--seed", type=int, default=11, help="which leads are drawn")
    args.add_argument("--world-seed", type=int, default=7)
    args.add_argument(
        "--companies", type=int, default=None, help="world size (default: the simulator's); leads repeat less"
    )
    args.add_argument(
        "--faults", action="store_true", help="inject provider failures (FAULTS) into both runs"
    )
    opts = args.parse_args(argv)

    config = SimConfig(seed=opts.world_seed, time_scale=0.0)
    if opts.companies:
        config.apply({"companies": opts.companies})
    config.apply({f"{e}_{unit}": 1_000_000 for e in HUNTER_ENDPOINTS for unit in ("rps", "rpm")})
    config.apply({"perplexity_rpm": 1_000_000, "perplexity_qps": 1e6})
    if opts.faults:
        config.apply(FAULTS)
    with SimulatorServer(config) as sim:
        leads = [
            Lead(
                domain=s.domain,
                company_name=s.company_name,
                first_name=s.first_name,
                last_name=s.last_name,
                external_id=s.external_id,
            )
            for s in sim.world.sample_leads(opts.leads, opts.seed)
        ]

        def clients() -> tuple[HunterClient, PerplexityClient]:
            return (
                HunterClient("sim-hunter-key", base_url=sim.hunter_base_url),
                PerplexityClient("sim-pplx-key", base_url=sim.perplexity_base_url),
            )

        hunter, perplexity = clients()
        naive = NaiveEnricher(hunter, perplexity)
        baseline = measure(sim, "naive baseline", naive.enrich, leads)

        hunter, perplexity = clients()
        enricher = Enricher(hunter, perplexity, ResultCache(InMemoryCache()))

        async def ours_enrich(lead: Lead) -> EnrichmentResult:
            return await enricher.enrich(lead, Deadline.after(60))

        ours = measure(sim, "waterfall", ours_enrich, leads)
        sim_companies = sim.world.companies

    faults = f", faults {FAULTS}" if opts.faults else ""
    print(
        f"SIMULATED DATA - {opts.leads} leads, world seed {opts.world_seed} "
        f"({len(sim_companies)} companies), lead seed {opts.seed}{faults}\n"
    )
    report(baseline, ours)
    return 0


def report(baseline: Figures, ours: Figures) -> None:
    print(
        f"{'':<16}{'found':>8}{'usable':>8}{'DM found':>10}{'precision':>11}{'calls/found':>13}"
        f"{'credits/found':>15}{'credits/DM':>12}{'credits':>9}{'(own)':>8}{'H calls':>9}{'P calls':>9}"
        f"{'secs':>7}"
    )
    for f in (baseline, ours):
        print(
            f"{f.name:<16}{f.found_rate:>8.1%}{(f.found + f.risky) / f.leads:>8.1%}"
            f"{f.found_dm / f.leads:>10.1%}{f.precision:>11.3f}{f.calls_per_found:>13.2f}"
            f"{f.credits_per_found:>15.3f}{f.credits_per_dm:>12.3f}{f.credits:>9.1f}{f.own_credits:>8.1f}"
            f"{f.hunter_calls:>9}{f.perplexity_calls:>9}{f.seconds:>7.1f}"
        )
    print("\ncredits by endpoint:")
    for f in (baseline, ours):
        spent = ", ".join(f"{k.split('.', 1)[1]} {v:g}" for k, v in sorted(f.credits_by_endpoint.items()))
        print(f"  {f.name:<16}{spent}")
    print("\nwaterfall addresses by deliverability (real mailboxes on the world's ground truth):")
    for tier in ("verified", "high_probability", "catch_all", "unknown", "undeliverable"):
        count, real = ours.tiers.get(tier, (0, 0))
        share = f"{real / count:.3f}" if count else "-"
        print(f"  {tier:<18}{count:>6} addresses   real {share}")
    ratio = ours.credits_per_found / baseline.credits_per_found
    calls_ratio = ours.calls_per_found / baseline.calls_per_found
    dm_ratio = ours.credits_per_dm / baseline.credits_per_dm
    print(f"\ncredits per found lead, waterfall / naive: {ratio:.3f} (goal <= {GOAL_CREDIT_RATIO})")
    print(f"credits per decision-maker found, waterfall / naive: {dm_ratio:.3f}")
    print(f"paid calls per found lead, waterfall / naive: {calls_ratio:.3f}")
    high = _share(ours.tiers, "high_probability")
    guess = _share(ours.tiers, "catch_all")
    checks = {
        f"credits ratio <= {GOAL_CREDIT_RATIO}": ratio <= GOAL_CREDIT_RATIO,
        "usable rate (found + risky) >= baseline's found": ours.found + ours.risky >= baseline.found,
        f"precision >= {GOAL_PRECISION}": ours.precision >= GOAL_PRECISION,
        f"high_probability real share >= {GOAL_HIGH_PROBABILITY} and above catch_all": (
            high is not None and high >= GOAL_HIGH_PROBABILITY and (guess is None or high > guess)
        ),
    }
    for label, ok in checks.items():
        print(f"  [{'met' if ok else 'MISSED'}] {label}")


def _share(tiers: dict[str, tuple[int, int]], tier: str) -> float | None:
    count, real = tiers.get(tier, (0, 0))
    return real / count if count else None


if __name__ == "__main__":
    raise SystemExit(main())
