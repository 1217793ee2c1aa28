"""Settings shared by every environment.

Everything comes from environment variables (django-environ) with development
defaults; `production.py` removes the defaults that must never reach production.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from corsheaders.defaults import default_headers as cors_default_headers
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# The development key is public (it is in this file); production.py refuses it.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-tessera-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)

# Tenants live on <slug>.<PUBLIC_DOMAIN>; the platform (admin, sign-up) on PUBLIC_DOMAIN.
PUBLIC_DOMAIN = env("PUBLIC_DOMAIN", default="localhost")
# ".example.com" admits the domain and all its subdomains. Tenant custom domains must be
# added here too: Django's host check runs before the tenant lookup.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[f".{PUBLIC_DOMAIN}", "127.0.0.1"])
# For clients that cannot use a wildcard subdomain: on TENANT_HEADER_HOST, the X-Tenant
# header names the tenant (tenants.middleware). Off by default.
TENANT_HEADER_ROUTING = env.bool("TENANT_HEADER_ROUTING", default=False)
TENANT_HEADER_HOST = env("TENANT_HEADER_HOST", default=f"api.{PUBLIC_DOMAIN}").strip().lower()
if TENANT_HEADER_ROUTING:
    if TENANT_HEADER_HOST == PUBLIC_DOMAIN:
        raise ImproperlyConfigured("TENANT_HEADER_HOST cannot be PUBLIC_DOMAIN, the platform's own host.")
    if TENANT_HEADER_HOST not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(TENANT_HEADER_HOST)
ENABLE_REGISTRATION = env.bool("ENABLE_REGISTRATION", default=True)
# Other names of the public host, e.g. 127.0.0.1 in development (local.py): a request to
# one is served as if sent to PUBLIC_DOMAIN (tenants.middleware), and is an allowed host.
PUBLIC_HOST_ALIASES = [host.strip().lower() for host in env.list("PUBLIC_HOST_ALIASES", default=[])]
ALLOWED_HOSTS.extend(host for host in PUBLIC_HOST_ALIASES if host not in ALLOWED_HOSTS)
# How links to the platform's hosts are written where no request says it (e-mails sent
# by commands, tasks or the admin, `provision_tenant`'s output): scheme and port.
# Development (local.py) defaults to http and 8000; elsewhere https and no port.
PUBLIC_URL_SCHEME = env("PUBLIC_URL_SCHEME", default="https")
PUBLIC_URL_PORT = env.int("PUBLIC_URL_PORT", default=None)
if PUBLIC_URL_SCHEME not in ("http", "https"):
    raise ImproperlyConfigured(f'PUBLIC_URL_SCHEME must be "http" or "https", not "{PUBLIC_URL_SCHEME}".')

# --- Applications -------------------------------------------------------------------
# `tenants` comes before `django_tenants` so that its `migrate_schemas`/`migrate`
# commands (which also keep the public tenant and the template schema current) win.
SHARED_APPS = [
    "tenants",
    "plans",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # The blacklist must live in public: a refresh token is revoked once, platform-wide.
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally, not from a CDN
    "corsheaders",
    "csp",
    "accounts",
    "audit.platform",
    # Idempotency records (core.idempotency): in public for the public host's requests,
    # and in every tenant schema (TENANT_APPS below) for that tenant's.
    "core",
    # Celery tasks waiting for the broker: one table, in public.
    "core.outbox",
    # Which tenants have events to dispatch: one table, in public (events/queue).
    "events.queue",
]
TENANT_APPS = [
    "core",
    "inventory",
    "documents",
    "reports",
    "audit",
    "events",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenant schemas are cloned from this pre-migrated schema (see tenants/schemas.py).
# A leading underscore keeps it out of the slug namespace: slugs start with a letter.
TENANT_TEMPLATE_SCHEMA = "_template"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# TENANT_LIMIT_SET_CALLS stays off: the database backend (core.postgresql) sets the
# search_path only when the path wanted differs from the one the server has.
TENANT_LIMIT_SET_CALLS = False
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

# The headers come first: a response made by a middleware passes back only through the
# middleware above it, and the health probes and the tenant middleware's 403/404 must
# carry nosniff, DENY, the referrer policy, the CSP and (for allowed origins) CORS too.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.headers.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.HealthCheckMiddleware",
    # Scrapes are answered before the request id and telemetry: they are not traffic.
    "core.observability.MetricsEndpointMiddleware",
    "core.middleware.RequestIdMiddleware",
    # Above routing, so unknown hosts and early refusals are logged and counted too.
    "core.observability.RequestTelemetryMiddleware",
    "core.limits.UriLengthMiddleware",
    # Forgets the cache versions routing fetched for the request, when it ends.
    "core.localcache.RequestStampsMiddleware",
    "tenants.middleware.TenantMiddleware",
    # The tenant's plan, modules and flags, lazily (plans.services.entitlements).
    "plans.middleware.EntitlementsMiddleware",
    # Once the schema is chosen: a request that writes commits all or nothing, and a
    # database failure answers 503 with nothing saved (core.database).
    "core.database.WriteTransactionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Unknown paths under /api/ answer JSON even with DEBUG on (after APPEND_SLASH's turn).
    "core.views.ApiNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After tenant routing: keyed POSTs run in one transaction with their stored answer.
    "core.idempotency.IdempotencyMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/tessera")}
# django-tenants' backend, setting the search_path and pinging the server only when
# needed (core/postgresql/base.py).
DATABASES["default"]["ENGINE"] = "core.postgresql"
# A socket directory given as `?host=/path` (the embedded server's URL, scripts/dev.py)
# goes where dbshell's psql looks too, not only the driver.
if not DATABASES["default"]["HOST"] and DATABASES["default"].get("OPTIONS", {}).get("host"):
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
# A new connection per request costs far more than the tenant routing itself.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A connection that ran a statement less than this many seconds ago is not pinged
# (`SELECT 1`) at the start of the next request.
DB_HEALTH_CHECK_GRACE = env.float("DB_HEALTH_CHECK_GRACE", default=5.0)
# Bounds, in milliseconds (0: none), on one statement and on one wait for a lock, so a
# slow query or a held lock cannot keep a worker forever: past them the request answers
# 503 database_unavailable and writes nothing (core.database). Connection options, so
# they hold for every connection: web, workers and commands (run a long migration with
# DB_STATEMENT_TIMEOUT_MS=0). DB_CONNECT_TIMEOUT (seconds) bounds reaching the server.
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=20_000)
DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=5_000)
# What sits between Tessera and PostgreSQL: "" (nothing, or a pool that gives each
# client its own server session) or "session" (pgbouncer in session pooling: it drops
# the connection's startup options, so the timeouts are SET when a connection opens).
# "transaction" (pgbouncer's transaction pooling) is refused: Tessera keeps a tenant's
# search_path in the server session (core.postgresql), which that mode hands to other
# clients between transactions; one tenant's queries could then run in another's
# schema. See docs/scaling.md.
DB_POOL_MODE = env("DB_POOL_MODE", default="")
if DB_POOL_MODE not in ("", "session"):
    raise ImproperlyConfigured(
        f"DB_POOL_MODE={DB_POOL_MODE!r} is refused: Tessera keeps each tenant's search_path in the "
        "database session, which transaction pooling shares between clients. Give Tessera's database "
        "pool_mode = session in pgbouncer and set DB_POOL_MODE=session (docs/scaling.md)."
    )
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
if not DB_POOL_MODE:
    _db_options["options"] = " ".join(
        part
        for part in (
            _db_options.get("options", ""),
            f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
            f"-c lock_timeout={DB_LOCK_TIMEOUT_MS}",
        )
        if part
    )
_db_options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Tenant schemas `migrate_schemas` migrates at once, each in a process of its own.
MIGRATION_PROCESSES = env.int("MIGRATION_PROCESSES", default=min(4, os.cpu_count() or 1))
# Spare tenant schemas cloned ahead of need (tenants.spares): provisioning renames one
# rather than cloning the template. 0: no pool, every provisioning clones.
SPARE_SCHEMAS = env.int("SPARE_SCHEMAS", default=3)
SPARE_SCHEMAS_TOP_UP_SECONDS = env.int("SPARE_SCHEMAS_TOP_UP_SECONDS", default=300)

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="tessera")
# Redis is a shortcut, never a dependency (README "Resilience"): when it fails, a read is
# a miss and the caller asks PostgreSQL, a write is dropped (IGNORE_EXCEPTIONS). The
# timeouts (seconds) make a hung Redis cost that much per call rather than hang a worker.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
_REDIS_OPTIONS = {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT, "SOCKET_TIMEOUT": REDIS_TIMEOUT}
CACHES = {
    # Tenant data: every key is prefixed with the current schema, so a value cached while
    # serving tenant A can never be read while serving tenant B.
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"CLIENT_CLASS": "core.cache.MeasuredClient", "METRICS_NAME": "default", **_REDIS_OPTIONS},
    },
    # Platform data read and invalidated from any schema (domain routing, memberships):
    # keys must not depend on which schema the connection happens to be on.
    "platform": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{CACHE_KEY_PREFIX}:platform",
        "OPTIONS": {"CLIENT_CLASS": "core.cache.MeasuredClient", "METRICS_NAME": "platform", **_REDIS_OPTIONS},
    },
    # Throttle counters (accounts.throttles): platform-wide like the above, but failures
    # raise, so that core.counters.FallbackCache counts in "throttle-local" meanwhile.
    "throttle": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{CACHE_KEY_PREFIX}:throttle",
        "OPTIONS": {**_REDIS_OPTIONS, "IGNORE_EXCEPTIONS": False},
    },
    "throttle-local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"},
}
# How long routing and membership lookups are trusted; changes invalidate them at once.
TENANT_CACHE_TTL = env.int("TENANT_CACHE_TTL", default=300)
MEMBERSHIP_CACHE_TTL = env.int("MEMBERSHIP_CACHE_TTL", default=60)
# The user row authentication reads per request (accounts.selectors.user_for_request).
USER_CACHE_TTL = env.int("USER_CACHE_TTL", default=60)
# Each process keeps its own copies of versioned entries (routes, users, membership
# answers, plans' evaluations, validated tokens): at most this many of each kind, least
# recently used out first (core.localcache). A few KiB each.
LOCAL_CACHE_ENTRIES = env.int("LOCAL_CACHE_ENTRIES", default=4000)

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Invitations to a tenant and password-reset tokens (e-mailed, single use) expire after:
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
PASSWORD_RESET_TTL_MINUTES = env.int("PASSWORD_RESET_TTL_MINUTES", default=60)

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TenantJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Each tenant's API rate from its plan; views with throttles of their own (sign-in,
    # refresh, sign-up...) keep theirs.
    "DEFAULT_THROTTLE_CLASSES": ["plans.throttles.TenantRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # Bounded: body size (DATA_UPLOAD_MAX_MEMORY_SIZE) and JSON depth (JSON_MAX_DEPTH).
        # JSON only: the schema then declares exactly what endpoints take (generated
        # clients broke on JSON+form+multipart), and form bodies cannot slip past
        # validation. An upload endpoint names MultiPartParser itself.
        "core.parsers.JSONParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "core.filters.OrderingFilter",
    ],
    # drf-spectacular's, plus the Idempotency-Key header and its answers on every POST.
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    # Shared by every host (accounts.throttles); periods may carry a count: 10/15m.
    "DEFAULT_THROTTLE_RATES": {
        "login_account": env("THROTTLE_LOGIN_ACCOUNT", default="10/15m"),
        "login_ip": env("THROTTLE_LOGIN_IP", default="100/15m"),
        "auth": env("THROTTLE_AUTH", default="60/min"),
        "register": env("THROTTLE_REGISTER", default="10/hour"),
        # Invitations sent or resent, per tenant; reset e-mails asked for, per address.
        "invitation": env("THROTTLE_INVITATION", default="20/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET", default="5/hour"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tessera API",
    "DESCRIPTION": (
        "Multi-tenant inventory and documents API. Each tenant is served on its own host "
        "(`<slug>.<PUBLIC_DOMAIN>`); tokens are bound to the host that issued them."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "core.roles.Role.choices",
        "AssignableRoleEnum": "core.roles.ASSIGNABLE_ROLE_CHOICES",
        "TenantStatusEnum": "tenants.models.TenantStatus.choices",
        "MemberStatusEnum": "accounts.api.serializers.MEMBER_STATUS_CHOICES",
    },
}

# --- HTTP: input limits, security headers, CORS ---------------------------------------
# Request bodies other than file uploads: Django's limit, applied to JSON too (413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)  # deeper JSON bodies: 400 parse_error
MAX_URI_LENGTH = env.int("MAX_URI_LENGTH", default=2048)  # longer path + query: 414 uri_too_long
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# On every response, the early ones included (see MIDDLEWARE).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from this origin (Swagger UI's assets are served locally);
# the docs page and the admin also take inline styles (core.headers).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

# Browser clients on other origins: none unless listed (https://app.example.com,...).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "x-request-id", "x-tenant")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed"]

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long (seconds) reaching the broker, or one reply from it, may take. Without a
# bound a hung broker would hold a request's task send for ever; with it the send gives
# up and the task waits in the outbox (core.outbox). Above the 1 s a worker's BRPOP
# waits, so workers are not affected.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
}
# How often the tasks kept in the outbox while the broker was down are sent (seconds).
OUTBOX_DRAIN_SECONDS = env.int("OUTBOX_DRAIN_SECONDS", default=30)
# Events and webhooks (events/): how often beat looks for tenants with events or retries
# due (a commit also kicks the dispatcher at once; this is the backstop).
EVENTS_DISPATCH_SECONDS = env.float("EVENTS_DISPATCH_SECONDS", default=5.0)
# The schedule, UTC, in one place (README "Background jobs"). Each per-tenant job is a
# fan-out (tenants.tasks.jobs_fan_out): one task per active tenant, spread over the
# job's window (JOB_SPREAD_SECONDS) so tenants do not all hit the database at once.
CELERY_BEAT_SCHEDULE = {
    "weekly-report": {
        "task": "tenants.tasks.jobs_fan_out",
        "schedule": crontab(day_of_week="sun", hour=0, minute=0),
        "kwargs": {"job": "weekly_report"},
    },
    "daily-cleanup": {
        "task": "tenants.tasks.jobs_fan_out",
        "schedule": crontab(hour=2, minute=0),
        "kwargs": {"job": "daily_cleanup"},
    },
    "hourly-low-stock-alerts": {
        "task": "tenants.tasks.jobs_fan_out",
        "schedule": crontab(minute=0),
        "kwargs": {"job": "low_stock_alerts"},
    },
    # The public schema's own cleanup: tokens, platform events, keys.
    "platform-cleanup": {"task": "tenants.tasks.platform_cleanup", "schedule": crontab(hour=2, minute=0)},
    "drain-task-outbox": {"task": "core.outbox.tasks.outbox_drain", "schedule": float(OUTBOX_DRAIN_SECONDS)},
    "dispatch-events": {"task": "events.tasks.events_dispatch_due", "schedule": EVENTS_DISPATCH_SECONDS},
    "spare-schemas": {"task": "tenants.tasks.spares_top_up", "schedule": float(SPARE_SCHEMAS_TOP_UP_SECONDS)},
}
# Webhook deliveries (events.services). Seconds to wait after each failed attempt, each
# varied by +-20% (jitter); when the list is spent the delivery has failed, the endpoint
# is disabled and its tenant's admins e-mailed. The default adds up to about a day.
WEBHOOKS_RETRY_SCHEDULE = [
    float(seconds)
    for seconds in env.list(
        "WEBHOOKS_RETRY_SCHEDULE", default=["10", "60", "300", "1800", "3600", "7200", "14400", "28800", "28800"]
    )
]
# Outbound HTTP (events.outbound): connect and read timeouts (seconds) and how much of a reply is kept.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_RESPONSE_MAX_BYTES = env.int("WEBHOOKS_RESPONSE_MAX_BYTES", default=4096)
# Off everywhere but development and tests: lets webhook URLs use http:// and private or
# loopback addresses (a receiver on 127.0.0.1). production.py refuses to start with it.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# The plan a tenant gets when provisioning or sign-up names none (plans.Plan slug).
DEFAULT_PLAN = env("DEFAULT_PLAN", default="team")
# Each tenant's API rate from its plan (plans.throttles); the test settings turn it off,
# as they raise the sign-in throttles, and the rate's own test turns it on.
TENANT_API_RATE_LIMIT = env.bool("TENANT_API_RATE_LIMIT", default=True)
JOB_SPREAD_SECONDS = {
    "weekly_report": env.int("JOB_SPREAD_WEEKLY_REPORT", default=3600),
    "daily_cleanup": env.int("JOB_SPREAD_DAILY_CLEANUP", default=3600),
    # Under an hour, so one hour's alerts are all sent before the next hour's start.
    "low_stock_alerts": env.int("JOB_SPREAD_LOW_STOCK_ALERTS", default=900),
}
# One tenant's run of a job: a soft limit (the task can still record its failure), then
# the hard one a minute later.
JOB_SOFT_TIME_LIMIT = env.int("JOB_SOFT_TIME_LIMIT", default=600)
# Purchase-request drafts untouched this long are removed by the daily cleanup.
PURCHASE_REQUEST_DRAFT_DAYS = env.int("PURCHASE_REQUEST_DRAFT_DAYS", default=30)
# Redis hands an unacknowledged task to another worker after this long (acks_late: a
# worker that dies mid-task does not lose it). Spread tasks wait up to their window
# unacknowledged, so it must outlast the longest window plus a run, or a waiting task
# would be delivered twice (harmless, the jobs are idempotent, but wasted).
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=max(JOB_SPREAD_SECONDS.values()) + JOB_SOFT_TIME_LIMIT + 1800
)

# --- E-mail, files, i18n --------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Tessera <no-reply@tessera.local>")

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
DOWNLOAD_URL_TTL = env.int("DOWNLOAD_URL_TTL", default=300)
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
# An audit action or object type missing from audit/vocabulary.py: an error raised
# (development, tests) or logged (production, where the record is still written).
AUDIT_STRICT_VOCABULARY = env.bool("AUDIT_STRICT_VOCABULARY", default=False)
# Documents' blobs (documents.storage): the filesystem under MEDIA_ROOT, or an
# S3-compatible store. Either way the storage must overwrite, never rename: a blob's
# name is its content's hash. S3 links are presigned by the store for DOWNLOAD_URL_TTL.
DOCUMENTS_STORAGE = env("DOCUMENTS_STORAGE", default="filesystem")
_documents_storage: dict[str, Any]
if DOCUMENTS_STORAGE == "s3":
    _documents_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),  # unset: AWS itself
            "region_name": env("S3_REGION", default=None),
            "access_key": env("S3_ACCESS_KEY_ID", default=None),  # unset: the usual AWS credential chain
            "secret_key": env("S3_SECRET_ACCESS_KEY", default=None),
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": DOWNLOAD_URL_TTL,
            "signature_version": "s3v4",
        },
    }
elif DOCUMENTS_STORAGE == "filesystem":
    _documents_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "allow_overwrite": True},
    }
else:
    raise ImproperlyConfigured(f"DOCUMENTS_STORAGE is {DOCUMENTS_STORAGE!r}: use filesystem or s3.")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "documents": _documents_storage,
}
# Uploads are streamed by documents.uploads.HashingUploadHandler; anything else that
# takes a file keeps Django's default of memory up to 2.5 MiB, then a temporary file.
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto (set only when one is there).
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Metrics (docs/operations.md) -----------------------------------------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, metrics are off.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# The per-tenant request counter is exposed for this many tenants, the busiest.
METRICS_TOP_TENANTS = env.int("METRICS_TOP_TENANTS", default=20)
# A Celery worker serves its own metrics here when the port is set (core.task_metrics).
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
CELERY_METRICS_ADDR = env("CELERY_METRICS_ADDR", default="127.0.0.1")

# --- Logging --------------------------------------------------------------------------


def log_format(default: str) -> str:
    """LOG_FORMAT: "plain" reads well in a terminal, "json" (production's default) is
    one object a line for log shippers."""
    value = env("LOG_FORMAT", default=default)
    if value not in ("plain", "json"):
        raise ImproperlyConfigured(f'LOG_FORMAT must be "plain" or "json", not "{value}".')
    return value


LOG_FORMAT = log_format("plain")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.middleware.RequestIdLogFilter"},
        "redact_secrets": {"()": "core.logs.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        # The level on the handler too: Django's own loggers (django.request's 4xx
        # warnings) have levels of their own and would pass a root-only level.
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            # Every handler redacts: no token, password or secret value is written.
            "filters": ["request_id", "redact_secrets"],
            "level": env("LOG_LEVEL", default="INFO"),
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own defaults give `django` a console handler of its own (with DEBUG on)
        # beside the root's: every record twice, unredacted. Here it only propagates.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A 4xx is a line of tessera.access already (status, route, tenant, user); Django
        # would add "Not Found: /path". Server errors still come, with their traceback.
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
        # runserver's own request line repeats tessera.access, with the query string:
        # through our handler (redacted), and only for its errors.
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
