from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django_tenants.utils import get_tenant_model

from audit.admin import AuditedModelAdmin

from .catalog import MODULES
from .models import Flag, Plan
from .services import flag_everyone_set


class PlanForm(forms.ModelForm):
    modules = forms.MultipleChoiceField(
        choices=[(m, m) for m in MODULES], required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Plan
        fields = ["slug", "name", "description", "self_service", "modules", "quotas"]


@admin.register(Plan)
class PlanAdmin(AuditedModelAdmin):
    form = PlanForm
    list_display = ["slug", "name", "self_service", "modules_list", "quotas", "updated_at"]
    list_filter = ["self_service"]
    search_fields = ["slug", "name"]

    @admin.display(description="Modules")
    def modules_list(self, plan):
        return ", ".join(plan.modules) or "none"


class FlagForm(forms.ModelForm):
    """Tenant slugs must name tenants (a typo would silently force nothing), and a
    tenant is forced one way only."""

    class Meta:
        model = Flag
        fields = ["name", "description", "everyone", "plans", "percent", "tenants_on", "tenants_off"]

    def _slugs(self, name: str) -> list[str]:
        slugs = list(dict.fromkeys(self.cleaned_data.get(name) or []))
        known = set(get_tenant_model().objects.filter(slug__in=slugs).values_list("slug", flat=True))
        if unknown := [slug for slug in slugs if slug not in known]:
            raise ValidationError(f"No tenant with slug: {', '.join(unknown)}.")
        return slugs

    def clean_tenants_on(self):
        return self._slugs("tenants_on")

    def clean_tenants_off(self):
        return self._slugs("tenants_off")

    def clean(self):
        data = super().clean()
        if both := set(data.get("tenants_on") or []) & set(data.get("tenants_off") or []):
            raise ValidationError(f"Forced both on and off: {', '.join(sorted(both))}.")
        return data


@admin.register(Flag)
class FlagAdmin(AuditedModelAdmin):
    form = FlagForm
    list_display = ["name", "everyone", "plans_list", "percent", "forced", "updated_at"]
    list_filter = ["everyone", "plans"]
    search_fields = ["name", "description"]
    filter_horizontal = ["plans"]
    actions = ["on_for_everyone", "off_for_everyone", "by_rules"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("plans")

    @admin.display(description="Plans")
    def plans_list(self, flag):
        return ", ".join(plan.slug for plan in flag.plans.all()) or "none"

    @admin.display(description="Forced for tenants")
    def forced(self, flag):
        return f"{len(flag.tenants_on)} on, {len(flag.tenants_off)} off"

    def _everyone(self, request, queryset, everyone, action, question):
        # Every tenant's features change at its next request: the operator confirms first.
        now = {flag.pk: f"now {self.RULE[flag.everyone]}" for flag in queryset}
        page = self.confirm_action(
            request, queryset, action=action, question=question, button="Yes, change", details=now
        )
        if page is not None:
            return page
        for flag in queryset:
            flag_everyone_set(flag=flag, everyone=everyone, actor=request.user)
        self.message_user(request, f"{queryset.count()} flag(s) changed.", messages.SUCCESS)
        return None

    RULE = {True: "on for every tenant", False: "off for every tenant", None: "by its rules"}

    @admin.action(description="Turn on for every tenant…")
    def on_for_everyone(self, request, queryset):
        return self._everyone(request, queryset, True, "on_for_everyone", "Turn these flags on for every tenant?")

    @admin.action(description="Turn off for every tenant…")
    def off_for_everyone(self, request, queryset):
        return self._everyone(request, queryset, False, "off_for_everyone", "Turn these flags off for every tenant?")

    @admin.action(description="Decide by plans, forced tenants and percentage…")
    def by_rules(self, request, queryset):
        return self._everyone(
            request, queryset, None, "by_rules", "Decide these flags by plans, forced tenants and percentage?"
        )
