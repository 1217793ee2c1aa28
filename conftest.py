"""The suite's fixtures live in `testing.fixtures` and its helpers in `testing.helpers`,
an importable package: tests import helpers from there, never from a conftest."""

# testing.citus: the optional run against a Citus coordinator (CITUS_DATABASE_URL).
pytest_plugins = ["testing.fixtures", "testing.citus"]
