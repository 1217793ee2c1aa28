"""`migrate` is `migrate_schemas` here too (test databases are built through it)."""

from .migrate_schemas import Command  # noqa: F401
