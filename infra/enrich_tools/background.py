"""An ASGI app served by uvicorn from a daemon thread on a socket bound first (the simulator, the gateway).

Binding the socket ourselves means port 0 gives a free port that is known before uvicorn starts; uvicorn's
access log and logging setup are off so the host process's logging is untouched.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

_START_TIMEOUT = 15.0


def bind_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio enables TCP_NODELAY only on sockets that say so, and without it
    # every keep-alive response waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class BackgroundServer:
    """`start()` returns once uvicorn serves; `stop()` once it has exited (or `join_timeout` passed)."""

    def __init__(
        self,
        app: Any,
        *,
        host: str,
        port: int,
        name: str,
        graceful_shutdown_seconds: int,
        join_timeout: float | None,
    ) -> None:
        self._app = app
        self._host, self._requested_port = host, port
        self._name = name
        self._grace = graceful_shutdown_seconds
        self._join_timeout = join_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._socket = bind_socket(self._host, self._requested_port)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            host=self._host,
            port=self.port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=self._grace,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=self._name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self._name.replace('-', ' ')} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self._join_timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
