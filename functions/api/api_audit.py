"""The audit trail's recorder (docs/privacy.md "Audit trail"): one middleware that, after an operation
answered 2xx, appends one entry saying who (the API key's id, never the key), what (an action name from
`ACTIONS`), on what (a job id, or what the route names), when and from where (the caller's IP as API
Gateway saw it).

What is recorded: every operation that changes data (any POST, PUT, PATCH or DELETE) and every read of
results (`GET /jobs/{job_id}/items`). An operation `ACTIONS` does not list is still recorded when it
changes data, as `METHOD /path/{template}`, so a route added without an entry is never missed. Reads that
return no personal data (jobs, metrics, the budget) are not recorded, and neither are reads of the audit
trail itself (`GET /audit`): recording them would make every look at the trail a new entry in it.
Nothing is recorded for an answer that is not 2xx (nothing was done), a dry run (nothing was made) or a
replayed Idempotency-Key (the first request's entry stands).

A route adds to its table row with `register` (its own module, at import), and to its own entry with
`note` during the request (an erasure's hashed identity as target, the counts of what it did).

When the entry cannot be written, the action has already happened: the answer is sent as usual and the
whole entry goes to the log at ERROR ("audit entry not written", with the error's type), from where it can
be restored. Why not refuse (503) before acting instead: an entry written before the action would record
attempts, not outcomes (and need a second write for the result), and a 5xx after a done action invites a
retry of something that is not idempotent (a second job). The trail lives in the table the actions write
to, so an outage that stops it nearly always stops the action first, and then there is nothing to record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api_context import authorized_key_id, authorized_workspace, run
from leadenrich import runtime
from leadenrich.http_errors import error_code
from leadenrich.privacy.ports import AuditEntry

logger = Logger(child=True)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNKNOWN_ACTOR = "unknown"  # an authorizer context without a key id (never sent by ours)
_NOTE = "audit_note"  # the key of a route's own additions in the resolver's per-request context


@dataclass(frozen=True)
class Exchange:
    """One answered operation, as the recorder sees it."""

    method: str
    template: str  # `/jobs/{job_id}`
    params: Mapping[str, str]
    request: Mapping[str, Any]  # the JSON body ({} without one); a GET's query parameters
    status: int
    headers: Mapping[str, str]
    response: Mapping[str, Any]  # the JSON answer ({} when not an object)


def _first_param(exchange: Exchange) -> str:
    return next(iter(exchange.params.values()), "")


def _nothing(_exchange: Exchange) -> dict[str, Any]:
    return {}


def _always(_exchange: Exchange) -> bool:
    return True


def _job_param(exchange: Exchange) -> str | None:
    return exchange.params.get("job_id")


@dataclass(frozen=True)
class Audited:
    """How an operation is recorded: its action, its target (the first path parameter by default), what
    goes in `detail` (never an address, never a secret), whether this answer is recorded at all, and the
    job it concerns (the path's `job_id` by default)."""

    action: str
    target: Callable[[Exchange], str] = _first_param
    detail: Callable[[Exchange], dict[str, Any]] = _nothing
    when: Callable[[Exchange], bool] = _always
    job_id: Callable[[Exchange], str | None] = _job_param


def _created(exchange: Exchange) -> bool:
    """A job made now: not a dry run (200, nothing made) nor a replayed Idempotency-Key."""
    replayed = {k.lower(): v for k, v in exchange.headers.items()}.get("idempotent-replayed") == "true"
    return exchange.status == 202 and not replayed


def _new_job(exchange: Exchange) -> str:
    return str(exchange.response.get("job_id", ""))


def _new_job_id(exchange: Exchange) -> str | None:
    return _new_job(exchange) or None


def _job_created(exchange: Exchange) -> dict[str, Any]:
    counters = exchange.response.get("counters")
    total = counters.get("total") if isinstance(counters, dict) else None
    return {"kind": exchange.response.get("kind"), "items": total}


def _fields_changed(exchange: Exchange) -> dict[str, Any]:
    """The names of what a PATCH changed (not the values: a webhook URL may carry a token)."""
    return {"fields": sorted(exchange.request)}


def _bulk(exchange: Exchange) -> dict[str, Any]:
    results = exchange.response.get("results") or []
    return {
        "action": exchange.response.get("action"),
        "job_ids": [r.get("job_id") for r in results if isinstance(r, dict)],
        "done": [r.get("job_id") for r in results if isinstance(r, dict) and r.get("outcome") == "done"],
    }


def _answer_fields(*names: str) -> Callable[[Exchange], dict[str, Any]]:
    def pick(exchange: Exchange) -> dict[str, Any]:
        return {name: exchange.response.get(name) for name in names}

    return pick


def _results_read(exchange: Exchange) -> dict[str, Any]:
    items = exchange.response.get("items")
    return {
        "items": len(items) if isinstance(items, list) else 0,
        "status": exchange.request.get("status"),
        "page": "next" if exchange.request.get("cursor") else "first",
    }


def _no_target(_exchange: Exchange) -> str:
    return ""


# (METHOD, path template) -> how it is recorded. Routes added later register themselves (`register`).
ACTIONS: dict[tuple[str, str], Audited] = {
    ("POST", "/jobs"): Audited("job.create", _new_job, _job_created, _created, _new_job_id),
    ("DELETE", "/jobs/{job_id}"): Audited("job.cancel"),
    ("PATCH", "/jobs/{job_id}"): Audited("job.update", detail=_fields_changed),
    ("POST", "/jobs/bulk"): Audited("jobs.bulk", _no_target, _bulk),
    ("POST", "/jobs/{job_id}/retry"): Audited("job.retry", detail=_answer_fields("requeued")),
    ("POST", "/dlq/redrive"): Audited("dlq.redrive", _no_target, _answer_fields("redriven")),
    ("GET", "/jobs/{job_id}/items"): Audited("results.read", detail=_results_read),
}


def register(method: str, template: str, audited: Audited) -> None:
    """Record an operation as `audited` (a route module calls it at import, next to its route)."""
    ACTIONS[(method.upper(), template)] = audited


def note(
    router: APIGatewayHttpRouter | APIGatewayHttpResolver,
    *,
    target: str | None = None,
    job_id: str | None = None,
    **detail: Any,
) -> None:
    """Add to the entry this request will be recorded with (if it is): a target the path does not hold (a
    hashed identity, never an address), a job, details. Kept in the resolver's per-request context."""
    current: dict[str, Any] = router.context.setdefault(_NOTE, {"detail": {}})
    if target is not None:
        current["target"] = target
    if job_id is not None:
        current["job_id"] = job_id
    current["detail"].update(detail)


def _rule(method: str, template: str) -> Audited | None:
    known = ACTIONS.get((method, template))
    if known is not None:
        return known
    return Audited(f"{method} {template}") if method in MUTATING else None


def _json_object(text: object) -> dict[str, Any]:
    if not isinstance(text, str | bytes) or not text:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _exchange(resolver: APIGatewayHttpResolver, response: Response[Any], template: str) -> Exchange:
    event = resolver.current_event
    method = event.http_method.upper()
    if method in MUTATING:
        request = _json_object(event.decoded_body) if event.body else {}
    else:
        request = dict(event.query_string_parameters or {})
    return Exchange(
        method=method,
        template=template,
        params={k: str(v) for k, v in (resolver.context.get("_route_args") or {}).items()},
        request=request,
        status=response.status_code,
        headers={str(k): str(v) for k, v in (response.headers or {}).items()},
        response=_json_object(response.body),
    )


def entry_of(resolver: APIGatewayHttpResolver, response: Response[Any]) -> AuditEntry | None:
    """The entry for this answered operation; None when it is not one the trail records."""
    route = resolver.context.get("_route")
    template = getattr(route, "openapi_path", None)
    event = resolver.current_event
    workspace_id = authorized_workspace(event.raw_event)
    if not isinstance(template, str) or workspace_id is None or not 200 <= response.status_code < 300:
        return None
    rule = _rule(event.http_method.upper(), template)
    if rule is None:
        return None
    exchange = _exchange(resolver, response, template)
    if not rule.when(exchange):
        return None
    noted: dict[str, Any] = resolver.context.get(_NOTE) or {"detail": {}}
    target = noted.get("target") or rule.target(exchange)
    job_id = noted.get("job_id") or rule.job_id(exchange)
    http = (event.raw_event.get("requestContext") or {}).get("http") or {}
    source_ip = http.get("sourceIp") if isinstance(http, dict) else None
    return AuditEntry(
        workspace_id=workspace_id,
        at=datetime.now(UTC),
        actor=authorized_key_id(event.raw_event) or UNKNOWN_ACTOR,
        action=rule.action,
        target=target,
        job_id=job_id,
        source_ip=source_ip if isinstance(source_ip, str) and source_ip else None,
        detail={**rule.detail(exchange), **noted["detail"]},
    )


def record_audit(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """After the operation: its entry, when it is one the trail records (module docstring). A failure to
    build or write it is logged (the entry, when there is one) and does not change the answer."""
    response = next_middleware(resolver)
    try:
        entry = entry_of(resolver, response)
    except Exception as exc:  # a rule that failed on this answer: the action is done all the same
        route = getattr(resolver.context.get("_route"), "openapi_path", None)
        method = resolver.current_event.http_method.upper()
        logger.error(
            "audit entry not built", extra={"error": type(exc).__name__, "route": f"{method} {route}"}
        )
        return response
    if entry is None:
        return response
    try:
        run(runtime.audit_log().append(entry))
    except Exception as exc:  # the action is done: keep the entry in the log, answer
        logger.error(
            "audit entry not written",
            extra={
                "error": type(exc).__name__,
                "code": error_code(exc),
                "audit": {
                    "workspace_id": entry.workspace_id,
                    "at": entry.at.isoformat(),
                    "actor": entry.actor,
                    "action": entry.action,
                    "target": entry.target,
                    "job_id": entry.job_id,
                    "source_ip": entry.source_ip,
                    "detail": entry.detail,
                },
            },
        )
    return response


__all__ = ["ACTIONS", "MUTATING", "Audited", "Exchange", "entry_of", "note", "record_audit", "register"]
