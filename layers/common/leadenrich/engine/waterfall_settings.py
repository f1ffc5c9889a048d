"""The waterfall's thresholds and budgets, each with the reason for its value (docs/engine.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WaterfallSettings:
    # A Domain Search row must be more confident than this to be used at all (the original design's 70%).
    min_row_confidence: int = 70
    # Rows Hunter itself verified as valid within `trusted_verification_days` with at least this confidence
    # are deliverable without a second verification. Why 90: Hunter's help centre calls 90-95+ a high
    # chance of deliverability, and Hunter's own MCP server skips re-verification at exactly this mark; why
    # 30 days: Hunter only shows verifications younger than about a month.
    trusted_row_confidence: int = 90
    trusted_verification_days: int = 30
    # A verified address is `active` only when valid with a score above this (architecture.md step 5).
    active_min_score: int = 80
    max_verifications_per_lead: int = 6
    # first.last and first (see candidates.py), tried only after the domain's pattern and Email Finder both
    # failed to give an address. Measured (docs/benchmarks.md, issue 11): the third and fourth formats found
    # no lead on two simulated worlds that no other path found, for 27-38 credits per 300 leads.
    max_permutations: int = 2
    # Perplexity names that may get permutations: the first (sourced, most senior) only. The others still
    # get the domain's pattern and Email Finder (billed only on a hit); measured, their permutations
    # found nothing the first name's did not, for 4-22 credits per 300 leads.
    permuted_names: int = 1
    max_names: int = 3
    max_addresses: int = 3
    # Credits one billed verification costs: 1 on Data-Platform plans, 0.5 on All-in-one plans.
    verification_credit: float = 1.0
