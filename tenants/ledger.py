"""The migration ledger: where each tenant schema's migrations stand, kept in public,
so `migrate_schemas` skips up-to-date schemas without opening them.

A schema's `state` is the fingerprint of the tenant apps' migration graph it was last
migrated to in full (`code_state()`: a hash of the graph's leaf migrations). A schema
whose state is the code's fingerprint is up to date. Any other (the code gained a
migration, an earlier run failed or was interrupted, the schema was never recorded) is
migrated, which for a schema that turns out current is a no-op that records it.

The row is written in the transaction that migrates the schema, so the ledger never
claims what did not commit; a clone starts with its template's row (`schemas.py`), and
a dropped schema's row goes with it.
"""

import hashlib
import json

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone


class SchemaLedger(models.Model):
    schema_name = models.CharField(max_length=63, primary_key=True)
    state = models.CharField(max_length=64, blank=True, help_text="code_state() of the last full migration.")
    migrated_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="The last failure, until a later run succeeds.")

    class Meta:
        app_label = "tenants"
        ordering = ["schema_name"]
        indexes = [
            # The few spare schemas' rows (tenants.spares), found without reading every
            # tenant's row: provisioning asks on every call.
            models.Index(
                fields=["migrated_at", "schema_name"],
                name="ledger_spares",
                condition=models.Q(schema_name__startswith="_spare_"),
            )
        ]

    def __str__(self):
        return self.schema_name


_state: str | None = None


def code_state() -> str:
    """The fingerprint of the tenant apps' migrations as the code has them."""
    global _state
    if _state is None:
        labels = {config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS}
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        leaves = sorted(node for node in graph.leaf_nodes() if node[0] in labels)
        _state = hashlib.sha256(json.dumps(leaves).encode()).hexdigest()[:32]
    return _state


def schemas_behind(schema_names) -> list[str]:
    """Those of `schema_names` the ledger does not show at the code's state (one query)."""
    current = set(
        SchemaLedger.objects.filter(schema_name__in=list(schema_names), state=code_state()).values_list(
            "schema_name", flat=True
        )
    )
    return [name for name in schema_names if name not in current]


def ledger_migrated(schema_name: str) -> None:
    SchemaLedger.objects.update_or_create(
        schema_name=schema_name,
        defaults={"state": code_state(), "migrated_at": timezone.now(), "failed_at": None, "error": ""},
    )


def ledger_failed(schema_name: str, error: str) -> None:
    SchemaLedger.objects.update_or_create(
        schema_name=schema_name, defaults={"failed_at": timezone.now(), "error": error[:2000]}
    )


def ledger_copy(source: str, target: str) -> None:
    """A clone of `source`: at the same state (its django_migrations rows were copied)."""
    row = SchemaLedger.objects.filter(schema_name=source).values("state", "migrated_at").first()
    if row is not None:
        SchemaLedger.objects.update_or_create(schema_name=target, defaults={**row, "failed_at": None, "error": ""})


def ledger_forget(*schema_names: str) -> None:
    """Dropped schemas, or schemas migrated to a chosen target (not the full graph)."""
    rows = SchemaLedger.objects.all()
    (rows.filter(schema_name__in=schema_names) if schema_names else rows).delete()
