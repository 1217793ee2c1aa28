# syntax=docker/dockerfile:1
#
# Tessera production image: gunicorn + whitenoise, non-root.
#
#   docker build -t tessera .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... tessera
#
# The same image runs the Celery worker and beat (see docker-compose.yml), with
# the command overridden.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------
# builder: resolve and install the Python dependencies into a venv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

# pip byte-compiles what it installs; those .pyc files ship with the venv, since
# the runtime user cannot write them later.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Everything pinned in requirements.txt ships manylinux wheels (psycopg[binary],
# argon2-cffi, ...), so no compiler or -dev packages are installed here. If a
# dependency ever has to be built from source on some architecture, add
# `apt-get install --no-install-recommends build-essential` to this stage only.

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
# Only the requirements file first, so this layer is reused until it changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# ---------------------------------------------------------------------------
# runtime: the venv, the source and the collected static files; nothing else
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="tessera" \
      org.opencontainers.image.description="Tessera multi-tenant SaaS backend (Django, gunicorn)"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production

# Unprivileged runtime user with a fixed uid/gid (10001), so volume ownership is
# predictable across hosts.
RUN groupadd --system --gid 10001 tessera \
 && useradd --system --uid 10001 --gid 10001 \
        --create-home --home-dir /home/tessera \
        --shell /usr/sbin/nologin tessera

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app

# Source is owned by root and read-only for the app user; see .dockerignore.
COPY . .

# Static files are collected at build time into STATIC_ROOT (/app/staticfiles)
# and served by whitenoise. Production settings refuse to start without a real
# SECRET_KEY and want service URLs, so throwaway values are passed to this one
# command only: they are not stored in the image's environment. Nothing here
# connects to PostgreSQL or Redis.
RUN SECRET_KEY=build-only-collectstatic-not-a-secret-never-used-at-runtime \
    DATABASE_URL=postgres://x@localhost/x \
    REDIS_URL=redis://localhost:6379/0 \
    CELERY_BROKER_URL=redis://localhost:6379/1 \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/media \
 && chown tessera:tessera /app/media

# Uploaded documents (MEDIA_ROOT, filesystem storage). A named volume mounted
# here starts with this directory's ownership, so it is writable by tessera.
VOLUME ["/app/media"]

USER tessera

EXPOSE 8000

# Liveness: /healthz answers on any host. The Host and X-Forwarded-Proto headers
# are sent anyway so the probe also passes behind ALLOWED_HOSTS checks and
# SECURE_SSL_REDIRECT (gunicorn trusts X-Forwarded-Proto from 127.0.0.1 when
# it is in --forwarded-allow-ips). curl is not in the slim image; python's urllib is.
# Any non-2xx answer or connection error makes urlopen raise, i.e. exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': os.environ.get('PUBLIC_DOMAIN') or 'localhost', 'X-Forwarded-Proto': 'https'}), timeout=4)"]

# Through `sh -c` so ${WEB_CONCURRENCY} expands at start; `exec` replaces the
# shell, so gunicorn receives SIGTERM directly and shuts down gracefully.
# config/gunicorn.py drops gunicorn's Server header and trusts X-Forwarded-*
# only from FORWARDED_ALLOW_IPS (default 127.0.0.1,::1: the health check). Behind
# a load balancer, set it to the balancer's addresses plus 127.0.0.1. Flags not
# given here can be added via GUNICORN_CMD_ARGS (the command line wins over it).
# Worker heartbeat files go to /dev/shm (tmpfs). No gunicorn access log: the
# application writes one line per request itself (tessera.access, JSON in
# production), without the query strings gunicorn's would carry.
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --config config/gunicorn.py --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --worker-tmp-dir /dev/shm"]
