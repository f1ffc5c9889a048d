"""The Perplexity fake's answers: which company a prompt is about, the JSON or prose it answers, the
`search_results` item, injected formatting faults and the bill.

Realism choices:
- The company is the first domain-looking token of `input` then `instructions` that names a world
  company; otherwise the first one with a common TLD. Without one the model says it cannot tell.
- With search (a `web_search` tool or a preset) the answer cites the company's pages; without it the
  model answers "from memory": the same names but never a URL, and no `search_results` item.
- A json_schema answer is built by walking the caller's schema: arrays of objects get one item per named
  person; properties are filled by name (name/full_name, first_name, last_name, title/position/role,
  *url*/*source*, confidence); anything else gets an empty value of its type. first_name/last_name come
  from the named person's own record ("Mary Ann" + "Harris", a spoken middle name dropped, in ASCII when
  the model dropped the diacritics); a hallucinated name is split after its longest known first name.
  A part of the schema that is not an object (`true`, a list) is answered with null, never a crash.
- Injected faults (each its own share, one draw each): truncated JSON (cut at 40-85%), a markdown fence,
  a `<think>` block first.
- Cost: token prices per million (perplexity/* $1 in/$1 out, openai/* and google/* $1.25/$10,
  anthropic/* and xai/* $3/$15) plus $0.0025 per web search ($0.001 for preset "fast"; deeper presets
  search three times); tokens are estimated as characters / 4.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii

from enrich_tools.simulator.domains import DOMAIN_IN_TEXT_RE, normalise_domain
from enrich_tools.simulator.entities import Company, PerplexityAnswer, Person, SearchPage
from enrich_tools.simulator.names import FIRST_NAMES, INTL_ORIGINS
from enrich_tools.simulator.world import World

_COMMON_TLDS = frozenset({
    "com", "io", "de", "fr", "uk", "nl", "es", "org", "net", "co", "ai", "eu", "app", "dev", "be", "ch", "at",
    "it", "se", "dk", "no", "pl", "pt", "ie", "us",
})  # fmt: skip
_PRICES = {"perplexity": (1.0, 1.0), "openai": (1.25, 10.0), "google": (1.25, 10.0), "anthropic": (3.0, 15.0),
           "xai": (3.0, 15.0)}  # fmt: skip
_DEEP_PRESETS = frozenset({"medium", "high", "xhigh", "deep-research", "advanced-deep-research"})
_ALL_FIRST_NAMES = [
    *(name for pools in FIRST_NAMES.values() for pool in pools.values() for name in pool),
    *(name for male, female, _ in INTL_ORIGINS for name in (*male, *female)),
]
_KNOWN_FIRST_NAMES = frozenset({*_ALL_FIRST_NAMES, *map(anyascii, _ALL_FIRST_NAMES)})


@dataclass(frozen=True)
class Lookup:
    """What the prompt is about and what Perplexity knows about it."""

    domain: str | None
    company: Company | None

    @property
    def answers(self) -> tuple[PerplexityAnswer, ...]:
        return self.company.perplexity if self.company else ()

    @property
    def pages(self) -> tuple[SearchPage, ...]:
        return self.company.search_pages if self.company and self.company.perplexity else ()

    @property
    def label(self) -> str:
        return self.company.name if self.company else self.domain or "that company"


def look_up(world: World, texts: Sequence[str]) -> Lookup:
    candidates = [
        found
        for text in texts
        for match in DOMAIN_IN_TEXT_RE.finditer(text)
        if (found := normalise_domain(match.group(1)))
    ]
    for candidate in candidates:
        company = world.company(candidate)
        if company is not None:
            return Lookup(candidate, company)
    plausible = [c for c in candidates if c.rsplit(".", 1)[-1] in _COMMON_TLDS]
    return Lookup(plausible[0] if plausible else None, None)


def search_results(lookup: Lookup, max_results: int) -> dict[str, Any]:
    topic = lookup.company.name if lookup.company else lookup.domain or "company"
    results = [
        {
            "id": index + 1,
            "url": page.url,
            "title": page.title,
            "snippet": page.snippet,
            "date": page.published.isoformat() if page.published else None,
            "last_updated": page.published.isoformat() if page.published else None,
            "source": "web",
        }
        for index, page in enumerate(lookup.pages[:max_results])
    ]
    return {
        "type": "search_results",
        "queries": [f"{topic} CEO founder", f"{topic} leadership team"],
        "results": results,
    }


def json_answer(schema: Mapping[str, Any], lookup: Lookup, searched: bool) -> str:
    staff = lookup.company.people if lookup.company else ()
    people = [_spoken(answer, searched, staff) for answer in lookup.answers]
    return json.dumps(_fill(schema, people, lookup, top=True), ensure_ascii=False)


def prose_answer(lookup: Lookup, searched: bool, cited_urls: Sequence[str]) -> str:
    if lookup.domain is None and lookup.company is None:
        return "Which company do you mean? Please give its website domain."
    if not lookup.answers:
        return f"I could not find reliable information about who runs {lookup.label}."
    parts = []
    for answer in lookup.answers:
        marker = ""
        if searched and answer.source_url and answer.source_url in cited_urls:
            marker = f" [{list(cited_urls).index(answer.source_url) + 1}]"
        parts.append(f"{answer.name} ({answer.title}){marker}")
    return f"The decision-makers of {lookup.label} are: " + "; ".join(parts) + "."


def _spoken(answer: PerplexityAnswer, searched: bool, staff: Sequence[Person]) -> dict[str, Any]:
    urls = [answer.source_url] if searched and answer.source_url else []
    first, last = name_parts(answer.name, staff)
    return {
        "name": answer.name,
        "first_name": first,
        "last_name": last,
        "title": answer.title,
        "urls": urls,
        "cited": answer.cited and searched,
    }


def name_parts(name: str, staff: Sequence[Person]) -> tuple[str, str]:
    """First and last name of a named person: from their record when `name` is how the model says one
    of `staff` (full name, with the middle name, or either without diacritics), else split after the
    longest known first name ("Mary Ann Lopez"), else at the first space."""
    for person in staff:
        said = {person.full_name}
        if person.middle_name:
            said.add(f"{person.first_name} {person.middle_name} {person.last_name}".strip())
        if name in said:
            return person.first_name, person.last_name
        if name in {anyascii(form) for form in said}:
            return anyascii(person.first_name), anyascii(person.last_name)
    words = name.split()
    for count in range(len(words) - 1, 0, -1):
        if " ".join(words[:count]) in _KNOWN_FIRST_NAMES:
            return " ".join(words[:count]), " ".join(words[count:])
    first, _, last = name.partition(" ")
    return first, last


def _fill(schema: Any, people: list[dict[str, Any]], lookup: Lookup, *, top: bool) -> Any:
    kind = _type(schema)
    if kind == "array":
        items = schema.get("items") or {}
        return [_fill_person(items, person) for person in people] if _type(items) == "object" else []
    if kind != "object":
        return _empty(schema)
    properties = _properties(schema)
    list_key = next(
        (k for k, v in properties.items() if _type(v) == "array" and _type(v.get("items") or {}) == "object"),
        None,
    )
    if list_key is None and top:
        return _fill_person(schema, people[0]) if people else {k: _empty(v) for k, v in properties.items()}
    out: dict[str, Any] = {}
    for key, sub in properties.items():
        if key == list_key:
            out[key] = _fill(sub, people, lookup, top=False)
        elif key.lower() in ("company", "company_name", "organization"):
            out[key] = lookup.label
        elif key.lower() in ("domain", "website"):
            out[key] = lookup.domain
        else:
            out[key] = _empty(sub)
    return out


def _fill_person(schema: Mapping[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, sub in _properties(schema).items():
        name = key.lower()
        if name in ("first_name", "firstname", "given_name"):
            out[key] = person["first_name"]
        elif name in ("last_name", "lastname", "family_name", "surname"):
            out[key] = person["last_name"]
        elif any(word in name for word in ("url", "source", "citation", "link")):
            urls = person["urls"]
            out[key] = urls if _type(sub) == "array" else (urls[0] if urls else _empty(sub))
        elif "name" in name:
            out[key] = person["name"]
        elif any(word in name for word in ("title", "position", "role", "job")):
            out[key] = person["title"]
        elif "confidence" in name:
            score = 0.9 if person["cited"] else 0.5
            out[key] = (
                score if _type(sub) == "number" else round(score * 100) if _type(sub) == "integer" else "high"
            )
        else:
            out[key] = _empty(sub)
    return out


def _properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = schema.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _type(schema: Any) -> str:
    """The schema's type name; "" for a schema that is not an object (`true`, a list...)."""
    if not isinstance(schema, Mapping):
        return ""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        return "object"
    return str(kind)


