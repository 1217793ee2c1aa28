"""Tasks asked for by a write reach the broker even if it is down at the time.

A transactional outbox: `task_enqueue` writes a `PendingTask` row in the caller's
transaction, so the task exists exactly when the write committed, and sends it once
that transaction commits. If the broker takes it, the row is deleted; if not (broker
down, process killed first), the row stays and `outbox_drain` sends it later: Celery
beat runs it every OUTBOX_DRAIN_SECONDS, and `manage.py drain_task_outbox` on demand.
A request never fails because the broker does: its write has committed by then.

Delivery is at least once (a send can succeed and its row's deletion fail); tasks are
idempotent, as Celery's `acks_late` already requires. Tasks are sent with
`ignore_result`: nothing waits on them, and the result backend (Redis too) is then not
touched on the way.

Why not only Celery's publish retry: it holds the request for as long as it retries,
and a task is lost when retrying ends with the broker still down.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import PendingTask

logger = logging.getLogger(__name__)

# One quick retry: a request's thread waits for this after its commit, so a broker
# that refuses is given up on within a fraction of a second (the outbox keeps the task).
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
# A row no send has failed on yet is left alone this long: its sender may be mid-way.
_IN_FLIGHT = timedelta(seconds=60)


def _publish(pending: PendingTask) -> None:
    current_app.tasks[pending.task].apply_async(
        kwargs=pending.kwargs, ignore_result=True, retry=True, retry_policy=_PUBLISH_RETRY
    )


def _send(pending: PendingTask) -> None:
    try:
        _publish(pending)
    except Exception as exc:  # noqa: BLE001 - any refusal: the row stays for outbox_drain
        logger.warning("Broker refused task %s (kept in the outbox): %s", pending.task, exc)
        PendingTask.objects.filter(pk=pending.pk).update(attempts=1, last_error=str(exc)[:200])
        return
    PendingTask.objects.filter(pk=pending.pk).delete()


def task_enqueue(task, **kwargs) -> PendingTask:
    """Run `task(**kwargs)` in a worker once the current transaction commits (at once
    outside one), even if the broker is down until later. `task` is a Celery task or
    its name (for a module the task's own module imports). `kwargs` must be JSON."""
    pending = PendingTask.objects.create(task=task if isinstance(task, str) else task.name, kwargs=kwargs)
    # robust: whatever happens to the send, the caller's write has committed and its
    # answer must not turn into an error.
    transaction.on_commit(lambda: _send(pending), robust=True)
    return pending


def outbox_drain(*, limit: int = 500) -> int:
    """Send the tasks still in the outbox, oldest first; stop at the first refusal (the
    broker is still down). Returns how many were sent."""
    stale = timezone.now() - _IN_FLIGHT
    sent = 0
    with transaction.atomic():
        # SKIP LOCKED: two drains at once (beat and a command) never send a row twice.
        pending = (
            PendingTask.objects.select_for_update(skip_locked=True)
            .filter(Q(attempts__gt=0) | Q(created_at__lte=stale))
            .order_by("id")[:limit]
        )
        for row in pending:
            try:
                _publish(row)
            except Exception as exc:  # noqa: BLE001 - the broker is still down: try again later
                PendingTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=str(exc)[:200])
                logger.warning("Outbox: broker still refuses tasks (%s); %d sent this round.", exc, sent)
                break
            row.delete()
            sent += 1
    if sent:
        logger.info("Outbox: sent %d pending task(s).", sent)
    return sent
