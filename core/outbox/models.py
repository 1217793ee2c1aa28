from django.db import models


class PendingTask(models.Model):
    """A Celery task to send, written in the transaction of the write that asked for it
    and deleted once the broker has taken it (see core.outbox.services)."""

    task = models.CharField(max_length=200, help_text="The registered task name.")
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Failed sends: set by the sender that met a refusing broker, so draining need not wait.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], name="pending_task_created_idx")]

    def __str__(self):
        return f"{self.task} #{self.pk}"
