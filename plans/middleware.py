"""Puts the tenant's evaluated plan on the request: `request.entitlements` and
`request.modules` (what core.permissions checks a module's views against). Lazy: a
request that asks nothing of them costs nothing; one that does costs two cache reads."""

from django.utils.functional import SimpleLazyObject

from .services import entitlements


class EntitlementsMiddleware:
    """After tenant routing (it needs request.tenant)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public:
            evaluated = SimpleLazyObject(lambda: entitlements(tenant))
            request.entitlements = evaluated
            request.modules = SimpleLazyObject(lambda: evaluated.modules)
        return self.get_response(request)
