"""`route_package_logs`: the package's stdlib log records become the handler's Powertools JSON, once."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Logger

from leadenrich.lambda_logging import route_package_logs


@pytest.fixture
def runtime_root_handler() -> Iterator[io.StringIO]:
    """A handler on the root logger, as the Lambda runtime installs one before the function is imported;
    the `leadenrich` logger's configuration is put back afterwards."""
    package = logging.getLogger("leadenrich")
    saved = (list(package.handlers), package.level, package.propagate)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        package.handlers, package.propagate = saved[0], saved[2]
        package.setLevel(saved[1])


def test_a_package_record_is_one_json_line_with_its_extra_context(
    runtime_root_handler: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    out = io.StringIO()
    source = Logger(service="lambda-logging-test", stream=out)
    route_package_logs(source)
    route_package_logs(source)  # every handler module calls it: idempotent
    assert logging.getLogger("leadenrich").handlers == [source.registered_handler]

    logging.getLogger("leadenrich.jobs.example").warning("x", extra={"job": "j1", "attempt": 2})
    logging.getLogger("leadenrich.jobs.example").debug("below the handler's level")
    logging.getLogger("elsewhere").warning("not the package's")

    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["message"], line["level"], line["name"]) == ("x", "WARNING", "leadenrich.jobs.example")
    assert (line["job"], line["attempt"]) == ("j1", 2)
    # The runtime's root handler does not print it a second time, and still prints everything else.
    assert runtime_root_handler.getvalue() == "not the package's\n"
    # Records still propagate: pytest's caplog (or any handler added to the root later) sees them.
    assert "x" in [r.getMessage() for r in caplog.records if r.name == "leadenrich.jobs.example"]
