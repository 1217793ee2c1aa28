"""Scratch databases for the benchmarks under bench/: each creates its own database on
DATABASE_URL's server, empty, and drops it at the end, so a run never touches the
database a developer works in."""

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg


def database_url(name: str) -> str:
    """DATABASE_URL with its database replaced by `name`."""
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def scratch_database_create(name: str) -> str:
    """The database `name`, dropped if it was there and created empty: its URL."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def scratch_database_drop(name: str) -> None:
    """The database `name` dropped, its open connections closed by the server."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
