"""Calling our SQL functions (infra/supabase/migrations) through PostgREST: one HTTP request per call.

Errors become `LeadStoreError` naming the function and the error code only: PostgreSQL's messages may quote
the row they refused (an address, a name), and these messages end up in logs and API answers. The ones a
deployer can act on say what to do.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from leadenrich.jobs.ports import LeadStoreError

if TYPE_CHECKING:
    from supabase import AsyncClient

    from leadenrich.supabase.client import SupabaseSettings

Connect = Callable[[], Awaitable["AsyncClient"]]
T = TypeVar("T")

# Rows per request: half of Supabase's default max rows (1,000), the goal the benchmark checks.
PAGE_ROWS = 500

_HINTS = {
    "PGRST202": "the function is missing: apply infra/supabase/migrations to the project (see its README)",
    "42883": "the function is missing: apply infra/supabase/migrations to the project (see its README)",
    "42501": "permission denied: SUPABASE_SERVICE_ROLE_KEY must be the project's service role key",
    "PGRST301": "the key was refused: check SUPABASE_SERVICE_ROLE_KEY",
}


def connect_with(settings: SupabaseSettings) -> Connect:
    """The production connection: the loop's shared client for these settings (leadenrich.supabase.client)."""
    from leadenrich.supabase.client import supabase_client

    return functools.partial(supabase_client, settings)


async def call(connect: Connect, function: str, params: dict[str, Any]) -> Any:
    """POST /rest/v1/rpc/<function> with `params`; its JSON answer."""
    import httpx
    from postgrest.exceptions import APIError

    client = await connect()
    try:
        response = await client.rpc(function, params).execute()
    except APIError as exc:
        code = str(exc.code or "")
        detail = _HINTS.get(code)
        if detail is None and code == "22023":  # raised by our functions: their messages hold no data
            detail = str(exc.message or "invalid parameter")
        suffix = f": {detail}" if detail else ""
        raise LeadStoreError(f"Supabase {function}: error {code or 'unknown'}{suffix}") from None
    except httpx.HTTPError as exc:
        raise LeadStoreError(f"Supabase {function}: unreachable ({type(exc).__name__})") from None
    return response.data


def rows_of(data: Any, function: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise LeadStoreError(f"Supabase {function}: unexpected answer (a list of rows was expected)")
    return data


def object_of(data: Any, function: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise LeadStoreError(f"Supabase {function}: unexpected answer (an object was expected)")
    return data


def chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
