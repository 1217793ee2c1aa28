"""The append-only guard, shared by the tenant trail and the platform log.

A row-level trigger refuses every UPDATE and DELETE on audit rows, and a statement
trigger refuses TRUNCATE. The one exception is the retention purge
(`audit.services.audit_purge`): inside its transaction it sets `tessera.audit_purge`
(with SET LOCAL, which Citus forwards to the node holding the rows), and the trigger
then lets DELETE through for rows older than the retention baked into the function
(AUDIT_RETENTION_DAYS when `migrate_schemas` last ran), never younger ones, whatever
the session claims.

It guards against the application, the admin and mistaken SQL. A PostgreSQL superuser
can always disable triggers; that is what the database's own permissions are for.
"""

_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION public.tessera_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tessera.audit_purge', true) = 'on'
       AND OLD.at < now() - make_interval(days => {retention_days}) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def guard_function(retention_days: int) -> str:
    """The guard, allowing the purge to remove rows older than `retention_days` only."""
    if int(retention_days) < 1:
        raise ValueError("AUDIT_RETENTION_DAYS must be at least 1")
    return _GUARD_FUNCTION.format(retention_days=int(retention_days))


def guard_table(table: str) -> list[str]:
    """The triggers that make `table` append-only, one statement per element.

    One statement each because Citus forwards DDL on a distributed table to the worker
    holding its shard as a prepared statement, which takes a single command
    (docs/scaling.md). The triggers only read the row and raise, so they are safe on
    distributed tables under `citus.enable_unsafe_triggers = on`.
    """
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION public.tessera_audit_guard()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION public.tessera_audit_guard()",
    ]


def unguard_table(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


# Object types as recorded before the audit vocabulary (Django's `app.model` labels),
# and their names in it. Frozen: the migrations that renamed them use this table.
LEGACY_OBJECT_TYPES = {
    "accounts.user": "user",
    "accounts.membership": "membership",
    "accounts.invitation": "invitation",
    "tenants.tenant": "tenant",
    "tenants.domain": "domain",
    "plans.plan": "plan",
    "plans.flag": "flag",
    "token_blacklist.outstandingtoken": "refresh_token",
    "documents.document": "document",
    "reports.reportrun": "report_run",
    "inventory.product": "product",
    "inventory.supplier": "supplier",
    "inventory.warehouse": "warehouse",
    "inventory.stockmovement": "stock_movement",
    "inventory.purchaserequest": "purchase_request",
}


def _unguarded_update(table: str, update: str) -> list[str]:
    # The one sanctioned rewrite of audit rows: a change of vocabulary, not of history.
    # The append-only trigger is off for this statement only, inside the migration's
    # transaction (ALTER TABLE holds the table's lock: nothing else writes meanwhile).
    return [
        f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
        update,
        f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only",
    ]


def object_types_rename(table: str) -> list[str]:
    """`app.model` labels to the vocabulary's names; a label not in the table keeps
    its model name (`inventory.lowstockalert` -> `lowstockalert`)."""
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in LEGACY_OBJECT_TYPES.items())
    return _unguarded_update(
        table,
        f"UPDATE {table} SET object_type = CASE object_type {cases} ELSE split_part(object_type, '.', 2) END "  # noqa: S608 - constants
        "WHERE object_type LIKE '%%.%%'",
    )


def object_types_restore(table: str) -> list[str]:
    """The reverse, for the names the table knows."""
    cases = " ".join(f"WHEN '{new}' THEN '{old}'" for old, new in LEGACY_OBJECT_TYPES.items())
    names = ", ".join(f"'{new}'" for new in LEGACY_OBJECT_TYPES.values())
    return _unguarded_update(
        table,
        f"UPDATE {table} SET object_type = CASE object_type {cases} END WHERE object_type IN ({names})",  # noqa: S608 - constants
    )
