"""Readiness: can this process reach PostgreSQL, Redis and the Celery broker right now?"""

from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection
from kombu import Connection


def _postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    get_redis_connection("default").ping()


def _broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"postgres": _postgres, "redis": _redis, "broker": _broker}


def readiness_checks() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
            results[name] = f"down: {exc.__class__.__name__}"
        else:
            results[name] = "ok"
    return results
