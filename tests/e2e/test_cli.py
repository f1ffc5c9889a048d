"""The `enrich` command line, end to end: embedded simulator when no keys, configured providers otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enrich_tools.cli import SIMULATED_BANNER, main
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HUNTER_API_KEY", "PERPLEXITY_API_KEY", "HUNTER_API_BASE_URL", "PERPLEXITY_API_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def test_domain_without_keys_runs_on_the_simulator_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["domain", SHOWCASE_DOMAINS[0], "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["simulated"] is True
    assert record["status"] == "found"
    assert record["emails"][0]["email"].endswith("@" + SHOWCASE_DOMAINS[0])
    assert record["usage"]["hunter"]["calls"] >= 1


def test_domain_table_is_labelled_and_shows_the_cost(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["domain", SHOWCASE_DOMAINS[1], "--company", "Nordlicht Energie"]) == 0
    out = capsys.readouterr().out
    assert SIMULATED_BANNER in out
    assert "Cost: Hunter" in out and "Perplexity" in out


def test_a_bad_domain_is_an_error_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["domain", ""]) == 2
    assert "field 'domain'" in capsys.readouterr().err


def test_keys_select_the_configured_providers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimulatorServer(time_scale=0.0) as sim:
        monkeypatch.setenv("HUNTER_API_KEY", "sim-hunter-key")
        monkeypatch.setenv("HUNTER_API_BASE_URL", sim.hunter_base_url)
        assert main(["domain", SHOWCASE_DOMAINS[0], "--json"]) == 0
        assert sim.ledger.snapshot()["hunter_calls"] >= 1
    record = json.loads(capsys.readouterr().out)
    assert record["simulated"] is False
    assert record["usage"]["perplexity"]["calls"] == 0  # no Perplexity key: that step is skipped


def test_demo_enriches_the_example_csv_and_writes_one_line_per_lead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.jsonl"
    assert main(["demo", "--csv", str(ROOT / "examples" / "leads.csv"), "--output", str(output)]) == 0
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["external_id"] for r in lines] == [f"lead-00{i}" for i in range(1, 9)]
    by_id = {r["external_id"]: r for r in lines}
    assert by_id["lead-001"]["status"] == "found"
    assert by_id["lead-007"]["status"] == "invalid"  # gmail.com
    assert by_id["lead-008"]["status"] == "invalid" and "domain" in by_id["lead-008"]["reason"]
    assert all(r["simulated"] for r in lines)
    assert "Jane Doe not found" in (by_id["lead-006"]["reason"] or "")  # the named person is not there
    assert "note: Jane Doe not found" in capsys.readouterr().out


def test_bad_csv_rows_are_reported_with_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text("domain,first_name,external_id\nacme-robotics.com,,ok-1\n," + "x" * 300 + ",bad-1\n")
    assert main(["demo", "--csv", str(csv_file)]) == 0
    err = capsys.readouterr().err
    assert f"{csv_file}:3: field 'domain'" in err


def test_a_csv_without_a_domain_column_is_refused(tmp_path: Path) -> None:
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text("website\nacme.com\n")
    with pytest.raises(SystemExit, match="'domain' column"):
        main(["demo", "--csv", str(csv_file)])
