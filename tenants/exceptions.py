from core.errors import ApplicationError, Conflict, NotFound


class InvalidSlug(ApplicationError):
    code = "invalid_slug"
    field = "slug"


class InvalidDomain(ApplicationError):
    code = "invalid_domain"
    field = "domain"


class TenantExists(Conflict):
    code = "tenant_exists"
    field = "slug"


class DomainTaken(Conflict):
    code = "domain_taken"


class TenantNotFound(NotFound):
    code = "tenant_not_found"
    default_message = "No such tenant."


class InvalidTenantTransition(Conflict):
    code = "invalid_transition"
