"""The servers the runtime benchmarks talk to, each in a process of its own: moto (DynamoDB and SQS) and the
provider simulator. In the benchmark's own process they would share the GIL with the processor (see
`ServerProcess`)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT / "layers/common", ROOT / "functions/api", ROOT / "functions/processor", ROOT / "infra", ROOT]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def row_backups_for_transactions() -> None:
    """Make moto's TransactWriteItems back up only the rows it touches.

    moto deep-copies the whole table once per action of every transaction so that it can roll back, which
    makes each claim and finish cost O(table): with 2,000 items the drain measured moto (13-21 leads per
    invocation). DynamoDB has no such cost. Here the table copies become no-ops, and the rows the
    transaction names are copied first and put back (or deleted) when it is cancelled: the same rollback.
    Benchmark only; the tests keep moto as it is.
    """
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    deepcopy = copy.deepcopy
    models.copy = types.SimpleNamespace(  # type: ignore[attr-defined,assignment]
        deepcopy=lambda value, *a: value if isinstance(value, Table) else deepcopy(value, *a)
    )
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], Any]] = []
        for action in transact_items:
            _, op = next(iter(action.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or {
                name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
            }
            saved.append((table.name, key, deepcopy(self.get_item(table.name, key))))
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, before in reversed(saved):
                if before is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before.to_json()["Attributes"])
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def one_dynamodb_request_at_a_time() -> None:
    """Serve moto's DynamoDB requests one at a time: its server answers each request in a thread, and its
    DynamoDB is not thread-safe (an ADD on a row read by another request's transaction can be lost). The
    in-process adapters serialise their own calls (`aws.threaded`), but the benchmarks' workers are
    processes, so the lock must be the server's. DynamoDB's own transactions are serialisable; SQS (long
    polls) is left concurrent. Benchmark only."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    call = DomainDispatcherApplication.__call__

    def serialised(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            return call(self, environ, start_response)
        with lock:
            return list(call(self, environ, start_response))

    DomainDispatcherApplication.__call__ = serialised  # type: ignore[method-assign]


def serve_moto(port: int) -> None:
    from moto.server import ThreadedMotoServer

    row_backups_for_transactions()
    one_dynamodb_request_at_a_time()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call otherwise
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    threading.Event().wait()


class ServerProcess:
    """A server in a process of its own, as AWS and the providers are. In this process the simulator and
    moto would share the GIL with the processor: moto's DynamoDB copies its tables on every transaction,
    and those stalls delayed requests by most of a second after the limiter had released them, which
    the simulator's Perplexity bucket (1 request per second) counted as calls less than a second apart."""

    def __init__(self, target: Callable[..., None], *args: object, health_path: str) -> None:
        self.port = free_port()
        self._target, self._args, self._health_path = target, args, health_path
        self._process: multiprocessing.process.BaseProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user and system, from /proc): where the time went."""
        if self._process is None or self._process.pid is None:
            return 0.0
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> ServerProcess:
        import httpx

        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=self._target, args=(*self._args, self.port), daemon=True)
        self._process.start()
        for _ in range(300):
            try:
                httpx.get(f"{self.base_url}{self._health_path}", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self._target.__name__} did not start")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)


def serve_simulator(config: Any, port: int) -> None:
    from enrich_tools.simulator.server import serve_forever

    serve_forever("127.0.0.1", port, config)
