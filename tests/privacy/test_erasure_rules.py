"""The rules every eraser applies (`leadenrich.privacy.erasure_rules`): what of an item, a cached answer or
any other record is the subject's, and what each row tells about the subject beyond what was asked."""

from __future__ import annotations

import json
from typing import Any

from leadenrich.privacy.erasure_rules import (
    ERASED,
    Person,
    StoredItem,
    Subject,
    cache_links,
    item_links,
    name_key,
    scrub_cache,
    scrub_item,
)

ADA = "ada.lovelace@acme.com"
PERSON = Person.of("Ada", "Lovelace", "acme.com")
assert PERSON is not None
BY_ADDRESS = Subject(addresses=frozenset({ADA}))
BY_PERSON = Subject(people=frozenset({PERSON}))


def entry(email: str, person: str | None = None, **more: Any) -> dict[str, Any]:
    return {"email": email, "person": person, "contact": "decision_maker", "email_type": "secondary", **more}


def company_item() -> StoredItem:
    """A company-level lead whose result lists Ada among the decision-makers."""
    result = {
        "external_id": None,
        "domain": "acme.com",
        "status": "found",
        "contact": "decision_maker",
        "emails": [
            entry(ADA, "Ada Lovelace", email_type="primary"),
            entry("grace.hopper@acme.com", "Grace Hopper"),
        ],
        "reason": None,
    }
    return StoredItem(lead={"domain": "acme.com", "company_name": "Acme"}, result=result, reason=None)


def test_names_compare_without_case_accents_or_punctuation() -> None:
    assert name_key("  José   O'Brien-Smith ") == "jose o brien smith"
    assert Person.of("ADA", "lovelace", "https://www.Acme.com/") == PERSON
    assert Person.of("Ada", "", "acme.com") is None
    assert Person.named("Pieter van der Berg", "acme.com") == Person.of("Pieter", "van der Berg", "acme.com")


def test_a_company_item_loses_only_the_persons_address_and_keeps_its_status() -> None:
    for subject in (BY_ADDRESS, BY_PERSON):
        change = scrub_item(company_item(), subject)
        assert change is not None and change.result is not None
        assert [e["email"] for e in change.result["emails"]] == ["grace.hopper@acme.com"]
        assert change.result["emails"][0]["email_type"] == "primary"  # the best one left leads
        assert change.lead == {"domain": "acme.com", "company_name": "Acme"}
        assert change.reason == ERASED
        assert ADA not in json.dumps(change.result) and "Lovelace" not in json.dumps(change.result)


def test_the_persons_own_item_keeps_only_its_domain_and_company() -> None:
    result = {"external_id": "crm-7", "emails": [entry(ADA, "Ada Lovelace", contact="named_person")]}
    item = StoredItem(
        lead={"domain": "acme.com", "company_name": "Acme", "first_name": "Ada", "last_name": "Lovelace",
              "external_id": "crm-7"},
        result={**result, "reason": "Ada Lovelace not found at acme.com"},
        reason="Ada Lovelace not found at acme.com",
        lead_id="lead-1",
    )  # fmt: skip
    for subject in (
        BY_PERSON,
        BY_ADDRESS | BY_PERSON,
        Subject(external_ids=frozenset({"crm-7"})),
        Subject(lead_ids=frozenset({"lead-1"})),
    ):
        change = scrub_item(item, subject)
        assert change is not None and change.result is not None
        assert change.lead == {"domain": "acme.com", "company_name": "Acme"}
        assert change.result["emails"] == [] and change.result["external_id"] is None
        assert change.result["reason"] == ERASED and change.reason == ERASED


def test_a_domain_erasure_takes_the_company_name_too_and_a_verification_item_its_address() -> None:
    change = scrub_item(company_item(), Subject(domains=frozenset({"acme.com"})))
    assert change is not None and change.lead == {"domain": "acme.com"}
    assert change.result is not None and change.result["emails"] == []
    verification = StoredItem(lead={"domain": "acme.com", "email": ADA}, result=None, reason=None)
    change = scrub_item(verification, BY_ADDRESS)
    assert change is not None and change.lead == {"domain": "acme.com"} and change.result is None


def test_an_item_without_the_subject_or_erased_already_is_left_alone() -> None:
    assert scrub_item(company_item(), Subject(addresses=frozenset({"x@other.com"}))) is None
    change = scrub_item(company_item(), BY_ADDRESS)
    assert change is not None
    again = StoredItem(lead=change.lead, result=change.result, reason=change.reason)
    assert scrub_item(again, BY_ADDRESS) is None  # a repeat changes nothing, and says so


def test_pending_review_counts_follow_the_addresses_left() -> None:
    item = company_item()
    assert item.result is not None
    result = {
        **item.result,
        "emails": [{**e, "review": "pending"} for e in item.result["emails"]],
        "review_pending": 2,
    }
    change = scrub_item(StoredItem(item.lead, result, None), BY_ADDRESS)
    assert change is not None and change.result is not None and change.result["review_pending"] == 1


def test_a_reason_naming_the_person_is_erased_even_when_no_address_was_stored() -> None:
    item = StoredItem(
        lead={"domain": "acme.com"},
        result={"emails": [], "reason": "no decision-maker address found (Ada Lovelace not found)"},
        reason="no decision-maker address found (Ada Lovelace not found)",
    )
    change = scrub_item(item, BY_PERSON)
    assert change is not None and change.reason == ERASED
    assert change.result is not None and change.result["reason"] == ERASED
    only_in_the_result = StoredItem(item.lead, item.result, "no decision-maker address found")
    change = scrub_item(only_in_the_result, BY_PERSON)
    assert change is not None and change.result is not None and change.result["reason"] == ERASED
    other_domain = Subject(people=frozenset({Person.of("Ada", "Lovelace", "globex.io")}))  # type: ignore[arg-type]
    assert scrub_item(item, other_domain) is None  # another Ada Lovelace, at another company


