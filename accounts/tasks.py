from celery import shared_task
from django.core.management import call_command
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(acks_late=True)
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the blacklist tables and expired password-reset
    tokens (public schema), daily."""
    call_command("flushexpiredtokens")
    services.password_reset_tokens_purge()


# A database connection cut under the task (failover, restart) is retried, not the
# task lost: acks_late acknowledges a task that fails, and the request answered 202.
@shared_task(
    acks_late=True,
    autoretry_for=(InterfaceError, OperationalError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def password_reset_send(*, email: str, link_base: str) -> None:
    """The work of `POST /auth/password/reset/`, out of the request: whether an account
    has the address changes what is done here, never what the request answers or when."""
    services.password_reset_request(email=email, link_base=link_base)
