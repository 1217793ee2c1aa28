from config.errors import Conflict, DomainError, NotFound


class InvalidSlug(DomainError):
    code = "invalid_slug"
    field = "slug"


class InvalidDomain(DomainError):
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
