"""The processor Lambda's CloudWatch metrics: the EMF lines it prints after a drain, read back as CloudWatch
would, their names, values and dimensions held to what the run did (the jobs' own counters and costs).

Given jobs in two workspaces on moto and the provider simulator, when the handler runs, then one set with the
`service` dimension carries the run's figures and one set per workspace (`workspace` + `service`) carries
that workspace's; a throttling provider and a refused key show up as throttles and failures; a run never
publishes more than `WORKSPACE_SETS` workspace sets; and without a namespace nothing is printed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime
from leadenrich.engine.models import ProviderUsage, Usage
from leadenrich.jobs.processor_report import AttemptFigures, DrainReport
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.simulator import base_config

NAMESPACE = "LeadEnrich"  # template.yaml's POWERTOOLS_METRICS_NAMESPACE
SERVICE = "leadenrich"  # and POWERTOOLS_SERVICE_NAME


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def aws(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lambda_env_on_moto(
        simulator,
        monkeypatch,
        {"POWERTOOLS_METRICS_NAMESPACE": NAMESPACE, "POWERTOOLS_SERVICE_NAME": SERVICE},
    )
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    yield
    runtime.reset()


def metric_sets(out: str) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The EMF blobs among stdout's lines, by their dimension names (sorted), each checked to be well formed:
    one namespace, one dimension set whose values are in the blob, a value for each declared metric."""
    found: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for line in out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        (dimensions,) = directive["Dimensions"]
        assert all(isinstance(blob[name], str) for name in dimensions)
        assert all(name["Name"] in blob for name in directive["Metrics"])
        found.setdefault(tuple(sorted(dimensions)), []).append(blob)
    return found


def value(blob: dict[str, Any], name: str) -> float:
    (one,) = blob[name]  # one value per metric and run
    return float(one)


