"""What an address or a name looks like once it may reach a log or a reason: never whole.

Kept apart from the HTTP clients so the waterfall, which redacts its reasons and its one log line per
lead, needs no HTTP library to do it.
"""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"([\w.+'-])[\w.+'-]*(@|%40)([\w-]+(?:\.[\w-]+)+)")
# Hunter's URLs carry the address, the person's name (and, were it ever sent so, the key) in the query.
_SENSITIVE_QUERY = re.compile(r"((?:email|api_key|first_name|last_name|full_name)=)[^&\s\"']+", re.IGNORECASE)


def redact_text(text: str) -> str:
    """Any address inside free text (a pasted domain, a reason) shortened to `j***@acme.com`."""
    return _ADDRESS.sub(r"\1***@\3", text)


def redact_email(email: str) -> str:
    """`j***@acme.com`: enough to tell addresses apart in a log, never the whole address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def redact_query(text: str) -> str:
    """A request line with the values of its `email`, `api_key` and name parameters replaced."""
    return _SENSITIVE_QUERY.sub(r"\1<redacted>", text)
