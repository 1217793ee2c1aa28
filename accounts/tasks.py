from celery import shared_task
from django.core.management import call_command


@shared_task(acks_late=True)
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the blacklist tables (public schema), daily."""
    call_command("flushexpiredtokens")
