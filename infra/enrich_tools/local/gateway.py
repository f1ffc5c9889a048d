"""A local stand-in for API Gateway (HTTP API, payload 2.0) in front of the API Lambda handler.

Real HTTP requests become the events AWS would send, so the handler runs exactly as deployed: its routing,
validation and error mapping are exercised, not bypassed. With an `authorizer` (the stack passes the
deployed one, `handle_authorizer.handler`), every route but `GET /health`, the console's `GET /console` and
`GET /console/{asset}`, and `/webhooks/*` goes through it first, as API Gateway's default Lambda
authorizer does (payload 2.0, simple responses, identity source `$request.header.X-API-Key`): no header,
401 `{"message":"Unauthorized"}` without calling it; `isAuthorized` false, 403 `{"message":"Forbidden"}`;
true, its `context` reaches the handler as
`requestContext.authorizer.lambda`. Its own answers are API Gateway's byte for byte (an HTTP API cannot
customise them, and `docs/openapi.json` documents them as `GatewayError`): the compact JSON body,
`content-type: application/json`, and the `apigw-requestid` header API Gateway puts on every response.
API Gateway caches answers per key for 300 s; this gateway does not, so a revoked key stops working here at
once. With one catch-all route, it sends a method or path that is no route through the authorizer to the
handler (404, or 405 with `Allow`), where API Gateway answers `{"message":"Not Found"}` (404) at once. The
handler runs in a worker thread because it calls `asyncio.run` itself. Invocations are serialised: a Lambda
execution environment serves one request at a time, and the Powertools resolver keeps the current event in
module state.

With `blobs` (the stack's `FileBlobStore`), it also stands in for S3's presigned URLs, which the laptop
stack has no S3 for: `PUT` and `GET /_blobs/{key}` with the URL's signature and expiry, no API key and no
function (`serve_blob`). A PUT must send exactly the signed Content-Length and Content-Type; its body is
streamed to disk a chunk at a time and kept only whole. Refusals are in the API's error model (403 for a
signature, expiry, key, size or type that does not match; 413 for a larger body; 404 for no file).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import request_response

from enrich_tools.background import BackgroundServer
from enrich_tools.local.lambdas import (
    ACCOUNT_ID,
    API_TIMEOUT_SECONDS,
    AUTHORIZER_TIMEOUT_SECONDS,
    REGION,
    Handler,
    LocalContext,
)
from leadenrich.http_errors import error_body
from leadenrich.uploads.local_files import BLOB_PREFIX, BlobRefused, FileBlobStore

log = logging.getLogger(__name__)

API_KEY_HEADER = "x-api-key"  # event header names are lower-case
PUBLIC_ROUTES = frozenset({("GET", "/health"), ("GET", "/console")})  # and /webhooks/*: signed instead
# The operator console's files, `GET /console/{asset}` (one path segment, as API Gateway matches it): static,
# no data; the page sends its key to the keyed routes.
CONSOLE_ASSET = re.compile(r"/console/[^/]+")
_START_TIMEOUT = 15.0
# Access lines for `enrich local up`: method, path (`printable`), status, milliseconds.
AccessLog = Callable[[str, str, int, float], None]


def printable(text: str) -> str:
    """`text` safe to print on a terminal: a request path arrives percent-decoded, so `/%1b[2J` would clear
    the screen, `%0d` rewrite the line, and bidi controls reorder it. Every character that is not
    printable (controls, format characters such as U+202E, line and paragraph separators) becomes a
    `\\xNN`, `\\uNNNN` or `\\UNNNNNNNN` escape, and a backslash `\\\\`, so the line reads one way only."""
    out: list[str] = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
    return "".join(out)


def http_event(
    method: str,
    path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    host: str = "localhost",
) -> dict[str, Any]:
    """The event API Gateway builds for a request: names lower-cased, repeats joined by commas, cookies
    apart, and a body that is not UTF-8 sent base64-encoded."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    query: dict[str, str] = {}
    for key, text in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{text}" if key in query else text
    try:
        text_body: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text_body, encoded = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    return event


