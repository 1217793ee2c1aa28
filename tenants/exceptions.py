from core.errors import ApplicationError, Conflict, Forbidden, NotFound


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
    """The host routes to no servable tenant: unknown, or archived (the same answer)."""

    code = "tenant_not_found"
    default_message = "Unknown host."


class InvalidTenantTransition(Conflict):
    code = "invalid_transition"


class TenantSuspended(Forbidden):
    code = "tenant_suspended"
    default_message = "This organisation is suspended. Contact support."


class RegistrationDisabled(NotFound):
    code = "registration_disabled"
    default_message = "Registration is disabled."


class LeftoverSchemaNotFound(NotFound):
    """No schema of that name is left over from a deleted tenant (it is unknown, the
    public or template schema, or a live tenant's)."""

    code = "leftover_schema_not_found"
    field = "schema"


class CitusUnavailable(ApplicationError):
    """The database is not a Citus coordinator ready for distributed tenant schemas."""

    code = "citus_unavailable"
