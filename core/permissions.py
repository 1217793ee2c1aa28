"""The role table of DESIGN.md as DRF permission classes, for every app to reuse.

    read inventory, documents                               viewer+
    record movements, create/submit requests, upload        member+
    create/update products, suppliers, warehouses; decide   manager+
    delete resources, manage members, read the audit trail  admin+
    transfer ownership, archive the tenant                  owner

Use `HasRole(Role.MANAGER)` for one level on a whole view, or `RoleByAction` with a
`role_by_action` mapping on the viewset when actions differ. Rules about one object
("its creator or a manager may cancel it") are `OwnObjectOrRole`, listed beside them.
Authentication (accounts) puts the caller's role for this tenant on
`request.user.tenant_role`; these classes read only that and `request.tenant`.
"""

from functools import cache

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.errors import ModuleDisabled
from core.roles import Role, at_least


def request_role(request) -> str | None:
    return getattr(request.user, "tenant_role", None)


class IsTenantMember(BasePermission):
    """Any active member of this host's tenant (never the public host)."""

    message = "You are not a member of this tenant."

    def has_permission(self, request, view):
        tenant = getattr(request, "tenant", None)
        if not (tenant is not None and not tenant.is_public and request_role(request)):
            return False
        # A view of a module (`module = "documents"`) answers only where the tenant's plan
        # has it. `request.modules` is the tenant's modules, set by plans.middleware.
        module = getattr(view, "module", None)
        if module is not None and module not in getattr(request, "modules", ()):
            raise ModuleDisabled(module)
        return True


@cache
def HasRole(minimum: str) -> type[BasePermission]:  # noqa: N802 - reads as a class at the use site
    """A permission class admitting members whose role is `minimum` or stronger."""

    class _HasRole(IsTenantMember):
        message = f"This action needs the {minimum} role or stronger."

        def has_permission(self, request, view):
            return super().has_permission(request, view) and at_least(request_role(request), minimum)

    _HasRole.__name__ = _HasRole.__qualname__ = f"HasRole{Role(minimum).label}"
    return _HasRole


# The defaults follow the table for a resource; a viewset overrides what differs.
DEFAULT_ROLE_BY_ACTION = {
    "list": Role.VIEWER,
    "retrieve": Role.VIEWER,
    "create": Role.MANAGER,
    "update": Role.MANAGER,
    "partial_update": Role.MANAGER,
    "destroy": Role.ADMIN,
}


class RoleByAction(IsTenantMember):
    """Role needed per viewset action: `view.role_by_action` over the defaults above.

    An action named nowhere needs viewer for safe methods and owner otherwise, so a
    forgotten entry fails closed rather than open. A method the route does not serve
    at all (no action) is let through to DRF, which answers 405.
    """

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        action = getattr(view, "action", None)
        if action is None and request.method.lower() not in getattr(view, "action_map", {}):
            return True
        needed = {**DEFAULT_ROLE_BY_ACTION, **getattr(view, "role_by_action", {})}.get(action)
        if needed is None:
            needed = Role.VIEWER if request.method in SAFE_METHODS else Role.OWNER
        if not at_least(request_role(request), needed):
            self.message = f"This action needs the {needed} role or stronger."
            return False
        return True


class IsPublicHost(BasePermission):
    """Platform endpoints answer only on the public host."""

    def has_permission(self, request, view):
        tenant = getattr(request, "tenant", None)
        return bool(tenant is not None and tenant.is_public)


@cache
def OwnObjectOrRole(  # noqa: N802 - reads as a class at the use site
    minimum: str, *, actions: frozenset[str], user_field: str = "created_by_id", noun: str = "object"
) -> type[BasePermission]:
    """Object-level rule for `actions`: the caller's own object (the user named by
    `user_field`: a request's creator, a membership's member) or the `minimum` role.

    Other actions pass untouched, so this sits beside `RoleByAction` in
    `permission_classes`, which decides who reaches the action at all. DRF checks it
    after `get_object()`, so an id of another tenant still answers 404, never 403.
    """

    class _OwnObjectOrRole(BasePermission):
        message = f"Only for your own {noun}, or with the {minimum} role or stronger."

        def has_object_permission(self, request, view, obj):
            if getattr(view, "action", None) not in actions:
                return True
            return getattr(obj, user_field) == request.user.pk or at_least(request_role(request), minimum)

    _OwnObjectOrRole.__name__ = _OwnObjectOrRole.__qualname__ = f"OwnObjectOr{Role(minimum).label}"
    return _OwnObjectOrRole
