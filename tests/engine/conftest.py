from __future__ import annotations

import pytest

from tests.support.scripted_providers import Script


@pytest.fixture
def script() -> Script:
    """Scripted providers, fresh for each test."""
    return Script()
