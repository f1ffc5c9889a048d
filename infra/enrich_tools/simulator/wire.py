"""HTTP plumbing shared by the fake providers: JSON/HTML bodies, the `X-Simulated` header, call counting."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enrich_tools.simulator.state import SimState

JSON_UTF8 = "application/json; charset=utf-8"
Handler = Callable[[Request], Awaitable[Response]]


def sim(request: Request) -> SimState:
    return cast(SimState, request.app.state.sim)


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=JSON_UTF8)


def html_response(status: int, title: str, server: str = "nginx") -> Response:
    """The kind of page an edge proxy returns instead of the API's JSON."""
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    body += f"<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n"
    return Response(body, status_code=status, media_type="text/html")


def generation(request: Request) -> int:
    """The reset generation noted when the request arrived (by `counted`); writes made with it are dropped
    if the simulator was reset while the request was in flight."""
    noted = getattr(request.state, "sim_generation", None)
    return noted if isinstance(noted, int) else sim(request).generation


def counted(endpoint: str) -> Callable[[Handler], Handler]:
    """Record every answer of a handler in the ledger under `endpoint` with its HTTP status, unless the
    simulator was reset while the request was in flight; notes the reset generation for the handler."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            state = sim(request)
            noted = request.state.sim_generation = state.generation
            response = await handler(request)
            state.ledger.record(endpoint, response.status_code, noted)
            return response

        return run

    return wrap


class SimulatedHeader:
    """ASGI middleware adding `X-Simulated: true` to every response, so no answer passes for real data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-simulated", b"true")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_marked)
