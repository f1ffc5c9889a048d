"""What a work message looks like on SQS, and SQS's limits the queues keep (both queue adapters use them).

The body is compact JSON `{"v":2,"ws":...,"job":...,"item":...,"p":...}`: the item it points to and its
job's priority (1-5), so a message read anywhere (the DLQ, a redrive) says which band it belongs to.
Version 1 bodies (no `p`, sent before priorities) still decode, as priority 3: the normal band, which is
the queue they were sent to. Decoding is strict otherwise: a body that fails it is dead-lettered by the
adapter with the reason "malformed message", so one bad producer cannot crash or stall every consumer.
Rolling back to a version before priorities would dead-letter version 2 bodies that way; they keep their
pointer, and a redrive after rolling forward again brings them back.

No botocore here: the embedded stack's SQLite queue imports these limits without any AWS library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from leadenrich.jobs.models import DEFAULT_PRIORITY, HIGHEST_PRIORITY, LOWEST_PRIORITY, WorkMessage
from leadenrich.jobs.ports import (  # the port's limits are SQS's
    MAX_BATCH,
    MAX_DELAY_SECONDS,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
    check_range,
)

BODY_VERSION = 2
MALFORMED_REASON = "malformed message"
MAX_REASON_CHARS = 256

_KEYS = {1: frozenset({"v", "ws", "job", "item"}), 2: frozenset({"v", "ws", "job", "item", "p"})}
# What SQS accepts in a string attribute (the XML 1.0 character set); anything else makes it refuse the call.
_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class MalformedMessage(ValueError):
    """A queue body that is not a work message of a known version."""


def encode_message(message: WorkMessage) -> str:
    """The canonical body. Refuses what `decode_message` would reject: the producer fails, not the queue."""
    message.check()
    fields = {"ws": message.workspace_id, "job": message.job_id, "item": message.item_id}
    return json.dumps({"v": BODY_VERSION, **fields, "p": message.priority}, separators=(",", ":"))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise MalformedMessage("duplicate key")
    return dict(pairs)


def decode_message(body: str) -> WorkMessage:
    """Strict: exactly its version's keys, non-empty string ids, a priority from 1 to 5 (version 2).
    Raises MalformedMessage."""
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, TypeError) as exc:  # JSONDecodeError and MalformedMessage are ValueErrors
        raise MalformedMessage("not JSON") from exc
    if not isinstance(data, dict) or "v" not in data:
        raise MalformedMessage("not a work message object")
    version = data["v"]
    if type(version) is not int or version not in _KEYS:
        raise MalformedMessage("unknown version")
    if set(data) != _KEYS[version]:
        raise MalformedMessage("not a work message object")
    ids = (data["ws"], data["job"], data["item"])
    if not all(isinstance(value, str) and value for value in ids):
        raise MalformedMessage("ids must be non-empty strings")
    priority = data.get("p", DEFAULT_PRIORITY)
    if type(priority) is not int or not HIGHEST_PRIORITY <= priority <= LOWEST_PRIORITY:
        raise MalformedMessage("priority must be an integer from 1 to 5")
    return WorkMessage(workspace_id=data["ws"], job_id=data["job"], item_id=data["item"], priority=priority)


def reason_attribute(reason: str) -> dict[str, Any]:
    """Only the caller's text: characters SQS would refuse are dropped, then it is cut to 256 characters.
    Nothing is added, so an empty reason means no attribute (SQS refuses empty attribute values)."""
    text = _NOT_SQS_TEXT.sub("", reason)[:MAX_REASON_CHARS]
    return {"reason": {"DataType": "String", "StringValue": text}} if text else {}


def chunks(items: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


__all__ = [
    "BODY_VERSION",
    "MALFORMED_REASON",
    "MAX_BATCH",
    "MAX_DELAY_SECONDS",
    "MAX_REASON_CHARS",
    "MAX_VISIBILITY_SECONDS",
    "MAX_WAIT_SECONDS",
    "MalformedMessage",
    "check_range",
    "chunks",
    "decode_message",
    "encode_message",
    "reason_attribute",
]
