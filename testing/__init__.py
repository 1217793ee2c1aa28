"""Test support shared by every app's tests: helpers to import (`testing.helpers`) and
the pytest fixtures the root conftest loads (`testing.fixtures`).

An importable package rather than conftest.py, because conftest modules are pytest's
to load: importing from them breaks as soon as a second conftest shares the name.
"""
