"""The local gateway's access lines (`enrich local up` prints them) never carry a control character raw."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from enrich_tools.local.gateway import create_app, printable


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 404, "body": "{}", "headers": {"content-type": "application/json"}}


async def test_request_paths_are_logged_with_control_characters_escaped() -> None:
    lines: list[tuple[str, str, int]] = []
    app = create_app(_ok, access_log=lambda method, path, status, _s: lines.append((method, path, status)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        # Percent-decoded on arrival: ESC [2J clears a terminal, backspaces erase, U+202E reverses.
        await client.get("/jobs/%1b[2J%1b[31mred%08%08%08FAKE 200%e2%80%aeexe.txt")
        await client.get("/jobs/caf%C3%A9 ok")
    assert lines == [
        ("GET", "/jobs/\\x1b[2J\\x1b[31mred\\x08\\x08\\x08FAKE 200\\u202eexe.txt", 404),
        ("GET", "/jobs/café ok", 404),  # printable text, spaces and letters included, is left alone
    ]
    assert all(ch.isprintable() for _, path, _ in lines for ch in path)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("/a\x00b", "/a\\x00b"),
        ("/\x7f\x9b", "/\\x7f\\x9b"),  # DEL and the C1 control sequence introducer
        ("/\u2028\u2066", "/\\u2028\\u2066"),  # line separator, bidi isolate
        ("/\U000e0001", "/\\U000e0001"),  # a language tag (format character)
        ("/a\\x1b", "/a\\\\x1b"),  # a literal backslash is doubled: the line reads one way only
        ("/jobs/job_1", "/jobs/job_1"),
    ],
)
def test_printable_escapes_every_non_printable_character(raw: str, shown: str) -> None:
    assert printable(raw) == shown
