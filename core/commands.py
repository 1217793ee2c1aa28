"""The base of every management command that calls services.

Services raise application errors; a command prints them as one line on stderr and
exits with status 1 (CommandError), never a traceback. Audit events written while it
runs name the source "command".
"""

from django.core.management.base import BaseCommand, CommandError

from core.context import meta_context
from core.errors import ApplicationError


class ServiceCommand(BaseCommand):
    """Implement `run(*args, **options)` instead of `handle`."""

    def handle(self, *args, **options):
        with meta_context(source="command"):
            try:
                return self.run(*args, **options)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc

    def run(self, *args, **options):
        raise NotImplementedError