def names(blob: dict[str, Any]) -> tuple[str, ...]:
    return tuple(m["Name"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"])


def create(workspace: str, domains: list[str]) -> str:
    status, job, _ = call("POST", "/jobs", body={"domains": domains}, workspace=workspace)
    assert status == 202
    return str(job["job_id"])


def job(workspace: str, job_id: str) -> dict[str, Any]:
    status, found, _ = call("GET", f"/jobs/{job_id}", workspace=workspace)
    assert status == 200
    return dict(found)


def test_a_run_publishes_its_figures_and_each_workspaces(capsys: pytest.CaptureFixture[str]) -> None:
    acme = create("acme", list(SHOWCASE_DOMAINS[:2]))
    globex = create("globex", list(SHOWCASE_DOMAINS[2:3]))
    capsys.readouterr()

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    sets = metric_sets(capsys.readouterr().out)

    assert summary["finished"] == 3
    assert set(sets) == {("service",), ("service", "workspace")}
    (run,) = sets[("service",)]
    assert run["service"] == SERVICE and names(run) == handle_process.RUN_METRICS
    jobs = {"acme": job("acme", acme), "globex": job("globex", globex)}
    assert {n: value(run, n) for n in ("ItemsReceived", "ItemsFinished", "ItemsProcessed", "ItemsFound")} == {
        "ItemsReceived": 3,
        "ItemsFinished": 3,
        "ItemsProcessed": 3,
        "ItemsFound": 3,
    }
    assert value(run, "JobsCompleted") == 2 and value(run, "ItemsFailed") == 0
    assert all(value(run, n) == 0 for n in ("ItemsDeferred", "ItemsHandedBack", "ProviderThrottles"))
    assert value(run, "HunterCalls") == sum(j["counters"]["api_calls_hunter"] for j in jobs.values()) > 0
    credits = sum(j["cost"]["hunter_credits"] for j in jobs.values())
    assert value(run, "HunterCredits") == pytest.approx(credits)
    assert value(run, "PerplexityCostUSD") == pytest.approx(
        sum(j["cost"]["perplexity_usd"] for j in jobs.values())
    )
    assert 0 < value(run, "DrainSeconds") < 20

    by_workspace = {blob["workspace"]: blob for blob in sets[("service", "workspace")]}
    assert set(by_workspace) == {"acme", "globex"}
    for workspace, blob in by_workspace.items():
        counters, cost = jobs[workspace]["counters"], jobs[workspace]["cost"]
        assert blob["service"] == SERVICE and names(blob) == handle_process.WORKSPACE_METRICS
        assert value(blob, "ItemsProcessed") == value(blob, "ItemsFound") == counters["found"]
        assert value(blob, "HunterCalls") == counters["api_calls_hunter"]
        assert value(blob, "HunterCredits") == pytest.approx(cost["hunter_credits"])
    assert value(by_workspace["acme"], "ItemsProcessed") == 2


def test_an_idle_run_publishes_zeros_and_no_workspace(capsys: pytest.CaptureFixture[str]) -> None:
    handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    sets = metric_sets(capsys.readouterr().out)
    assert list(sets) == [("service",)]  # a dashboard reads 0, not a gap; no workspace stream is billed
    (run,) = sets[("service",)]
    assert all(value(run, n) == 0 for n in handle_process.RUN_METRICS if n != "DrainSeconds")


def test_a_throttling_provider_is_counted_as_throttles_and_hand_backs(
    simulator: SimulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # One Domain Search a second and a minute at Hunter, answered 429 past it, with a Retry-After.
    simulator.reset(
        dataclasses.replace(base_config(), domain_search_rps=1, domain_search_rpm=1, rate_limit_mode="429")
    )
    create("acme", list(SHOWCASE_DOMAINS[:3]))
    capsys.readouterr()

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    (run,) = metric_sets(capsys.readouterr().out)[("service",)]

    assert summary["released"] >= 1
    assert value(run, "ItemsHandedBack") == summary["released"]
    assert value(run, "ProviderThrottles") >= 1
    assert value(run, "ProviderThrottles") <= value(run, "ItemsHandedBack")


def test_a_refused_key_is_counted_as_failures_per_workspace(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.reset(dataclasses.replace(base_config(), accept_any_key=False))
    monkeypatch.setenv("HUNTER_API_KEY", "not-a-key")
    runtime.reset()
    create("acme", list(SHOWCASE_DOMAINS[:2]))
    capsys.readouterr()

    handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    sets = metric_sets(capsys.readouterr().out)

    (run,) = sets[("service",)]
    (acme,) = sets[("service", "workspace")]
    assert value(run, "ItemsFailed") == value(acme, "ItemsFailed") == 2
    assert value(run, "ItemsFound") == value(acme, "ItemsFound") == 0
    assert value(run, "HunterCredits") == 0  # a refused key is not billed


def figures(items: int, credits: float = 0.0) -> AttemptFigures:
    usage = Usage(hunter=ProviderUsage(calls=items, credits=credits))
    return AttemptFigures(items=items, found=items, usage=usage)


def test_a_run_publishes_at_most_the_bounded_number_of_workspace_sets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given more workspaces than `WORKSPACE_SETS` in one run, then the busiest get a set of their own and
    the rest one set between them, `_other`, whose figures are their sums: totals stay whole."""
    report = DrainReport()
    limit = handle_process.WORKSPACE_SETS
    for n in range(limit + 3):
        report.workspaces[f"ws{n:02d}"] = figures(items=n + 1, credits=float(n + 1))

    handle_process.publish_metrics(report)
    blobs = metric_sets(capsys.readouterr().out)[("service", "workspace")]

    published = {blob["workspace"]: blob for blob in blobs}
    assert len(published) == limit + 1
    # The three quietest (ws00..ws02: 1, 2 and 3 items) are summed; the others are named.
    assert set(published) == {f"ws{n:02d}" for n in range(3, limit + 3)} | {handle_process.OTHER_WORKSPACES}
    other = published[handle_process.OTHER_WORKSPACES]
    assert value(other, "ItemsProcessed") == value(other, "HunterCredits") == 1 + 2 + 3
    assert sum(value(b, "ItemsProcessed") for b in blobs) == sum(range(1, limit + 4))


def test_without_a_namespace_nothing_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The local stack runs this handler in a laptop's process, without POWERTOOLS_METRICS_NAMESPACE."""
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    report = DrainReport(received=1)
    report.workspaces["acme"] = figures(items=1)
    handle_process.publish_metrics(report)
    assert metric_sets(capsys.readouterr().out) == {}
