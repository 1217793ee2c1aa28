"""Reports made by scheduled jobs (tenant schemas).

One row per report and period: the unique constraint is what makes a re-delivered or
re-run job a no-op (the second run finds the row and its document), and `emailed_at`
what keeps the e-mail to one successful send.
"""

from django.db import models

from core.models import UUIDModel


class ReportKind(models.TextChoices):
    INVENTORY_WEEKLY = "inventory_weekly", "Weekly inventory report"


class ReportRun(UUIDModel):
    kind = models.CharField(max_length=32, choices=ReportKind.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    document_id = models.UUIDField(null=True, blank=True, help_text="The stored CSV (documents.Document).")
    emailed_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [models.UniqueConstraint(fields=["kind", "period_start"], name="one_report_per_period")]

    def __str__(self):
        return f"{self.kind} {self.period_start:%Y-%m-%d}"
