from ._base import TenantStatusCommand


class Command(TenantStatusCommand):
    help = "Suspend a tenant: every request on its hosts answers 403 tenant_suspended."
    change = "suspend"
