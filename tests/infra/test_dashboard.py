"""The CloudWatch dashboard in template.yaml shows what the processor publishes, and only that.

The dashboard's body is read as CloudWatch reads it (the `!Sub` text with its variables filled in, parsed as
JSON), and the processor's metrics are what its handler prints for a real report (EMF lines, read back): every
(metric, dimensions) it publishes in the `LeadEnrich` namespace appears on the dashboard, and every one the
dashboard shows is published. The AWS metrics it shows name this template's queues, functions and API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

import handle_process
from leadenrich.engine.models import ProviderUsage, Usage
from leadenrich.jobs.processor_report import AttemptFigures, DrainReport

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
Metric = tuple[str, frozenset[str]]  # a metric's name and its dimensions' names
SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>[^,}]+),(?P<dimensions>[^}]*)\}(?P<terms>[^']*)'")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def widgets(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's widgets, each `${Name}` / `${Name.Attr}` of the body replaced by `<Name>` (after
    checking that it names a parameter, a resource or a pseudo parameter)."""
    dashboard = template["Resources"]["Dashboard"]
    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(text, str)
    known = set(template["Resources"]) | set(template["Parameters"]) | {"AWS::Region", "AWS::StackName"}
    for variable in re.findall(r"\$\{([^}!]+)\}", text):
        assert variable.split(".")[0] in known, f"${{{variable}}} names nothing in the template"
    body = json.loads(re.sub(r"\$\{([^}.]+)(\.[^}]+)?\}", r"<\1>", text))
    found = body["widgets"]
    assert isinstance(found, list)
    return found


def globals_env(template: dict[str, Any]) -> dict[str, Any]:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert isinstance(variables, dict)
    return variables


def rows(widgets: list[dict[str, Any]]) -> Iterator[list[Any]]:
    for widget in widgets:
        yield from widget.get("properties", {}).get("metrics", [])


def shown(widgets: list[dict[str, Any]], namespace: str, service: str) -> set[Metric]:
    """The namespace's metrics the dashboard shows: explicit rows and SEARCH expressions."""
    found: set[Metric] = set()
    for row in rows(widgets):
        if isinstance(row[0], dict):
            match = SEARCH.search(row[0]["expression"])
            assert match, row
            if match["namespace"] == namespace:
                (name,) = re.findall(r'MetricName="([^"]+)"', match["terms"])
                assert f'service="{service}"' in match["terms"]
                found.add((name, frozenset(d.strip() for d in match["dimensions"].split(","))))
            continue
        if row[0] != namespace:
            continue
        pairs = [part for part in row[2:] if not isinstance(part, dict)]
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        assert dimensions.get("service") == service, row
        found.add((row[1], frozenset(dimensions)))
    return found


def published(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> set[Metric]:
    """What the processor's handler prints for a run that touched a workspace, read back from its EMF."""
    for name in ("POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"):
        monkeypatch.setenv(name, globals_env(template)[name])
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    report = DrainReport(received=1, finished=1)
    report.workspaces["acme"] = AttemptFigures(items=1, found=1, usage=Usage(hunter=ProviderUsage(calls=1)))
    capsys.readouterr()
    handle_process.publish_metrics(report)
    found: set[Metric] = set()
    for line in capsys.readouterr().out.splitlines():
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == globals_env(template)["POWERTOOLS_METRICS_NAMESPACE"]
            for dimensions in directive["Dimensions"]:
                found |= {(m["Name"], frozenset(dimensions)) for m in directive["Metrics"]}
    return found


def test_every_metric_published_is_on_the_dashboard_and_nothing_else(
    template: dict[str, Any],
    widgets: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = globals_env(template)
    on_dashboard = shown(widgets, env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"])
    emitted = published(template, monkeypatch, capsys)

    assert emitted, "the handler published nothing"
    assert sorted(emitted - on_dashboard) == [], "published, not on the dashboard"
    assert sorted(on_dashboard - emitted) == [], "on the dashboard, never published"
    # Both sets: the run's (service) and the workspaces' (service + workspace).
    assert {dims for _, dims in emitted} == {frozenset({"service"}), frozenset({"service", "workspace"})}


def test_the_queues_functions_and_api_shown_are_this_templates(
    template: dict[str, Any], widgets: list[dict[str, Any]]
) -> None:
    resources = template["Resources"]
    queues = {n for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    dead_letter = {n for n in queues if "DeadLetter" in n}
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}

    def dimension_values(namespace: str, metric: str, dimension: str) -> set[str]:
        return {
            row[row.index(dimension) + 1]
            for row in rows(widgets)
            if not isinstance(row[0], dict) and row[:2] == [namespace, metric]
        }

    visible = dimension_values("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    assert visible == {f"<{q}>" for q in queues}  # every work queue's depth and every DLQ's
    oldest = dimension_values("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName")
    assert oldest == {f"<{q}>" for q in queues - dead_letter}
    for metric in ("Errors", "Duration", "Throttles"):
        assert dimension_values("AWS/Lambda", metric, "FunctionName") == {f"<{f}>" for f in functions}
    for metric in ("4xx", "5xx"):
        assert dimension_values("AWS/ApiGateway", metric, "ApiId") == {"<HttpApi>"}
        assert dimension_values("AWS/ApiGateway", metric, "Stage") == {"$default"}


def test_the_widgets_fit_the_grid_without_overlapping(widgets: list[dict[str, Any]]) -> None:
    cells: set[tuple[int, int]] = set()
    for widget in widgets:
        x, y, width, height = (widget[k] for k in ("x", "y", "width", "height"))
        assert x >= 0 and x + width <= 24, widget
        area = {(x + i, y + j) for i in range(width) for j in range(height)}
        assert not area & cells, f"overlaps: {widget.get('properties', {}).get('title')}"
        cells |= area
