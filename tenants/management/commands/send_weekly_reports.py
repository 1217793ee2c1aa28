from tenants.jobs import JOBS

from ._base import TenantJobCommand


class Command(TenantJobCommand):
    job = "weekly_report"
    help = f"Run the {JOBS[job].description} job now: queued for the workers, or here with --sync."
