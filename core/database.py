"""A request that writes runs in one transaction: a failure answers with nothing saved.

Why: services commit their own atomic blocks, and a view may still query after one
returns (re-reading what it wrote to answer). If PostgreSQL went away at that moment,
the client got an error for a write that had committed. Here the view's writes commit
once the whole answer is ready, and a failure anywhere before that rolls them back:

- a database failure (connection lost, server restarting, statement or lock timeout)
  answers `503 {"code": "database_unavailable"}` with `Retry-After` (core.exceptions,
  core.views.server_error), and nothing the request wrote is kept;
- any other 5xx rolls back too; a 4xx commits, because what a refusal records on
  purpose (a failed sign-in, a throttled client) must stay, and services have already
  rolled back their own work by raising;
- `transaction.on_commit` side effects (e-mails, tasks) run after the commit only.

Why not ATOMIC_REQUESTS: it wraps reads too (a BEGIN and a COMMIT for nothing), and
with it DRF rolls back every refused request, the security events of that refusal
included. Keyed POSTs are also wrapped by core.idempotency, whose transaction becomes
a savepoint of this one.

The one case left is a connection lost *during* COMMIT: PostgreSQL may have committed
and the acknowledgement been lost, and no server can tell. The client gets the same
503; a write retried with an `Idempotency-Key` is then answered from its stored
response instead of being done twice.
"""

from django.db import transaction

from core.errors import DatabaseUnavailable
from core.exceptions import DATABASE_ERRORS, error_for_database, error_json_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class WriteTransactionMiddleware:
    """Placed right after tenant routing, so the rest of the stack and the view are
    inside the transaction and the schema is already chosen."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        try:
            with transaction.atomic():
                # Exceptions below were turned into responses by Django already (a
                # database failure into a 503): the status says whether to keep the work.
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
        except DATABASE_ERRORS as exc:  # the COMMIT failed (see above for its one ambiguous case)
            return error_json_response(error_for_database(exc) or DatabaseUnavailable())
        return response
