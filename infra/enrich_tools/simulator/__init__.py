"""Local fake of Hunter.io v2 and the Perplexity Agent API, backed by a deterministic synthetic world.

Everything it returns is simulated data (every response carries `X-Simulated: true`). See world.py for
what the world contains and why, hunter.py / perplexity.py for the wire behaviour, config.py for knobs.
"""

from __future__ import annotations

from enrich_tools.simulator.app import create_app
from enrich_tools.simulator.config import ConfigError, SimConfig
from enrich_tools.simulator.entities import Company, PerplexityAnswer, Person, SearchPage, SimLead, Truth
from enrich_tools.simulator.ledger import Ledger
from enrich_tools.simulator.server import SimulatorServer, serve_forever
from enrich_tools.simulator.showcase import SHOWCASE_DOMAINS
from enrich_tools.simulator.world import KIND_SHARES, World

__all__ = [
    "KIND_SHARES",
    "SHOWCASE_DOMAINS",
    "Company",
    "ConfigError",
    "Ledger",
    "PerplexityAnswer",
    "Person",
    "SearchPage",
    "SimConfig",
    "SimLead",
    "SimulatorServer",
    "Truth",
    "World",
    "create_app",
    "serve_forever",
]
