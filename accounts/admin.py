from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction

from audit.admin import AuditedModelAdmin
from audit.services import audit_record

from .models import Invitation, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
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
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserChangeFormEmail
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    search_fields = ["email", "full_name", "memberships__tenant__slug"]
    readonly_fields = ["id", "date_joined", "last_login", "updated_at", "tokens_valid_after"]
    fieldsets = [
        (None, {"fields": ["id", "email", "password", "full_name"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login", "updated_at", "tokens_valid_after"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]

    def audit_tenant(self, obj):
        # The inline edits memberships, which belong in their tenant's trail.
        return obj.tenant if isinstance(obj, Membership) else None

    @transaction.atomic
    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                action="user.password_set",
                object_type="accounts.user",
                object_id=str(id),
                actor=request.user,
                changes={"password": None},
                platform=True,
            )
        return response


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "tenant", "role", "is_active", "joined_at"]
    list_filter = ["role", "is_active", "tenant"]
    search_fields = ["user__email", "user__full_name", "tenant__slug", "tenant__name"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user", "tenant"]
    readonly_fields = ["joined_at", "updated_at"]

    def audit_tenant(self, obj):
        return obj.tenant


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
