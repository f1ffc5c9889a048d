"""Fair use of the API in the SAM template: the per-workspace request rate's parameters (the code's
defaults, the API function's environment only) and the request-path functions' reserved concurrency (unset
at 0). docs/runtime.md, "Fair use of the API"."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped,unused-ignore]

from leadenrich.auth.request_rate import RequestRateSettings
from tests.infra.test_template import TEMPLATE, function_environment, functions, props


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = cfn_yaml.load(str(TEMPLATE))
    assert isinstance(loaded, dict)
    return loaded


def test_the_workspace_request_rate_reaches_the_api(template: dict[str, Any]) -> None:
    """The parameters default to the code's defaults (on: 10 a second, bursts of 20) and reach the API
    function only: the authorizer cannot rate-limit (its answers are cached per key for 300 s)."""
    fields = RequestRateSettings.model_fields
    for parameter, field, variable, minimum in (
        ("WorkspaceRequestsPerSecond", "workspace_requests_per_second", "WORKSPACE_REQUESTS_PER_SECOND", 0),
        ("WorkspaceRequestBurst", "workspace_request_burst", "WORKSPACE_REQUEST_BURST", 1),
    ):
        declared = template["Parameters"][parameter]
        assert declared["Type"] == "Number"
        assert declared["Default"] == fields[field].default
        bounds = {type(m).__name__: m for m in fields[field].metadata}
        assert declared["MinValue"] == bounds["Ge"].ge == minimum
        assert function_environment(template, "ApiFunction")[variable] == {"Ref": parameter}
        others = [n for n in functions(template) if n != "ApiFunction"]
        assert all(variable not in function_environment(template, n) for n in others)
    assert template["Parameters"]["WorkspaceRequestsPerSecond"]["Default"] > 0  # on when deployed
    # Below the stage's throttle, which every workspace shares: one workspace cannot take all of it.
    throttle = props(template, "HttpApi")["DefaultRouteSettings"]
    assert template["Parameters"]["WorkspaceRequestsPerSecond"]["Default"] < throttle["ThrottlingRateLimit"]
    assert template["Parameters"]["WorkspaceRequestBurst"]["Default"] < throttle["ThrottlingBurstLimit"]


@pytest.mark.parametrize(
    ("function", "parameter"),
    [
        ("ApiFunction", "ApiReservedConcurrency"),
        ("AuthorizerFunction", "AuthorizerReservedConcurrency"),
        ("WebhookFunction", "WebhookReservedConcurrency"),
    ],
)
def test_the_request_path_functions_reserve_concurrency_only_when_asked(
    template: dict[str, Any], function: str, parameter: str
) -> None:
    """Unreserved by default: every reservation must leave 100 of the account's concurrency unreserved, so a
    default reservation would fail a first deploy in a new account. 0 means unreserved (a reservation of 0
    would refuse every request); the processor keeps -1 for that, its 0 pausing the queue."""
    param = template["Parameters"][parameter]
    assert (param["Type"], param["Default"], param["MinValue"]) == ("Number", 0, 0)
    reserved = props(template, function)["ReservedConcurrentExecutions"]
    condition, when_set, when_unset = reserved["Fn::If"]
    assert when_set == {"Ref": parameter}
    assert when_unset == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]}
    assert "ReservedConcurrentExecutions" not in template["Globals"]["Function"]
