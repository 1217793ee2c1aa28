"""Operators' view of tenants. Adding a tenant here provisions it like the command does."""

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django_tenants.utils import tenant_context

from accounts.models import Membership, User
from accounts.selectors import user_get_by_email
from audit.admin import AuditedModelAdmin
from audit.logs import AUDIT_CSS, AuditFilterForm, changes_table
from audit.selectors import audit_event_list
from core.errors import ApplicationError
from core.http import base_url, public_base_url
from core.roles import Role
from plans.catalog import MODULES, QUOTAS
from plans.models import Flag, Plan
from plans.services import entitlements, flag_tenant_set, flag_tenant_state, tenant_plan_change

from . import services
from .dashboard import dashboard_context
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
    """What `provision_tenant` takes. Each field is checked as the provisioning service
    would check it (slug, domains, password), so a refusal is named on its field and
    nothing is written."""

    owner_email = forms.EmailField(help_text="An existing user, or a new one.")
    owner_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="For a new owner only. Empty: a password is generated and shown once.",
    )
    extra_domains = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text="Custom domains besides the subdomain, one per line (or separated by commas).",
    )

    class Meta:
        model = Tenant
        fields = ["slug", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Admin help texts are HTML: the model's "<slug>.<PUBLIC_DOMAIN>" would vanish as a tag.
        self.fields["slug"].help_text = escape(
            f"Its host: <slug>.{settings.PUBLIC_DOMAIN}, and its schema's name (hyphens as underscores). "
            "Lowercase letters, digits and hyphens."
        )

    def clean_slug(self):
        # The provisioning service's own check, so the form answers what it would.
        slug = self.cleaned_data["slug"]
        try:
            services.tenant_slug_check(slug)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
        return slug

    def clean_extra_domains(self):
        domains = [d for d in re.split(r"[\s,]+", self.cleaned_data["extra_domains"]) if d]
        try:
            return services.tenant_domains_check(domains)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc

    def clean(self):
        data = super().clean()
        email, password = data.get("owner_email"), data.get("owner_password")
        if email and password:
            if user_get_by_email(email) is not None:
                self.add_error(
                    "owner_password", f"{email} already has an account and keeps its password: leave this empty."
                )
            else:
                try:
                    validate_password(password, User(email=email))
                except ValidationError as exc:
                    self.add_error("owner_password", exc)
        return data


TENANT_FIELDS = (
    "id",
    "slug_and_host",
    "name",
    "schema_name",
    "status",
    "status_changed_at",
    "created_at",
    "updated_at",
    "api_root",
    "owner",
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


def _owner_email():
    owners = Membership.objects.filter(tenant=OuterRef("pk"), role=Role.OWNER)
    return Subquery(owners.values("user__email")[:1])


def _primary_domain():
    return Subquery(Domain.objects.filter(tenant=OuterRef("pk"), is_primary=True).values("domain")[:1])


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ["slug", "name", "status", "api_root", "owner", "members", "plan", "usage_short", "created_at"]
    list_filter = ["status", "plan", "created_at"]
    list_select_related = ["plan"]
    list_per_page = 50  # the usage column counts in each listed tenant's schema
    search_fields = ["slug", "name", "schema_name", "domains__domain", "memberships__user__email"]
    # The name, plan, overrides and flags are edited here; status changes go through the
    # actions (and services).
    readonly_fields = tuple(field for field in TENANT_FIELDS if field != "name")
    inlines = [DomainInline]
    actions = ["suspend", "resume", "archive", "change_plan"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .exclude(schema_name="public")
            .annotate(
                owner_email=_owner_email(),
                primary_domain=_primary_domain(),
                member_count=Count("memberships", filter=Q(memberships__is_active=True), distinct=True),
                # Links as this operator reaches the platform (scheme, port): `{host}` is filled per row.
                api_root_template=Value(f"{base_url(request, '{host}')}/api/v1/"),
            )
        )

    def get_urls(self):
        trail = self.admin_site.admin_view(self.audit_trail_view)
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        return [
            path("dashboard/", dashboard, name="tenants_dashboard"),
            path("<uuid:object_id>/audit/", trail, name="tenants_tenant_audit"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        """The platform at a glance: tenants by status, sign-ups and provisioning per day,
        top tenants by usage, failed jobs, leftover schemas."""
        if not self.has_view_permission(request):
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            **dashboard_context(),
            "title": "Platform dashboard",
            "opts": self.model._meta,
            "audit_css": AUDIT_CSS,
        }
        return TemplateResponse(request, "admin/tenants/dashboard.html", context)

    def audit_trail_view(self, request, object_id):
        """The tenant's own audit trail (it lives in the tenant's schema), read-only,
        filtered (action family, object type, actor, dates) and paged."""
        tenant = self.get_object(request, str(object_id))
        if tenant is None or not self.has_view_permission(request, tenant):
            raise Http404
        query = request.GET.copy()
        if "action" in query and "family" not in query:  # `?action=tenant.` as links made before
            query["family"] = query.pop("action")[0].rstrip(".")
        filters = AuditFilterForm(query)
        with tenant_context(tenant):
            page = Paginator(filters.filter(audit_event_list()), 50).get_page(request.GET.get("page"))
            events = [(event, changes_table(event.changes)) for event in page.object_list]
        paging = query.copy()
        paging.pop("page", None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Audit trail: {tenant.name}",
            "tenant": tenant,
            "events": events,
            "page": page,
            "filters": filters,
            "query": paging.urlencode(),
            "opts": self.model._meta,
            "audit_css": AUDIT_CSS,
        }
        return TemplateResponse(request, "admin/tenants/tenant/audit_trail.html", context)

    @admin.display(description="API root", ordering="primary_domain")
    def api_root(self, tenant):
        host = getattr(tenant, "primary_domain", None) or tenant.primary_host
        template = getattr(tenant, "api_root_template", None) or f"{public_base_url('{host}')}/api/v1/"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', template.replace("{host}", host), host)

    @admin.display(description="Slug")
    def slug_and_host(self, tenant):
        # Not the model field: its help text ("<slug>.<PUBLIC_DOMAIN>") is HTML to the admin.
        return format_html(
            "{} <small>(host {}, schema {})</small>", tenant.slug, tenant.primary_host, tenant.schema_name
        )

    @admin.display(description="Owner", ordering="owner_email")
    def owner(self, tenant):
        email = getattr(tenant, "owner_email", None)
        if email is None:
            owner = tenant.memberships.filter(role=Role.OWNER).select_related("user").first()
            email = owner.user.email if owner else None
        memberships = reverse("admin:accounts_membership_changelist") + f"?tenant__id__exact={tenant.pk}"
        if not email:
            return format_html('<a href="{}">none</a>', memberships)
        return format_html('<a href="{}" title="Members; transfer ownership from there">{}</a>', memberships, email)

    @admin.display(description="Members", ordering="member_count")
    def members(self, tenant):
        return tenant.member_count

    @admin.display(description="Usage")
    def usage(self, tenant):
        """What the tenant uses, from every app's usage provider (storage bytes from
        documents): the figures `GET /api/v1/tenant/` shows its admins."""
        with tenant_context(tenant):
            figures = tenant_usage(tenant)
        return format_html_join(
            ", ", "{}: {}", ((name.replace("_", " "), _readable(name, value)) for name, value in figures.items())
        )

    @admin.display(description="Usage")
    def usage_short(self, tenant):
        """The usage figures, one short line each (members have their own column)."""
        with tenant_context(tenant):
            figures = tenant_usage(tenant)
        shown = (
            (name.removesuffix("_bytes").replace("_", " "), filesizeformat(value) if name.endswith("_bytes") else value)
            for name, value in figures.items()
            if name != "members"
        )
        return format_html_join(mark_safe("<br>"), '<span class="nowrap">{}: {}</span>', shown)

    @admin.display(description="Audit trail")
    def audit_link(self, tenant):
        return format_html('<a href="{}">View events</a>', reverse("admin:tenants_tenant_audit", args=[tenant.pk]))

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = TenantProvisionForm if obj is None else tenant_change_form(obj)
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["slug", "name", "owner_email", "owner_password", "extra_domains"]})]
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
            owner_password=form.cleaned_data["owner_password"] or None,
            extra_domains=tuple(form.cleaned_data["extra_domains"]),
            actor=request.user,
        )
        obj.pk = result.tenant.pk
        obj._state.adding = False
        note = f"Tenant ready at {base_url(request, result.host)}/api/v1/; owner {result.owner.email}."
        if extra := form.cleaned_data["extra_domains"]:
            note += f" Also reached at: {', '.join(extra)}."
        if result.owner_password:
            note += f" Generated owner password (shown once): {result.owner_password}"
        self.message_user(request, note, messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def _change_status(self, request, queryset, change, question):
        page = self.confirm_action(
            request,
            queryset,
            action=change,
            question=question,
            button=f"Yes, {change}",
            details={tenant.pk: f"now {tenant.status}" for tenant in queryset},
        )
        if page is not None:
            return page
        done = 0
        for tenant in queryset:
            try:
                services.tenant_change_status(tenant=tenant, change=change, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(request, f"{change.capitalize()}: {done} tenant(s).", messages.SUCCESS)
        return None

    @admin.action(description="Suspend selected tenants (their API answers 403)…")
    def suspend(self, request, queryset):
        return self._change_status(
            request, queryset, "suspend", "Suspend these tenants? Their users' requests will answer 403."
        )

    @admin.action(description="Resume selected tenants…")
    def resume(self, request, queryset):
        return self._change_status(request, queryset, "resume", "Resume these tenants? They will be served again.")

    @admin.action(description="Archive selected tenants (their hosts answer 404)…")
    def archive(self, request, queryset):
        return self._change_status(
            request, queryset, "archive", "Archive these tenants? Their hosts will answer 404; data is kept."
        )

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
