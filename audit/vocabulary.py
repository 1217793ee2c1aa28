"""The audit vocabulary: what a record can be about (object types) and what can
happen (actions). The one place these names are defined.

`audit_record` refuses a name that is not here in development and tests, and logs it
as an error in production (a typo or a new event that was never added would otherwise
be a record no filter can find); the audit API accepts exactly these values in its
filters and publishes them as enums in the OpenAPI schema. A new event is one line here.

Object types are the names the API uses for the resources (`purchase_request`, as in
`purchase_request.created`), derived from the model's class name (`object_type_of`),
never Django's `app.model` labels: clients filter by what they see in the API. They
are strings, not imports: audit sits below the apps whose events it names.
"""

import logging
import re

from django.conf import settings
from django.db.models import Model

from core.context import SOURCES  # where a change came from: api, admin, command, task, system

__all__ = ["ACTIONS", "ACTION_FAMILIES", "OBJECT_TYPES", "SOURCES", "object_type_of", "vocabulary_check"]

# Object types recorded by services, commands, tasks and the admin.
OBJECT_TYPES: frozenset[str] = frozenset(
    {
        # platform (public schema)
        "user",
        "membership",
        "invitation",
        "tenant",
        "domain",
        "plan",
        "flag",
        "refresh_token",
        "job",
        # a tenant's data
        "product",
        "supplier",
        "warehouse",
        "stock_movement",
        "purchase_request",
        "document",
        "report_run",
        "webhook_endpoint",
    }
)

# The admin records `<object type>.created|updated|deleted` for the models it edits.
_ADMIN_EDITED = ("user", "membership", "invitation", "tenant", "domain", "plan", "flag")

ACTIONS: frozenset[str] = frozenset(
    {
        *(f"{object_type}.{verb}" for object_type in _ADMIN_EDITED for verb in ("created", "updated", "deleted")),
        # accounts
        "auth.login",
        "auth.login_failed",
        "auth.logout",
        "auth.token_reuse",
        "user.registered",
        "user.password_changed",
        "user.password_reset_requested",
        "user.password_reset",
        "user.password_set",
        "membership.added",
        "membership.changed",
        "membership.removed",
        "invitation.resent",
        "invitation.revoked",
        "invitation.accepted",
        "invitation.declined",
        # tenants and plans
        "tenant.provisioned",
        "tenant.suspended",
        "tenant.resumed",
        "tenant.archived",
        "tenant.ownership_transferred",
        "tenant.plan_changed",
        "flag.tenant_set",
        "job.failed",
        # security events (the platform log's `security.` family)
        "security.login_failed",
        "security.token_reuse",
        "security.throttled",
        "security.invitation_abuse",
        # inventory
        *(
            f"{kind}.{verb}"
            for kind in ("product", "supplier", "warehouse")
            for verb in ("created", "updated", "deleted")
        ),
        "product.low_stock",
        "stock.receipt",
        "stock.issue",
        "stock.transfer",
        "stock.adjustment",
        "purchase_request.created",
        "purchase_request.updated",
        "purchase_request.submitted",
        "purchase_request.approved",
        "purchase_request.rejected",
        "purchase_request.received",
        "purchase_request.cancelled",
        "purchase_request.deleted",
        # documents and reports
        "document.uploaded",
        "document.updated",
        "document.deleted",
        "report.generated",
        # events and webhooks
        *(
            f"webhook_endpoint.{verb}"
            for verb in ("created", "updated", "deleted", "disabled", "redelivered", "replayed")
        ),
    }
)

# The families of actions (`auth.`, `purchase_request.`): what `action_prefix` matches on.
ACTION_FAMILIES: frozenset[str] = frozenset(action.split(".", 1)[0] for action in ACTIONS)

log = logging.getLogger(__name__)
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def object_type_of(model: type[Model] | Model) -> str:
    """`PurchaseRequest` -> `purchase_request`: the resource's name in the API."""
    cls = model if isinstance(model, type) else type(model)
    return _CAMEL_BOUNDARY.sub("_", cls.__name__).lower()


def vocabulary_check(*, action: str, object_type: str) -> None:
    """A record whose action or object type is not in the vocabulary: refused where
    code is written and tested (AUDIT_STRICT_VOCABULARY, on in development and tests),
    logged as an error in production, where refusing would turn a forgotten line here
    into a failed request and a lost record. Either way the suite catches it first."""
    problem = None
    if action not in ACTIONS:
        problem = f'Audit action "{action}" is not in the vocabulary (audit/vocabulary.py).'
    elif object_type and object_type not in OBJECT_TYPES:
        problem = f'Audit object type "{object_type}" is not in the vocabulary (audit/vocabulary.py).'
    if problem is None:
        return
    if settings.AUDIT_STRICT_VOCABULARY:
        raise ValueError(problem)
    log.error(problem)
