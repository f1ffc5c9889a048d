"""The operator console's tests: its page in headless Chromium (tests/support/browser.py), over the local
stack with the provider simulator; the metrics behind its chart on the job suite's three backends."""

from tests.jobs.suite.conftest import backend, simulator  # noqa: F401  # fixtures: SQLite, DynamoDB, Supabase
from tests.support.browser import chromium, page  # noqa: F401  # fixtures
