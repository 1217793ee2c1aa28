"""Operators' view of users, memberships and invitations.

This platform gives API users roles through memberships, not Django's groups and
permissions: user pages show neither, and the Group model is not in the admin. An
operator is a staff user who is also a superuser (the admin checks no per-model
permission). A tenant has one owner: the membership form says so before the database
would, and ownership moves with the "transfer ownership" action (through the service).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Prefetch
from django.utils.html import format_html_join

from audit.admin import AuditedModelAdmin
from audit.services import audit_record
from core.errors import ApplicationError
from core.roles import Role

from .models import Invitation, Membership, User
from .services import ownership_transfer

TRANSFER_HINT = 'select the new owner\'s membership and use the "Transfer ownership" action'


class MembershipForm(forms.ModelForm):
    """The one-owner rule in words an operator reads, instead of the database's
    `membership_one_owner` constraint error."""

    class Meta:
        model = Membership
        fields = ["user", "tenant", "role", "is_active"]

    def clean(self):
        data = super().clean()
        tenant, role = data.get("tenant"), data.get("role")
        was_owner = self.instance.pk is not None and self.instance.role == Role.OWNER
        if tenant is None or role is None:
            return data
        if role == Role.OWNER and not was_owner:
            owner = Membership.objects.filter(tenant=tenant, role=Role.OWNER).select_related("user").first()
            if owner is not None:
                taken = f"{tenant.slug} already has an owner ({owner.user.email}); a tenant has one"
                self.add_error("role", f"{taken}: {TRANSFER_HINT}.")
        elif was_owner and role != Role.OWNER:
            self.add_error("role", f"The owner's role changes only when ownership moves: {TRANSFER_HINT}.")
        if was_owner and data.get("is_active") is False:
            self.add_error("is_active", f"The owner cannot be deactivated; {TRANSFER_HINT} first.")
        return data


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fk_name = "user"
    extra = 0
    fields = ["tenant", "role", "is_active", "joined_at"]
    readonly_fields = ["joined_at"]
    autocomplete_fields = ["tenant"]


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeFormEmail(UserChangeForm):
    class Meta:
        model = User
        fields = ["email", "password", "full_name", "is_active", "is_staff", "is_superuser"]


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserChangeFormEmail
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "tenants", "is_active", "is_staff", "last_login", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role", "last_login"]
    search_fields = ["email", "full_name", "memberships__tenant__slug"]
    readonly_fields = ["id", "date_joined", "last_login", "updated_at", "tokens_valid_after"]
    fieldsets = [
        (None, {"fields": ["id", "email", "password", "full_name"]}),
        (
            "Status",
            {
                "fields": ["is_active", "is_staff", "is_superuser"],
                "description": "Operators are staff and superusers; tenant roles are the memberships below.",
            },
        ),
        ("Dates", {"fields": ["date_joined", "last_login", "updated_at", "tokens_valid_after"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        memberships = Membership.objects.select_related("tenant").order_by("tenant__slug")
        return super().get_queryset(request).prefetch_related(Prefetch("memberships", queryset=memberships))

    @admin.display(description="Tenants (role)")
    def tenants(self, user):
        return format_html_join(", ", "{} ({})", ((m.tenant.slug, m.role) for m in user.memberships.all())) or "-"

    def audit_tenant(self, obj):
        # The inline edits memberships, which belong in their tenant's trail.
        return obj.tenant if isinstance(obj, Membership) else None

    @transaction.atomic
    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                action="user.password_set",
                object_type="user",
                object_id=str(id),
                actor=request.user,
                changes={"password": None},
                platform=True,
            )
        return response


# Roles come from memberships; Django's groups mean nothing here.
admin.site.unregister(Group)


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    form = MembershipForm
    list_display = ["user", "tenant_slug", "tenant_name", "role", "is_active", "joined_at"]
    list_filter = ["role", "is_active", "tenant"]
    search_fields = ["user__email", "user__full_name", "tenant__slug", "tenant__name"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user", "tenant"]
    readonly_fields = ["joined_at", "updated_at"]
    actions = ["transfer_ownership"]

    @admin.display(description="Tenant", ordering="tenant__slug")
    def tenant_slug(self, membership):
        return membership.tenant.slug

    @admin.display(description="Tenant name", ordering="tenant__name")
    def tenant_name(self, membership):
        return membership.tenant.name

    def audit_tenant(self, obj):
        return obj.tenant

    @admin.action(description="Transfer ownership to the selected member…")
    def transfer_ownership(self, request, queryset):
        """Makes the one selected member the owner of its tenant; the owner becomes an admin."""
        selected = list(queryset.select_related("user", "tenant"))
        if len(selected) != 1:
            self.message_user(request, "Select exactly one membership: the new owner's.", messages.WARNING)
            return None
        target = selected[0]
        owner = Membership.objects.filter(tenant=target.tenant, role=Role.OWNER).select_related("user").first()
        now = f"now {target.role}; the owner {owner.user.email if owner else '(none)'} becomes an admin"
        page = self.confirm_action(
            request,
            queryset,
            action="transfer_ownership",
            question=f"Make {target.user.email} the owner of {target.tenant.slug}?",
            button="Yes, transfer ownership",
            details={target.pk: now},
        )
        if page is not None:
            return page
        try:
            ownership_transfer(tenant=target.tenant, to_membership_id=target.pk, actor=request.user, operator=True)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        self.message_user(request, f"{target.user.email} now owns {target.tenant.slug}.", messages.SUCCESS)
        return None


@admin.register(Invitation)
class InvitationAdmin(AuditedModelAdmin):
    """Pending invitations, for operators to look up and revoke. They are made, resent and
    answered through the API only: the e-mailed token exists nowhere else."""

    list_display = ["email", "tenant", "role", "invited_by", "expires_at", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["email", "tenant__slug", "tenant__name"]
    list_select_related = ["tenant", "invited_by"]
    # A tuple, so that `fields` may share it; never the token's hash.
    readonly_fields = (
        "id",
        "tenant",
        "email",
        "role",
        "invited_by",
        "expires_at",
        "sent_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def audit_tenant(self, obj):
        return obj.tenant
