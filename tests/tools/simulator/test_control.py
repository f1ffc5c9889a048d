"""The `/_sim` control surface and the simulated-data label."""

from __future__ import annotations

import threading
import time

import httpx

from enrich_tools.simulator import SimulatorServer
from tests.support.simulator import HUNTER_KEY, PPLX_KEY, base_config


def test_every_response_is_labelled_simulated(
    sim: SimulatorServer, hunter: httpx.Client, pplx: httpx.Client
) -> None:
    responses = [
        hunter.get("/domain-search", params={"domain": "acme-robotics.com"}),
        hunter.get("/domain-search"),
        httpx.get(f"{sim.hunter_base_url}/account"),
        pplx.post("/v1/responses", json={"model": "perplexity/sonar", "input": "hi", "bogus": 1}),
        httpx.get(f"{sim.base_url}/_sim/health"),
        httpx.get(f"{sim.base_url}/no/such/route"),
    ]
    assert [r.headers.get("x-simulated") for r in responses] == ["true"] * len(responses)


def test_health_and_truth(sim: SimulatorServer) -> None:
    health = httpx.get(f"{sim.base_url}/_sim/health").json()
    assert health["status"] == "ok"
    assert health["simulated"] is True
    truth = httpx.get(
        f"{sim.base_url}/_sim/truth", params={"domain": "https://www.nordlicht-energie.de/"}
    ).json()
    assert truth["domain"] == "nordlicht-energie.de"
    assert truth["decision_maker_emails"] == [
        "a.weiss@nordlicht-energie.de",
        "j.mueller@nordlicht-energie.de",
    ]
    assert truth["pattern"] == "{f}.{last}"
    assert truth["company"]["people"][0]["first_name"] == "Jürgen"
    assert httpx.get(f"{sim.base_url}/_sim/truth").status_code == 400
    assert httpx.get(f"{sim.base_url}/_sim/truth", params={"domain": "gmail.com"}).json()["kind"] == "webmail"


def test_ledger_and_reset(sim: SimulatorServer, hunter: httpx.Client) -> None:
    hunter.get("/domain-search", params={"domain": "acme-robotics.com"})
    hunter.get("/domain-search")
    ledger = httpx.get(f"{sim.base_url}/_sim/ledger").json()
    assert ledger["calls"]["hunter.domain_search"] == 2
    assert ledger["statuses"]["hunter.domain_search"] == {"200": 1, "400": 1}
    assert ledger["used"]["searches"] == 1
    assert ledger["hunter_calls"] == 2
    assert ledger["credits_search"] == 1
    assert ledger["perplexity_calls"] == 0
    assert httpx.post(f"{sim.base_url}/_sim/reset").json() == {"reset": True}
    assert httpx.get(f"{sim.base_url}/_sim/ledger").json()["calls"] == {}


def test_a_request_in_flight_during_a_reset_writes_nothing_to_the_fresh_ledger(sim: SimulatorServer) -> None:
    sim.configure(
        time_scale=1.0,
        latency_domain_search=[0.8, 0.8],
        latency_email_verifier=[0.8, 0.8],
        latency_perplexity=[0.8, 0.8],
    )
    answers: list[int] = []
    body = {"model": "perplexity/sonar", "input": "Who runs acme-robotics.com?", "store": True}
    calls = [
        lambda: httpx.get(
            f"{sim.hunter_base_url}/domain-search",
            params={"domain": "acme-robotics.com", "api_key": HUNTER_KEY},
        ),
        lambda: httpx.get(
            f"{sim.hunter_base_url}/email-verifier",
            params={"email": "sarah.obrien@acme-robotics.com", "api_key": HUNTER_KEY},
        ),
        lambda: httpx.post(
            f"{sim.base_url}/v1/responses", json=body, headers={"Authorization": f"Bearer {PPLX_KEY}"}
        ),
    ]
    threads = [threading.Thread(target=lambda c=call: answers.append(c().status_code)) for call in calls]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # all three are in their simulated latency
    sim.reset(base_config())
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [200, 200, 200]
    snapshot = sim.ledger.snapshot()
    assert snapshot["calls"] == {}
    assert snapshot["used"] == {"searches": 0, "verifications": 0}
    assert sim.state.responses == {}
    assert sim.state.settled_emails == set()


def test_patch_config_validates_knobs(sim: SimulatorServer) -> None:
    url = f"{sim.base_url}/_sim/config"
    unknown = httpx.patch(url, json={"share_202": 0.5, "warp_drive": True})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["knob"] == "warp_drive"
    assert sim.config.share_202 == 0.0  # nothing applied from a refused patch
    for bad in (
        {"share_202": 2},
        {"rate_limit_mode": "418"},
        {"latency_perplexity": [3, 1]},
        {"free_plan": "yes"},
    ):
        response = httpx.patch(url, json=bad)
        assert response.status_code == 400
        assert response.json()["error"]["knob"] == next(iter(bad))
    assert httpx.patch(url, content=b"[1]").status_code == 400
    ok = httpx.patch(
        url, json={"share_202": 0.25, "rate_limit_mode": "429", "legacy_retired_on": "2027-01-01"}
    )
    assert ok.status_code == 200
    assert ok.json()["changed"] == ["legacy_retired_on", "rate_limit_mode", "share_202"]
    assert ok.json()["world_regenerated"] is False
    assert httpx.get(url).json()["share_202"] == 0.25
    assert sim.config.rate_limit_mode == "429"


def test_changing_the_seed_regenerates_the_world(sim: SimulatorServer) -> None:
    before = sim.world
    response = httpx.patch(f"{sim.base_url}/_sim/config", json={"seed": 8, "companies": 50})
    assert response.json()["world_regenerated"] is True
    assert sim.world is not before
    assert len(sim.world.companies) == 50
    assert sim.world.company("acme-robotics.com") is not None
