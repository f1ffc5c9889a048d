"""Starting and stopping the simulator: background thread (sync and async) and the foreground command."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import httpx
import pytest

import enrich_tools
from enrich_tools import background
from enrich_tools.simulator import SimConfig, SimulatorServer


def test_bind_closes_its_socket_when_the_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[socket.socket] = []

    class Recorded(socket.socket):
        def __init__(self, *args: int) -> None:
            super().__init__(*args)
            made.append(self)

    constants = {name: getattr(socket, name) for name in dir(socket) if name.isupper()}
    monkeypatch.setattr(background, "socket", types.SimpleNamespace(**constants, socket=Recorded))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            background.bind_socket("127.0.0.1", taken.getsockname()[1])
    assert len(made) == 1
    assert made[0].fileno() == -1  # closed, not left to the garbage collector


async def test_async_context_manager_serves_on_a_free_loopback_port() -> None:
    async with SimulatorServer(SimConfig(companies=20, time_scale=0.0)) as server:
        assert server.port > 0
        assert server.hunter_base_url == f"http://127.0.0.1:{server.port}/v2"
        assert server.perplexity_base_url == server.base_url
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{server.base_url}/_sim/health")
        assert response.json()["companies"] == 20
    with httpx.Client() as client:
        try:
            client.get(f"{server.base_url}/_sim/health", timeout=1)
            stopped = False
        except httpx.TransportError:
            stopped = True
    assert stopped


def test_serve_forever_prints_a_simulated_data_banner_with_the_urls() -> None:
    code = (
        "from enrich_tools.simulator import SimConfig, serve_forever\n"
        "serve_forever('127.0.0.1', 0, SimConfig(companies=20, time_scale=0.0))\n"
    )
    infra = str(Path(enrich_tools.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([infra, os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(9)]
        banner = "".join(lines)
        assert "SIMULATED DATA" in banner
        match = re.search(r"HUNTER_API_BASE_URL=(http://127\.0\.0\.1:\d+)/v2", banner)
        assert match is not None
        assert f"PERPLEXITY_API_BASE_URL={match.group(1)}" in banner
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(f"{match.group(1)}/v2/account", params={"api_key": "k"}, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.headers["x-simulated"] == "true"
    finally:
        process.terminate()
        process.wait(timeout=10)
