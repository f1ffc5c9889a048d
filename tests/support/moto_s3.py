"""moto's S3 as a server on loopback (its own thread), for real HTTP to presigned URLs: the in-process
`mock_aws` patches botocore only, so an HTTP client could not reach it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The server's base URL (an S3 client's `endpoint_url`), with dummy credentials set."""
    from tests.conftest import FAKE_AWS_ENV  # the root conftest imports this module

    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
