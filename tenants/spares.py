"""A pool of spare tenant schemas, cloned ahead of need, so provisioning renames one
instead of cloning the template while the customer waits.

Cloning the template replays about 150 DDL statements (some 130 ms on the 2-core
development machine, docs/performance.md); `ALTER SCHEMA ... RENAME TO` is one catalog
row. So `SPARE_SCHEMAS` (default 3) clones wait as `_spare_<hex>` schemas:

- **Never listed or served.** A spare has no tenant row and no domain, so nothing
  routes to it; its name starts with an underscore, outside the slug namespace (as the
  template's), and `leftover_schema_list` leaves `_spare_` schemas out.
- **Current.** Each has a ledger row (tenants.ledger), copied from the template's when
  it was cloned. `migrate_schemas` migrates spares with the tenants, and a claim takes
  only a spare at the code's migration state: one left behind (a deploy in progress, a
  failed migration) is never handed to a customer; it waits to be migrated.
- **Claimed in the provisioning transaction,** under the provisioning lock: the rename
  and the ledger row's new name commit with the tenant row, or roll back with it and
  the spare is a spare again. Cloning a spare takes a lock of its own, so provisioning
  never waits behind a clone in progress (a spare being cloned is not visible yet).
- **Topped up** after every claim (a task through the outbox, after the commit), by
  beat every `SPARE_SCHEMAS_TOP_UP_SECONDS`, and at the end of `migrate_schemas`. An
  empty pool only means the clone happens in the request, as without a pool.

On Citus with schema-based sharding a spare is a distributed schema like any tenant's,
and the rename is Citus's own propagated `ALTER SCHEMA RENAME` (docs/scaling.md).
"""

import logging
import secrets

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from .ledger import SchemaLedger, code_state
from .schemas import schema_clone_template, spares_lock

logger = logging.getLogger(__name__)

SPARE_PREFIX = "_spare_"
SPARES_TOP_UP_TASK = "tenants.tasks.spares_top_up"  # tenants.tasks imports this module


def spare_schema_list(*, current_only: bool = False) -> list[str]:
    """The spare schemas (their ledger rows, through a partial index of their own),
    oldest first; `current_only`: those at the code's migration state, the ones a
    claim may take."""
    rows = SchemaLedger.objects.filter(schema_name__startswith=SPARE_PREFIX)
    if current_only:
        rows = rows.filter(state=code_state())
    names = rows.order_by("migrated_at", "schema_name").values_list("schema_name", flat=True)
    return [name for name in names if _exists(name)]


def spare_claim(schema_name: str) -> bool:
    """Rename a current spare to `schema_name`, in the caller's transaction and under
    its provisioning lock. False when the pool has none (the caller clones)."""
    spare = next(iter(spare_schema_list(current_only=True)), None)
    if spare is None:
        return False
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {quote(spare)} RENAME TO {quote(schema_name)}")
    SchemaLedger.objects.filter(schema_name=spare).update(schema_name=schema_name)
    return True


def _exists(schema_name: str) -> bool:
    """Whether the schema is there (a ledger row outlives a schema dropped by hand)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_name])
        return cursor.fetchone() is not None


def spares_top_up(wanted: int | None = None) -> int:
    """Clone spares until `wanted` (SPARE_SCHEMAS) are current; each in a transaction of
    its own, under the spares' own lock, never the provisioning lock: a customer's
    provisioning does not wait for a clone. Returns how many were made."""
    wanted = settings.SPARE_SCHEMAS if wanted is None else wanted
    made = 0
    with schema_context(get_public_schema_name()):
        while True:
            with transaction.atomic():
                spares_lock()
                if len(spare_schema_list(current_only=True)) >= wanted:
                    break
                schema_clone_template(f"{SPARE_PREFIX}{secrets.token_hex(6)}")
            made += 1
    if made:
        logger.info("Spare schemas: %d cloned, %d wanted.", made, wanted)
    return made
