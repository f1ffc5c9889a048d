"""The API's AWS wiring on moto (tests/support/api_stack.py)."""

from tests.support.api_stack import dynamodb, stack  # noqa: F401  # fixtures
