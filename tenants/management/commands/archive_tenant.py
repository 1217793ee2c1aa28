from ._base import TenantStatusCommand


class Command(TenantStatusCommand):
    help = "Archive a tenant: its hosts answer 404, as if it did not exist."
    change = "archive"
