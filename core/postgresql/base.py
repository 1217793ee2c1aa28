"""Tessera's database backend: django-tenants' PostgreSQL backend without the two
statements it (and Django) would otherwise add to every request, and with table lists
whose cost does not grow with the number of tenants.

1. **`SET search_path` only when the schema changes.** django-tenants forgets the path
   whenever a tenant is set (every request sets one) and, with TENANT_LIMIT_SET_CALLS
   off, sets it again on every cursor. Here the connection remembers the path the
   server has and sends `SET search_path` only when the path wanted differs: a worker
   serving one tenant sets it once per connection; a switch to another tenant costs
   one SET. What the server has is forgotten (so the next cursor sets it again)
   whenever it may have changed without us: a new connection, a rollback or a
   rolled-back savepoint (PostgreSQL undoes a SET made inside them: django-tenants
   forgets on both), a SET that failed, or raw SQL that set the path itself
   (`search_path_forget()`, called by the schema clone).

2. **No `SELECT 1` health check on a connection used moments ago.** With
   CONN_HEALTH_CHECKS on, Django pings the server at the start of every request that
   reuses a connection. A connection that ran a statement less than
   DB_HEALTH_CHECK_GRACE seconds ago (default 5), and that psycopg does not already
   know to be closed or broken, skips the ping: under load that is every request, and
   an idle connection is still checked. The cost is bounded: if the server went away
   within the grace period, the request's first statement fails and it answers 503
   `database_unavailable` (core.database); Django closes the broken connection and the
   next request opens a new one.

3. **Table lists at the cost of one schema** (core.postgresql.introspection): what
   `migrate` asks once or more per schema no longer grows with the whole catalog.

4. **Behind pgbouncer** (DB_POOL_MODE=session), the statement and lock timeouts are set
   by one statement when a connection opens: pgbouncer drops the startup options that
   carry them otherwise (config/settings/base.py).
"""

import time
from typing import cast

from django.conf import settings
from django.db import connections
from django_tenants.postgresql_backend import base as tenants_base

from .introspection import SchemaIntrospection


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        self._used_at: float | None = None
        super().__init__(*args, **kwargs)
        self.introspection = SchemaIntrospection(self)

    # --- search_path ----------------------------------------------------------------

    def set_tenant(self, tenant, include_public=True):
        on_server = self.search_path_set_schemas
        super().set_tenant(tenant, include_public)  # forgets the path: we keep it
        self.search_path_set_schemas = on_server

    def _handle_search_path(self, cursor=None):
        if (
            not self._setting_search_path
            and self.search_path_set_schemas is not None
            and self.search_path_set_schemas == self._get_cursor_search_paths()
        ):
            return
        super()._handle_search_path(cursor)

    def search_path_forget(self) -> None:
        """Raw SQL changed the path: set it again before the next statement."""
        self.search_path_set_schemas = None

    def init_connection_state(self):
        super().init_connection_state()
        if settings.DB_POOL_MODE == "session":
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
                    [str(settings.DB_STATEMENT_TIMEOUT_MS), str(settings.DB_LOCK_TIMEOUT_MS)],
                )

    # --- health checks --------------------------------------------------------------

    def _cursor(self, name=None):
        cursor = super()._cursor(name)
        self._used_at = time.monotonic()
        return cursor

    def close_if_health_check_failed(self):
        raw = self.connection
        if (
            raw is not None
            and not self.health_check_done
            and self._used_at is not None
            and time.monotonic() - self._used_at < settings.DB_HEALTH_CHECK_GRACE
            and not raw.closed
            and not raw.broken
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self):
        self._used_at = None
        super().close()


def search_path_forget(using: str = "default") -> None:
    """For code that set the search_path with raw SQL: the backend sets its own again
    before the next statement."""
    cast(DatabaseWrapper, connections[using]).search_path_forget()
