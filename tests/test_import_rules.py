"""Who may import what, read from the code's syntax tree (imports inside functions included): the engine
knows no AWS, SQL or runtime; the waterfall reaches providers through its ports and loads no HTTP client;
the job runtime knows no HTTP, AWS or Supabase client; only the AWS adapters import boto3; the Lambda
handlers reach adapters through `leadenrich.runtime` only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "layers/common/leadenrich"
FUNCTIONS = ROOT / "functions"

AWS_LIBRARIES = ("boto3", "botocore")
DATABASE_LIBRARIES = ("supabase", "postgrest")
ADAPTERS = ("leadenrich.aws", "leadenrich.sqlite", "leadenrich.supabase")
# Closing the event loop's Supabase clients at the end of an invocation: not an adapter call.
HANDLER_EXCEPTIONS = frozenset({"leadenrich.supabase.client"})


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def offences(folder: Path, forbidden: tuple[str, ...], allowed: frozenset[str] = frozenset()) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in folder.rglob("*.py")
        for name in imported(path)
        if within(name, forbidden) and name not in allowed
    )


def test_the_engine_imports_no_aws_database_runtime_or_adapter() -> None:
    forbidden = (
        *AWS_LIBRARIES,
        *DATABASE_LIBRARIES,
        *ADAPTERS,
        "leadenrich.jobs",
        "leadenrich.runtime",
        "leadenrich.webhooks",
        "leadenrich.auth",
    )
    assert offences(PACKAGE / "engine", forbidden) == []


def test_only_the_engines_provider_clients_speak_http() -> None:
    engine = PACKAGE / "engine"
    outside = [p for p in offences(engine, ("httpx",)) if "/engine/providers/" not in p]
    assert outside == []


# The httpx clients: the waterfall is typed against `engine/ports.py` and must run without them.
HTTP_CLIENTS = (
    "httpx",
    "leadenrich.engine.providers.http",
    "leadenrich.engine.providers.hunter",
    "leadenrich.engine.providers.perplexity",
)
WATERFALL = sorted(
    f"leadenrich.engine.{path.stem}"
    for pattern in ("waterfall*.py", "ports.py", "paid_calls.py", "redaction.py")
    for path in (PACKAGE / "engine").glob(pattern)
)


def module_file(name: str) -> Path | None:
    """The file of one of our modules (a package's `__init__.py`); None for anything else."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    found = [p for p in (path.with_suffix(".py"), path / "__init__.py") if p.is_file()]
    return found[0] if within(name, ("leadenrich",)) and found else None


def loaded_with(module: str) -> set[str]:
    """Every name that importing `module` can load: what it imports (`from package import module`
    included), the packages around each, and so on through our own modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        path = module_file(name)
        if path is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return seen


@pytest.mark.parametrize("module", WATERFALL)
def test_the_waterfall_reaches_providers_through_ports_and_loads_no_http_client(module: str) -> None:
    assert sorted(name for name in loaded_with(module) if within(name, HTTP_CLIENTS)) == []


def test_the_loading_reader_does_find_http_where_it_is_loaded() -> None:
    assert "leadenrich.engine.waterfall" in WATERFALL and "leadenrich.engine.ports" in WATERFALL
    assert "httpx" in loaded_with("leadenrich.engine.settings")  # it wires the httpx clients


def test_the_job_runtime_imports_no_http_aws_or_database_client() -> None:
    forbidden = ("httpx", *AWS_LIBRARIES, *DATABASE_LIBRARIES, *ADAPTERS, "leadenrich.runtime")
    assert offences(PACKAGE / "jobs", forbidden) == []


def test_only_the_aws_adapters_import_boto3() -> None:
    outside = [p for p in offences(PACKAGE, AWS_LIBRARIES) if "/leadenrich/aws/" not in p]
    assert outside == []


def test_handlers_reach_adapters_only_through_the_runtime() -> None:
    assert offences(FUNCTIONS, (*AWS_LIBRARIES, *ADAPTERS), HANDLER_EXCEPTIONS) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [("import boto3\n", ["boto3"]), ("def f():\n    from botocore import x\n", ["botocore"])],
)
def test_the_reader_sees_imports_wherever_they_are(tmp_path: Path, source: str, found: list[str]) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert list(imported(module)) == found
