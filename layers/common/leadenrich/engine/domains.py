"""Company domains: normalisation, validation, and the webmail/disposable screen.

Leads arrive as whatever a spreadsheet holds ("https://www.Acme.com/about", "ACME.COM.", "jane@acme.com",
"münchen.de"); every cache key and provider call uses the one normal form made here. Webmail and
disposable domains are screened before any paid call: they are not company domains, and Hunter bills
searches on them all the same.
"""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"([\w.+'-])[\w.+'-]*@([\w-]+(?:\.[\w-]+)+)")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

# The large free-mail providers; a lead whose "company" domain is one of these has no company to search.
WEBMAIL_DOMAINS: frozenset[str] = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.es",
        "yahoo.it",
        "ymail.com",
        "rocketmail.com",
        "outlook.com",
        "outlook.fr",
        "outlook.de",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "hotmail.it",
        "hotmail.es",
        "live.com",
        "live.co.uk",
        "live.fr",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "tutanota.com",
        "tuta.io",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "mail.com",
        "email.com",
        "zoho.com",
        "zohomail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "rambler.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "onet.pl",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "cox.net",
        "bellsouth.net",
        "rediffmail.com",
        "fastmail.com",
        "fastmail.fm",
        "hey.com",
        "posteo.de",
        "mailbox.org",
    ]
)

# Throwaway-mailbox services: nobody's work address lives there.
DISPOSABLE_DOMAINS: frozenset[str] = frozenset(
    [
        "mailinator.com",
        "10minutemail.com",
        "10minutemail.net",
        "guerrillamail.com",
        "guerrillamail.net",
        "guerrillamailblock.com",
        "sharklasers.com",
        "grr.la",
        "tempmail.com",
        "temp-mail.org",
        "tempmail.net",
        "throwawaymail.com",
        "yopmail.com",
        "yopmail.fr",
        "trashmail.com",
        "trashmail.de",
        "getnada.com",
        "nada.email",
        "dispostable.com",
        "maildrop.cc",
        "mailnesia.com",
        "mintemail.com",
        "mohmal.com",
        "fakeinbox.com",
        "spamgourmet.com",
        "mytemp.email",
        "tempinbox.com",
        "emailondeck.com",
        "getairmail.com",
        "burnermail.io",
        "mailpoof.com",
        "moakt.com",
        "tempr.email",
        "discard.email",
        "spambox.us",
        "mailcatch.com",
        "inboxkitten.com",
    ]
)


class DomainError(ValueError):
    """The `domain` field does not hold a usable company domain."""

    field = "domain"


def _echo(raw: str) -> str:
    """The input as an error may quote it: shortened, and with any address in it redacted."""
    return repr(_ADDRESS.sub(r"\1***@\2", raw[:80]))


def normalize_domain(raw: str) -> str:
    """The registrable host a lead points at, lowercase ASCII (IDNA), without scheme, www, port or path."""
    text = raw.strip()
    if not text:
        raise DomainError("domain is empty")
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]  # an address was pasted where the domain belongs: use its domain
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1]  # user:pass@host
    text = re.sub(r":\d*$", "", text)  # port
    text = text.strip().strip(".").lower()
    if text.startswith("www.") and text.count(".") >= 2:
        text = text[4:]
    if not text or any(ch.isspace() for ch in text):
        raise DomainError(f"domain {_echo(raw)} is not a host name")
    try:
        ascii_host = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise DomainError(f"domain {_echo(raw)} cannot be encoded as IDNA") from exc
    ascii_host = ascii_host.lower()
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2:
        raise DomainError(f"domain {_echo(raw)} needs a name and a top-level domain, like acme.com")
    if not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise DomainError(f"domain {_echo(raw)} has characters a host name cannot hold")
    return ascii_host


def _listed(domain: str, listing: frozenset[str]) -> bool:
    parts = domain.split(".")
    return any(".".join(parts[i:]) in listing for i in range(len(parts) - 1))


def is_webmail(domain: str) -> bool:
    return _listed(domain, WEBMAIL_DOMAINS)


def is_disposable(domain: str) -> bool:
    return _listed(domain, DISPOSABLE_DOMAINS)
