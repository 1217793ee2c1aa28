"""Moving tenants onto Citus: every tenant schema distributed, the template kept local.

Under Citus's schema-based sharding (`citus.enable_schema_based_sharding = on`, see
docs/scaling.md) a schema created by provisioning is distributed at once: its tables
live whole on one worker node. Tenants provisioned before Citus was enabled (a single
server grown into a coordinator) are ordinary schemas on the coordinator; this module
distributes them with `citus_schema_distribute`, one schema per transaction.

Two things Citus leaves to the caller:

- It refuses tables with triggers unless `citus.enable_unsafe_triggers` is on. The
  audit trail's append-only guard is a trigger that only reads the row and raises,
  which is safe by Citus's own definition; the setting is checked before anything runs.
- It copies each table's rows to the new shard but leaves them in the coordinator's
  local table as well (invisible, but on disk). Emptying that copy is a TRUNCATE of
  the local table, which the append-only guard refuses; it runs with
  `session_replication_role = replica` (triggers off for this transaction only, on
  the coordinator's local copy only: the shard keeps its rows and its triggers).

Resumable and idempotent: a schema that is already distributed is skipped, apart from
emptying any local copy still holding rows (e.g. one distributed by hand). The
template, if an earlier version let it be distributed, is brought back to the
coordinator (`citus_schema_undistribute`), so clones read it locally.
"""

from dataclasses import dataclass, field

from django.db import connection, transaction

from .exceptions import CitusUnavailable
from .schemas import template_schema
from .selectors import tenant_list


@dataclass
class SchemaStep:
    """What distributing one tenant's schema takes (empty when there is nothing to do)."""

    slug: str
    schema: str
    distribute: bool = False
    tables: int = 0
    # Tables whose coordinator-local copy still holds rows (known before distributing:
    # every table that holds rows).
    leftovers: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.distribute and not self.leftovers


@dataclass
class DistributionPlan:
    template: str
    template_distributed: bool
    steps: list[SchemaStep]


def citus_check() -> str:
    """The Citus version, or CitusUnavailable saying what is missing, in one line."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        row = cursor.fetchone()
        if row is None:
            raise CitusUnavailable(
                f'The Citus extension is not installed in database "{connection.settings_dict["NAME"]}": '
                "nothing to distribute (see docs/scaling.md)."
            )
        cursor.execute("SELECT current_setting('citus.enable_unsafe_triggers')")
        if cursor.fetchone()[0] != "on":
            raise CitusUnavailable(
                "citus.enable_unsafe_triggers is off on the coordinator: Citus refuses the audit trail's "
                "append-only triggers on distributed tables (set it on, see docs/scaling.md)."
            )
    return row[0]


def _schema_distributed(cursor, schema: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_dist_schema s JOIN pg_namespace n ON n.oid = s.schemaid WHERE n.nspname = %s)",
        [schema],
    )
    return cursor.fetchone()[0]


def _tables_holding_rows(cursor, schema: str, *, distributed_only: bool) -> tuple[int, list[str]]:
    """(number of tables, names of those whose local storage is not empty)."""
    cursor.execute(
        """
        SELECT c.relname, pg_relation_size(c.oid) > 0 FROM pg_class c
        WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %s) AND c.relkind IN ('r', 'p')
          AND (NOT %s OR c.oid IN (SELECT logicalrelid FROM pg_dist_partition))
        ORDER BY c.relname
        """,
        [schema, distributed_only],
    )
    rows = cursor.fetchall()
    return len(rows), [name for name, holding in rows if holding]


def citus_distribution_plan() -> DistributionPlan:
    """What `citus_distribute` would do now, touching nothing."""
    citus_check()
    steps = []
    with connection.cursor() as cursor:
        template_distributed = _schema_distributed(cursor, template_schema())
        for slug, schema in tenant_list().values_list("slug", "schema_name"):
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [schema])
            if not cursor.fetchone()[0]:
                continue  # a tenant row without its schema: nothing to move
            distributed = _schema_distributed(cursor, schema)
            tables, leftovers = _tables_holding_rows(cursor, schema, distributed_only=distributed)
            steps.append(
                SchemaStep(slug=slug, schema=schema, distribute=not distributed, tables=tables, leftovers=leftovers)
            )
    return DistributionPlan(template=template_schema(), template_distributed=template_distributed, steps=steps)


def citus_template_undistribute(template: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SELECT citus_schema_undistribute(%s::regnamespace)", [template])


@transaction.atomic
def citus_schema_distribute(step: SchemaStep) -> list[str]:
    """Distribute one tenant's schema (unless it is already) and empty the local copy of
    its tables. One transaction: on failure the schema stays as it was. Returns the
    tables whose local copy was emptied."""
    schema = connection.ops.quote_name(step.schema)
    with connection.cursor() as cursor:
        # A big tenant's copy may outlast the web's statement timeout; lock_timeout
        # stays, so a schema busy beyond it fails alone and a later run resumes it.
        cursor.execute("SET LOCAL statement_timeout = 0")
        if step.distribute:
            cursor.execute("SELECT citus_schema_distribute(%s::regnamespace)", [step.schema])
        _, leftovers = _tables_holding_rows(cursor, step.schema, distributed_only=True)
        if leftovers:
            # Triggers off for the local copies only: this TRUNCATE never reaches a shard.
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table in leftovers:
                cursor.execute(
                    "SELECT truncate_local_data_after_distributing_table(%s::regclass)",
                    [f"{schema}.{connection.ops.quote_name(table)}"],
                )
    return leftovers
