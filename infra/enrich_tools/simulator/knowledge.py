"""What the Perplexity fake "knows" about a company: named decision-makers and the pages its search finds.

Realism choices (per company, from the world's seed):
- 10% of companies are unknown to Perplexity (25% of generic-only shops, which barely exist online):
  no answer, no search results.
- The top decision-maker is named 90% of the time (95% where Hunter does not index them, since those are
  the companies whose leaders are findable only on the web); each further decision-maker 60%.
- A named real person is backed by a source 85% of the time: an about/team page (Impressum in Germany,
  mentions légales in France), a LinkedIn-like profile or a news article; the URL is then among the
  search results. 15% are named with no source at all, though they are right.
- Wrong answers, with probability `wrong_share` per company (a second one at 30% of that): a former
  executive backed by an old but real article (35%; 40% of those also push the current leader out of the
  answer, as stale knowledge does), a real employee promoted to a leadership title (15%), or a
  hallucinated person (50%), either with no URL or with a fabricated URL that the search never returned.
- Titles are restated the way a model does (Chief Executive Officer, Managing Director for
  Geschäftsführer), and 15% of names lose their diacritics, 30% of middle names are spelled out.
- Every known company also has its homepage and one to three directory pages that name nobody.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from anyascii import anyascii

from enrich_tools.simulator.entities import AnswerLabel, Kind, PerplexityAnswer, Person, SearchPage
from enrich_tools.simulator.names import FIRST_NAMES, Culture, draw_name, match_key, slug
from enrich_tools.simulator.roles import perplexity_title

_NEWS_SITES: dict[str, str] = {
    "us": "techbizdaily.com",
    "uk": "ukbusinessreview.co.uk",
    "de": "wirtschaft-aktuell-online.de",
    "fr": "actu-entreprises.fr",
    "nl": "zakelijknieuws-online.nl",
    "es": "noticias-empresa.es",
}
_DIRECTORIES = (
    "bizprofiles-online.com",
    "companyatlas.net",
    "firmenverzeichnis-online.de",
    "opencorp-data.org",
)
_LEADER_TITLES = ("CEO", "Founder", "Managing Director", "Co-founder", "President")


def build_knowledge(
    rng: random.Random,
    *,
    domain: str,
    company_name: str,
    culture: str,
    kind: Kind,
    people: Sequence[Person],
    as_of: date,
    wrong_share: float,
) -> tuple[tuple[PerplexityAnswer, ...], tuple[SearchPage, ...]]:
    """Answers and search pages for one company; consumes `rng` in a fixed order."""
    if rng.random() < (0.25 if kind == "generic_only" else 0.10):
        return (), ()
    pages: dict[str, SearchPage] = {}
    home = SearchPage(f"https://{domain}/", f"{company_name} – Home", f"Welcome to {company_name}.", None)
    pages[home.url] = home
    answers: list[PerplexityAnswer] = []
    current_dms = [p for p in people if p.is_decision_maker and not p.left_company]
    for index, person in enumerate(current_dms[:4]):
        odds = (0.95 if kind == "dm_unindexed" else 0.90) if index == 0 else 0.60
        if rng.random() >= odds:
            continue
        name = _spoken_name(rng, person)
        title = perplexity_title(person.position, rng)
        url = None
        if rng.random() < 0.85:
            page = _source_page(rng, domain, company_name, culture, name, title, as_of)
            pages[page.url] = _merge(pages.get(page.url), page)
            url = page.url
        answers.append(PerplexityAnswer(name, title, url, "current", url is not None))

    wrong_count = (rng.random() < wrong_share) + (rng.random() < wrong_share * 0.3)
    for _ in range(wrong_count):
        answer, old_page = _wrong_answer(rng, domain, company_name, culture, people, as_of)
        if old_page is not None:
            pages[old_page.url] = _merge(pages.get(old_page.url), old_page)
        if answer.label == "former" and answers and answers[0].label == "current" and rng.random() < 0.4:
            answers.pop(0)
        answers.insert(rng.randint(0, len(answers)), answer)

    for _ in range(rng.randint(1, 3)):
        site = rng.choice(_DIRECTORIES)
        directory = SearchPage(
            f"https://www.{site}/company/{slug(company_name)}",
            f"{company_name} – company profile",
            f"{company_name}: address, industry, size and registration details.",
            as_of - timedelta(days=rng.randint(30, 900)),
        )
        pages[directory.url] = directory
    ordered = [home, *rng.sample([p for p in pages.values() if p is not home], len(pages) - 1)]
    return tuple(answers), tuple(ordered)


def _merge(existing: SearchPage | None, page: SearchPage) -> SearchPage:
    """Two people on the same team page: one page whose snippet names both."""
    if existing is None:
        return page
    return SearchPage(existing.url, existing.title, f"{existing.snippet} {page.snippet}", existing.published)


def _spoken_name(rng: random.Random, person: Person) -> str:
    name = person.full_name
    if person.middle_name and rng.random() < 0.3:
        name = f"{person.first_name} {person.middle_name} {person.last_name}".strip()
    return anyascii(name) if rng.random() < 0.15 else name


def _source_page(
    rng: random.Random, domain: str, company: str, culture: str, name: str, title: str, as_of: date
) -> SearchPage:
    kind = rng.choices(("about", "linkedin", "news"), (0.45, 0.30, 0.25))[0]
    if kind == "about":
        path = {"de": "impressum", "fr": "mentions-legales"}.get(culture, rng.choice(("about", "team")))
        page_title = f"{company} – {path.replace('-', ' ').title()}"
        return SearchPage(f"https://{domain}/{path}", page_title, f"{name}, {title}.", None)
    if kind == "linkedin":
        handle = f"{slug(name)}-{rng.getrandbits(24):06x}"
        return SearchPage(
            f"https://www.linkedin.com/in/{handle}",
            f"{name} – {title} – {company} | LinkedIn",
            f"{title} at {company}.",
            as_of - timedelta(days=rng.randint(10, 400)),
        )
    published = as_of - timedelta(days=rng.randint(20, 700))
    site = _NEWS_SITES.get(culture, _NEWS_SITES["us"])
    url = f"https://www.{site}/{published.year}/{published.month:02d}/{slug(company)}-{slug(name)}"
    snippet = f"{company} announced that {name} leads the company as {title}."
    return SearchPage(url, f"{company} names {name} as {title}", snippet, published)


def _fresh_name(rng: random.Random, culture: str, people: Sequence[Person]) -> str:
    pool: Culture = culture if culture in FIRST_NAMES else "us"  # type: ignore[assignment]
    taken = {match_key(p.full_name) for p in people}
    while True:
        name = " ".join(draw_name(rng, pool, rng.choice(("m", "f"))))
        if match_key(name) not in taken:
            return name


def _wrong_answer(
    rng: random.Random, domain: str, company: str, culture: str, people: Sequence[Person], as_of: date
) -> tuple[PerplexityAnswer, SearchPage | None]:
    kind = rng.choices(("former", "misattributed", "unsourced", "fabricated"), (0.35, 0.15, 0.30, 0.20))[0]
    label: AnswerLabel
    if kind == "former":
        former = [p for p in people if p.left_company and p.is_decision_maker]
        name = former[0].full_name if former else _fresh_name(rng, culture, people)
        title = rng.choice(("CEO", "Founder & CEO", "Managing Director"))
        published = as_of - timedelta(days=rng.randint(900, 2500))
        site = _NEWS_SITES.get(culture, _NEWS_SITES["us"])
        page = SearchPage(
            f"https://www.{site}/{published.year}/{published.month:02d}/{slug(company)}-appoints-{slug(name)}",
            f"{company} appoints {name} as {title}",
            f"{name} takes the helm at {company}.",
            published,
        )
        return PerplexityAnswer(name, title, page.url, "former", True), page
    if kind == "misattributed":
        staff = [p for p in people if not p.is_decision_maker and not p.left_company]
        if staff:
            person = rng.choice(staff)
            return PerplexityAnswer(
                person.full_name, rng.choice(_LEADER_TITLES), None, "misattributed", False
            ), None
    name = _fresh_name(rng, culture, people)
    title = rng.choice(_LEADER_TITLES)
    url = None
    if kind == "fabricated":
        url = rng.choice((f"https://{domain}/team/{slug(name)}", f"https://www.linkedin.com/in/{slug(name)}"))
    label = "hallucinated"
    return PerplexityAnswer(name, title, url, label, False), None
