"""Which providers a laptop run talks to: the real ones when a Hunter key is set, else the simulator.

The choice is made once per run, for both providers together, so real and simulated data never mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from leadenrich.engine.settings import EngineSettings

SIMULATED_BANNER = "SIMULATED DATA: provider simulator (no HUNTER_API_KEY set); addresses are fictional"
# Put on every response of a local gateway backed by the simulator, so API clients can label what they show.
SIMULATED_HEADER = "X-Simulated"


@contextmanager
def provider_settings(seed: int = 7) -> Iterator[tuple[EngineSettings, bool]]:
    """Settings for real providers when keys are set, else for a simulator started for this run."""
    settings = EngineSettings.from_env()
    if settings.has_provider_keys:
        yield settings, False
        return
    from enrich_tools.simulator.config import SimConfig
    from enrich_tools.simulator.server import SimulatorServer

    with SimulatorServer(SimConfig(seed=seed, time_scale=0.02)) as sim:
        yield (
            EngineSettings.model_validate(
                {
                    "hunter_api_key": "sim-hunter-key",
                    "perplexity_api_key": "sim-pplx-key",
                    "hunter_api_base_url": sim.hunter_base_url,
                    "perplexity_api_base_url": sim.perplexity_base_url,
                }
            ),
            True,
        )


def provider_environment(settings: EngineSettings) -> dict[str, str]:
    """The variables the processor's `EngineSettings.from_env()` reads back to get these settings; an
    absent Perplexity key is an empty value, which the engine reads as unset."""
    perplexity_key = settings.perplexity_api_key
    return {
        "HUNTER_API_KEY": settings.hunter_api_key.get_secret_value() if settings.hunter_api_key else "",
        "PERPLEXITY_API_KEY": perplexity_key.get_secret_value() if perplexity_key else "",
        "HUNTER_API_BASE_URL": settings.hunter_api_base_url,
        "PERPLEXITY_API_BASE_URL": settings.perplexity_api_base_url,
    }
