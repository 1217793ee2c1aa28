from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The weekly report is a step of tenants' weekly_report job (tenants.jobs).
        from tenants.jobs import job_step

        from .tasks import weekly_report_step

        job_step("weekly_report", "inventory_report", module="reports")(weekly_report_step)
