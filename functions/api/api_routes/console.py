"""`GET /console` and `GET /console/{asset}`: the operator console, a static page and its files
(`functions/api/console/`), served by the API function so it needs no other hosting and shares the API's
origin (the page's calls are same-origin: no CORS to open).

Why no key here: the page and its files hold no data. Every call the page makes sends the operator's key as
`X-API-Key` to the keyed routes, which answer for the key's workspace only, exactly as for any other client.
So these two routes have no authorizer (template.yaml, the local gateway) and stay out of the OpenAPI
document, which describes the JSON API; they are not counted against a workspace's request rate.

Why these headers: the page holds a key in the tab's session storage, so script injection is the threat
to close. The Content-Security-Policy allows scripts and styles from this origin only (no inline script,
no eval), requires Trusted Types (so no code path can hand a string to `innerHTML`), lets the page call
only its own origin, and forbids framing (clickjacking), as does `X-Frame-Options` for older browsers.
`no-store` keeps the page and its files out of caches, so a deployed fix is the next load's page.

Only the files listed in the folder are served, looked up by exact name: a path can never leave it.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.event_handler import Response

from api_context import CONSOLE_DIR, CONSOLE_FILES, error, new_router

router = new_router()

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
PAGE = "index.html"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@cache
def _read(name: str) -> str:
    """A file of the folder (read once per execution environment: they never change while it runs)."""
    return (CONSOLE_DIR / name).read_text(encoding="utf-8")


def _file(name: str) -> Response[str]:
    suffix = name[name.rfind(".") :]
    return Response(
        status_code=200,
        content_type=CONTENT_TYPES[suffix],
        body=_read(name),
        headers=dict(SECURITY_HEADERS),
    )


@router.get("/console", include_in_schema=False)
def page() -> Response[str]:
    """The console's page: it asks for a key, then calls the keyed routes with it."""
    return _file(PAGE)


@router.get("/console/<asset>", include_in_schema=False)
def asset(asset: str) -> Response[str]:
    """A script or style sheet of the page; 404 for any name the folder does not list."""
    if asset not in CONSOLE_FILES or asset == PAGE:
        return error(404, "no such console file")
    return _file(asset)
