"""The append-only guard, shared by the tenant trail and the platform log.

A row-level trigger refuses every UPDATE and DELETE on audit rows, and a statement
trigger refuses TRUNCATE. The one exception is the retention purge
(`audit.services.audit_purge`): inside its transaction it sets `tessera.audit_purge`,
and the trigger then lets DELETE through for rows older than the retention baked into
the function (AUDIT_RETENTION_DAYS when `migrate_schemas` last ran), never younger ones,
whatever the session claims.

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
$$;
"""


def guard_function(retention_days: int) -> str:
    """The guard, allowing the purge to remove rows older than `retention_days` only."""
    if int(retention_days) < 1:
        raise ValueError("AUDIT_RETENTION_DAYS must be at least 1")
    return _GUARD_FUNCTION.format(retention_days=int(retention_days))


def guard_table(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION public.tessera_audit_guard();
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION public.tessera_audit_guard();
"""


def unguard_table(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
"""
