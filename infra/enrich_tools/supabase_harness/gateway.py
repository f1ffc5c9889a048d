"""The API gateway in front of PostgREST, as Supabase's: `/rest/v1/*` goes to PostgREST's `/*`.

Like Supabase's gateway it demands an `apikey` header holding one of the project's keys (401 otherwise) and
removes it before forwarding; everything else passes through untouched: method, path and query string as
sent (percent-encoding kept), headers (Authorization, Prefer, Range, Accept, Content-Profile, ...), the
body, and the upstream's status, headers (Content-Range, Location, Preference-Applied, ...) and body bytes.
"""

from __future__ import annotations

import ssl
from collections.abc import Collection

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from enrich_tools.background import BackgroundServer

REST_PREFIX = b"/rest/v1"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Connection-level headers are the proxy's own business on each side (RFC 9110, 7.6.1); the length is
# recomputed for the forwarded body.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
_NOT_FORWARDED = _HOP_BY_HOP | {b"content-length", b"apikey"}
# uvicorn writes its own Date and Server; the upstream's would be a second copy.
_NOT_RETURNED = _HOP_BY_HOP | {b"date", b"server"}
_UPSTREAM_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def gateway_app(upstream: str, api_keys: Collection[str]) -> Starlette:
    """`upstream` is PostgREST's base URL; `api_keys` are the keys the gateway accepts in `apikey`."""
    accepted = frozenset(api_keys)
    upstream = upstream.rstrip("/")
    # A client per request (it lives in the server thread's event loop and closes with the response), but
    # one TLS context for all: httpx would otherwise load the CA bundle for every client (~35 ms each).
    tls = ssl.create_default_context()

    async def forward(request: Request) -> Response:
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        if raw_path != REST_PREFIX and not raw_path.startswith(REST_PREFIX + b"/"):
            return JSONResponse({"message": "no Route matched with those values"}, status_code=404)
        apikey = request.headers.get("apikey")
        if apikey is None:
            return JSONResponse({"message": "No API key found in request"}, status_code=401)
        if apikey not in accepted:
            return JSONResponse(
                {
                    "message": "Invalid API key",
                    "hint": "Double check your Supabase `anon` or `service_role` API key.",
                },
                status_code=401,
            )
        target = upstream + (raw_path[len(REST_PREFIX) :] or b"/").decode("latin-1")
        query: bytes = request.scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        headers = [(name, value) for name, value in request.headers.raw if name.lower() not in _NOT_FORWARDED]
        body = await request.body()
        client = httpx.AsyncClient(timeout=_UPSTREAM_TIMEOUT, verify=tls)
        try:
            upstream_request = client.build_request(
                request.method, httpx.URL(target), headers=headers, content=body
            )
            upstream_response = await client.send(upstream_request, stream=True)
        except httpx.TransportError as exc:
            await client.aclose()
            return JSONResponse({"message": f"PostgREST unreachable: {exc!r}"}, status_code=502)

        async def close() -> None:
            await upstream_response.aclose()
            await client.aclose()

        response = StreamingResponse(
            upstream_response.aiter_raw(),
            status_code=upstream_response.status_code,
            background=BackgroundTask(close),
        )
        response.raw_headers = [
            (name, value)
            for name, value in upstream_response.headers.raw
            if name.lower() not in _NOT_RETURNED
        ]
        return response

    return Starlette(routes=[Route("/{path:path}", forward, methods=METHODS)])


class RestGateway:
    """The gateway served from a daemon thread on loopback (port 0: a free port)."""

    def __init__(
        self, upstream: str, api_keys: Collection[str], *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._host = host
        self._background = BackgroundServer(
            gateway_app(upstream, api_keys),
            host=host,
            port=port,
            name="supabase-gateway",
            graceful_shutdown_seconds=1,
            join_timeout=10,
        )

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._background.port}"

    def start(self) -> RestGateway:
        if not self._background.running:
            self._background.start()
        return self

    def stop(self) -> None:
        self._background.stop()
