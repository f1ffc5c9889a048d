"""The API's AWS wiring on moto (tests/support/api_stack.py); every answer checked against the OpenAPI
document."""

from tests.support.api_stack import dynamodb, stack  # noqa: F401  # fixtures
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
