"""Warehouse codes and product SKUs become unique whatever their case, and purchase
request numbers come from a counter row instead of a sequence.

Existing data that would break the new unique indexes: where two or more warehouses
(products) have codes (SKUs) equal but for case, the oldest keeps its code and each
later one is renamed `<code>-2`, `<code>-3`, ... (cut to fit the column, and never
equal to another code), and the migration prints one line per rename with the schema.
Nothing else changes: movements and requests reference rows by id.

The counter starts where the sequence stood (or after the highest existing number,
whichever is larger), so numbering continues; the sequence is then dropped.
"""

from django.db import migrations, models
from django.db.models.functions import Lower

# One statement per element: on Citus a worker takes one command at a time.
_SEED_COUNTER = [
    """
INSERT INTO inventory_purchaserequestcounter (id, last)
SELECT 1, GREATEST(
    (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM inventory_purchase_request_number_seq),
    COALESCE(
        (SELECT max(substring(number FROM 4)::bigint) FROM inventory_purchaserequest WHERE number ~ '^PR-[0-9]+$'),
        0
    )
)
""",
    "DROP SEQUENCE inventory_purchase_request_number_seq",
]

_RESTORE_SEQUENCE = [
    "CREATE SEQUENCE IF NOT EXISTS inventory_purchase_request_number_seq",
    "SELECT setval('inventory_purchase_request_number_seq', last) FROM inventory_purchaserequestcounter WHERE last > 0",
]


def _rename_case_duplicates(apps, schema_editor):
    schema = getattr(schema_editor.connection, "schema_name", "")
    for model_name, field in (("Warehouse", "code"), ("Product", "sku")):
        model = apps.get_model("inventory", model_name)
        max_length = model._meta.get_field(field).max_length
        taken = {value.lower() for value in model.objects.values_list(field, flat=True)}
        clashing = (
            model.objects.annotate(folded=Lower(field))
            .values("folded")
            .annotate(n=models.Count("pk"))
            .filter(n__gt=1)
            .values_list("folded", flat=True)
        )
        for folded in list(clashing):
            rows = model.objects.annotate(folded=Lower(field)).filter(folded=folded).order_by("created_at", "pk")
            for row in list(rows)[1:]:
                old, n = getattr(row, field), 2
                while True:
                    suffix = f"-{n}"
                    new = old[: max_length - len(suffix)] + suffix
                    if new.lower() not in taken:
                        break
                    n += 1
                taken.add(new.lower())
                model.objects.filter(pk=row.pk).update(**{field: new})
                print(
                    f"  {schema}: {model_name.lower()} {field} {old!r} renamed to {new!r} (case-insensitive duplicate)"
                )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_lowstockalert")]

    operations = [
        migrations.CreateModel(
            name="PurchaseRequestCounter",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.AddConstraint(
            model_name="purchaserequestcounter",
            constraint=models.CheckConstraint(condition=models.Q(("id", 1)), name="purchase_request_counter_one_row"),
        ),
        migrations.RunSQL(_SEED_COUNTER, _RESTORE_SEQUENCE),
        migrations.RunPython(_rename_case_duplicates, migrations.RunPython.noop),
        migrations.AlterField(model_name="product", name="sku", field=models.CharField(max_length=64)),
        migrations.AlterField(model_name="warehouse", name="code", field=models.CharField(max_length=32)),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(Lower("sku"), name="product_sku_unique_ci"),
        ),
        migrations.AddConstraint(
            model_name="warehouse",
            constraint=models.UniqueConstraint(Lower("code"), name="warehouse_code_unique_ci"),
        ),
    ]
