"""Production: no development defaults for secrets, HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEVELOPMENT_SECRET_KEY, LOGGING, METRICS_TOKEN, SIMPLE_JWT, env, log_format

SECRET_KEY = env("SECRET_KEY")  # no default: a missing key fails loudly at start
if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be set to a private value of at least 32 characters.")
# Tokens are HMAC-SHA256: a shorter key is guessable offline from any token.
SIMPLE_JWT["SIGNING_KEY"] = env("JWT_SIGNING_KEY", default=SECRET_KEY)
if SIMPLE_JWT["SIGNING_KEY"] == DEVELOPMENT_SECRET_KEY or len(SIMPLE_JWT["SIGNING_KEY"]) < 32:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be a private value of at least 32 characters.")
DEBUG = False

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes come from the orchestrator, and scrapes from Prometheus inside the
# cluster, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading commits the whole domain to HTTPS in browsers for months; the operator
    # opts in with SECURE_HSTS_PRELOAD=true. Until then `check --deploy` need not ask.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# nosniff, the referrer policy, X-Frame-Options and the CSP are base.py's: everywhere.

# A short token could be guessed by trying it against /metrics on any host.
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters (or unset: no metrics).")

# Webhooks go to public HTTPS addresses only (events.delivery): never to this network.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
if WEBHOOKS_ALLOW_PRIVATE:
    raise ImproperlyConfigured("WEBHOOKS_ALLOW_PRIVATE is for development and tests; production refuses it.")

# One JSON object a line for the log shipper, unless LOG_FORMAT=plain.
LOG_FORMAT = log_format("json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
