"""The Lambda layer's requirements and pyproject.toml pin the same versions."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned with =="
            found[name.lower()] = version
    return found


def test_layer_requirements_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = pins(project["dependencies"])
    layer = pins((ROOT / "layers/common/requirements.txt").read_text().splitlines())
    assert layer, "the layer has no requirements"
    for name, version in layer.items():
        assert declared.get(name) == version, f"{name}: layer {version}, pyproject {declared.get(name)}"


def test_every_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins(project["dependencies"] + project["optional-dependencies"]["dev"])


def test_the_engine_package_imports_no_laptop_tools() -> None:
    """The layer ships to Lambda: it must not need the simulator's or the CLI's dependencies."""
    for path in (ROOT / "layers/common/leadenrich").rglob("*.py"):
        text = path.read_text()
        for forbidden in ("enrich_tools", "starlette", "uvicorn", "moto"):
            assert f"import {forbidden}" not in text and f"from {forbidden}" not in text, (path, forbidden)


def test_only_the_adapters_touch_aws() -> None:
    """Domain logic never sees boto3: only `leadenrich/aws/` does (architecture.md, Layout)."""
    for path in (ROOT / "layers/common/leadenrich").rglob("*.py"):
        if "aws" in path.relative_to(ROOT / "layers/common/leadenrich").parts:
            continue
        text = path.read_text()
        for forbidden in ("boto3", "botocore"):
            assert f"import {forbidden}" not in text and f"from {forbidden}" not in text, (path, forbidden)
