from ._base import TenantStatusCommand


class Command(TenantStatusCommand):
    help = "Resume a suspended or archived tenant: its hosts serve again."
    change = "resume"
