from django import forms
from django.contrib import admin

from audit.admin import AuditedModelAdmin

from .catalog import MODULES
from .models import Flag, Plan


class PlanForm(forms.ModelForm):
    modules = forms.MultipleChoiceField(
        choices=[(m, m) for m in MODULES], required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Plan
        fields = ["slug", "name", "description", "modules", "quotas"]


@admin.register(Plan)
class PlanAdmin(AuditedModelAdmin):
    form = PlanForm
    list_display = ["slug", "name", "modules_list", "quotas", "updated_at"]
    search_fields = ["slug", "name"]

    @admin.display(description="Modules")
    def modules_list(self, plan):
        return ", ".join(plan.modules) or "none"


@admin.register(Flag)
class FlagAdmin(AuditedModelAdmin):
    list_display = ["name", "everyone", "percent", "updated_at"]
    search_fields = ["name", "description"]
    filter_horizontal = ["plans"]
