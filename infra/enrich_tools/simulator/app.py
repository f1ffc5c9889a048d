"""The simulator as one Starlette app: Hunter under /v2, Perplexity under /v1 (+ Sonar), control at /_sim."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from enrich_tools.simulator import control, departures, hunter, hunter_companies, hunter_people, perplexity
from enrich_tools.simulator.config import SimConfig
from enrich_tools.simulator.state import SimState
from enrich_tools.simulator.wire import SimulatedHeader
from enrich_tools.simulator.world import World


def create_app(
    config: SimConfig | None = None, *, world: World | None = None, state: SimState | None = None
) -> Starlette:
    """An ASGI app; pass `state` to share it (SimulatorServer does), else one is built from `config`."""
    state = state or SimState.create(config, world)
    app = Starlette(
        routes=[
            *hunter.routes,
            *hunter_companies.routes,
            *hunter_people.routes,
            *perplexity.routes,
            *control.routes,
            *departures.routes,
        ],
        middleware=[Middleware(SimulatedHeader)],
    )
    app.state.sim = state
    return app
