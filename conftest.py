"""The suite's fixtures live in `testing.fixtures` and its helpers in `testing.helpers`,
an importable package: tests import helpers from there, never from a conftest."""

pytest_plugins = ["testing.fixtures"]
