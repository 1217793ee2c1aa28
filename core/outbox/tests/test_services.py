"""The task outbox, with the broker replaced by a list (or by a refusal): a task exists
exactly when its transaction commits, and waits until the broker takes it."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.outbox import services
from core.outbox.models import PendingTask
from core.outbox.tasks import outbox_drain

pytestmark = pytest.mark.django_db
TASK = "core.outbox.tests.test_services.mail_someone"


@shared_task
def mail_someone(*, email: str) -> None:
    """A stand-in task: only its name and arguments travel."""


@pytest.fixture
def broker(monkeypatch):
    """`broker.sent` gets what is published; `broker.down = True` refuses it."""

    class Broker:
        sent: list[tuple[str, dict]] = []
        down = False

    def publish(pending):
        if Broker.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        Broker.sent.append((pending.task, pending.kwargs))

    Broker.sent = []
    monkeypatch.setattr(services, "_publish", publish)
    return Broker


def test_a_task_is_sent_after_its_transaction_commits_and_leaves_nothing(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.task_enqueue(mail_someone, email="a@b.test")
        assert broker.sent == [] and PendingTask.objects.count() == 1
    assert broker.sent == [(TASK, {"email": "a@b.test"})]
    assert not PendingTask.objects.exists()


def test_a_rolled_back_write_sends_nothing(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.task_enqueue(mail_someone, email="a@b.test")
        raise RuntimeError("the write failed")
    assert broker.sent == [] and not PendingTask.objects.exists()


def test_a_refused_task_waits_and_is_drained_when_the_broker_returns(broker, django_capture_on_commit_callbacks):
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        services.task_enqueue(mail_someone, email="a@b.test")
    [pending] = PendingTask.objects.all()
    assert pending.attempts == 1 and "Connection refused" in pending.last_error
    assert services.outbox_drain() == 0  # still down: kept, the attempt counted
    assert PendingTask.objects.get().attempts == 2
    broker.down = False
    assert services.outbox_drain() == 1
    assert broker.sent == [(TASK, {"email": "a@b.test"})]
    assert not PendingTask.objects.exists()


def test_drain_leaves_a_fresh_untried_task_to_its_sender(broker):
    """A row its sender may be publishing right now is left alone for a minute; after
    that (the sender died before publishing) the drain sends it."""
    fresh = PendingTask.objects.create(task=TASK, kwargs={})
    assert services.outbox_drain() == 0
    PendingTask.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert services.outbox_drain() == 1 and broker.sent == [(TASK, {})]


def test_beat_drains_the_outbox_every_outbox_drain_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["drain-task-outbox"]
    assert entry == {"task": outbox_drain.name, "schedule": float(settings.OUTBOX_DRAIN_SECONDS)}
