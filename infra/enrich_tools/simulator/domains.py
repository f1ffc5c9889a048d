"""Domain facts shared by both fake providers: webmail and disposable providers, and input normalisation.

The webmail and disposable lists are the big, well-known providers; Hunter flags them on Domain Search
(`webmail`/`disposable`, zero rows) and the verifier answers `webmail`/`disposable` for their addresses.
Normalisation is lenient the way a provider's front end is (scheme, `www.`, path, case, trailing dot), so
the simulator does not punish or reward a client for normalising input itself.
"""

from __future__ import annotations

import random
import re

WEBMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "outlook.com", "hotmail.com",
    "hotmail.co.uk", "live.com", "msn.com", "icloud.com", "me.com", "aol.com", "gmx.de", "gmx.net", "web.de",
    "t-online.de", "orange.fr", "free.fr", "laposte.net", "protonmail.com", "proton.me", "zoho.com",
})  # fmt: skip
DISPOSABLE_DOMAINS = frozenset({
    "mailinator.com", "10minutemail.com", "guerrillamail.com", "yopmail.com", "temp-mail.org",
    "trashmail.com", "sharklasers.com", "throwawaymail.com", "getnada.com", "maildrop.cc",
})  # fmt: skip

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN_RE = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,24}}$")
EMAIL_RE = re.compile(rf"^[a-z0-9._%+'-]{{1,64}}@((?:{_LABEL}\.)+[a-z]{{2,24}})$")
# A domain-looking token inside free text (for the Perplexity fake's "which company is this about").
DOMAIN_IN_TEXT_RE = re.compile(rf"(?<![\w@.-])(?:https?://)?(?:www\.)?((?:{_LABEL}\.)+[a-z]{{2,24}})\b", re.I)


def normalise_domain(raw: str | None) -> str | None:
    """Lower-case host from a domain or URL, or None when nothing domain-shaped is left."""
    if raw is None:
        return None
    text = raw.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.split("@")[-1].split(":")[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    return text if DOMAIN_RE.match(text) else None


def email_domain(email: str) -> str | None:
    match = EMAIL_RE.match(email.strip().lower())
    return match.group(1) if match else None


def stable_rng(*parts: object) -> random.Random:
    """A generator seeded from text: the same inputs give the same draws in every process (no hash())."""
    return random.Random("|".join(str(part) for part in parts))
