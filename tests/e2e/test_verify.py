"""`enrich verify` as a user runs it: a process of its own, on a state directory of its own (never the
repository's `.enrich-state`), against a simulator the test starts and whose ledger and ground truth it
reads, or, without HUNTER_API_KEY, the simulator `enrich verify` starts itself. And `enrich jobs create
--emails-csv` against an embedded local stack.

Exit codes (reporting.py): 0 done, 1 nothing done, 2 bad input, 3 some failed or stopped early.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrich_tools.cli import main
from enrich_tools.local.stack import LocalStack, StackOptions
from enrich_tools.simulator import SimConfig, SimulatorServer
from tests.e2e.test_enrich_run import configured, enrich, jobs_in, read_jsonl

REAL = "sarah.obrien@acme-robotics.com"  # a showcase CEO's mailbox
CATCH_ALL_BOUNCE = "nobody@globex-analytics.io"  # the server accepts it; there is no such mailbox
OPTED_OUT = "aoife.osullivan@brightlane.co.uk"  # asked Hunter to stop processing her address (451)
MADE_UP = "nobody.here@acme-robotics.com"
ADDRESS_COLUMNS = [
    "status",
    "hunter_status",
    "score",
    "deliverability",
    "email_status",
    "verified_at",
    "reason",
]


def verify(
    addresses: Path, output: Path, state: Path, *more: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    done = enrich(
        "verify", "--input", addresses, "--output", output, "--state", state, *more, cwd=cwd, env=env
    )
    return done.returncode, done.stdout, done.stderr


def addresses_file(path: Path) -> Path:
    """A CRM export: the addresses under "Email Address", other columns around them, a row the API would
    refuse, and a repeat in another case."""
    path.write_text(
        "Contact,Email Address,Owner\n"
        f"Sarah,{REAL},ann\n"
        f"Nobody,{CATCH_ALL_BOUNCE},bob\n"
        f"Aoife,{OPTED_OUT},ann\n"
        "Typo,sarah.obrien@acme-robotics,bob\n"
        f"Again,{REAL.upper()},ann\n"
        f"Made up,{MADE_UP},bob\n",
        encoding="utf-8",
    )
    return path


def test_a_file_of_addresses_is_verified_on_the_runs_own_simulator_to_csv(tmp_path: Path) -> None:
    source = addresses_file(tmp_path / "emails.csv")
    code, out, err = verify(source, tmp_path / "out.csv", tmp_path / "state", cwd=tmp_path)
    assert code == 0, err
    assert "SIMULATED DATA" in out and "addresses deliverable" in out
    assert "columns: email <- 'Email Address'" in err
    assert "line 5: field 'email'" in err and "line 6: duplicate of line 2" in err
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Contact", "Email Address", "Owner", *ADDRESS_COLUMNS]
    by_contact = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert [row[:3] for row in rows[1:]] == [line.split(",") for line in source.read_text().splitlines()[1:]]
    sarah = by_contact["Sarah"]
    assert (sarah["status"], sarah["hunter_status"], sarah["deliverability"], sarah["email_status"]) == (
        "found",
        "deliverable",
        "verified",
        "active",
    )
    assert int(sarah["score"]) > 80 and sarah["verified_at"]
    nobody = by_contact["Nobody"]
    assert (nobody["status"], nobody["deliverability"], nobody["email_status"]) == (
        "risky",
        "catch_all",
        "inactive",
    )
    assert by_contact["Aoife"]["status"] == "not_found" and not by_contact["Aoife"]["hunter_status"]
    assert OPTED_OUT not in by_contact["Aoife"]["reason"]  # only in her own input cell
    assert by_contact["Typo"]["status"] == "invalid" and "line 5" in by_contact["Typo"]["reason"]
    assert by_contact["Again"]["status"] == "found" and "duplicate of line 2" in by_contact["Again"]["reason"]
    assert (by_contact["Made up"]["status"], by_contact["Made up"]["hunter_status"]) == (
        "invalid",
        "undeliverable",
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimConfig(time_scale=0.0)) as running:
        yield running


def test_verdicts_follow_the_ground_truth_and_the_same_command_again_pays_nothing(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    sim.reset(SimConfig(time_scale=0.0))
    assert sim.world.is_real_mailbox(REAL) and not sim.world.is_real_mailbox(CATCH_ALL_BOUNCE)
    source = addresses_file(tmp_path / "emails.csv")
    state, output = tmp_path / "state", tmp_path / "out.jsonl"
    code, _, err = verify(source, output, state, cwd=tmp_path, env=configured(sim))
    assert code == 0, err
    first = read_jsonl(output)
    assert [r["line"] for r in first] == [2, 3, 4, 5, 6, 7]
    verdicts = {r["email"]: (r["status"], [e["deliverability"] for e in r["emails"]]) for r in first}
    assert verdicts[REAL] == ("found", ["verified"])
    assert verdicts[CATCH_ALL_BOUNCE] == ("risky", ["catch_all"])  # never `verified`: it bounces
    assert verdicts[OPTED_OUT] == ("not_found", [])
    assert verdicts[MADE_UP] == ("invalid", ["undeliverable"])
    billed = sim.ledger.snapshot()
    assert billed["calls"]["hunter.email_verifier"] == 4  # the repeat and the refused row were not sent
    assert billed["credits_verification"] == 3  # valid, accept_all, invalid; the 451 is free
    assert "hunter.domain_search" not in billed["calls"]  # nothing but verifications

    code, _, err = verify(source, output, state, cwd=tmp_path, env=configured(sim))
    assert code == 0, err
    assert read_jsonl(output) == first
    assert sim.ledger.snapshot()["calls"]["hunter.email_verifier"] == 4  # the same job: nothing run again
    assert len(jobs_in(state)) == 1


def test_a_202_is_polled_again_later_and_billed_once(sim: SimulatorServer, tmp_path: Path) -> None:
    # The 202 asks for 1 s (Retry-After) and the backoff's ceiling is 1 s, so the deferral is the 3 s
    # floor, not 15-30 s (the client's own suggestion, the deployed ceiling): the run waits for it either way.
    sim.reset(SimConfig(time_scale=0.0, share_202=1.0, polls_202=1, retry_after_202=1))
    source = tmp_path / "one.csv"
    source.write_text(f"email\n{REAL}\n", encoding="utf-8")
    env = configured(sim, PROCESSOR_RETRY_BASE_SECONDS="1")
    code, _, err = verify(source, tmp_path / "out.jsonl", tmp_path / "state", cwd=tmp_path, env=env)
    assert code == 0, err
    [record] = read_jsonl(tmp_path / "out.jsonl")
    assert record["status"] == "found"
    billed = sim.ledger.snapshot()
    assert billed["statuses"]["hunter.email_verifier"] == {"202": 1, "200": 1}
    assert billed["credits_verification"] == 1


def test_no_verification_credits_left_stops_the_run_before_anything_is_sent(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    sim.reset(SimConfig(time_scale=0.0, verification_credits=0))
    source = addresses_file(tmp_path / "emails.csv")
    code, _, err = verify(source, tmp_path / "out.csv", tmp_path / "state", cwd=tmp_path, env=configured(sim))
    assert code == 1, err
    assert "no verification credits left" in err
    assert sim.ledger.snapshot()["calls"] == {"hunter.account": 1}
    assert jobs_in(tmp_path / "state") == []


@pytest.mark.parametrize(
    ("content", "more", "message"),
    [
        pytest.param("name,phone\nJane,123\n", (), "no column of addresses", id="no-address-column"),
        pytest.param("email\nnot an address\n\n", (), "no row can be sent", id="every-row-refused"),
        pytest.param(f"Work,Private\n{REAL},x\n", ("--column", "Home"), "no such column", id="bad-column"),
    ],
)
def test_an_unusable_file_exits_2_and_touches_nothing(
    tmp_path: Path, content: str, more: tuple[str, ...], message: str
) -> None:
    source = tmp_path / "emails.csv"
    source.write_text(content, encoding="utf-8")
    code, _, err = verify(source, tmp_path / "out.csv", tmp_path / "state", *more, cwd=tmp_path)
    assert code == 2, err
    assert message in err
    assert not (tmp_path / "state").exists() and not (tmp_path / "out.csv").exists()


def test_jobs_create_emails_csv_verifies_through_any_jobs_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("HUNTER_API_KEY", "HUNTER_API_BASE_URL", "PERPLEXITY_API_KEY", "PERPLEXITY_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    source = addresses_file(tmp_path / "emails.csv")
    output = tmp_path / "out.csv"
    with LocalStack(StackOptions(state_dir=tmp_path / "state")) as stack:
        assert stack.api_key
        api = ["--api-url", stack.url, "--api-key", stack.api_key]
        code = main(["jobs", "create", "--emails-csv", str(source), "--wait", "--output", str(output), *api])
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert "4 addresses queued" in printed.out  # 6 rows: a refused one and a repeat are not sent
        assert "addresses deliverable" in printed.out
        listed = main(["jobs", "list", "--json", *api])
        assert listed == 0 and '"kind": "verification"' in capsys.readouterr().out
        [job_id] = re.findall(r"^(job_\w+)  4 addresses queued$", printed.out, re.MULTILINE)
        fetched = tmp_path / "fetched.csv"
        assert main(["jobs", "results", job_id, "--output", str(fetched), *api]) == 0
    later = list(csv.reader(io.StringIO(fetched.read_text(encoding="utf-8-sig"))))
    assert later[0] == ["email", *ADDRESS_COLUMNS]  # a job's results, without the input file
    assert [row[:2] for row in later[1:]] == [
        [REAL, "found"],
        [CATCH_ALL_BOUNCE, "risky"],
        [OPTED_OUT, "not_found"],
        [MADE_UP, "invalid"],
    ]
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    assert [(r["Contact"], r["status"]) for r in rows] == [
        ("Sarah", "found"),
        ("Nobody", "risky"),
        ("Aoife", "not_found"),
        ("Typo", "invalid"),
        ("Again", "found"),
        ("Made up", "invalid"),
    ]