def requires_key(method: str, path: str) -> bool:
    """Whether API Gateway runs the authorizer for this route (template.yaml: all but these)."""
    if (method.upper(), path) in PUBLIC_ROUTES or path.startswith("/webhooks/"):
        return False
    return not (method.upper() == "GET" and CONSOLE_ASSET.fullmatch(path))


def authorizer_event(request_event: dict[str, Any]) -> dict[str, Any]:
    """The event API Gateway sends a Lambda authorizer (payload 2.0, REQUEST) for a request's event."""
    context = request_event["requestContext"]
    http = context["http"]
    key = request_event["headers"].get(API_KEY_HEADER)
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{context['apiId']}/{context['stage']}/"
            f"{http['method']}{http['path']}"
        ),
        "identitySource": [key] if key else [],
        "routeKey": request_event["routeKey"],
        "rawPath": request_event["rawPath"],
        "rawQueryString": request_event["rawQueryString"],
        "headers": dict(request_event["headers"]),
        "queryStringParameters": request_event.get("queryStringParameters"),
        "requestContext": dict(context),
        "pathParameters": {},
        "stageVariables": {},
    }
    if request_event.get("cookies"):
        event["cookies"] = list(request_event["cookies"])
    return event


# API Gateway's own refusals (HTTP API): status -> the message of its `{"message":...}` body.
GATEWAY_MESSAGES = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}
REQUEST_ID_HEADER = "apigw-requestid"


def gateway_error(status: int, request_id: str, extra_headers: dict[str, str] | None = None) -> Response:
    """A refusal as API Gateway sends it: `{"message":"Unauthorized"}` (compact), JSON, its request id."""
    return Response(
        content=json.dumps({"message": GATEWAY_MESSAGES[status]}, separators=(",", ":")).encode(),
        status_code=status,
        media_type="application/json",
        headers={**(extra_headers or {}), REQUEST_ID_HEADER: request_id},
    )


def http_response(result: object, extra_headers: dict[str, str] | None = None) -> Response:
    """API Gateway's reading of a handler's return value (payload 2.0): a dict with a statusCode is taken
    as the response; anything else is a 200 with the value as JSON."""
    reply: dict[str, Any] = result if isinstance(result, dict) and "statusCode" in result else {}
    if not reply:
        reply = {
            "statusCode": 200,
            "body": json.dumps(result),
            "headers": {"content-type": "application/json"},
        }
    body = reply.get("body") or ""
    content = base64.b64decode(body) if reply.get("isBase64Encoded") else str(body).encode("utf-8")
    response = Response(content=content, status_code=int(reply["statusCode"]))
    for name, value in {**(reply.get("headers") or {}), **(extra_headers or {})}.items():
        response.headers[name] = str(value)
    for cookie in reply.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response


def _problem(status: int, message: str, field: str | None, headers: dict[str, str]) -> Response:
    body = json.dumps(error_body(message, field)).encode()
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


async def serve_blob(
    request: Request, blobs: FileBlobStore, extra_headers: dict[str, str] | None
) -> Response:
    """A presigned `PUT` or `GET /_blobs/{key}` (the module docstring): what S3 does with its URLs."""
    headers = dict(extra_headers or {})
    method = request.method.upper()
    if method not in ("GET", "PUT"):
        return _problem(
            405, f"{method} is not allowed here; use GET, PUT", None, {**headers, "Allow": "GET, PUT"}
        )
    key = request.url.path[len(BLOB_PREFIX) :]
    try:
        grant = blobs.verify(method, key, dict(request.query_params), dict(request.headers))
        if grant.method == "PUT":
            await blobs.receive(key, request.stream(), grant.size or 0)
            return Response(status_code=200, headers=headers)
        path = blobs.path(key)
        if not path.is_file():
            raise BlobRefused(404, "no such object (it expired, or was never written)")
    except BlobRefused as exc:
        return _problem(exc.status, exc.message, exc.field, headers)
    except OSError as exc:  # the disk (full, unwritable): nothing was kept
        log.error("blob not stored: %s", type(exc).__name__)
        return _problem(500, "the file could not be stored; nothing was kept, try again", None, headers)
    media = "text/csv" if key.endswith(".csv") else "application/octet-stream"
    headers["Content-Disposition"] = blobs.disposition(grant)
    return FileResponse(path, media_type=media, headers=headers)  # streamed from disk in chunks


