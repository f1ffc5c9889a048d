"""Cache port TTLs and the typed result cache."""

from __future__ import annotations

from leadenrich.engine.cache import DAY, CacheTTLs, InMemoryCache, ResultCache
from leadenrich.engine.providers.hunter_models import DomainSearch, VerifierResult


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache = InMemoryCache(clock)
    await cache.put("k", {"v": 1}, ttl_seconds=10)
    assert await cache.get("k") == {"v": 1}
    clock.now += 9.9
    assert await cache.get("k") == {"v": 1}
    clock.now += 0.2
    assert await cache.get("k") is None


async def test_memory_is_bounded() -> None:
    cache = InMemoryCache(max_entries=3)
    for i in range(5):
        await cache.put(f"k{i}", {"i": i}, 60)
    assert len(cache) == 3
    assert await cache.get("k0") is None and await cache.get("k4") == {"i": 4}


async def test_result_cache_round_trips_and_uses_the_right_ttls() -> None:
    clock = Clock()
    results = ResultCache(InMemoryCache(clock), CacheTTLs())
    search = DomainSearch(domain="acme.com", pattern="{first}", accept_all=True)
    await results.put_domain_search("acme.com", "type=personal", search)
    assert await results.domain_search("acme.com", "type=personal") == search
    assert await results.domain_search("acme.com", "type=generic") is None

    await results.put_verification(
        "Jane@Acme.com", VerifierResult(email="jane@acme.com", status="valid", score=97)
    )
    await results.put_verification("who@acme.com", VerifierResult(email="who@acme.com", status="unknown"))
    clock.now += 2 * DAY
    assert (await results.verification("jane@acme.com")) is not None  # decisive: kept 30 days
    assert (await results.verification("who@acme.com")) is None  # inconclusive: kept briefly

    await results.put_nothing_found("acme.com", "", "nobody")
    assert await results.nothing_found("acme.com", "")
    assert not await results.nothing_found("acme.com", "jane doe")
    clock.now += 8 * DAY
    assert not await results.nothing_found("acme.com", "")


async def test_a_corrupt_entry_is_a_miss_not_a_crash() -> None:
    port = InMemoryCache()
    results = ResultCache(port)
    await port.put("v1:ev:x@acme.com", {"unexpected": True}, 60)
    assert await results.verification("x@acme.com") is None