def test_items_link_an_address_to_its_person_and_a_lead_to_its_addresses() -> None:
    links = item_links(company_item(), BY_ADDRESS)
    assert links.people == {PERSON} and links.addresses == {ADA}
    own = StoredItem(
        lead={"domain": "acme.com", "first_name": "Ada", "last_name": "Lovelace", "external_id": "crm-7"},
        result={"emails": [entry(ADA, None, contact="named_person"), entry("info@acme.com", None)]},
        reason=None,
    )
    links = item_links(own, Subject(external_ids=frozenset({"crm-7"})))
    assert links.people == {PERSON} and links.addresses == {ADA}  # not info@: not the person's


def search(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"domain": "acme.com", "emails": list(rows), "returned_rows": len(rows)}


def row(value: str, first: str, last: str) -> dict[str, Any]:
    return {"value": value, "first_name": first, "last_name": last}


def test_cached_answers_keyed_by_the_person_or_address_are_deleted() -> None:
    finder = {"email": ADA, "first_name": "Ada", "last_name": "Lovelace"}
    for key, value in (
        ("v1:ef:acme.com:ada:lovelace", finder),
        ("v1:ef:acme.com:a:lovelace", finder),  # another spelling asked, the same answer
        ("v1:ev:ada.lovelace@acme.com", {"email": ADA, "status": "valid"}),
        ("v1:nf:acme.com:ada lovelace", {"reason": "nothing"}),
        ("v1:nf:acme.com:", {"reason": "no decision-maker address found (Ada Lovelace not found)"}),
    ):
        change = scrub_cache(key, value, BY_ADDRESS | BY_PERSON)
        assert change is not None and change.value is None, key
    assert scrub_cache("v1:ev:grace@acme.com", {"email": "grace@acme.com"}, BY_ADDRESS | BY_PERSON) is None


def test_cached_lists_are_rewritten_without_the_person() -> None:
    ds = search(row(ADA, "Ada", "Lovelace"), row("grace@acme.com", "Grace", "Hopper"))
    change = scrub_cache("v1:ds:acme.com:type=personal&seniority=executive", ds, BY_PERSON)
    assert change is not None and change.value is not None
    assert change.value["emails"] == [row("grace@acme.com", "Grace", "Hopper")]
    assert change.value["returned_rows"] == 2  # what Hunter billed stays as it was
    px = {
        "people": [
            {
                "name": "Ada Lovelace",
                "title": "CEO",
                "source_urls": ["https://acme.com/about"],
                "sourced": True,
            },
            {
                "name": "Grace Hopper",
                "title": "CTO",
                "source_urls": ["https://www.linkedin.com/in/ada-lovelace-acme", "https://acme.com/team"],
                "sourced": True,
            },
        ],
        "search_urls": ["https://www.linkedin.com/in/ada-lovelace-acme", "https://acme.com/team"],
        "cost_usd": 0.01,
    }
    change = scrub_cache("v1:px:acme.com", px, BY_PERSON)
    assert change is not None and change.value is not None
    assert [p["name"] for p in change.value["people"]] == ["Grace Hopper"]
    assert change.value["people"][0]["source_urls"] == ["https://acme.com/team"]
    assert change.value["search_urls"] == ["https://acme.com/team"]
    globex = {"people": [{"name": "Ada Lovelace", "title": "CFO", "source_urls": [], "sourced": False}]}
    assert scrub_cache("v1:px:globex.io", globex, BY_PERSON) is None  # another Ada Lovelace: not this one


def test_a_domain_erasure_deletes_every_answer_about_the_domain() -> None:
    domain = Subject(domains=frozenset({"acme.com"}))
    for key in ("v1:ds:acme.com:type=personal&seniority=", "v1:px:acme.com", "v1:ev:info@acme.com"):
        change = scrub_cache(key, {"anything": 1}, domain)
        assert change is not None and change.value is None
    assert scrub_cache("v1:px:globex.io", {"people": []}, domain) is None


def test_cached_answers_link_an_address_to_its_names_and_back() -> None:
    ds = search(row(ADA, "Ada", "Lovelace"), row("grace@acme.com", "Grace", "Hopper"))
    key = "v1:ds:acme.com:type=personal&seniority=executive"
    assert cache_links(key, ds, BY_ADDRESS).people == {PERSON}
    assert cache_links(key, ds, BY_PERSON).addresses == {ADA}
    finder = {"email": ADA}
    assert cache_links("v1:ef:acme.com:ada:lovelace", finder, BY_ADDRESS).people == {PERSON}


def test_mentions_need_the_persons_domain_for_a_name() -> None:
    assert BY_PERSON.mentions("Ada Lovelace, acme.com")
    assert BY_PERSON.mentions("Ada Lovelace not found", "acme.com")
    assert not BY_PERSON.mentions("Ada Lovelace not found")  # which one? not said: not ours
    assert not BY_PERSON.mentions("Ada Lovelacey at acme.com")
    assert BY_ADDRESS.mentions(f"sent to {ADA.upper()}")
    assert Subject(domains=frozenset({"acme.com"})).mentions("x@acme.com")
    assert not Subject(domains=frozenset({"acme.com"})).mentions("https://hooks.acme.com/in")
