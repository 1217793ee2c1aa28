from django.db import models


class PendingDispatch(models.Model):
    """ "Tenant `schema_name` has work for the dispatcher from `due_at` on": new events
    (written in the events' own transaction, so a committed event always has its row)
    or a webhook retry that falls due later. Beat reads the due rows (one indexed query
    on public, however many tenants there are); the tenant's dispatch deletes them.

    Rows are not unique per tenant on purpose: writers only insert, so concurrent writes
    in one tenant never wait on each other for this row."""

    schema_name = models.CharField(max_length=63)
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_at", "schema_name"], name="pending_dispatch_due_idx")]

    def __str__(self):
        return f"{self.schema_name} from {self.due_at:%Y-%m-%d %H:%M:%S}"
