from celery import shared_task

from . import services


@shared_task(acks_late=True)
def outbox_drain() -> int:
    """Send the tasks the broker refused meanwhile (beat, every OUTBOX_DRAIN_SECONDS)."""
    return services.outbox_drain()
