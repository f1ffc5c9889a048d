"""The simulator's test keys, its fixed date, and the clean knobs every test starts from: no latency,
generous throttles, a fixed date before Sonar's retirement."""

from __future__ import annotations

from datetime import date

from enrich_tools.simulator import SimConfig

HUNTER_KEY = "sim-hunter-key"
PPLX_KEY = "sim-pplx-key"
TODAY = date(2026, 6, 15)


def base_config() -> SimConfig:
    return SimConfig(
        fixed_date=TODAY,
        time_scale=0.0,
        perplexity_rpm=100_000,
        perplexity_qps=10_000.0,
        domain_search_rps=10_000,
        domain_search_rpm=100_000,
        email_finder_rps=10_000,
        email_finder_rpm=100_000,
        email_verifier_rps=10_000,
        email_verifier_rpm=100_000,
        email_count_rps=10_000,
        email_count_rpm=100_000,
        companies_find_rps=10_000,
        companies_find_rpm=100_000,
        discover_rps=10_000,
        discover_rpm=100_000,
    )
