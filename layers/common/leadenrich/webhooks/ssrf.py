"""Where the service may send a callback: public addresses only (SSRF), checked twice.

At job creation (`check_url`, no DNS): an absolute https URL (http too only when local webhooks are
allowed), no user:password@, a host that is a name or a public IP literal. Before each send
(`resolve_public`): the name resolved, every address checked, and the connection made to a checked address
(`pinned_request`), so a name that resolves elsewhere between the check and the connection (DNS rebinding)
cannot redirect it. Redirects are never followed (a 3xx is a failed attempt).

Refused: private (RFC 1918, fc00::/7), loopback, link-local (incl. the metadata address 169.254.169.254 and
fd00:ec2::254), CGNAT 100.64.0.0/10, multicast, reserved, unspecified, documentation and benchmarking
ranges, and IPv4-mapped/compatible IPv6 forms of any of them: everything that is not `is_global`.
`allow_local` (ALLOW_LOCAL_WEBHOOKS=true, the local stack and tests only) additionally allows http and
loopback addresses, nothing else.

IPv4 literals must be written the canonical way, four decimal numbers (`203.0.113.7`). `inet_aton`, which
resolvers (glibc's `getaddrinfo`) and URL parsers (WHATWG: browsers, Node) follow, also reads one to four
numbers in decimal, octal (a leading 0) or hex (0x): `127.1`, `0177.0.0.1`, `0x7f.0.0.1` and `2130706433`
are all 127.0.0.1, and `ipaddress` reads none of them. A host any of them would read as an address is
checked as that address (so `https://127.1` is refused at creation, not at its first send), and refused even
when that address is public: parsers disagree on such forms (`0127.0.0.1` is 87.0.0.1 to `inet_aton`,
127.0.0.1 to a parser that ignores leading zeros). A host ending in a number that reads as no address
(`1.2.3.4.5`, `example.0x1`) is no host name either, nor is one with `%` (URL parsers percent-decode hosts:
`127.0.0.%31`), spaces or other ASCII punctuation but `-`, `.` and `_`: refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def local_webhooks_allowed(env: Mapping[str, str] | None = None) -> bool:
    """ALLOW_LOCAL_WEBHOOKS: true in the local stack and tests only, never set in AWS ("AWS mode")."""
    env = os.environ if env is None else env
    return env.get("ALLOW_LOCAL_WEBHOOKS", "").strip().lower() in {"1", "true", "yes", "on"}


class UnsafeUrl(ValueError):
    """The URL or an address it resolves to may not be called."""


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        packed = ip.packed
        if packed[:12] == bytes(12) and int(ip) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
            return ipaddress.IPv4Address(packed[12:])
    return ip


def address_allowed(ip: IPAddress, *, allow_local: bool = False) -> bool:
    ip = _unmapped(ip)
    if allow_local and ip.is_loopback:
        return True
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# ASCII a host name may hold (non-ASCII letters are IDN labels); a URL parser percent-decodes a host
# (`127.0.0.%31`), and `%`, spaces or controls belong in no DNS name.
_NAME_ASCII = re.compile(r"[a-z0-9._-]*")
# The parts of an IPv4 address as inet_aton reads them.
_DECIMAL = re.compile(r"[0-9]+")
_OCTAL = re.compile(r"0[0-7]+")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")


def _number(part: str) -> int | None:
    """One part of an IPv4 address as `inet_aton` and the WHATWG URL parser read it, None when neither
    does: 0x hex (`0x` alone is 0), a leading 0 octal, else decimal."""
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part) and (part == "0" or not part.startswith("0")):
        return int(part)
    return None


def _parsed_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG URL standard's IPv4 parser (also `inet_aton`'s rules): 1-4 numbers, the last filling the
    remaining bytes (`127.1` is 127.0.0.1, `2130706433` too)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for index, value in enumerate(values[:-1]):
        address += value << (8 * (3 - index))
    return ipaddress.IPv4Address(address)


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """What the C library's `inet_aton` makes of the host (glibc ignores anything after a space, too)."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError, UnicodeError):
        return None


def _ends_in_a_number(host: str) -> bool:
    """The WHATWG URL standard takes such a host for an IPv4 address (and fails when it is not one)."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(_DECIMAL.fullmatch(last) or _HEX.fullmatch(last))


def ipv4_reading(host: str) -> ipaddress.IPv4Address | None:
    """The address a resolver or URL parser would take a non-canonical IPv4 host for (`127.1`,
    `0x7f.0.0.1`, `017700000001`...), None when none would read it as an address."""
    read_by_libc = _inet_aton(host)
    return read_by_libc if read_by_libc is not None else _parsed_ipv4(host)


def check_url(url: str, *, allow_local: bool = False) -> SplitResult:
    """The static checks (no DNS); raises UnsafeUrl naming the rule broken."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("not a valid URL") from None
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeUrl("must be an absolute https URL" if not allow_local else "must be an http(s) URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrl("must not contain user info")
    if port == 0:
        raise UnsafeUrl("invalid port")
    host = parts.hostname.rstrip(".").lower()
    ip = _literal(host)
    if ip is None:
        if not _NAME_ASCII.fullmatch("".join(c for c in host if c.isascii())):
            raise UnsafeUrl("must be a host name (letters, digits, '-', '_' and '.') or an IP address")
        read_as = ipv4_reading(host)
        if read_as is not None and not address_allowed(read_as, allow_local=False):
            raise UnsafeUrl("must not point to a private, loopback, link-local or reserved address")
        if read_as is not None or _ends_in_a_number(host):
            raise UnsafeUrl("an IPv4 address must be written as four decimal numbers (a.b.c.d)")
    if ip is not None:
        if not address_allowed(ip, allow_local=allow_local):
            raise UnsafeUrl("must not point to a private, loopback, link-local or reserved address")
    elif not allow_local and (host in _LOCAL_NAMES or host.endswith(".localhost") or "." not in host):
        raise UnsafeUrl("must be a public host name")
    return parts


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str  # as given
    host: str  # the name: Host header and TLS SNI
    address: IPAddress
    port: int


async def resolve_public(url: str, *, allow_local: bool = False) -> Target:
    """Check the URL, resolve its host, and check every address; the first one is pinned."""
    parts = check_url(url, allow_local=allow_local)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        return Target(url, host, literal, port)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeUrl("the host name does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeUrl("the host name does not resolve")
    for ip in addresses:
        if not address_allowed(ip, allow_local=allow_local):
            raise UnsafeUrl("the host name resolves to a private, loopback, link-local or reserved address")
    return Target(url, host, addresses[0], port)


def pinned_url(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL with the checked address as host, headers with the original Host, httpx extensions with the
    TLS server name), so the connection goes to the checked address and TLS still verifies the name."""
    parts = urlsplit(target.url)
    ip = str(target.address)
    netloc_host = f"[{ip}]" if ":" in ip else ip
    default = 443 if parts.scheme == "https" else 80
    netloc = netloc_host if target.port == default else f"{netloc_host}:{target.port}"
    host_header = parts.hostname or target.host
    if ":" in host_header:
        host_header = f"[{host_header}]"
    if target.port != default:
        host_header = f"{host_header}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return url, {"host": host_header}, {"sni_hostname": target.host}