def _empty(schema: Any) -> Any:
    if not isinstance(schema, Mapping):
        return None
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        return None
    return {"string": "", "array": [], "object": {}, "integer": 0, "number": 0.0, "boolean": False}.get(
        _type(schema)
    )


def truncate_json(text: str, fraction: float) -> str:
    return text[: max(1, int(len(text) * fraction))]


def fence(text: str) -> str:
    return f"```json\n{text}\n```"


def think_prefix(lookup: Lookup) -> str:
    return (
        f"<think>\nThe user wants the people who run {lookup.label}. I should check the company's own pages "
        "and recent news, then list founders and executives with their sources.\n</think>\n"
    )


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def usage(
    model: str, preset: str | None, input_tokens: int, output_tokens: int, searches: int
) -> dict[str, Any]:
    price_in, price_out = _PRICES.get(model.split("/", 1)[0], (1.0, 1.0))
    search_price = 0.001 if preset in ("fast", "fast-search") else 0.0025
    input_cost = input_tokens * price_in / 1_000_000
    output_cost = output_tokens * price_out / 1_000_000
    tool_cost = searches * search_price
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "tool_calls_details": {"search_web": {"invocation": searches}} if searches else {},
        "cost": {
            "input_cost": round(input_cost, 8),
            "output_cost": round(output_cost, 8),
            "tool_calls_cost": round(tool_cost, 8),
            "total_cost": round(input_cost + output_cost + tool_cost, 8),
            "currency": "USD",
            "tool_calls_cost_details": {"search_web": {"total_cost": round(tool_cost, 8)}}
            if searches
            else {},
        },
    }


def search_count(preset: str | None) -> int:
    return 3 if preset in _DEEP_PRESETS else 1
