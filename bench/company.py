"""Benchmark: what company data costs, per 100 leads, with the step on and off, on the same simulated world.

    python -m bench.company [--leads 300] [--seed 11] [--world-seed 7] [--plan data_platform|unified]

Three runs over real HTTP against the provider simulator (its rate limits lifted: this measures credits and
calls, not pacing), each on a fresh simulator ledger and a fresh engine cache:

- `off`: the leads as sampled (`World.sample_leads`: domains, 70% with a company name), no company step;
- `on`: the same leads with company data;
- `names only`: the same leads with their domains removed where they carry a company name (a CRM export
  without websites), company data on: what resolving domains costs on top.

Credits and calls are the simulator's ledger (what Hunter would bill); "companies" is how many leads ended
with a company profile, "resolved" / "ambiguous" how many name-only leads got a domain or were refused.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from enrich_tools.batch import enrich_many
from enrich_tools.simulator.config import SimConfig
from enrich_tools.simulator.server import SimulatorServer
from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter_company import HunterCompanyClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher

ENDPOINTS = ("domain_search", "email_finder", "email_verifier", "companies_find", "discover")


@dataclass
class Run:
    name: str
    leads: int
    credits: float
    calls: Counter[str]
    statuses: Counter[str]
    companies: int
    completeness: float
    resolutions: Counter[str]
    seconds: float

    def per_100(self, value: float) -> float:
        return 100 * value / self.leads


def measure(sim: SimulatorServer, name: str, leads: Sequence[Lead], company: bool, credit: float) -> Run:
    sim.reset()
    hunter = HunterCompanyClient("sim-hunter-key", base_url=sim.hunter_base_url, credit=credit)
    enricher = Enricher(
        hunter,
        PerplexityClient("sim-pplx-key", base_url=sim.perplexity_base_url),
        ResultCache(InMemoryCache()),
        companies=hunter,
        directory=hunter,
    )

    async def one(lead: Lead) -> EnrichmentResult:
        return await enricher.enrich(lead, Deadline.after(60), company_data=company)

    async def run() -> list[EnrichmentResult]:
        try:
            return await enrich_many(one, leads, concurrency=16, max_wait=0.0)
        finally:
            await close_shared_http_client()

    started = time.perf_counter()
    results = asyncio.run(run())
    seconds = time.perf_counter() - started
    snapshot = sim.ledger.snapshot()
    calls = Counter(
        {name.split(".", 1)[1]: n for name, n in snapshot["calls"].items() if name.startswith("hunter.")}
    )
    profiles = [r.company for r in results if r.company is not None]
    return Run(
        name=name,
        leads=len(leads),
        credits=float(snapshot["credits_search"]) + float(snapshot["credits_verification"]),
        calls=calls,
        statuses=Counter(r.status.value for r in results),
        companies=len(profiles),
        completeness=sum(p.completeness for p in profiles) / len(profiles) if profiles else 0.0,
        resolutions=Counter(r.resolution.status.value for r in results if r.resolution is not None),
        seconds=seconds,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--plan", choices=("data_platform", "unified"), default="data_platform")
    opts = parser.parse_args(argv)
    config = SimConfig(seed=opts.world_seed, time_scale=0.0, billing_plan=opts.plan)
    limits = {f"{e}_{unit}": 1_000_000 for e in (*ENDPOINTS, "email_count") for unit in ("rps", "rpm")}
    config.apply(limits | {"perplexity_rpm": 1_000_000, "perplexity_qps": 1e6})
    credit = 1.0 if opts.plan == "data_platform" else 0.2
    with SimulatorServer(config) as sim:
        sampled = sim.world.sample_leads(opts.leads, opts.seed)
        leads = [
            Lead(
                domain=s.domain,
                company_name=s.company_name,
                first_name=s.first_name,
                last_name=s.last_name,
                external_id=s.external_id,
            )
            for s in sampled
        ]
        names_only = [lead.model_copy(update={"domain": ""}) if lead.company_name else lead for lead in leads]
        runs = [
            measure(sim, "off", leads, company=False, credit=credit),
            measure(sim, "on", leads, company=True, credit=credit),
            measure(sim, "names only, on", names_only, company=True, credit=credit),
        ]
    print(
        f"SIMULATED DATA - {opts.leads} leads, world seed {opts.world_seed}, lead seed {opts.seed}, "
        f"plan {opts.plan}\n"
    )
    header = f"{'per 100 leads':<16}{'credits':>9}{'calls':>7}" + "".join(f"{e:>16}" for e in ENDPOINTS)
    print(header + f"{'found':>7}{'companies':>11}{'complete':>10}{'secs':>7}")
    for run in runs:
        print(
            f"{run.name:<16}{run.per_100(run.credits):>9.1f}{run.per_100(sum(run.calls.values())):>7.1f}"
            + "".join(f"{run.per_100(run.calls[e]):>16.1f}" for e in ENDPOINTS)
            + f"{run.per_100(run.statuses[LeadStatus.FOUND.value]):>7.1f}"
            + f"{run.per_100(run.companies):>11.1f}{run.completeness:>10.1f}{run.seconds:>7.1f}"
        )
    off, on, names = runs
    print(
        f"\ncompany data: {on.per_100(on.credits - off.credits):+.1f} credits, "
        f"{on.per_100(sum(on.calls.values()) - sum(off.calls.values())):+.1f} calls per 100 leads"
    )
    named = sum(1 for lead in names_only if not lead.domain)
    print(
        f"names only: {named} leads without a domain; resolutions {dict(names.resolutions)}; "
        f"{names.per_100(names.credits - on.credits):+.1f} credits per 100 leads over `on`"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
