"""Limits on the JSON a caller sends, checked before any parser sees it.

Python's `json` module (and pydantic after it) descends one level of recursion per nesting level, and
CPython 3.11 raises `RecursionError` at about 1,000 levels, fewer the more frames are already on the stack:
a 2 KB body of `[[[[...]]]]` was a 500 on `POST /jobs` and on a signed `POST /webhooks/{provider}`, and a
listing's `cursor` (base64 JSON, up to 2,048 characters: 768 levels) was only as safe as the stack above
its decoder. `nesting_depth` measures the nesting without recursing (one pass of a regular expression
that skips strings), so an entry point can refuse such a document with a 4xx before parsing it.

`MAX_DEPTH` is 32. The deepest document the service reads is a webhook event (`{"data": {...}}`, 2
levels plus whatever a provider nests in `data`) or a job (`{"leads": [{...}]}`, 3 levels); cursors are
flat objects (1). 32 leaves a provider's payload room to nest, and is far from the interpreter's limit
whatever the stack above the parser.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32

# A JSON string (escapes included; an unterminated one runs to the end) or one bracket. Strings are
# matched whole so the brackets inside them are not counted.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")


class JsonTooDeep(ValueError):
    """A document nested deeper than allowed (a 4xx naming the limit, never a RecursionError)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")
        self.limit = limit


def as_text(document: str | bytes | bytearray) -> str:
    """The text `json.loads` would parse: bytes decoded as it decodes them (UTF-8, -16 or -32, detected),
    so the depth is measured on exactly what the parser reads. Raises UnicodeDecodeError (a ValueError)."""
    if isinstance(document, str):
        return document
    return bytes(document).decode(json.detect_encoding(document), "surrogatepass")


def nesting_depth(document: str | bytes | bytearray, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in a JSON document, without recursion; counting stops
    (and returns) as soon as it passes `stop_above`. Not a validator: malformed JSON gets a number too, and
    the parser refuses it afterwards."""
    text = as_text(document)
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        elif token[0] != '"':
            depth = max(0, depth - 1)
    return deepest


def check_depth(document: str | bytes | bytearray, limit: int = MAX_DEPTH) -> None:
    """Raise JsonTooDeep when the document nests deeper than `limit`."""
    if nesting_depth(document, stop_above=limit) > limit:
        raise JsonTooDeep(limit)


def loads(document: str | bytes | bytearray, limit: int = MAX_DEPTH) -> Any:
    """`json.loads` after the depth check: JsonTooDeep or json.JSONDecodeError (or UnicodeDecodeError),
    all ValueErrors, never a RecursionError."""
    text = as_text(document)
    check_depth(text, limit)
    return json.loads(text)


__all__ = ["MAX_DEPTH", "JsonTooDeep", "as_text", "check_depth", "loads", "nesting_depth"]
