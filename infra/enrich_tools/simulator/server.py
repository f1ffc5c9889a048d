"""Running the simulator: `SimulatorServer` in a background thread (tests, benchmarks, the local stack)
or `serve_forever` in the foreground (the `enrich simulator` command).

The background server is `enrich_tools.background.BackgroundServer`, shared with the local gateway.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import uvicorn

from enrich_tools.background import BackgroundServer, bind_socket
from enrich_tools.simulator.app import create_app
from enrich_tools.simulator.config import SimConfig
from enrich_tools.simulator.ledger import Ledger
from enrich_tools.simulator.showcase import SHOWCASE_DOMAINS
from enrich_tools.simulator.state import SimState
from enrich_tools.simulator.world import World


class SimulatorServer:
    """Context manager (sync or async) serving the simulator on loopback from a daemon thread.

    `config`, `world` and `ledger` are the live objects the server uses; change knobs with `configure`
    (which regenerates the world when seed, size, wrong-answer share or date change).
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        world: World | None = None,
        **knobs: object,
    ) -> None:
        config = (config or SimConfig()).copy()
        config.apply(knobs)
        self.state = SimState.create(config, world)
        self._host = host
        self._background = BackgroundServer(
            create_app(state=self.state),
            host=host,
            port=port,
            name="provider-simulator",
            graceful_shutdown_seconds=1,
            join_timeout=10,
        )

    # --- lifecycle

    @property
    def port(self) -> int:
        return self._background.port

    def start(self) -> SimulatorServer:
        if not self._background.running:
            self._background.start()
        return self

    def stop(self) -> None:
        self._background.stop()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SimulatorServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # --- what callers use

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def hunter_base_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def perplexity_base_url(self) -> str:
        return self.base_url

    @property
    def config(self) -> SimConfig:
        return self.state.config

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def ledger(self) -> Ledger:
        return self.state.ledger

    def configure(self, **knobs: object) -> set[str]:
        """Change knobs at runtime (validated like PATCH /_sim/config); returns the changed names."""
        return self.state.apply_config(knobs)

    def reset(self, config: SimConfig | None = None) -> None:
        """Clear the ledger and in-flight state; with `config`, also take all of its knob values."""
        if config is not None:
            self.state.replace_config(config)
        self.state.reset()


def banner(base_url: str, config: SimConfig) -> str:
    hunter_key = config.hunter_api_keys[0] if config.hunter_api_keys else "any-key"
    pplx_key = config.perplexity_api_keys[0] if config.perplexity_api_keys else "any-key"
    lines = [
        "=" * 78,
        "  PROVIDER SIMULATOR - SIMULATED DATA: every company, person and address is synthetic",
        f"  seed={config.seed} companies={config.companies} time_scale={config.time_scale}",
        "",
        "  Point the engine at it:",
        f"    export HUNTER_API_BASE_URL={base_url}/v2",
        f"    export PERPLEXITY_API_BASE_URL={base_url}",
        f"    export HUNTER_API_KEY={hunter_key}",
        f"    export PERPLEXITY_API_KEY={pplx_key}",
        "",
        f"  Showcase domains: {', '.join(SHOWCASE_DOMAINS)}",
        f"  Ground truth: {base_url}/_sim/truth?domain={SHOWCASE_DOMAINS[0]}",
        f"  Ledger: {base_url}/_sim/ledger",
        "=" * 78,
    ]
    return "\n".join(lines)


def serve_forever(host: str, port: int, config: SimConfig) -> None:
    """Serve in the foreground until interrupted (Ctrl-C), after printing where to point the engine."""
    state = SimState.create(config)
    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(banner(f"http://{shown}:{bound}", config), flush=True)
    settings = uvicorn.Config(
        create_app(state=state), host=host, port=bound, log_level="warning", access_log=False, lifespan="off"
    )
    try:
        uvicorn.Server(settings).run(sockets=[sock])
    finally:
        sock.close()
