"""Development: the defaults of `make run` (DEBUG on, e-mail to the console)."""

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, LOGGING, env

DEBUG = env.bool("DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
# `http://127.0.0.1:8000/admin/` reaches the platform as `http://localhost:8000/admin/`.
PUBLIC_HOST_ALIASES = [host.lower() for host in env.list("PUBLIC_HOST_ALIASES", default=["localhost", "127.0.0.1"])]
ALLOWED_HOSTS.extend(host for host in PUBLIC_HOST_ALIASES if host not in ALLOWED_HOSTS)
# Links in e-mails and command output point at `make run`'s server.
PUBLIC_URL_SCHEME = env("PUBLIC_URL_SCHEME", default="http")
PUBLIC_URL_PORT = env.int("PUBLIC_URL_PORT", default=8000)
# A webhook receiver on this machine (http://127.0.0.1:...) for trying webhooks out.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=True)

# A name missing from audit/vocabulary.py fails loudly here (only logged in production).
AUDIT_STRICT_VOCABULARY = True

# Beat sends some tasks every few seconds (event dispatch, the task outbox): Celery's
# lines for each would bury the banner and the request log. Its per-task lines say only
# warnings here; beat's start and Tessera's own task logs still show.
LOGGING["filters"]["beat_ticks"] = {
    "()": "django.utils.log.CallbackFilter",
    "callback": lambda record: not record.getMessage().startswith("Scheduler: Sending due task"),
}
LOGGING["loggers"]["celery.beat"] = {"level": "INFO", "filters": ["beat_ticks"]}
LOGGING["loggers"]["celery.worker.strategy"] = {"level": "WARNING"}
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
