"""The package's log lines in a Lambda: written by the handler's Powertools logger, `extra=` context kept.

The modules of `leadenrich` log with the standard library (`logging.getLogger(__name__)`,
`log.warning("webhook attempt failed", extra={"job": ..., "attempt": ..., "status_code": ...})`). In a
Lambda nothing formats those loggers: the runtime's root handler prints the bare message at best, and drops
the context. `route_package_logs(logger)` gives the package's root logger (`leadenrich`, which every
module's logger propagates to) the handler's Powertools handler and level, so each line is the same JSON
as the handler's own, with its `extra=` keys and the logger's `name`.

It does what Powertools' `copy_config_to_registered_loggers(source_logger=logger, include={"leadenrich"})`
does, with two differences: the `leadenrich` logger is configured whether or not a module has logged
yet (that function only sees loggers already created), and the package's records still propagate to the
root logger, which is filtered instead, the way Powertools filters its own service's records (pytest's
capture handler excepted). With propagation cut, as that function does, every handler added to the root
later (pytest's `caplog`, a developer's) would stop seeing the package's records.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

PACKAGE = "leadenrich"


class _NotThePackage(logging.Filter):
    """On the root logger's handlers: the package's records are printed by the Powertools handler, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == PACKAGE or record.name.startswith(PACKAGE + "."))


def _is_pytest_capture(handler: logging.Handler) -> bool:
    return type(handler).__name__ == "LogCaptureHandler" and type(handler).__module__ == "_pytest.logging"


def route_package_logs(logger: Logger) -> None:
    """Send the `leadenrich` loggers' records through `logger`'s handler at its level. Idempotent: every
    handler module calls it at import, and they share one Powertools logger (one service name)."""
    package = logging.getLogger(PACKAGE)
    package.setLevel(logger.log_level)
    package.handlers = list(logger.handlers)
    package.propagate = True
    logger.append_keys(name="%(name)s")  # which module logged, e.g. leadenrich.webhooks.outbound
    for handler in logging.getLogger().handlers:
        if _is_pytest_capture(handler) or any(isinstance(f, _NotThePackage) for f in handler.filters):
            continue
        handler.addFilter(_NotThePackage())


__all__ = ["PACKAGE", "route_package_logs"]
