"""Operators' view of tenants. Adding a tenant here provisions it like the command does."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django_tenants.utils import tenant_context

from audit.admin import AuditedModelAdmin
from audit.selectors import audit_event_list
from core.errors import ApplicationError
from plans.catalog import overrides_problem
from plans.services import tenant_plan_change

from . import services
from .models import Domain, Tenant
from .usage import tenant_usage


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


class TenantChangeForm(forms.ModelForm):
    def clean_overrides(self):
        overrides = self.cleaned_data["overrides"] or {}
        if problem := overrides_problem(overrides):
            raise ValidationError(problem)
        return overrides


class TenantProvisionForm(forms.ModelForm):
    owner_email = forms.EmailField(help_text="Existing user, or a new one (a password is generated and shown once).")

    class Meta:
        model = Tenant
        fields = ["slug", "name"]

    def clean_slug(self):
        # The provisioning service's own check, so the form answers what it would.
        slug = self.cleaned_data["slug"]
        try:
            services.tenant_slug_check(slug)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
        return slug


TENANT_FIELDS = (
    "id",
    "slug",
    "name",
    "schema_name",
    "status",
    "status_changed_at",
    "created_at",
    "updated_at",
    "plan",
    "overrides",
    "usage",
    "audit_link",
)


def _readable(name: str, value: int) -> str:
    return f"{filesizeformat(value)} ({value} bytes)" if name.endswith("_bytes") else str(value)


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ["slug", "name", "status", "schema_name", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["slug", "name", "schema_name", "domains__domain"]
    fields = TENANT_FIELDS
    # Only the name is edited here; status changes go through the actions (and services).
    readonly_fields = tuple(field for field in TENANT_FIELDS if field not in ("name", "plan", "overrides"))
    inlines = [DomainInline]
    actions = ["suspend", "resume", "archive"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public")

    def get_urls(self):
        view = self.admin_site.admin_view(self.audit_trail_view)
        return [path("<uuid:object_id>/audit/", view, name="tenants_tenant_audit"), *super().get_urls()]

    def audit_trail_view(self, request, object_id):
        """The tenant's own audit trail (it lives in the tenant's schema), read-only."""
        tenant = self.get_object(request, str(object_id))
        if tenant is None or not self.has_view_permission(request, tenant):
            raise Http404
        action = request.GET.get("action", "")
        with tenant_context(tenant):
            events = list(audit_event_list().filter(action__startswith=action)[:200])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Audit trail: {tenant.name}",
            "tenant": tenant,
            "events": events,
            "prefixes": ["auth.", "membership.", "tenant."],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/tenant/audit_trail.html", context)

    @admin.display(description="Usage")
    def usage(self, tenant):
        """What the tenant uses, from every app's usage provider (storage bytes from
        documents): the figures `GET /api/v1/tenant/` shows its admins."""
        with tenant_context(tenant):
            figures = tenant_usage(tenant)
        return format_html_join(
            ", ", "{}: {}", ((name.replace("_", " "), _readable(name, value)) for name, value in figures.items())
        )

    @admin.display(description="Audit trail")
    def audit_link(self, tenant):
        return format_html('<a href="{}">View events</a>', reverse("admin:tenants_tenant_audit", args=[tenant.pk]))

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = TenantProvisionForm if obj is None else TenantChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["slug", "name", "owner_email"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        # Through the services, which record the lifecycle events themselves.
        if change:
            services.tenant_update(tenant=obj, name=form.cleaned_data["name"], actor=request.user)
            if {"plan", "overrides"} & set(form.changed_data):
                tenant_plan_change(
                    tenant=obj,
                    plan=form.cleaned_data["plan"],
                    overrides=form.cleaned_data["overrides"],
                    actor=request.user,
                )
            return
        result = services.tenant_provision(
            slug=form.cleaned_data["slug"],
            name=form.cleaned_data["name"],
            owner_email=form.cleaned_data["owner_email"],
            actor=request.user,
        )
        obj.pk = result.tenant.pk
        obj._state.adding = False
        note = f"Tenant ready at {result.host}; owner {result.owner.email}."
        if result.owner_password:
            note += f" Generated owner password (shown once): {result.owner_password}"
        self.message_user(request, note, messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def _change_status(self, request, queryset, change):
        done = 0
        for tenant in queryset:
            try:
                services.tenant_change_status(tenant=tenant, change=change, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(request, f"{change.capitalize()}: {done} tenant(s).", messages.SUCCESS)

    @admin.action(description="Suspend selected tenants (their API answers 403)")
    def suspend(self, request, queryset):
        self._change_status(request, queryset, "suspend")

    @admin.action(description="Resume selected tenants")
    def resume(self, request, queryset):
        self._change_status(request, queryset, "resume")

    @admin.action(description="Archive selected tenants (their hosts answer 404)")
    def archive(self, request, queryset):
        self._change_status(request, queryset, "archive")

    def has_delete_permission(self, request, obj=None):
        # Deleting drops data: operators use `manage.py delete_tenant`, which asks first.
        return False


@admin.register(Domain)
class DomainAdmin(AuditedModelAdmin):
    list_display = ["domain", "tenant", "is_primary", "created_at"]
    list_filter = ["is_primary"]
    search_fields = ["domain", "tenant__slug", "tenant__name"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