def create_app(
    handler: Handler,
    *,
    authorizer: Handler | None = None,
    webhook: Handler | None = None,
    extra_headers: dict[str, str] | None = None,
    access_log: AccessLog | None = None,
    blobs: FileBlobStore | None = None,
) -> Starlette:
    """The gateway as an ASGI app; `extra_headers` go on every response (e.g. the simulated-data mark);
    `blobs` serves `/_blobs/` (presigned uploads and downloads)."""
    invocation = asyncio.Lock()
    authorizing = asyncio.Lock()  # the authorizer is a function of its own, one request at a time too

    async def authorize(event: dict[str, Any]) -> Response | None:
        """None when the request may go on (its event then carries the authorizer's context)."""
        if authorizer is None or not requires_key(
            event["requestContext"]["http"]["method"], event["rawPath"]
        ):
            return None
        request_id = event["requestContext"]["requestId"]
        if not event["headers"].get(API_KEY_HEADER):
            return gateway_error(401, request_id, extra_headers)  # the identity source is missing
        context = LocalContext("leadenrich-authorizer-local", AUTHORIZER_TIMEOUT_SECONDS)
        try:
            async with authorizing:
                answer = await asyncio.to_thread(authorizer, authorizer_event(event), context)
        except Exception:
            log.exception("the authorizer raised")
            return gateway_error(500, request_id, extra_headers)
        if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
            log.error("the authorizer answered something that is not a simple response")
            return gateway_error(500, request_id, extra_headers)
        if not answer["isAuthorized"]:
            return gateway_error(403, request_id, extra_headers)
        event["requestContext"]["authorizer"] = {"lambda": dict(answer.get("context") or {})}
        return None

    async def invoke(request: Request) -> Response:
        started = time.monotonic()
        if blobs is not None and request.url.path.startswith(BLOB_PREFIX):
            response = await serve_blob(request, blobs, extra_headers)
            if access_log is not None:
                path = printable(request.url.path)
                access_log(printable(request.method), path, response.status_code, time.monotonic() - started)
            return response
        client = request.client.host if request.client else "127.0.0.1"
        event = http_event(
            request.method,
            request.url.path,
            request.url.query,
            request.headers.items(),
            await request.body(),
            source_ip=client,
            host=request.url.hostname or "localhost",
        )
        context = LocalContext("leadenrich-api-local", API_TIMEOUT_SECONDS)
        try:
            refused = await authorize(event)
            if refused is not None:
                response = refused
            else:
                # /webhooks/* is the webhook function's route (template.yaml: WebhookFunction).
                target = webhook if webhook and request.url.path.startswith("/webhooks/") else handler
                async with invocation:
                    result = await asyncio.to_thread(target, event, context)
                response = http_response(result, extra_headers)
                response.headers[REQUEST_ID_HEADER] = event["requestContext"]["requestId"]
        except Exception:
            # What API Gateway answers when the function errors: the details stay in the function's log.
            log.exception("the API handler raised")
            response = gateway_error(500, event["requestContext"]["requestId"], extra_headers)
        if access_log is not None:
            path = printable(request.url.path)
            access_log(printable(request.method), path, response.status_code, time.monotonic() - started)
        return response

    app = Starlette()
    # Every request, whatever its method or path: a route pattern does not match a path holding a newline
    # (`%0A`), and Starlette would answer that itself, in text/plain, where API Gateway calls the function.
    app.router.default = request_response(invoke)
    return app


class Gateway:
    """The gateway app served in the background (`enrich_tools.background`), port 0 giving a free port."""

    def __init__(self, app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        # Stopping waits without a limit: uvicorn exits after every handler thread it started has finished,
        # and the grace lets a handler call in flight finish before AWS emulation is switched off.
        self._background = BackgroundServer(
            app,
            host=host,
            port=port,
            name="local-gateway",
            graceful_shutdown_seconds=int(API_TIMEOUT_SECONDS) + 1,
            join_timeout=None,
        )

    @property
    def port(self) -> int:
        return self._background.port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> Gateway:
        self._background.start()
        return self

    def stop(self) -> None:
        """Returns once uvicorn has exited, which is after every handler thread it started has finished."""
        self._background.stop()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
