"""Who and where a change comes from, for audit records written deep inside services.

The request middleware fills it for HTTP requests; commands and tasks fill it with
`actor_context` so that their events name the system instead of a request.
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, replace

# Where a change comes from: the request middleware (api, admin), the command base
# (command), the Celery task base (task); anything else is the system.
SOURCES: tuple[str, ...] = ("api", "admin", "command", "task", "system")


@dataclass(frozen=True)
class RequestMeta:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    source: str = "system"  # one of SOURCES


_meta: contextvars.ContextVar[RequestMeta] = contextvars.ContextVar("tessera_request_meta", default=RequestMeta())  # noqa: B039 - frozen


def current_meta() -> RequestMeta:
    return _meta.get()


@contextmanager
def meta_context(**fields):
    token = _meta.set(replace(_meta.get(), **fields))
    try:
        yield _meta.get()
    finally:
        _meta.reset(token)


def set_meta(meta: RequestMeta) -> contextvars.Token:
    return _meta.set(meta)
