"""Operators' view of tenants. Adding a tenant here provisions it like the command does."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
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
from plans.catalog import MODULES, QUOTAS
from plans.models import Flag, Plan
from plans.services import entitlements, flag_tenant_set, flag_tenant_state, tenant_plan_change

from . import services
from .models import Domain, Tenant
from .usage import tenant_usage


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


class QuotaField(forms.CharField):
    """A quota override: empty for the plan's limit, a whole number, or "unlimited"."""

    def to_python(self, value):
        value = super().to_python(value).strip().lower()
        if value in ("", "unlimited"):
            return {"": "", "unlimited": None}[value]
        if not value.isdigit():
            raise ValidationError('A whole number of at least 0, "unlimited", or empty for the plan\'s limit.')
        return int(value)


MODULE_CHOICES = [("", "As the plan"), ("on", "On"), ("off", "Off")]
FLAG_CHOICES = [(state, label) for state, label in (("rules", "By the flag's rules"), ("on", "On"), ("off", "Off"))]


class TenantChangeForm(forms.ModelForm):
    """The tenant's name and plan, its overrides as one field per module and quota (not
    raw JSON), and each feature flag forced on or off for this tenant. The per-module,
    per-quota and per-flag fields are made by `tenant_change_form` (flags are data)."""

    class Meta:
        model = Tenant
        fields = ["name", "plan"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tenant, overrides = self.instance, self.instance.overrides or {}
        plan = tenant.plan
        for module in MODULES:
            field = self.fields[f"module_{module}"]
            field.initial = {True: "on", False: "off"}.get(overrides.get("modules", {}).get(module), "")
            field.help_text = f"Plan {plan.slug}: {'on' if module in plan.modules else 'off'}." if plan else ""
        for quota in QUOTAS:
            field = self.fields[f"quota_{quota}"]
            if quota in overrides.get("quotas", {}):
                limit = overrides["quotas"][quota]
                field.initial = "unlimited" if limit is None else str(limit)
            limit = plan.quotas.get(quota) if plan else None
            shown = "unlimited" if limit is None else _readable(quota, limit)
            field.help_text = f"Plan {plan.slug}: {shown}." if plan else ""
        flags = entitlements(tenant).flags if tenant.pk else {}
        for name, field in self.fields.items():
            if name.startswith("flag_"):
                field.help_text = f"Now {'on' if flags.get(name[5:]) else 'off'} for this tenant."

    def overrides(self) -> dict:
        """The overrides the per-module and per-quota fields describe."""
        data, overrides = self.cleaned_data, {}
        modules = {m: data[f"module_{m}"] == "on" for m in MODULES if data.get(f"module_{m}")}
        quotas = {q: data[f"quota_{q}"] for q in QUOTAS if data.get(f"quota_{q}") != ""}
        if modules:
            overrides["modules"] = modules
        if quotas:
            overrides["quotas"] = quotas
        return overrides

    def flag_changes(self) -> dict[str, str]:
        return {name[5:]: self.cleaned_data[name] for name in self.changed_data if name.startswith("flag_")}


def tenant_change_form(tenant: Tenant) -> type[TenantChangeForm]:
    fields: dict[str, forms.Field] = {}
    for module in MODULES:
        fields[f"module_{module}"] = forms.ChoiceField(label=f"{module} module", choices=MODULE_CHOICES, required=False)
    for quota in QUOTAS:
        fields[f"quota_{quota}"] = QuotaField(label=f"{quota.replace('_', ' ')} quota", required=False)
    for flag in Flag.objects.all():
        fields[f"flag_{flag.name}"] = forms.ChoiceField(
            label=flag.name, choices=FLAG_CHOICES, initial=flag_tenant_state(flag, tenant.slug)
        )
    return type("TenantChangeForm", (TenantChangeForm,), fields)


class PlanChoiceForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), empty_label=None)


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
    "usage",
    "audit_link",
)


PLAN_HELP = (
    "Each module and quota follows the plan unless set here for this tenant. A quota is a "
    'whole number, "unlimited", or empty for the plan\'s limit. Changes take effect at the '
    "tenant's next request and are recorded as platform events."
)
FLAGS_HELP = "Force a feature on or off for this tenant, or leave it to the flag's rules (plans, percentage)."


def _readable(name: str, value: int) -> str:
    return f"{filesizeformat(value)} ({value} bytes)" if name.endswith("_bytes") else str(value)


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ["slug", "name", "status", "plan", "schema_name", "created_at"]
    list_filter = ["status", "plan", "created_at"]
    list_select_related = ["plan"]
    search_fields = ["slug", "name", "schema_name", "domains__domain"]
    # The name, plan, overrides and flags are edited here; status changes go through the
    # actions (and services).
    readonly_fields = tuple(field for field in TENANT_FIELDS if field != "name")
    inlines = [DomainInline]
    actions = ["suspend", "resume", "archive", "change_plan"]

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
        kwargs["form"] = TenantProvisionForm if obj is None else tenant_change_form(obj)
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["slug", "name", "owner_email"]})]
        overrides = [*(f"module_{m}" for m in MODULES), *(f"quota_{q}" for q in QUOTAS)]
        flags = [f"flag_{name}" for name in Flag.objects.values_list("name", flat=True)]
        return [
            (None, {"fields": TENANT_FIELDS}),
            ("Plan", {"fields": ["plan", *overrides], "description": PLAN_HELP}),
            ("Feature flags", {"fields": flags, "description": FLAGS_HELP}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        # Through the services, which record the lifecycle events themselves.
        if change:
            tenant = services.tenant_update(tenant=obj, name=form.cleaned_data["name"], actor=request.user)
            # The stored row (the form already set the new plan on `obj`), so the event
            # records the plan and overrides before and after.
            tenant_plan_change(
                tenant=tenant, plan=form.cleaned_data["plan"], overrides=form.overrides(), actor=request.user
            )
            for name, state in form.flag_changes().items():
                flag_tenant_set(name=name, tenant=tenant, state=state, actor=request.user)
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

    @admin.action(description="Change the plan of selected tenants…")
    def change_plan(self, request, queryset):
        """Asks which plan first, on a page listing the tenants; the overrides stay."""
        form = PlanChoiceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            plan = form.cleaned_data["plan"]
            for tenant in queryset:
                tenant_plan_change(tenant=tenant, plan=plan, actor=request.user)
            self.message_user(request, f"Plan {plan.slug}: {queryset.count()} tenant(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Change the plan",
            "tenants": queryset.select_related("plan"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/tenant/change_plan.html", context)

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
